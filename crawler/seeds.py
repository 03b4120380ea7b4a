"""Read crawl seeds: URLs, bare domains, or files of them.

A seed file holds one URL or domain per line; ``#`` starts a comment. A bad
line is rejected with a reason and counted, and the rest still load.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from fraudwall.exceptions import InputError
from fraudwall.models import Target
from fraudwall.names import parse_url
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


def read_seeds(values: Iterable[str]) -> SeedList:
    """Targets from command-line values; a value naming an existing file is read line by line."""
    seeds = SeedList()
    seen: set[str] = set()
    for value in values:
        path = Path(value)
        if "://" not in value and path.is_file():
            lines: Iterable[str] = path.read_text(encoding="utf-8", errors="replace").splitlines()
            source = f"file:{path.name}"
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
