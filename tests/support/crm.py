"""A CRM's web server on loopback, for the panel's embedding tests: it serves whatever page
a test puts at a path, from its own origin (``http://localhost:PORT``, another site than
the service's ``http://127.0.0.1:PORT``)."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.support.server import free_port


class CrmSite:
    def __init__(self) -> None:
        self.port = free_port()
        self.pages: dict[str, str] = {}
        pages = self.pages

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = pages.get(self.path.split("?")[0])
                if body is None:
                    self.send_error(404)
                    return
                data = body.encode()
                self.send_response(200)
                self.send_header("content-type", "text/html; charset=utf-8")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def origin(self) -> str:
        return f"http://localhost:{self.port}"

    def page(self, path: str, body: str) -> str:
        """Serve ``body`` at ``path``; its URL."""
        self.pages[path] = body
        return self.origin + path

    def __enter__(self) -> CrmSite:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
