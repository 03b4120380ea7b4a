"""Why a fetch brought no page, as a short stable reason a user can read in the summary.

Scrapy reports failures as exception types (``DownloadCancelledError``,
``IgnoreRequest``...) that say little to someone reading a crawl's summary,
and one type can stand for several causes. :func:`failure_reason` names the
cause: ``body-over-cap`` (the page or APK was larger than its cap),
``decompression-bomb`` (it inflated past the cap: nothing more was read),
``timeout`` (a server that never answers, drips its body or never ends its
headers), ``too-many-redirects`` (a chain longer than ``REDIRECT_MAX_TIMES``),
``redirect-not-followed`` (to ``file:``, ``ftp:``, ``data:`` or no Location),
``http-404``..., ``connection-refused``, ``connection-lost``,
``connection-closed`` (the server hung up before a whole response head),
``head-over-cap`` (a response head over ``CRAWL_MAX_HEAD_BYTES``, or interim 1xx heads without end),
``invalid-response`` (not HTTP, or HTTP no client may accept: conflicting
lengths, a header name with NUL, an unknown transfer coding, a status outside 100-599),
``bad-content-encoding`` (a body its ``Content-Encoding`` does not decode),
``not-tls`` (an https URL whose server answered in something else, plain HTTP say),
``tls-client-certificate`` (the server asks for a client certificate), ``tls-failed`` (any other
handshake that failed: no protocol or cipher in common, an alert),
``truncated-body``, ``dns-failed``, ``local-socket-error`` (this machine could not open a socket:
out of open files or local ports), ``invalid-url``, ``unsupported-scheme``;
anything else keeps its exception's name.
"""

from __future__ import annotations

import gzip
import zlib

from scrapy.exceptions import (
    CannotResolveHostError, DownloadCancelledError, DownloadConnectionRefusedError, DownloadFailedError,
    DownloadTimeoutError, IgnoreRequest, ResponseDataLossError, UnsupportedURLSchemeError,
)
from scrapy.spidermiddlewares.httperror import HttpError
from OpenSSL import SSL
from twisted.internet.error import ConnectBindError, ConnectionDone, ConnectionLost, DNSLookupError, TimeoutError as TwistedTimeout
from twisted.python.failure import Failure
from twisted.web._newclient import ParseError, ResponseNeverReceived
from twisted.web.http_headers import InvalidHeaderName

from fraudwall.crawler.response_head import HeadOverCap

_BY_TYPE: tuple[tuple[type[BaseException], str], ...] = (
    (DownloadTimeoutError, "timeout"),
    (TwistedTimeout, "timeout"),
    (DownloadCancelledError, "body-over-cap"),
    (ResponseDataLossError, "truncated-body"),
    (DownloadConnectionRefusedError, "connection-refused"),
    (CannotResolveHostError, "dns-failed"),
    (DNSLookupError, "dns-failed"),
    (ResponseNeverReceived, "connection-lost"),
    (ConnectionLost, "connection-lost"),
    (UnsupportedURLSchemeError, "unsupported-scheme"),
    # This machine could not open a socket (out of open files or local ports): no fault of the host's.
    (ConnectBindError, "local-socket-error"),
    (DownloadFailedError, "connection-failed"),
)


#: Errors of decoders a Content-Encoding names; brotli and zstandard are optional, known by their modules.
_DECODER_ERRORS = (gzip.BadGzipFile, zlib.error)
_DECODER_MODULES = ("brotli", "_brotli", "brotlicffi", "zstandard", "backports.zstd", "compression.zstd")
#: What Twisted's HTTP client raises for bytes that are no acceptable HTTP response.
_MALFORMED = (ParseError, InvalidHeaderName, ValueError, KeyError)


#: OpenSSL's words for a handshake that failed, and the reason each is counted under; anything else is tls-failed.
_TLS_FAILURES = (
    ("wrong version number", "not-tls"),  # the first bytes back were no TLS record
    ("packet length too long", "not-tls"),
    ("certificate required", "tls-client-certificate"),
)


def _tls_reason(error: SSL.Error) -> str:
    text = str(error).lower()
    return next((reason for words, reason in _TLS_FAILURES if words in text), "tls-failed")


def _is_decoder_error(error: BaseException) -> bool:
    return isinstance(error, _DECODER_ERRORS) or type(error).__module__.startswith(_DECODER_MODULES)


def _response_failed(error: BaseException) -> str | None:
    """The cause Twisted gave for a response that could not be read, when it says one."""
    reasons = [reason.value for reason in getattr(error.__cause__, "reasons", None) or () if isinstance(reason, Failure)]
    if tls := next((reason for reason in reasons if isinstance(reason, SSL.Error)), None):
        return _tls_reason(tls)
    if any(isinstance(reason, HeadOverCap) for reason in reasons):
        return "head-over-cap"
    if any(isinstance(reason, _MALFORMED) for reason in reasons):
        return "invalid-response"
    if reasons and all(isinstance(reason, ConnectionDone) for reason in reasons):
        return "connection-closed"
    return None


def failure_reason(failure: Failure) -> str:
    """The cause of a failed request, as a stat token."""
    error = failure.value
    text = str(error).lower()
    if _is_decoder_error(error):
        return "bad-content-encoding"
    if isinstance(error, HttpError):
        status = error.response.status
        if not 100 <= status <= 599:
            return "invalid-response"  # a status no client knows (-200, 999999): Twisted reads any number
        # Scrapy follows redirects to http and https only: one to file:, ftp:, data: or nowhere ends here.
        return "redirect-not-followed" if 300 <= status < 400 else f"http-{status}"
    if isinstance(error, IgnoreRequest):
        if "redirect" in text:
            return "too-many-redirects"
        if "decompress" in text:
            return "decompression-bomb"  # stopped at the cap while inflating: nothing past it was read
        return "ignored"
    if isinstance(error, ValueError):
        return "invalid-url"  # a Location or link no request can be built from
    for kind, reason in _BY_TYPE:
        if isinstance(error, kind):
            if reason == "connection-failed":
                if cause := _response_failed(error):
                    return cause
                if "timed out" in text:
                    return "timeout"
                if "parseerror" in text:
                    return "invalid-response"  # the server spoke something other than HTTP
                if "connectionlost" in text or "connection to the other side was lost" in text:
                    return "connection-lost"
            return reason
    return type(error).__name__
