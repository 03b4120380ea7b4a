"""The consumers' own checkers, run on a rendered file before it is published.

Each format's :meth:`~fraudwall.exporters.base.Exporter.verify` re-reads its
file strictly and then, where the consumer ships a checker, runs it here: the
same parser the resolver or gateway will use. A checker that is not installed
is an :class:`~fraudwall.exceptions.ExportError`: when verification was asked
for, nothing is published unverified.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from fraudwall.exceptions import ExportError, VerificationError

# Checkers read a million-record list in well under a minute; this only stops a hang.
CHECKER_TIMEOUT = 600


def run_checker(tool: str, package: str, args: Sequence[str], subject: Path) -> str:
    """Run ``tool args...``; its output on success, :class:`VerificationError` with its output on failure.

    ``package`` is the Debian package that provides ``tool``, named in the
    error when it is missing.
    """
    binary = shutil.which(tool)
    if binary is None:
        raise ExportError(f"{tool} not installed (Debian package {package})")
    try:
        result = subprocess.run(
            [binary, *args], capture_output=True, text=True, errors="replace", timeout=CHECKER_TIMEOUT, check=False,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as exc:
        raise VerificationError(f"{tool} timed out after {exc.timeout}s on {subject}") from exc
    output = (result.stdout + result.stderr).strip()
    if result.returncode != 0:
        raise VerificationError(f"{tool} rejected {subject}:\n{output}")
    return output


def verify_rpz(path: Path, zone: str) -> None:
    """Load ``path`` as zone ``zone`` with BIND's ``named-checkzone``.

    ``-k fail`` turns check-names warnings into errors and ``-r fail`` does the
    same for records DNSSEC would treat as different but plain DNS as equal.
    ``-q`` is not used: its silence would hide the checker's reason.
    """
    run_checker("named-checkzone", "bind9-utils", ["-k", "fail", "-r", "fail", zone, str(path)], path)
