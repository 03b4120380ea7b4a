"""Links off a seed's registered domain that the crawl follows one hop: where a scam sends its victims.

The spider follows a seed's links inside its registered domain. Outside it,
most links lead to the rest of the web, but some are part of the scam:

* ``app-store``: an app store's listing (``store_hosts`` in
  ``page_signals.toml``), real or the one a fake app claims;
* ``distribution``: a beta or enterprise distribution service (fir.im,
  pgyer, TestFlight: ``distribution_hosts``), where fake apps are offered
  outside any store review;
* ``shortener``: a link shortener or redirector (``shorteners`` in
  ``shared_platforms.toml``), which stands for a page elsewhere;
* ``download``: a link that offers a download by its text (下载, 安装,
  download, APP) or its URL (``/download``, ``xiazai``, ``.apk``), on
  whatever host serves the files.

A page that came over https adds one more kind, ``certificate-name``: the
other sites its server's certificate names (:func:`certificate_sites`). One
certificate request names the sites of one operator together, often a fraud
group's whole batch of names; each is fetched at its front page, once per
certificate, unless the certificate names so many registered domains that it
is a CDN's or a host's, shared by strangers.

Each such page is fetched (a download within the APK cap), stored and
judged on its own evidence; from it only APK links are followed, so the crawl goes one hop off
the seed's domain and no further. Links to APK files themselves are followed
wherever they are, by the spider, before this is asked; off the seed's
domain they count as hops of their own kind (``apk``), capped per page like
the others.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from fraudwall import reference
from fraudwall.crawler.sites import registered_domain
from fraudwall.models import ServerCertificate
from fraudwall.exceptions import InvalidName
from fraudwall.names import is_ip_literal, normalize_name, parent_names

#: The kinds of outbound link, in the order they are recognised.
APP_STORE, DISTRIBUTION, SHORTENER, DOWNLOAD = "app-store", "distribution", "shortener", "download"
#: A site the page's TLS certificate names beside the page's own.
CERTIFICATE_NAME = "certificate-name"
#: A link to an APK file on another domain: followed from any page (outbound ones too), and counted as a hop,
#: so that a page of a thousand APK links on a thousand hosts gives its share and no more.
APK_FILE = "apk"
#: Request meta naming the kind of outbound link a request follows.
OUTBOUND_META = "outbound"

#: Words in a link's path or query that often stand for an app download with no ``.apk`` in its URL
#: (``/download?id=3``, ``/xiazai``).
DOWNLOAD_WORDS = re.compile(r"download|xiazai|apk|/app(?:[/?.]|$)|install", re.IGNORECASE)
#: Link text that offers an app.
DOWNLOAD_TEXT = re.compile(r"下载|安装|下載|安裝|download|install|\bapp\b|\bapk\b", re.IGNORECASE)


def _host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").rstrip(".")
    except ValueError:
        return ""


def _under(host: str, names: frozenset[str]) -> bool:
    """True when ``host`` is one of ``names`` or a subdomain of one."""
    return host in names or any(parent in names for parent in parent_names(host))


def outbound_kind(url: str, text: str) -> str | None:
    """The kind of outbound link ``url`` (with link text ``text``) is, or None for a link not worth the hop."""
    host = _host(url)
    if not host:
        return None
    signals = reference.page_signals()
    if _under(host, signals.app_store_hosts):
        return APP_STORE
    if _under(host, signals.app_distribution_hosts):
        return DISTRIBUTION
    if _under(host, reference.shorteners()):
        return SHORTENER
    path = "/" + url.split("://", 1)[-1].partition("/")[2]  # path and query: the host's own words do not count
    if DOWNLOAD_TEXT.search(text) or DOWNLOAD_WORDS.search(path):
        return DOWNLOAD
    return None


def certificate_sites(certificate: ServerCertificate, page_url: str, own_domains: set[str],
                      most: int) -> list[str] | None:
    """The front pages of the sites ``certificate`` names outside ``own_domains``, one per registered domain, at
    the page's scheme and port; None when it names more than ``most`` registered domains (a shared certificate).

    Addresses, and names on shared platforms (a hosting service's certificate names the service) or of
    brands' own sites (``allowlist``), are no operator's other sites and are left out.
    """
    split = urlsplit(page_url)
    try:
        port = split.port
    except ValueError:
        port = None
    authority = f":{port}" if port else ""
    shared, allowed = reference.shared_platforms(), reference.allowlist()
    sites: dict[str, str] = {}
    for name in certificate.names:
        host = name.lower().removeprefix("*.").rstrip(".")
        if is_ip_literal(host):
            continue
        try:
            host = normalize_name(host)  # a certificate's names are the server's to write: no host name, no fetch
        except InvalidName:
            continue
        if _under(host, shared) or _under(host, allowed):
            continue
        domain = registered_domain(f"https://{host}/")
        if domain and domain not in own_domains:
            sites.setdefault(domain, f"{split.scheme}://{host}{authority}/")
    if len(sites) > most:
        return None
    return list(sites.values())
