"""What names a set of rule files: a digest of their paths and contents.

The rules plugins return it from their ``configure`` hook; the plugin host
records it with the plugin's version, so a changed rule file makes stored
evidence due for re-analysis, as a new plugin version does.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

#: Hex digits of the digest kept: enough to tell rule sets apart, short enough to read in a version.
DIGEST_CHARS = 12


def files_digest(paths: Iterable[str | Path]) -> str:
    """The first :data:`DIGEST_CHARS` hex digits of a sha256 over each file's name and bytes; "" for none."""
    digest = hashlib.sha256()
    count = 0
    for path in sorted(map(Path, paths)):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
        count += 1
    return digest.hexdigest()[:DIGEST_CHARS] if count else ""
