// A CRM's real-time monitor pointed at agentstatus: the steps the Voicenter Events SDK takes
// with `loginType: 'Token'` (its "old stack", the default), done by hand so that the example
// runs where the SDK is not installed. The socket.io client is the one the SDK bundles,
// socket.io-client 1.3.7 (the login answer's `Version`).
//
//   npm install socket.io-client@1.3.7   (tests/node/package.json has it, with its overrides)
//   node monitor-crm.js https://agentstatus.example.com <supervisor API token> [seconds]
//
// It prints one line per event: the event's name, then its payload as JSON.

'use strict';

const io = require(process.env.SOCKET_IO_CLIENT || 'socket.io-client');

async function main() {
  const [base, token, seconds] = process.argv.slice(2);
  if (!base || !token) {
    console.error('usage: node monitor-crm.js <agentstatus URL> <API token> [seconds]');
    process.exit(2);
  }
  // 1. Log in: the SDK's `loginUrl` + '/Token', the token in a JSON body.
  const login = await fetch(`${base}/monitorAPI/Login/Token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ token }),
  });
  const answer = await login.json();
  if (!login.ok || answer.error || !answer.Data || !answer.Data.Socket) {
    console.error(`login refused: HTTP ${login.status} ${answer.error || answer.Status}`);
    process.exit(1);
  }
  const socket = answer.Data.Socket;
  // 2. Connect to the first server of `URLList`, as the SDK does without a server list:
  //    websocket only, the socket token in the query.
  const client = io(socket.URLList[0], {
    transports: ['websocket'],
    upgrade: false,
    reconnection: false,
    forceNew: true,
    query: { token: socket.Token },
  });
  const names = [
    'loginSuccess', 'loginStatus', 'AllExtensionsStatus', 'ExtensionEvent', 'QueueEvent',
    'ExtensionsUpdated', 'keepaliveResponse',
  ];
  for (const name of names) {
    client.on(name, (payload) => console.log(`${name} ${JSON.stringify(payload)}`));
  }
  client.on('error', (error) => console.error(`socket error: ${error}`));
  client.on('connect', () => {
    // 3. What the SDK sends on its own: a keepalive (its payload is the token).
    client.emit('keepalive', socket.Token);
  });
  client.on('disconnect', () => process.exit(0));
  if (seconds) {
    setTimeout(() => { client.close(); process.exit(0); }, Number(seconds) * 1000);
  }
}

main().catch((error) => { console.error(String(error)); process.exit(1); });
