#!/usr/bin/env node
// A real socket.io client from npm, driven by the Python tests (tests/http/test_monitor_socket_clients.py).
//
//   node monitor_client.js <1|2|4> <url> [token]
//
// Connects as Voicenter's Events SDK does ({transports: ['websocket'], upgrade: false,
// reconnection: false, forceNew: true, query: {token}}) with socket.io-client 1.3.7 (what the
// SDK bundles), 2.5.0 or 4.8.x. Prints every event it receives as one JSON line
// {"event": name, "payload": firstArgument} on stdout, the built-in ones too (connect,
// connect_error, error, disconnect, and "ack" for an acknowledgement). Reads commands from
// stdin, one JSON object a line:
//   {"emit": "name", "payload": <any>}          emit an event
//   {"emit": "name", "payload": <any>, "ack": true}   ... asking for an acknowledgement
//   {"disconnect": true}                        disconnect (then exit)
// Exits after "disconnect", a refused connection, or stdin closing.
"use strict";

const readline = require("readline");

const [version, url, token] = process.argv.slice(2);
const packages = { 1: "socket.io-client-1", 2: "socket.io-client-2", 4: "socket.io-client-4" };
if (!packages[version] || !url) {
  process.stderr.write("usage: monitor_client.js <1|2|4> <url> [token]\n");
  process.exit(2);
}
const io = require(packages[version]);

function print(event, payload) {
  process.stdout.write(JSON.stringify({ event, payload: payload === undefined ? null : payload }) + "\n");
}

const options = { transports: ["websocket"], upgrade: false, reconnection: false, forceNew: true };
if (token !== undefined) options.query = { token };
const socket = io(url, options);

// Every server event, whatever its name, before the client's own handling: the same hook
// in 1.x, 2.x and 4.x (Socket.prototype.onevent receives the decoded packet).
const onevent = socket.onevent;
socket.onevent = function (packet) {
  const args = packet.data || [];
  print(args[0], args[1]);
  return onevent.call(this, packet);
};

function finish(code) {
  // stdout drained before exit: the last line is what the test waits for
  process.stdout.write("", () => process.exit(code));
}

socket.on("connect", () => print("connect", null));
socket.on("connect_error", (err) => {
  print("connect_error", err && err.message !== undefined ? err.message : String(err));
  finish(0);
});
socket.on("error", (err) => {
  print("error", err && err.message !== undefined ? err.message : err);
  finish(0);
});
let disconnected = false;
function onDisconnect(reason) {
  if (disconnected) return;
  disconnected = true;
  print("disconnect", reason === undefined ? null : reason);
  finish(0);
}
socket.on("disconnect", onDisconnect);

readline.createInterface({ input: process.stdin }).on("line", (line) => {
  if (!line.trim()) return;
  const command = JSON.parse(line);
  if (command.disconnect) {
    socket.disconnect();
    onDisconnect("io client disconnect"); // if the client did not say so itself
  } else if (command.emit) {
    if (command.ack) {
      socket.emit(command.emit, command.payload, (...args) => print("ack", args));
    } else {
      socket.emit(command.emit, command.payload);
    }
  }
}).on("close", () => finish(0));
