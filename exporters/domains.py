"""Plain domain list: one name per line, ``#`` comments (Pi-hole adlists, many firewalls).

Blocks exact names only; Pi-hole and most consumers of plain lists match the
listed name, not its subdomains.
"""

from __future__ import annotations

import re

from fraudwall.exporters.base import name_regex
from fraudwall.exporters.namelist import NameListExporter


class DomainsExporter(NameListExporter):
    """One blocked name per line."""

    name = "domains"
    description = "plain list, one name per line; blocks exact names only"
    data_line = re.compile(rf"(?P<owner>{name_regex(allow_underscore=False)})")
    line_prefix = ""
