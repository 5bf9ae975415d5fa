"""A TCP proxy the test controls, between a server and its database.

``cut()`` turns it into a black hole: connections stay open but nothing gets through,
which is the hardest outage for a client (no error, only silence). ``restore()`` lets
traffic through again; connections cut earlier stay dead, as they would be for real.
"""

from __future__ import annotations

import socket
import threading


class TcpProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.listener.getsockname()[1]
        self._open = threading.Event()
        self._open.set()
        self._closing = False
        self._generation = 0
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def cut(self) -> None:
        with self._lock:
            self._generation += 1
            self._open.clear()

    def restore(self) -> None:
        self._open.set()

    def close(self) -> None:
        self._closing = True
        self.listener.close()
        with self._lock:
            for sock in self._sockets:
                sock.close()

    def _accept(self) -> None:
        while not self._closing:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            with self._lock:
                self._sockets.append(client)
                generation = self._generation
            if not self._open.is_set():
                continue  # accepted into the black hole: never answered
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._sockets.append(upstream)
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(
                    target=self._pump, args=(src, dst, generation), daemon=True
                ).start()

    def _pump(self, src: socket.socket, dst: socket.socket, generation: int) -> None:
        while True:
            try:
                data = src.recv(65536)
            except OSError:
                return
            if not data:
                return
            if self._generation != generation or not self._open.is_set():
                continue  # swallowed: the peer hears nothing, ever
            try:
                dst.sendall(data)
            except OSError:
                return
