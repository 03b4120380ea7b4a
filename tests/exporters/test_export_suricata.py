"""Suricata specifics: the OISF rule parser accepts every rule, input cannot inject, sids are stable.

Suricata itself is not packaged for the test machines, so the rules are checked
with ``idstools`` (the parser suricata-update is built on) and with the format's
strict grammar; URL rules are also run: their pcre is evaluated on request
targets in both forms a client or a proxy sends.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest
from idstools import rule as idstools_rule

from fraudwall.exceptions import ExportError, VerificationError
from fraudwall.exporters import ExportMeta, export, get_exporter
from fraudwall.exporters.suricata import content_text
from fraudwall.models import Action, BlockEntry, Scope
from tests.exporters.test_export_contract import CONSUMERS

HOSTILE_URLS = [
    'http://x.example.com/a";sid:1;content:"evil',
    "http://x.example.com/p|41|q",
    "http://x.example.com/back\\slash",
    "http://x.example.com/semi;colon?q=%22;%0Arev:9",
    "http://x.example.com/%22%3B%7C%5C",
]


def _rules(text: str) -> list[str]:
    """The rule lines of ``text``."""
    return [line for line in text.splitlines() if line and not line.startswith("#")]


def _url_blocked(text: str, host: str, target: str) -> bool:
    """Whether a URL rule of ``text`` fires for a request to ``host`` with request-target ``target``
    (http.host is the lowercased host; http.uri.raw the target as sent)."""
    for line in _rules(text):
        match = re.search(r'http\.host; content:"([^"]+)"; startswith; endswith; http\.uri\.raw; pcre:"/(.*)/";', line)
        if match and match[1] == host.lower() and re.search(match[2], target):
            return True
    return False


def test_idstools_parses_every_rule_into_the_options_written(
    tmp_path: Path, meta: ExportMeta, sample_entries: list[BlockEntry]
) -> None:
    """The OISF parser reads each rule with its action, sid, rev and msg; verification passes."""
    path = tmp_path / "fraudwall.rules"
    assert export(sample_entries, "suricata", path, title="t", verify=True, generated_at=meta.generated_at).verified
    rules = _rules(path.read_text())
    assert len(rules) == 22
    for number, line in enumerate(rules):
        parsed = idstools_rule.parse(line)
        assert parsed is not None, line
        assert parsed["sid"] == 9_100_000 + number and parsed["rev"] == 1
        assert parsed["action"] in ("alert", "pass") and parsed["msg"].startswith("fraudwall ")


@pytest.mark.parametrize("url", HOSTILE_URLS)
def test_hostile_urls_cannot_inject(url: str, tmp_path: Path, meta: ExportMeta) -> None:
    """Quotes, semicolons, pipes, backslashes and encoded newlines stay inside one pcre, as hex."""
    path = tmp_path / "fraudwall.rules"
    export([BlockEntry("x.example.com", url=url)], "suricata", path, title="t", verify=True,
           generated_at=meta.generated_at)
    [line] = _rules(path.read_text())
    parsed = idstools_rule.parse(line)
    assert [option["name"] for option in parsed["options"]] == [
        "msg", "http.host", "content", "startswith", "endswith", "http.uri.raw", "pcre", "sid", "rev",
    ]
    pattern = re.search(r'pcre:"(.*)"; sid', line)[1]
    assert not set(pattern) & set('"; |\n') and "sid:1" not in line and "rev:9" not in line


def test_content_text_hexes_everything_outside_the_safe_set() -> None:
    """Content strings carry letters, digits and ``.-_`` as they are and every other byte as ``|HH|``."""
    assert content_text("a.b-c_d") == "a.b-c_d"
    assert content_text('x"; sid:1; |\\\n中') == "x|22 3B 20|sid|3A|1|3B 20 7C 5C 0A E4 B8 AD|"


def test_url_rules_match_their_url_in_both_request_forms(meta: ExportMeta) -> None:
    """Exact path, exact query when given, any query when not; origin form and proxy form alike."""
    entries = [
        BlockEntry("icbc-verify.github.io", url="https://icbc-verify.github.io/login.html?step=2"),
        BlockEntry("sites.example.com", url="http://sites.example.com/view/%E4%B8%AD"),
    ]
    text = get_exporter("suricata").render(entries, meta)
    host = "icbc-verify.github.io"
    assert _url_blocked(text, host, "/login.html?step=2")
    assert _url_blocked(text, host, "http://icbc-verify.github.io/login.html?step=2")
    assert not _url_blocked(text, host, "/login.html")
    assert not _url_blocked(text, host, "/login.html?step=2&x=1")
    assert not _url_blocked(text, host, "/loginXhtml?step=2")
    assert not _url_blocked(text, host, "/a/login.html?step=2")
    assert not _url_blocked(text, "other.github.io", "/login.html?step=2")
    assert _url_blocked(text, "sites.example.com", "/view/%e4%b8%ad?utm=sms")
    assert not _url_blocked(text, "sites.example.com", "/view/%E4%B8%AD/more")
    # URL entries never become name rules: the shared host itself stays reachable.
    assert not CONSUMERS["suricata"](text)("icbc-verify.github.io")


def test_pass_rules_keep_exceptions_and_a_subtree_keeps_its_children(meta: ExportMeta) -> None:
    """An allowed apex of a blocked subtree passes while its children stay blocked, as in RPZ."""
    entries = [
        BlockEntry("loan.example.org", scope=Scope.SUBTREE),
        BlockEntry("loan.example.org", action=Action.ALLOW),
        BlockEntry("both.example.org"),
        BlockEntry("both.example.org", action=Action.ALLOW),
    ]
    text = get_exporter("suricata").render(entries, meta)
    blocked = CONSUMERS["suricata"](text)
    assert not blocked("loan.example.org") and blocked("www.loan.example.org") and blocked("WWW.Loan.example.org")
    assert not blocked("both.example.org") and not blocked("evilloan.example.org")
    assert "fraudwall block dns.query both.example.org" not in text  # the pass rule covers it entirely
    assert "blocked names an allow covers entirely and left out: 1" in text


def test_sids_are_stable_and_follow_name_order(meta: ExportMeta, sample_entries: list[BlockEntry]) -> None:
    """The same entries in any order get the same sids, counted from sid_start."""
    options = {"sid_start": 1_000_000, "sid_end": 1_000_021, "rev": 3, "action": "drop"}
    custom = ExportMeta(meta.title, meta.generated_at, options)
    expected = get_exporter("suricata").render(sample_entries, custom)
    shuffled = list(sample_entries)
    random.Random(7).shuffle(shuffled)
    assert get_exporter("suricata").render(shuffled, custom) == expected
    sids = [int(sid) for sid in re.findall(r"sid:(\d+); rev:3;", expected)]
    assert sids == list(range(1_000_000, 1_000_022))
    assert {line.split()[0] for line in _rules(expected)} == {"drop", "pass"}


def test_a_list_past_sid_end_is_an_error(meta: ExportMeta) -> None:
    """Sids never run into someone else's range: too many rules for the range fails the export."""
    custom = ExportMeta(meta.title, meta.generated_at, {"sid_start": 10, "sid_end": 12})
    get_exporter("suricata").render([BlockEntry("a.example.com")], custom)
    with pytest.raises(ExportError, match="past sid_end 12"):
        get_exporter("suricata").render([BlockEntry("a.example.com"), BlockEntry("b.example.com")], custom)


@pytest.mark.parametrize(
    "options",
    [{"action": "pass"}, {"action": "alert; sid:1"}, {"sid_start": 0}, {"sid_start": True},
     {"sid_start": 5, "sid_end": 4}, {"sid_end": 2**32}, {"rev": 0}, {"rev": "1"}],
)
def test_bad_options_are_export_errors(options: dict[str, object], meta: ExportMeta) -> None:
    """Options reach the rule text, so each is checked before rendering."""
    with pytest.raises(ExportError):
        get_exporter("suricata").render([], ExportMeta("t", meta.generated_at, options))


@pytest.mark.parametrize(
    ("old", "new", "reason"),
    [
        ("sid:9100001;", "sid:9100000;", "duplicate or out of range"),
        ("sid:9100001;", "sid:1;", "duplicate or out of range"),
        ('nocase; startswith', 'nocase; sid:5; startswith', "invalid line"),
        ("alert tls", "pass tls", "does not fit"),
    ],
)
def test_verification_catches_a_tampered_file(
    old: str, new: str, reason: str, tmp_path: Path, meta: ExportMeta, sample_entries: list[BlockEntry]
) -> None:
    """Duplicate or foreign sids, smuggled options and a flipped action all fail verification."""
    exporter = get_exporter("suricata")
    path = tmp_path / "fraudwall.rules"
    path.write_text(exporter.render(sample_entries, meta).replace(old, new, 1))
    with pytest.raises(VerificationError, match=reason):
        exporter.verify(path, meta)


def test_blocks_below_an_allowed_subtree_are_counted_as_passed(meta: ExportMeta) -> None:
    """Suricata's pass rules run first, so a block below an allowed subtree never fires: the header says how many."""
    entries = [
        BlockEntry("h.top", scope=Scope.SUBTREE),
        BlockEntry("i.h.top", scope=Scope.SUBTREE, action=Action.ALLOW),
        BlockEntry("j.i.h.top"),
        BlockEntry("k.j.i.h.top", scope=Scope.SUBTREE),
        BlockEntry("other.h.top"),  # below the blocked subtree only: its rules fire
    ]
    text = get_exporter("suricata").render(entries, meta)
    assert "# allow: blocked names below an allowed subtree, whose pass rules let them through: 2" in text.splitlines()
