"""https as fraud sites serve it: broken certificates and old protocols are fetched, failed handshakes are named.

Real crawls (the ``run_crawl`` driver of test_host_health, in a subprocess) of
TLS servers on loopback, one per behaviour, each with a certificate made here:
self-signed, expired, for another name, a 1024-bit key, and
a server that speaks nothing newer than TLS 1.0 (Debian's OpenSSL policy
refuses it to a client as it stands). Each runs with Scrapy's handler
(rendering off) and the render extra's, which fetches the pages it does not
render through the same client.
"""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
import json
import socket
import ssl
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from fraudwall.blocklists.store import Store
from fraudwall.models import ServerCertificate
from tests.crawler.raw_server import RawServer, read_request_head
from tests.crawler.test_host_health import DRIVER

# The server side of the TLS 1.0 case: what this test serves, not what fraudwall asks for.
pytestmark = pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1 is deprecated:DeprecationWarning")

NOW = datetime.datetime.now(datetime.timezone.utc)


def _certificate(folder: Path, name: str, *, bits: int = 2048, valid_until: datetime.datetime | None = None,
                 also: tuple[x509.GeneralName, ...] = ()) -> tuple[Path, Path]:
    """A self-signed certificate for ``name`` (and the names ``also``) and its key, as PEM files in ``folder``."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    until = valid_until or NOW + datetime.timedelta(days=30)
    certificate = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(until - datetime.timedelta(days=60)).not_valid_after(until)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name), *also]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / f"{name}.crt", folder / f"{name}.key"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


def _tls_site(context: ssl.SSLContext, title: str = "") -> Callable[[socket.socket, int], None]:
    """Answers one request over TLS with a page titled ``title`` (the host asked for, by default); a failed
    handshake just ends the connection."""
    def handle(connection: socket.socket, number: int) -> None:
        try:
            with context.wrap_socket(connection, server_side=True) as tls:
                path, host = read_request_head(tls)
                if path:
                    body = f"<title>{title or host}</title><p>在线客服 {title or host}</p>".encode()
                    tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nConnection: close\r\n"
                                b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        except (ssl.SSLError, OSError):
            pass
    return handle


def _plain_http(connection: socket.socket, number: int) -> None:
    """Plain HTTP on the port an https link names."""
    connection.recv(4096)
    connection.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
    connection.close()


def _server_context(cert: tuple[Path, Path], *, legacy: bool = False) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    if legacy:  # before loading: a 1024-bit key is refused at the default security level
        context.set_ciphers("DEFAULT:@SECLEVEL=0")
    context.load_cert_chain(*cert)
    return context


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, int]]:
    """Host name -> port of a loopback server behaving as the name says."""
    folder = tmp_path_factory.mktemp("tls")
    good = _certificate(folder, "tls-self-signed.top")
    tls10 = _server_context(good, legacy=True)
    tls10.minimum_version = tls10.maximum_version = ssl.TLSVersion.TLSv1
    client_certificate = _server_context(good)
    client_certificate.verify_mode = ssl.CERT_REQUIRED
    client_certificate.load_verify_locations(good[0])
    no_cipher_in_common = _server_context(good, legacy=True)
    no_cipher_in_common.maximum_version = ssl.TLSVersion.TLSv1_2
    no_cipher_in_common.set_ciphers("aNULL:@SECLEVEL=0")  # anonymous ciphers only: no client offers them
    handlers = {
        "tls-self-signed.top": _tls_site(_server_context(good), "self-signed"),
        "tls-expired.top": _tls_site(_server_context(_certificate(
            folder, "tls-expired.top", valid_until=NOW - datetime.timedelta(days=400))), "expired"),
        "tls-mismatch.top": _tls_site(_server_context(_certificate(folder, "another-name.example")), "mismatch"),
        "tls-weak.top": _tls_site(_server_context(_certificate(folder, "tls-weak.top", bits=1024), legacy=True),
                                  "weak"),
        "tls-v10.top": _tls_site(tls10, "tls 1.0"),
        "tls-client-cert.top": _tls_site(client_certificate, "client certificate"),
        "tls-no-cipher.top": _tls_site(no_cipher_in_common, "no cipher"),
        "tls-plain.top": _plain_http,
    }
    with ExitStack() as stack:
        yield {name: stack.enter_context(RawServer(handle)).port for name, handle in handlers.items()}


FETCHED = ["tls-self-signed.top", "tls-expired.top", "tls-mismatch.top", "tls-weak.top", "tls-v10.top"]


@pytest.mark.parametrize("render", ["off", "shells"])
def test_broken_certificates_and_old_protocols_are_fetched_and_failed_handshakes_named(
        tmp_path: Path, sites: dict[str, int], render: str) -> None:
    """Every server with a bad certificate, a weak key or only TLS 1.0 is fetched and stored, without a warning
    per connection; a client-certificate demand, no cipher in common and plain HTTP on an https port are each
    counted under a reason of their own."""
    stats, stderr = _crawl(tmp_path, [f"https://{name}:{port}/" for name, port in sites.items()], sites,
                           CRAWL_DEPTH=0, CRAWL_RENDER=render)
    assert sorted(_stored(tmp_path)) == sorted(FETCHED)
    failed = {key.rsplit("/", 1)[1]: value for key, value in stats.items() if key.startswith("fraudwall/fetch/failed/")}
    assert failed == {"tls-client-certificate": 1, "tls-failed": 1, "not-tls": 1}
    assert "Remote certificate is not valid" not in stderr


def _crawl(tmp_path: Path, seeds: list[str], names: Iterable[str], **settings: Any) -> tuple[dict[str, Any], str]:
    """A crawl of ``seeds`` with ``names`` mapped to loopback; its stats and log."""
    config: dict[str, Any] = {
        "DB_PATH": str(tmp_path / "crawl.db"), "ALLOW_NETS": ["127.0.0.0/8"], "CRAWL_PROFILES": ["android"],
        "CRAWL_PROGRESS": "off", "CRAWL_TIMEOUT": 10, "HOST_MAP": {name: "127.0.0.1" for name in names},
        "HOST_MAP_ONLY": True, **settings,
    }
    result = subprocess.run([sys.executable, "-c", DRIVER, json.dumps(config), *seeds], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    stats = json.loads(result.stdout)
    assert "spider_exceptions/count" not in stats, result.stderr[-3000:]
    return stats, result.stderr


def _stored(tmp_path: Path) -> dict[str, ServerCertificate | None]:
    """The certificate stored with each page (None for none), by the page's host, as a re-analysis reads them."""
    with Store.open(tmp_path / "crawl.db") as store:
        pages = [stored.observation for stored in store.pending({}, rerun=["every page"])]
    return {page.final_url.split("//")[1].split(":")[0]: page.certificate for page in pages}


#: The names of one operator's certificate beside the site's own: two other registered domains (one by a
#: wildcard, one with its www name too), an address, a shared platform's name and a bank's own domain.
SIBLINGS = ("sibling-one.top", "www.sibling-one.top", "*.sibling-two.top")
NOT_SITES = ("pages.dev", "icbc.com.cn")


def test_a_certificate_gives_its_other_sites_one_hop_and_is_stored_with_each_page(
        tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> None:
    """The front page of each other registered domain the seed's certificate names is fetched once (at the seed's
    port), and not its address, a shared platform or a brand's own domain; the sibling pages' own certificates
    (the same one) give nothing more. A certificate naming 25 other domains is a shared one: none is fetched.
    Every page is stored with its certificate: fingerprint, names, issuer, dates."""
    folder = tmp_path_factory.mktemp("siblings")
    group = _certificate(folder, "cert-group.top", also=(
        *(x509.DNSName(name) for name in (*SIBLINGS, *NOT_SITES)), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))))
    shared = _certificate(folder, "cert-shared.top", also=tuple(x509.DNSName(f"customer{n}.top") for n in range(25)))
    with RawServer(_tls_site(_server_context(group))) as group_site, \
            RawServer(_tls_site(_server_context(shared))) as shared_site:
        names = ["cert-group.top", "sibling-one.top", "www.sibling-one.top", "sibling-two.top", *NOT_SITES,
                 "cert-shared.top", *(f"customer{n}.top" for n in range(25))]
        stats, _ = _crawl(tmp_path, [f"https://cert-group.top:{group_site.port}/",
                                     f"https://cert-shared.top:{shared_site.port}/"], names, CRAWL_DEPTH=1,
                          CRAWL_RENDER="off")
    stored = _stored(tmp_path)
    assert sorted(stored) == ["cert-group.top", "cert-shared.top", "sibling-one.top", "sibling-two.top"]
    assert stats["fraudwall/fetch/outbound/certificate-name"] == 2
    assert stats["fraudwall/fetch/skipped/shared-certificate"] == 1
    certificate = stored["sibling-two.top"]
    assert certificate == stored["cert-group.top"]
    assert certificate.sha256 == hashlib.sha256(
        ssl.PEM_cert_to_DER_cert(group[0].read_text())).hexdigest()
    assert certificate.names == ("cert-group.top", *SIBLINGS, *NOT_SITES, "127.0.0.1")
    assert certificate.self_signed and certificate.issuer == "CN=cert-group.top"
    assert certificate.covers("x.sibling-two.top") and not certificate.covers("a.b.sibling-two.top")
    assert certificate.not_after > NOW > certificate.not_before


def test_a_certificates_names_are_fetched_only_as_host_names() -> None:
    """Names a server wrote into its own certificate that are no host name (a path, a space, a bare wildcard, one
    over 253 characters) give no request; an IDN is asked for in its A-label, once with its A-label twin."""
    from fraudwall.crawler.outbound import certificate_sites

    certificate = ServerCertificate("00", "CN=a.top", "CN=a.top", names=(
        "a.top", "xn--fiqs8s.top", "*.b.top", "evil.com/path?x", "c d.top", "1.2.3.4", "..", "*", "中国.top",
        "x" * 300 + ".top"))
    assert certificate_sites(certificate, "https://a.top:8443/x", {"a.top"}, 20) == [
        "https://xn--fiqs8s.top:8443/", "https://b.top:8443/"]
