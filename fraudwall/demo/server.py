"""A virtual-host static web server on loopback, for the demo and the tests.

The ``Host`` header picks the folder under the site root; the path picks the
file. It binds 127.0.0.1 on a free port and runs in a daemon thread.
"""

from __future__ import annotations

import mimetypes
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from types import TracebackType
from urllib.parse import unquote, urlsplit

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".apk": "application/vnd.android.package-archive",
    ".txt": "text/plain; charset=utf-8",
}


def bundled_site() -> Path:
    """The demo site shipped inside the package."""
    return Path(str(resources.files("fraudwall.demo") / "site"))


def site_hosts(root: Path) -> list[str]:
    """The virtual host names: one per folder of ``root``."""
    return sorted(entry.name for entry in root.iterdir() if entry.is_dir())


class _Handler(BaseHTTPRequestHandler):
    root: Path

    def do_GET(self) -> None:
        host = (self.headers.get("Host") or "").rsplit(":", 1)[0].lower()
        path = unquote(urlsplit(self.path).path)
        if path.endswith("/"):
            path += "index.html"
        site = (self.root / host).resolve()
        file = (site / path.lstrip("/")).resolve()
        # Refuse anything outside the host's folder (../ tricks, unknown hosts).
        if not host or site.parent != self.root.resolve() or site not in file.parents or not file.is_file():
            self.send_error(404)
            return
        body = file.read_bytes()
        kind = CONTENT_TYPES.get(file.suffix) or mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # quiet: the crawl reports what matters
        pass


class SiteServer:
    """Serve ``root`` on 127.0.0.1; use as a context manager."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root or bundled_site()
        handler = type("SiteHandler", (_Handler,), {"root": self.root})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="demo-site", daemon=True)

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    def url(self, host: str, path: str = "/") -> str:
        return f"http://{host}:{self.port}{path}"

    def __enter__(self) -> SiteServer:
        self.thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)
