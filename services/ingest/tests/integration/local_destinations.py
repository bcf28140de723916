"""The test servers (Dovecot, Radicale, aiosmtpd, small asyncio servers) listen on
loopback, which the destination policy refuses by default: the tests allow it, as an
operator with on-premises servers would (decision 0020)."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from commsintel.ingest.domain.destinations import DestinationPolicy

LOOPBACK_NETWORKS = "127.0.0.0/8,::1/128"
LOOPBACK_ALLOWED = DestinationPolicy.parse(networks=LOOPBACK_NETWORKS)


class LoopbackWeb:
    """A tiny HTTP server on a free loopback port, in a thread: serves `pages`, answers
    `redirects` with a 302, and records every path it was asked for in `hits`."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.pages: dict[str, bytes] = {}
        self.redirects: dict[str, str] = {}
        self.hits: list[str] = []
        web = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                web.hits.append(self.path)
                if self.path in web.redirects:
                    self.send_response(302)
                    self.send_header("Location", web.redirects[self.path])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                elif self.path in web.pages:
                    body = web.pages[self.path]
                    self.send_response(200)
                    self.send_header("Content-Type", "text/calendar")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                else:
                    self.send_error(404)

            do_PROPFIND = do_GET  # a CalDAV client starts with PROPFIND

            def log_message(self, *_args: object) -> None:
                pass

        self._server = ThreadingHTTPServer((host, port), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
