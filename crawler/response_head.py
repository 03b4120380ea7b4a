"""A cap on the head of every HTTP response: its bytes, and the interim (1xx) heads before it.

Twisted's HTTP client, under Scrapy's downloader, keeps every header line it
reads and has no limit on how many there are; only a single line over 16 KB is
refused. A server that sends header lines without end, at full speed, grew the
crawl process by hundreds of megabytes a second until ``CRAWL_TIMEOUT``; one
that sends ``100 Continue`` heads without end kept the parser busy, and logging,
just as long. Browsers refuse such answers (Chromium: a head over 256 KB is
``ERR_RESPONSE_HEADERS_TOO_BIG``).

:class:`ResponseHeadCap` (an extension) makes Twisted's response parser count
what it reads before the body: past ``CRAWL_MAX_HEAD_BYTES`` bytes (continuation
lines and 1xx heads included) or :data:`MAX_HEADS` heads, it raises
:class:`HeadOverCap`. Twisted then drops the connection and fails the request,
which is counted as ``head-over-cap`` (:mod:`fraudwall.crawler.failures`).
Scrapy parses with a subclass of that parser that reads lines its own way, so
the counts sit in the two methods both share: ``dataReceived`` and
``allHeadersReceived``.

The parser is Twisted's class, patched for the process: a crawl is the one
user of the HTTP client in its process. The patch is installed once; the cap is
the latest crawler's setting.
"""

from __future__ import annotations

from typing import Any

from twisted.web import _newclient

#: Heads one response may have: the final one, and interim ones (100 Continue, 103 Early Hints) before it.
MAX_HEADS = 10


class HeadOverCap(_newclient.ParseError):
    """A response head over the cap: too many bytes before the body, or too many interim heads."""


_limit = {"bytes": 256 * 1024}
_HEAD = (_newclient.STATUS, _newclient.HEADER)
_data_received = _newclient.HTTPClientParser.dataReceived
_all_headers_received = _newclient.HTTPClientParser.allHeadersReceived


def _counted_data_received(parser: Any, data: bytes) -> None:
    """Twisted's ``dataReceived``, after counting what arrives while the head is read.

    Counted by the chunk: the one that ends the head may carry the body's first bytes (a socket read,
    64 KB at most), which the cap leaves room for.
    """
    if getattr(parser, "state", _newclient.STATUS) in _HEAD:
        parser._head_bytes = parser.__dict__.get("_head_bytes", 0) + len(data)
        if parser._head_bytes > _limit["bytes"]:
            raise HeadOverCap(f"response head over {_limit['bytes']} bytes", data[:80])
    _data_received(parser, data)


def _counted_all_headers_received(parser: Any) -> None:
    """Twisted's ``allHeadersReceived`` (which starts over after an interim 1xx head), after counting the head."""
    parser._heads = parser.__dict__.get("_heads", 0) + 1
    if parser._heads > MAX_HEADS:
        raise HeadOverCap(f"more than {MAX_HEADS} response heads (interim 1xx answers)", b"")
    _all_headers_received(parser)


def install(max_bytes: int) -> None:
    """Cap the response heads this process reads at ``max_bytes`` (idempotent; the last call's cap holds)."""
    _limit["bytes"] = max_bytes
    _newclient.HTTPClientParser.dataReceived = _counted_data_received
    _newclient.HTTPClientParser.allHeadersReceived = _counted_all_headers_received


class ResponseHeadCap:
    """Installs the cap with the crawl's ``FRAUDWALL_MAX_HEAD_BYTES`` when the crawler is built."""

    @classmethod
    def from_crawler(cls, crawler: Any) -> ResponseHeadCap:
        install(crawler.settings.getint("FRAUDWALL_MAX_HEAD_BYTES"))
        return cls()
