"""fraudwall.regex_literals: the literals every match of a pattern begins with, and never a wrong one."""

from __future__ import annotations

import csv
import dataclasses
import re

import pytest

from fraudwall.names import parse_url
from fraudwall.page_view import PageView
from fraudwall.pages import parse_page
from fraudwall.plugins.rules_engine import BUNDLED_RULES_DIR, Condition, load_rules
from fraudwall.regex_literals import fold, required_literals
from tests.conftest import REPO


@pytest.mark.parametrize(("pattern", "expected"), [
    (r"(?i)gift ?cards?|itunes cards?", ("gift card", "giftcard", "itunes card")),
    (r"(?i)(call|dial|contact)[^.!?]{0,60}\d", ("call", "contact", "dial")),
    (r"(?<![a-z])refunds?", ("refund",)),
    (r"\b(code|otp)\b", ("code", "otp")),
    ("(放款|下款)(前|[^。]{0,10}暂停)|(缴纳|支付)[^。]{0,10}后", ("下款", "支付", "放款", "缴纳")),
    ("abc|abd", ("abc", "abd")),
    (r"(?i)(it'?s|it is) (fine|ok)", ("it is fine", "it is ok", "it's fine", "it's ok", "its fine", "its ok")),
    ("(月均|月)(收益|回报)[^。]", ("月回报", "月均回报", "月均收益", "月收益")),
    (r"[2-9]倍|双倍", ("2倍", "3倍", "4倍", "5倍", "6倍", "7倍", "8倍", "9倍", "双倍")),
    (r"(?:x|)abc", ("abc", "xabc")),
    (r"(ab)+c", ("ab",)),
])
def test_literals_every_match_begins_with(pattern: str, expected: tuple[str, ...]) -> None:
    """Alternations, groups, optional parts, small classes, lookbehinds and word boundaries are read through,
    so the literals run on past the first group; a repeated group ends them after one pass."""
    assert required_literals(re.compile(pattern)) == expected


@pytest.mark.parametrize("pattern", [
    r"[a-z]+x",          # starts with a class
    r"a|bc",             # a one-character branch says nothing
    r"(?:x|)(?:y|)",     # may match nothing
    r"[a-z]{2}x",        # a class too large to spell out
    "礼品卡|(?i:itunes)",  # a group with case rules of its own
    r".*refund",
    r"\d+ ?% daily",
])
def test_unknown_when_a_match_may_begin_anywhere(pattern: str) -> None:
    """Patterns whose matches need not start with a literal give no filter at all."""
    assert required_literals(re.compile(pattern)) is None


def test_case_insensitive_literals_are_found_in_folded_text() -> None:
    """A case-insensitive pattern matches İ and ı as i: folding the text keeps the filter exact."""
    pattern = re.compile(r"(?i)bitcoin atm")
    literals = required_literals(pattern)
    assert literals is not None
    for text in ("BITCOIN ATM", "Bİtcoin ATM", "bıtcoin atm"):
        assert pattern.search(text) and any(literal in fold(text) for literal in literals)


def test_the_filter_changes_no_rule_match() -> None:
    """Every bundled rule matches exactly the same pages of the labelled corpora with its literal filter as
    with its patterns alone, and most conditions have a filter."""
    ruleset = load_rules([BUNDLED_RULES_DIR])
    conditions = [condition for rule in ruleset.rules for condition in (*rule.all, *rule.any, *rule.none)]
    assert sum(condition.literals is not None for condition in conditions) > len(conditions) * 3 // 4

    def unfiltered(conditions: tuple[Condition, ...]) -> tuple[Condition, ...]:
        return tuple(dataclasses.replace(condition, literals=None) for condition in conditions)

    plain = dataclasses.replace(ruleset, rules=tuple(
        dataclasses.replace(rule, all=unfiltered(rule.all), any=unfiltered(rule.any), none=unfiltered(rule.none))
        for rule in ruleset.rules))
    matched = 0
    for manifest in (REPO / "tests/data/pages/manifest.csv", REPO / "fraudwall/demo/site/manifest.csv"):
        with manifest.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                page = parse_page(row["url"], (manifest.parent / row["file"]).read_bytes())
                text, url = PageView(page).canonical_strings, parse_url(page.final_url)
                filtered = [match.rule.id for match in ruleset.match(page, url, text)]
                assert filtered == [match.rule.id for match in plain.match(page, url, text)], row["file"]
                matched += bool(filtered)
    assert matched >= 20
