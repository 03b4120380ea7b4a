"""Links that carry credentials are fetched without them and recorded with them.

A real crawl (the ``run_crawl`` driver of test_host_health, in a subprocess) of
a loopback site: the seed is a phishing link with a bank's name where the user
name goes, and its page links a page of its own site with a user and password.
Twisted's client took the whole authority for the host and failed both as
``invalid-url``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from fraudwall.blocklists.store import Store
from tests.crawler.test_host_health import DRIVER


class _Bank(BaseHTTPRequestHandler):
    """A fake bank login on any path; each request's Authorization header kept."""

    authorizations: list[str | None] = []

    def log_message(self, *args: Any) -> None:
        """Quiet: the test reads ``authorizations``."""

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        self.authorizations.append(self.headers.get("Authorization"))
        port = self.server.server_address[1]
        body = (f"<title>工商银行 网上银行</title><p>请输入账号与密码登录</p>"
                f"<a href='http://user:pa%40ss@pay-verify.top:{port}/verify'>验证</a>").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def test_a_link_with_credentials_is_fetched_without_them_and_recorded_with_them(tmp_path: Path) -> None:
    """The seed and the link are fetched (no failure), without an Authorization header; each page is stored with
    the URL as linked and, as its final URL, the URL without the user information."""
    _Bank.authorizations = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Bank)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    seed = f"http://www.icbc.com.cn@pay-verify.top:{port}/login"
    config = {"DB_PATH": str(tmp_path / "crawl.db"), "ALLOW_NETS": ["127.0.0.0/8"], "CRAWL_PROFILES": ["android"],
              "CRAWL_DEPTH": 1, "CRAWL_PROGRESS": "off", "CRAWL_RENDER": "off",
              "HOST_MAP": {"pay-verify.top": "127.0.0.1"}, "HOST_MAP_ONLY": True}
    try:
        result = subprocess.run([sys.executable, "-c", DRIVER, json.dumps(config), seed], capture_output=True,
                                text=True, timeout=120)
    finally:
        server.shutdown()
        server.server_close()
    assert result.returncode == 0, result.stderr[-3000:]
    stats = json.loads(result.stdout)
    assert not [key for key in stats if key.startswith("fraudwall/fetch/failed/")], stats
    with Store.open(tmp_path / "crawl.db") as store:
        pages = sorted(tuple(row) for row in store.db.execute("SELECT url, final_url FROM observations"))
    assert pages == sorted([(seed, f"http://pay-verify.top:{port}/login"),
                            (f"http://user:pa%40ss@pay-verify.top:{port}/verify", f"http://pay-verify.top:{port}/verify")])
    assert _Bank.authorizations == [None, None]
