"""Read crawl seeds: URLs, bare domains, or files of them.

A seed file holds one URL or domain per line; ``#`` starts a comment. A bad
line is rejected with a reason and counted, and the rest still load; so is a
seed file that is not text (``binary-file``). A value that names no existing
file but reads as a path (``seeds/today.txt``, ``nosuchfile.txt``: no known
top-level domain) is a :class:`~fraudwall.exceptions.ConfigError`, never a
name to look up in DNS.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from fraudwall.exceptions import ConfigError, CrawlError, InputError
from fraudwall.models import Target
from fraudwall.names import is_ip_literal, is_public_suffix, parse_url
from fraudwall.rejections import Rejections

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


def _seed_file_lines(path: Path, rejected: Rejections) -> list[str]:
    """The lines of a seed file; a file that is not UTF-8 text is rejected whole as ``binary-file``."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CrawlError(f"cannot read seed file {path}: {exc.strerror or exc}") from exc
    nul = data.find(b"\0")
    if nul >= 0:
        rejected.add(f"{path}: a NUL byte at byte {nul}, not a text file", "binary-file")
        return []
    try:
        return data.decode("utf-8-sig").splitlines()
    except UnicodeDecodeError as exc:
        rejected.add(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})", "binary-file")
        return []


def read_seeds(values: Iterable[str]) -> SeedList:
    """Targets from command-line values; a value naming an existing file is read line by line."""
    seeds = SeedList()
    seen: set[str] = set()
    for value in values:
        path = Path(value)
        if "://" not in value and path.is_file():
            lines: Iterable[str] = _seed_file_lines(path, seeds.rejected)
            source = f"file:{path.name}"
        elif path.exists() and "://" not in value:
            raise CrawlError(f"seed file {value} is not a regular file")
        elif looks_like_path(value):
            raise ConfigError(f"seed file {value} does not exist (a seed is a URL, a domain or a seed file)")
        else:
            lines, source = [value], "seed"
        for line in lines:
            text = line.split("#", 1)[0].strip() if not line.lstrip().startswith("http") else line.strip()
            if not text:
                continue
            try:
                target = seed_to_target(text, source)
            except InputError as exc:
                seeds.rejected.add(text, exc.reason)
                continue
            if target.url not in seen:
                seen.add(target.url)
                seeds.targets.append(target)
    return seeds
