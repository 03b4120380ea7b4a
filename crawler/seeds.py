"""Read crawl seeds: URLs, bare domains, or list and feed files of them.

A value naming a file is read as ``export --input`` reads it
(:mod:`fraudwall.lists`): plain names, hosts and ABP/AdGuard lists, URL lists
(OpenPhish), URLhaus, PhishTank and JPCERT/CC feeds, compressed or not. Each
URL in it becomes a target as the feed gives it, each name a target
``http://name/``, with the file as ``source`` (``file:NAME``); a line or record
that is no usable name or http(s) URL is rejected with the reason the export
would give, its sample naming ``file:line``. An ``@@`` exception is no seed:
it is an ``untrusted-exception`` rejection, as no seed file is trusted for
allowing. A seed file must be UTF-8 text as a whole (decompressed): one that
is not is one ``binary-file`` rejection, so none of its bytes become a URL to
fetch.

A value that names no existing file but reads as a path (``seeds/today.txt``,
``nosuchfile.txt``: no known top-level domain) is a
:class:`~fraudwall.exceptions.ConfigError`, never a name to look up in DNS; a
folder or a device is a :class:`~fraudwall.exceptions.CrawlError`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from fraudwall.exceptions import ConfigError, CrawlError, InputError
from fraudwall.lists import ListRead, iter_lists, utf8_fault
from fraudwall.models import Target
from fraudwall.names import is_ip_literal, is_public_suffix, parse_url
from fraudwall.rejections import Rejections, readable

SCHEMES = ("http", "https")


@dataclass
class SeedList:
    """The targets read, and the seeds rejected with their reasons."""

    targets: list[Target] = field(default_factory=list)
    rejected: Rejections = field(default_factory=Rejections)


def seed_to_target(value: str, source: str = "seed") -> Target:
    """One seed (URL or bare domain) as a :class:`Target`; raises :class:`InputError`."""
    text = value.strip()
    if "://" not in text:
        text = f"http://{text}/"
    scheme = text.split("://", 1)[0].lower()
    if scheme not in SCHEMES:
        raise InputError("unsupported-scheme", value)
    parse_url(text)  # validates the host (IDNA, lengths, characters)
    return Target(url=text, source=source)


def looks_like_path(value: str) -> bool:
    """True when ``value`` (no scheme) reads as a file path rather than a domain or a URL without scheme.

    ``shop.top/login`` is a URL: what comes before its first slash is a name
    with a known top-level domain. ``lists/today.txt``, ``./seeds``,
    ``~/seeds`` and ``nosuchfile.txt`` are paths.
    """
    if "://" in value:
        return False
    text = value.strip()
    if text.startswith(("~", ".", "/", "\\")) or "\\" in text:
        return True
    head = text.split("/", 1)[0]
    if "/" in text and "." not in head:
        return True
    last = head.rstrip(".").rsplit(".", 1)[-1].lower()
    return "." in head and not is_ip_literal(head) and last.isascii() and last.isalnum() and not is_public_suffix(last)


def _file_targets(path: Path, rejected: Rejections) -> Iterator[Target]:
    """The targets a seed file lists, its rejections counted in ``rejected``."""
    try:
        fault = utf8_fault(path)
        if fault:
            rejected.add(f"{path}: {fault}", "binary-file")
            return
        source = f"file:{readable(path.name)}"
        # No file is trusted for exceptions here: an @@ rule is a counted rejection, never a target.
        for item in iter_lists([path], ListRead(rejected=rejected)):
            yield Target(url=item.url or f"http://{item.name}/", source=source)
    except InputError as exc:  # only a file that cannot be opened raises
        raise CrawlError(f"cannot read seed file {exc.detail}") from exc


def read_seeds(values: Iterable[str]) -> SeedList:
    """Targets from command-line values; a value naming an existing file is read as a list or feed."""
    seeds = SeedList()
    seen: set[str] = set()
    for value in values:
        path = Path(value)
        if "://" not in value and path.is_file():
            targets: Iterable[Target] = _file_targets(path, seeds.rejected)
        elif path.exists() and "://" not in value:
            raise CrawlError(f"seed file {value} is not a regular file")
        elif looks_like_path(value):
            raise ConfigError(f"seed file {value} does not exist (a seed is a URL, a domain or a seed file)")
        else:
            text = value.strip() if value.lstrip().startswith("http") else value.split("#", 1)[0].strip()
            if not text:
                continue
            try:
                targets = [seed_to_target(text)]
            except InputError as exc:
                seeds.rejected.add(text, exc.reason)
                continue
        for target in targets:
            if target.url not in seen:
                seen.add(target.url)
                seeds.targets.append(target)
    return seeds
