"""The contract every registered export format must keep.

Parametrised over :data:`EXPORTERS`, so a new format is tested the moment it is
registered. How a consumer matches names differs by format, so each format has
a small model of its consumer here (:data:`CONSUMERS`); a format without one
fails the contract until it gets one, as it does without a golden file.

Golden files are in ``golden/``; regenerate them with
``UPDATE_GOLDEN=1 pytest tests/exporters`` and review the diff (not ``FRAUDWALL_*``: every
variable with that prefix must be a setting).
"""

from __future__ import annotations

import csv
import io
import ipaddress
import json
import os
import random
import re
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from stix2matcher.matcher import Pattern

from fraudwall.exceptions import ExportError
from fraudwall.exporters import EXPORTERS, Exporter, ExportMeta, export, get_exporter
from fraudwall.exporters.base import DocumentExporter, FolderExporter
from fraudwall.exporters.squid import squid_unescape
from fraudwall.models import Action, BlockEntry, Scope

GOLDEN = Path(__file__).parent / "golden"
IDN = "工商银行-kefu.top"
IDN_A_LABEL = "xn---kefu-mk0i282cg63fw2xa.top"

# Names that must never reach a file: each is rejected, counted, and absent from the output.
# (normalize_name trims surrounding whitespace, so control characters sit inside the names.)
HOSTILE_NAMES = [
    "evil.example.com\nserver=/x/1.2.3.4",
    "evil.example.com\r\n$INCLUDE /etc/passwd",
    "evil\r.example.com",
    "evil\x00.example.com",
    "$INCLUDE /etc/passwd",
    "$INCLUDE",
    "server=/x/1.2.3.4",
    'local-zone: "x" static',
    "||*^",
    "||evil.example.com^",
    '"evil.example.com"',
    "evil.example.com;",
    "; comment.example.com",
    "evil example.com",
    "a" * 64 + ".example.com",
    ".".join(["a" * 63] * 3 + ["b" * 61]) + ".com",  # 254 characters
    "1.2.3.4",
    "::1",
    "com.cn",
    "github.io",
    "*.x.com",
    "",
]
HOSTILE_TOKENS = ["passwd", "$INCLUDE", "server=", "local-zone", "||", '"', "1.2.3.4", "com.cn", "\r", "\x00"]


def _hosts_consumer(text: str) -> Callable[[str], bool]:
    """/etc/hosts, dnsmasq addn-hosts: a name is blocked when it is listed."""
    names = {line.split()[1] for line in text.splitlines() if line.startswith("0.0.0.0 ")}
    return names.__contains__


def _domains_consumer(text: str) -> Callable[[str], bool]:
    """Pi-hole exact list: a name is blocked when it is listed."""
    return {line for line in text.splitlines() if line and not line.startswith("#")}.__contains__


def _rpz_consumer(text: str) -> Callable[[str], bool]:
    """RPZ QNAME policy as BIND applies it: an exact owner wins; a name that exists in the zone only as
    an empty non-terminal (an ancestor of owners) matches no wildcard; else the closest ``*.ancestor``
    decides; ``.`` blocks. (Checked against a running BIND in ``test_export_rpz_resolvers``.)"""
    rules = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] == "CNAME":
            rules[parts[0]] = parts[2]
    existing = {owner.split(".", cut)[-1] for owner in rules for cut in range(owner.count(".") + 1)}

    def blocked(name: str) -> bool:
        if name in rules:
            return rules[name] == "."
        if name in existing:
            return False
        labels = name.split(".")
        for cut in range(1, len(labels)):
            wildcard = "*." + ".".join(labels[cut:])
            if wildcard in rules:
                return rules[wildcard] == "."
        return False
    return blocked


def _squid_consumer(text: str) -> Callable[[str], bool]:
    """Squid dstdomain: ``name`` matches that host, ``.name`` the name and every name below it."""
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    exact = {line for line in lines if not line.startswith(".")}
    subtrees = {line[1:] for line in lines if line.startswith(".")}
    def blocked(name: str) -> bool:
        labels = name.split(".")
        return name in exact or any(".".join(labels[cut:]) in subtrees for cut in range(len(labels)))
    return blocked


def _squid_url_consumer(text: str) -> Callable[[str], bool]:
    """Squid url_regex: a URL is blocked when a pattern matches it after Squid's %XX decoding
    (``squid_unescape``, checked against a running Squid in test_export_squid). Subjects are URLs
    with scheme and host lowercased, as Squid has them; the POSIX ERE used means the same in Python
    once ``[[:blank:]]`` is spelt ``[ \t]``."""
    patterns = [re.compile(line.replace("[[:blank:]]", "[ \t]").encode())
                for line in text.splitlines() if line and not line.startswith("#")]
    return lambda url: any(pattern.search(squid_unescape(url)) for pattern in patterns)


def _dnsmasq_consumer(text: str) -> Callable[[str], bool]:
    """dnsmasq 2.86+: the most specific pattern wins; ``/x/`` covers x and below, ``/*.x/`` only
    below and beats ``/x/`` there (checked against a running dnsmasq in test_export_dnsmasq).
    ``server=/x/#`` forwards as usual; ``local=/x/``, ``server=/x/`` and ``address=/x/#`` block."""
    rules = {}
    for line in text.splitlines():
        match = re.fullmatch(r"(local|server|address)=/([^/]+)/(#?)", line)
        if match:
            rules[match[2]] = match[1] != "server" or not match[3]
    def blocked(name: str) -> bool:
        if name in rules:
            return rules[name]
        labels = name.split(".")
        for cut in range(1, len(labels)):
            parent = ".".join(labels[cut:])
            for pattern in (f"*.{parent}", parent):
                if pattern in rules:
                    return rules[pattern]
        return False
    return blocked


def _unbound_consumer(text: str) -> Callable[[str], bool]:
    """Unbound local zones: the closest enclosing local-zone answers; a transparent zone answers
    only names it has local-data for (here 0.0.0.0 and ::) and resolves the rest normally."""
    zones, data = {}, set()
    for line in text.splitlines():
        if match := re.fullmatch(r'local-zone: "(.+)\." (\S+)', line):
            zones[match[1]] = match[2]
        elif match := re.fullmatch(r'local-data: "(.+?)\. .*"', line):
            data.add(match[1])
    def blocked(name: str) -> bool:
        labels = name.split(".")
        for cut in range(len(labels)):
            zone = ".".join(labels[cut:])
            if zone in zones:
                return name in data if zones[zone] == "transparent" else True
        return False
    return blocked


def _unbound_rpz_consumer(text: str) -> Callable[[str], bool]:
    """Unbound's RPZ lookup (services/rpz.c, rpz_find_zone; checked against a running Unbound in
    test_export_unbound): an owner equal to the name decides; else only ``*.`` of the closest name
    shared with the owner sorting just before the name (canonical order) is tried, else no rule."""
    rules = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] == "CNAME":
            rules[parts[0]] = parts[2]
    def key(name: str) -> tuple[str, ...]:
        return tuple(reversed(name.split(".")))
    def blocked(name: str) -> bool:
        if name in rules:
            return rules[name] == "."
        before = max((owner for owner in rules if key(owner) <= key(name)), key=key, default=None)
        if before is None:
            return False
        shared = []
        for mine, theirs in zip(key(name), key(before)):
            if mine != theirs:
                break
            shared.append(mine)
        return rules.get(".".join(["*", *reversed(shared)])) == "."
    return blocked


def _adblock_consumer(text: str) -> Callable[[str], bool]:
    """AdGuard DNS filtering: ``||x^`` matches x and below, ``|x^`` x only; the highest-ranked
    matching rule decides: ``@@...$important`` > ``...$important`` > ``@@...`` > plain blocks."""
    rules = []
    for line in text.splitlines():
        if match := re.fullmatch(r"(@@)?(\|\|?)([^|^$]+)\^(\$important)?", line):
            rules.append((match[3], match[2] == "||", 2 * bool(match[4]) + bool(match[1])))
    def blocked(name: str) -> bool:
        levels = [level for rule, subtree, level in rules
                  if rule == name or (subtree and name.endswith(f".{rule}"))]
        return bool(levels) and max(levels) % 2 == 0
    return blocked


def _suricata_consumer(text: str) -> Callable[[str], bool]:
    """Suricata dns.query rules: ``content:"x"; startswith; endswith;`` matches x (any case);
    ``dotprefix; content:".x"; endswith;`` matches x and every name below; pass rules win, as
    Suricata's default action-order applies them first. (Name contents need no ``|HH|``.)"""
    rule = re.compile(r'(pass|alert|drop|reject) dns .*? dns\.query; (dotprefix; )?content:"([^"|]+)";')
    passes, blocks = [], []
    for line in text.splitlines():
        match = rule.match(line)
        if match:
            (passes if match[1] == "pass" else blocks).append((bool(match[2]), match[3].lower()))
    def hits(rules: list[tuple[bool, str]], name: str) -> bool:
        return any(("." + name).endswith(content) if tree else name == content for tree, content in rules)
    return lambda name: not hits(passes, name.lower()) and hits(blocks, name.lower())


def _scoped_rules(rules: list[tuple[str, str, str]]) -> Callable[[str], bool]:
    """(name, scope, action) rules as the CSV and JSON exports document them: the rules of the
    name itself decide, else the nearest ancestor's subtree rules; at one name, allow wins."""
    own: dict[str, set[str]] = {}
    below: dict[str, set[str]] = {}
    for name, scope, action in rules:
        own.setdefault(name, set()).add(action)
        if scope == "subtree":
            below.setdefault(name, set()).add(action)
    def blocked(name: str) -> bool:
        labels = name.split(".")
        for actions in [own.get(name)] + [below.get(".".join(labels[cut:])) for cut in range(1, len(labels))]:
            if actions:
                return "allow" not in actions
        return False
    return blocked


def _csv_consumer(text: str) -> Callable[[str], bool]:
    """A script reading the CSV export with Python's csv module: domain rows are scoped rules."""
    rows = csv.DictReader(io.StringIO(text, newline=""))
    return _scoped_rules([(row["value"], row["scope"], row["action"]) for row in rows if row["type"] == "domain"])


def _json_consumer(text: str) -> Callable[[str], bool]:
    """A script reading the JSON export: domain entries are scoped rules."""
    entries = json.loads(text)["entries"]
    return _scoped_rules([(e["value"], e["scope"], e["action"]) for e in entries if e["type"] == "domain"])


def _stix_consumer(text: str) -> Callable[[str], bool]:
    """A threat-intel platform matching the bundle's indicators against an observed domain-name,
    with the OASIS reference matcher (stix2-matcher)."""
    patterns = [Pattern(item["pattern"], stix_version="2.1")
                for item in json.loads(text)["objects"] if item["type"] == "indicator"]
    def blocked(name: str) -> bool:
        sco = {"type": "domain-name", "id": f"domain-name--{uuid.uuid5(uuid.NAMESPACE_DNS, name)}", "value": name}
        observed = {
            "type": "observed-data", "spec_version": "2.1", "id": f"observed-data--{uuid.uuid4()}",
            "created": "2024-11-25T08:00:00.000Z", "modified": "2024-11-25T08:00:00.000Z",
            "first_observed": "2024-11-25T08:00:00Z", "last_observed": "2024-11-25T08:00:00Z",
            "number_observed": 1, "object_refs": [sco["id"]],
        }
        bundle = {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": [observed, sco]}
        return any(pattern.match([bundle]) for pattern in patterns)
    return blocked


def _misp_consumer(text: str) -> Callable[[str], bool]:
    """MISP's own exports (its RPZ export) of the event's to_ids attributes: a hostname blocks
    that name, a domain the name and every name below it."""
    attributes = [a for a in json.loads(text)["Event"]["Attribute"] if a["to_ids"]]
    hosts = {a["value"] for a in attributes if a["type"] == "hostname"}
    domains = {a["value"] for a in attributes if a["type"] == "domain"}
    def blocked(name: str) -> bool:
        labels = name.split(".")
        return name in hosts or any(".".join(labels[cut:]) in domains for cut in range(len(labels)))
    return blocked


def _address_consumer(networks: list[str]) -> Callable[[str], bool]:
    """An IP set: an address is blocked when it lies in one of ``networks``."""
    parsed = [ipaddress.ip_network(network) for network in networks]
    return lambda address: any(ipaddress.ip_address(address) in network for network in parsed)


def _ipset_consumer(text: str) -> Callable[[str], bool]:
    """ipset hash:net: the networks added to the ``-next`` sets, which the file swaps in."""
    return _address_consumer([line.split()[2] for line in text.splitlines() if line.startswith("add ")])


def _nftables_consumer(text: str) -> Callable[[str], bool]:
    """nftables interval sets: the elements of the ``add element`` blocks."""
    return _address_consumer([line.strip().rstrip(",") for line in text.splitlines()
                              if line.startswith("\t") and line.endswith(",")])


CONSUMERS: dict[str, Callable[[str], Callable[[str], bool]]] = {
    "hosts": _hosts_consumer,
    "domains": _domains_consumer,
    "rpz": _rpz_consumer,
    "squid": _squid_consumer,
    "squid-url": _squid_url_consumer,
    "suricata": _suricata_consumer,
    "ipset": _ipset_consumer,
    "nftables": _nftables_consumer,
    "dnsmasq": _dnsmasq_consumer,
    "unbound": _unbound_consumer,
    "unbound-rpz": _unbound_rpz_consumer,
    "adblock": _adblock_consumer,
    "csv": _csv_consumer,
    "json": _json_consumer,
    "stix": _stix_consumer,
    "misp": _misp_consumer,
}


@pytest.fixture(params=sorted(EXPORTERS))
def exporter(request: pytest.FixtureRequest) -> Exporter:
    """Each registered format in turn."""
    return get_exporter(request.param)


# Formats whose consumers match something other than names: URLs (squid-url) or addresses
# (ipset, nftables). They write no name-level rule, so the tests of name matching (IDN, scope,
# exceptions) run over the other formats; each of these tests what it matches in its own module.
NOT_NAME_MATCHING = frozenset({"squid-url", "ipset", "nftables"})


@pytest.fixture(params=sorted(set(EXPORTERS) - NOT_NAME_MATCHING))
def name_exporter(request: pytest.FixtureRequest) -> Exporter:
    """Each registered format whose consumer matches names, in turn."""
    return get_exporter(request.param)


def test_every_format_has_a_consumer_model(exporter: Exporter) -> None:
    """A registered format is not done until its consumer's matching is modelled."""
    assert exporter.name in CONSUMERS


def test_empty_input_still_yields_a_valid_file(exporter: Exporter, tmp_path: Path, meta: ExportMeta) -> None:
    """No entries is a normal day: the file is written, verified, and says 0 entries
    (documents without comments say it in the report beside them)."""
    out = tmp_path / f"list.{exporter.name}"
    result = export([], exporter.name, out, title="empty", verify=True, generated_at=meta.generated_at)
    assert result.verified and result.blocked == 0 and result.rejected == 0
    if isinstance(exporter, DocumentExporter):
        report = json.loads(result.report_path.read_text())
        assert (report["blocked"], report["allowed"], report["rejected"]) == (0, 0, 0)
        assert out.is_dir() is isinstance(exporter, FolderExporter)
        return
    text = out.read_text()
    assert text.startswith(exporter.comment_prefix)
    assert f"{exporter.comment_prefix} entries: 0 (0 block, 0 allow)" in text
    assert f"{exporter.comment_prefix} generated by fraudwall" in text


def test_duplicates_collapse(exporter: Exporter, meta: ExportMeta) -> None:
    """The same name in any spelling renders once (a duplicate can break PowerDNS or BIND):
    byte for byte as the name given once, whatever number of lines a format writes per name."""
    spellings = ["dup.example.com", "DUP.example.com.", "\uff44\uff55\uff50.example.com"]  # full-width "dup"
    entries = [BlockEntry(name) for name in spellings]
    assert exporter.render(entries, meta) == exporter.render([BlockEntry("dup.example.com")], meta)


def test_idn_becomes_its_a_label(name_exporter: Exporter, meta: ExportMeta) -> None:
    """Resolvers match A-labels; a U-label in a file would never match anything."""
    exporter = name_exporter
    text = exporter.render([BlockEntry(IDN)], meta)
    assert CONSUMERS[exporter.name](text)(IDN_A_LABEL)
    assert "工商银行" not in text


def test_output_does_not_depend_on_input_order(
    exporter: Exporter, meta: ExportMeta, sample_entries: list[BlockEntry]
) -> None:
    """Same entries, any order, same bytes: diffs between exports show real changes only."""
    expected = exporter.render(sample_entries, meta)
    shuffled = list(sample_entries)
    for seed in range(5):
        random.Random(seed).shuffle(shuffled)
        assert exporter.render(shuffled, meta) == expected


def test_scope_is_rendered_faithfully(name_exporter: Exporter, meta: ExportMeta) -> None:
    """Exact stays exact; subtree covers children only where the syntax can, and narrowing is stated."""
    exporter = name_exporter
    entries = [BlockEntry("exact.example.com"), BlockEntry("tree.example.com", scope=Scope.SUBTREE)]
    text = exporter.render(entries, meta)
    blocked = CONSUMERS[exporter.name](text)
    assert blocked("exact.example.com") and not blocked("www.exact.example.com")
    assert blocked("tree.example.com")
    assert blocked("a.b.tree.example.com") is exporter.subtree_capable
    if not exporter.subtree_capable:
        assert any("narrowed" in line and line.endswith(": 1") for line in text.splitlines())


def test_allow_entries_are_never_blocked(name_exporter: Exporter, meta: ExportMeta) -> None:
    """An exception under a blocked subtree, or on a blocked name, leaves that name reachable."""
    exporter = name_exporter
    entries = [
        BlockEntry("tree.example.com", scope=Scope.SUBTREE),
        BlockEntry("ok.tree.example.com", action=Action.ALLOW),
        BlockEntry("both.example.com"),
        BlockEntry("both.example.com", action=Action.ALLOW),
    ]
    blocked = CONSUMERS[exporter.name](exporter.render(entries, meta))
    assert blocked("tree.example.com")
    assert not blocked("ok.tree.example.com")
    assert not blocked("both.example.com")


def test_hostile_names_are_rejected_counted_and_absent(exporter: Exporter, meta: ExportMeta) -> None:
    """Nothing from input can become a directive: every hostile name is rejected and counted."""
    entries = [BlockEntry(name) for name in HOSTILE_NAMES] + [BlockEntry("fine.example.com")]
    prepared = exporter.prepare(entries, meta)
    assert prepared.rejected == len(HOSTILE_NAMES)
    assert [entry.name for entry in prepared.blocked] == ["fine.example.com"]
    text = exporter.render(entries, meta)
    if not isinstance(exporter, DocumentExporter):  # documents count rejections in the report only
        assert f"{exporter.comment_prefix} rejected: {len(HOSTILE_NAMES)}" in text
    clean = exporter.render([BlockEntry("fine.example.com")], meta)
    for token in HOSTILE_TOKENS:
        if token not in clean:  # a format's own syntax (Suricata's quotes) is no injection
            assert token not in text


def test_title_cannot_inject_lines(exporter: Exporter, generated_at: datetime) -> None:
    """Control characters and line breaks in the title become spaces inside one comment line
    (inside one string on one line in documents that carry a title, and nowhere in those that don't)."""
    title = "list\n$INCLUDE /etc/passwd\r\x00\u2028server=/x/1.2.3.4\u202e"
    text = exporter.render([], ExportMeta(title, generated_at))
    assert "\r" not in text and "\x00" not in text and "\u2028" not in text and "\u202e" not in text
    offending = [line for line in text.splitlines() if "$INCLUDE" in line or "server=" in line]
    if isinstance(exporter, DocumentExporter):
        assert len(offending) <= 1
        assert all('"list $INCLUDE /etc/passwd server=/x/1.2.3.4"' in line for line in offending)
        return
    # Case-blind on the key: AdGuard Home reads a list's name only from "! Title: ".
    assert [line.replace("Title:", "title:", 1) for line in offending] == [
        f"{exporter.comment_prefix} title: list $INCLUDE /etc/passwd server=/x/1.2.3.4"
    ]


def test_render_guard_refuses_a_bad_line(exporter: Exporter, meta: ExportMeta) -> None:
    """If a future bug renders a line outside the grammar (or a document outside its schema),
    rendering fails instead of writing it."""

    class Broken(type(exporter)):  # type: ignore[misc]
        def body(self, prepared, meta):
            yield from super().body(prepared, meta)
            yield "$INCLUDE /etc/passwd"

    with pytest.raises(ExportError, match="refusing to write an invalid (line|document)"):
        Broken().render([BlockEntry("fine.example.com")], meta)
    if isinstance(exporter, DocumentExporter):
        return

    class BrokenBlock(type(exporter)):  # type: ignore[misc]
        def body(self, prepared, meta):
            yield from super().body(prepared, meta)
            yield ["$INCLUDE /etc/passwd"]  # a list of lines is guarded line by line too

    with pytest.raises(ExportError, match="refusing to write an invalid line"):
        BrokenBlock().render([BlockEntry("fine.example.com")], meta)


def test_unknown_option_is_an_error(exporter: Exporter, generated_at: datetime) -> None:
    """A misspelt option fails loudly, naming the options the format knows."""
    with pytest.raises(ExportError, match="no option nonsense"):
        exporter.render([], ExportMeta("t", generated_at, {"nonsense": 1}))


def test_golden_file(exporter: Exporter, meta: ExportMeta, sample_entries: list[BlockEntry]) -> None:
    """The full output for the sample entries, byte for byte (a folder format's in ``golden/NAME/``)."""
    if isinstance(exporter, FolderExporter):
        files = {name: "".join(pieces) for name, pieces in
                 exporter.render_files(exporter.prepare(sample_entries, meta), meta).items()}
        folder = GOLDEN / exporter.name
        if os.environ.get("UPDATE_GOLDEN") == "1":
            folder.mkdir(exist_ok=True)
            for stale in folder.iterdir():
                stale.unlink()
            for name, content in files.items():
                (folder / name).write_text(content, encoding="utf-8")
        assert {path.name: path.read_text(encoding="utf-8") for path in folder.iterdir()} == files
        return
    golden = GOLDEN / f"{exporter.name}.txt"
    text = exporter.render(sample_entries, meta)
    if os.environ.get("UPDATE_GOLDEN") == "1":
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8")


def test_unknown_format_lists_the_known_ones() -> None:
    """``--format`` typos get the list of formats in the error."""
    with pytest.raises(ExportError) as info:
        get_exporter("bind9")
    for name in EXPORTERS:
        assert name in str(info.value)
