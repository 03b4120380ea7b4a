"""Cookies go back where a browser sends them: a cookie set without a Domain to its own host only.

A real crawl (the ``run_crawl`` driver of test_host_health, in a subprocess)
of a loopback site whose front page sets one cookie without a Domain and one
for the whole domain, and links a page of a subdomain that records the
cookies it is sent. Python's default policy sent both there.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.crawler.test_host_health import DRIVER


class _Site(BaseHTTPRequestHandler):
    """``cookie-gate.top/`` sets the cookies and links ``sub.cookie-gate.top/``; each request's Cookie header kept."""

    sent: dict[str, str] = {}

    def log_message(self, *args: Any) -> None:
        """Quiet: the test reads ``sent``."""

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        host = self.headers.get("Host", "").split(":")[0]
        self.sent[host + self.path] = self.headers.get("Cookie", "")
        port = self.server.server_address[1]
        body = f'<title>{host}</title><a href="http://sub.cookie-gate.top:{port}/">sub</a>'.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        if host == "cookie-gate.top":
            self.send_header("Set-Cookie", "host_only=1; Path=/")
            self.send_header("Set-Cookie", "whole_domain=1; Domain=cookie-gate.top; Path=/")
        self.end_headers()
        self.wfile.write(body)


def test_a_cookie_set_without_a_domain_goes_back_to_its_host_only(tmp_path: Path) -> None:
    """The subdomain is sent the cookie set for the whole domain, not the one its parent set for itself."""
    _Site.sent = {}
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Site)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    config = {"DB_PATH": str(tmp_path / "crawl.db"), "ALLOW_NETS": ["127.0.0.0/8"], "CRAWL_PROFILES": ["android"],
              "CRAWL_DEPTH": 1, "CRAWL_PROGRESS": "off", "CRAWL_RENDER": "off", "HOST_MAP_ONLY": True,
              "HOST_MAP": {"cookie-gate.top": "127.0.0.1", "sub.cookie-gate.top": "127.0.0.1"}}
    try:
        result = subprocess.run([sys.executable, "-c", DRIVER, json.dumps(config), f"http://cookie-gate.top:{port}/"],
                                capture_output=True, text=True, timeout=120)
    finally:
        server.shutdown()
        server.server_close()
    assert result.returncode == 0, result.stderr[-3000:]
    assert _Site.sent["sub.cookie-gate.top/"] == "whole_domain=1"
