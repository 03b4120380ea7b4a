"""TLS as fraud sites speak it: any certificate, any protocol a phone still speaks, no warning per connection.

A crawler of fraud sites meets every kind of broken TLS: self-signed,
expired and mismatched certificates (the norm, not the exception), 1024-bit
keys and SHA-1 signatures, and servers left on TLS 1.0 or 1.1, which the
old Android phones many victims carry still open. Scrapy already accepts
any certificate, but its client context keeps the system's OpenSSL policy
(Debian's security level 2 refuses TLS 1.0 and 1.1 outright, and Scrapy's
cipher setting cannot lower it: Twisted keeps the cipher names, not the
``@SECLEVEL`` directive) and logs a warning for every connection to a host
its certificate does not name, which on a fraud crawl is most of the log.

:class:`AnyServerTLSPolicy` is the policy fraudwall's download handlers
connect with (:func:`accept_any_server`): one OpenSSL client context, built
once, that speaks TLS 1.0 to 1.3 at security level 0, verifies nothing and
sends the host name (SNI) for names, not for addresses. What the
certificate says stays evidence for the page, not a reason to refuse it.
Handshakes that fail anyway are named by
:func:`fraudwall.crawler.failures.failure_reason` (``tls-*``).

The lower policy changes which servers the crawler can talk to, not what it
trusts: a crawl sends them nothing it would not send over a stronger channel.

:func:`server_certificate` reads the certificate a response came with into
the page's evidence (:class:`~fraudwall.models.ServerCertificate`).
"""

from __future__ import annotations

import functools
import hashlib
from typing import Any

from cryptography import x509
from cryptography.x509.oid import NameOID
from OpenSSL import SSL, crypto
from twisted.internet.interfaces import IOpenSSLClientConnectionCreator
from twisted.web.iweb import IPolicyForHTTPS
from zope.interface import implementer

from fraudwall.models import ServerCertificate
from fraudwall.names import is_ip_literal

#: The oldest protocol spoken: TLS 1.0 (Android before 4.4.2 speaks nothing newer by default). SSLv3 is not.
MINIMUM_VERSION = SSL.TLS1_VERSION
#: OpenSSL's default cipher list at security level 0: small keys, SHA-1 and the old protocols allowed.
CIPHERS = b"DEFAULT:@SECLEVEL=0"
#: Workarounds for broken servers (as Twisted's ``fixBrokenPeers``), renegotiation with unpatched servers
#: (as Scrapy), no compression (CRIME), and an end without close_notify read as an end, as browsers do.
OPTIONS = SSL.OP_ALL | SSL.OP_LEGACY_SERVER_CONNECT | SSL.OP_NO_COMPRESSION | SSL.OP_IGNORE_UNEXPECTED_EOF


def client_context() -> SSL.Context:
    """The OpenSSL client context every https connection of a crawl is made from."""
    context = SSL.Context(SSL.TLS_CLIENT_METHOD)
    context.set_min_proto_version(MINIMUM_VERSION)
    context.set_cipher_list(CIPHERS)
    context.set_options(OPTIONS)
    context.set_verify(SSL.VERIFY_NONE)
    return context


@implementer(IOpenSSLClientConnectionCreator)
class _Connection:
    """One TLS connection to ``host``: SNI for a name (RFC 6066 allows no address there)."""

    def __init__(self, context: SSL.Context, host: str) -> None:
        self._context = context
        self._server_name = None if is_ip_literal(host) else host.encode("ascii", "ignore")

    def clientConnectionForTLS(self, tlsProtocol: Any) -> SSL.Connection:  # noqa: N802 (Twisted's interface)
        connection = SSL.Connection(self._context, None)
        connection.set_app_data(tlsProtocol)
        if self._server_name:
            connection.set_tlsext_host_name(self._server_name)
        connection.set_connect_state()
        return connection


@implementer(IPolicyForHTTPS)
class AnyServerTLSPolicy:
    """Connect to any https server a phone could reach, whatever its certificate."""

    def __init__(self) -> None:
        self._context = client_context()

    def creatorForNetloc(self, hostname: bytes, port: int) -> _Connection:  # noqa: N802 (Twisted's interface)
        return _Connection(self._context, hostname.decode("ascii", "ignore"))


def accept_any_server(handler: Any) -> None:
    """Have a Scrapy HTTP/1.1 download handler (or one built on it) connect with :class:`AnyServerTLSPolicy`."""
    handler._contextFactory = AnyServerTLSPolicy()


#: Names of a certificate kept as evidence. CAs issue at most 100 to 250; a server's own certificate can carry
#: any number, and each page it serves is stored with them.
MAX_NAMES = 100


def server_certificate(response: Any) -> ServerCertificate | None:
    """The certificate an https response came with (Scrapy's ``response.certificate``), None without one."""
    certificate = getattr(response, "certificate", None)
    if certificate is None:
        return None
    try:
        der = crypto.dump_certificate(crypto.FILETYPE_ASN1, certificate.original)
    except (AttributeError, crypto.Error):
        return None
    return _read(der)


@functools.lru_cache(maxsize=1024)
def _read(der: bytes) -> ServerCertificate | None:
    # One host's pages all come with its certificate: each is read once, not once a page.
    try:
        parsed = x509.load_der_x509_certificate(der)
    except ValueError:
        return None
    try:
        alternative = parsed.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names = tuple(dict.fromkeys([*alternative.get_values_for_type(x509.DNSName),
                                     *(str(address) for address in alternative.get_values_for_type(x509.IPAddress))]))
    except (x509.ExtensionNotFound, ValueError):  # none, or one a hostile server made unreadable
        names = ()
    if not names:  # an old certificate names its host in the subject's common name only
        names = tuple(str(attribute.value) for attribute in _attributes(parsed.subject, NameOID.COMMON_NAME))
    return ServerCertificate(
        sha256=hashlib.sha256(der).hexdigest(),
        subject=_name(parsed.subject),
        issuer=_name(parsed.issuer),
        names=names[:MAX_NAMES],
        not_before=parsed.not_valid_before_utc,
        not_after=parsed.not_valid_after_utc,
    )


def _attributes(name: x509.Name, oid: x509.ObjectIdentifier) -> list[x509.NameAttribute]:
    try:
        return name.get_attributes_for_oid(oid)
    except ValueError:
        return []


def _name(name: x509.Name) -> str:
    try:
        return name.rfc4514_string()
    except ValueError:  # a name no RFC 4514 string can spell: its attributes' values as they are
        return ",".join(str(attribute.value) for attribute in name)
