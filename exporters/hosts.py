"""hosts(5) format: ``0.0.0.0 name`` lines, for /etc/hosts, dnsmasq ``addn-hosts``, Pi-hole.

0.0.0.0 rather than 127.0.0.1: a connection to it fails at once instead of
reaching whatever listens on the local machine. Blocks exact names only.
"""

from __future__ import annotations

import re

from fraudwall.exporters.base import name_regex
from fraudwall.exporters.namelist import NameListExporter


class HostsExporter(NameListExporter):
    """``0.0.0.0 name``, one blocked name per line."""

    name = "hosts"
    description = "hosts file, '0.0.0.0 name' lines; blocks exact names only"
    data_line = re.compile(rf"0\.0\.0\.0 (?P<owner>{name_regex(allow_underscore=False)})")
    line_prefix = "0.0.0.0 "
