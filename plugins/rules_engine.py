"""Rules as data: YAML rule files, their schema, loading and matching.

A rule file is a YAML mapping with one key, ``rules``, holding a list of rules::

    rules:
      - id: zh-police-safe-account          # unique; letters, digits, - _ . :
        category: police_impersonation      # a fraudwall.models.Category value, or your own
        score: 0.6                          # 0..1: how strongly a match alone says "fraud"
        description: Asks to move savings into a "safe account" for a fund check
        language: zh                        # zh | en | any (default any)
        frame: true                         # false: a warning frame does not scale it (default true)
        match:
          all:                              # every condition must hold
            - {field: text, contains: [安全账户, 安全帳戶]}
            - {field: form_fields, regex: "银行卡|卡号|密码"}
          any:                              # at least one must hold (if given)
            - {field: text, regex: "资金(清查|核查)"}
          none:                             # none may hold
            - {field: text, regex: "谨防|骗子|所谓"}

A condition is ``{field: F, contains|regex|equals: VALUE, nocase: BOOL}`` with
exactly one of ``contains`` (substring; a string or a list of strings, any of
which may match), ``regex`` (a Python regular expression, searched) or
``equals`` (the whole value; a string or a list). ``nocase`` makes it
case-insensitive. A field may hold several values (every link, every form
field); a condition holds when any one of them matches. The fields:

=============== ================================================================
``url``         the page's final URL
``host``        its host name, as A-labels and, if different, as U-labels
``title``       the ``<title>``
``text``        what a visitor can read, hidden places included (the plugin passes
                :attr:`fraudwall.page_view.PageView.strings`), whitespace collapsed
``links``       each link's absolute URL, and each link's text
``scripts``     each inline script body, and each external script's URL
``form_fields`` each form field's label (with placeholder), name and type
``meta``        each ``<meta>`` tag as ``name: content`` (``refresh: 0;url=...``)
=============== ================================================================

Values are NFKC-normalised and stripped of invisible format characters before
matching (full-width ``ＵＳＤＴ`` reads ``USDT``; a zero-width space inside a
word is gone), and so are ``contains``/``equals`` strings; write regexes against
that form. A rule needs ``all`` or ``any``: ``none`` alone would match every page.
A ``zh`` rule is tried only on pages whose title or text has Chinese characters,
an ``en`` rule only where they have Latin letters.

Loading never stops at a bad file: a file that cannot be read, is not YAML or
breaks the schema is rejected whole (partial rule sets are confusing), logged
with its name and the reason, and counted in :attr:`RuleSet.errors`; the other
files still load. Rule ids are unique: a rule whose id was already loaded from
an earlier file replaces it, so a user directory can override a bundled rule.
Patterns are compiled once, when the file is loaded.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from pathlib import Path
from typing import Any

import yaml

from fraudwall.exceptions import ConfigError
from fraudwall.matching import canonical
from fraudwall.models import PageObservation, UrlParts
from fraudwall.string_index import StringIndex
from fraudwall.regex_literals import fold, required_literals

log = logging.getLogger(__name__)

#: Where the bundled rule files live (installed as package data).
BUNDLED_RULES_DIR = Path(__file__).resolve().parent / "rules"

RULE_FILE_SUFFIXES = (".yaml", ".yml")
FIELDS = ("url", "host", "title", "text", "links", "scripts", "form_fields", "meta")
LANGUAGES = ("zh", "en", "any")
OPERATORS = ("contains", "regex", "equals")
SECTIONS = ("all", "any", "none")
#: A condition's pattern is tried where its literals begin, up to this many places a value; past them
#: one search from the first is cheaper. Past this many denied matches in a value, it is given up.
MATCH_AT_MOST = 64

_RULE_KEYS = {"id", "category", "score", "description", "language", "frame", "match"}
_REQUIRED_KEYS = ("id", "category", "score", "description", "match")
_CONDITION_KEYS = {"field", "nocase", *OPERATORS}
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$")
_CJK = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN = re.compile("[A-Za-z]")

#: libyaml's safe loader where PyYAML was built with it: it reads the bundled rules ten times faster.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

#: Whether a page denies what a match at ``start`` of a text value says (see :meth:`RuleSet.match`).
Negation = Callable[[str, int], bool]

#: Characters of context on each side of a match in an evidence snippet.
EVIDENCE_CONTEXT = 20
#: A matched part longer than this is cut in evidence (a regex may match a whole script).
EVIDENCE_MATCH_MAX = 80


class RuleSchemaError(ConfigError):
    """A rule file is not readable YAML or does not follow the rule schema."""


@dataclass(frozen=True, slots=True)
class RuleFileError:
    """A rule file (or directory) that was rejected, and why."""

    path: str
    reason: str


@dataclass(frozen=True, slots=True)
class Condition:
    """One compiled condition: a field and a pattern searched (or fully matched) in its values.

    ``literals`` are the strings one of which every match begins with (lower-case when the pattern
    ignores case; :mod:`fraudwall.regex_literals`), or ``None``: a value holding none of them is
    passed over without running the pattern, which is most values of most pages.
    """

    field: str
    pattern: re.Pattern[str]
    whole: bool  # ``equals``: the pattern must match the whole value
    literals: tuple[str, ...] | None = None
    #: ``literals`` as a set (set operations run in C: a page's literals are tested against it per value).
    literal_set: frozenset[str] = dataclass_field(init=False, repr=False, compare=False)
    #: Whether the literals are looked for in folded (lower-cased) values: the pattern ignores case.
    folded: bool = dataclass_field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "literal_set", frozenset(self.literals or ()))
        object.__setattr__(self, "folded", bool(self.pattern.flags & re.IGNORECASE))

    def _starts(self, fields: PageFields) -> list[list[int] | None]:
        """For each value of the field, where the literals occur, in order (``None``: none does, so the
        pattern cannot match there; ``[]`` for every value when the condition has no literals: search it all)."""
        values = fields.values(self.field)
        if self.literals is None:
            return [[]] * len(values)
        starts: list[list[int] | None] = []
        for found in fields.literal_starts(self.field, self.folded):
            mine = self.literal_set.intersection(found)
            if len(mine) == 1:
                starts.append(found[next(iter(mine))])
            else:
                starts.append(sorted(set().union(*(found[literal] for literal in mine))) if mine else None)
        return starts

    def may_match(self, fields: PageFields) -> bool:
        """False when no value of the field holds any of the literals: the pattern cannot match."""
        return self.literals is None or not fields.literals_found(self.field, self.folded).isdisjoint(self.literal_set)

    def first_match(self, fields: PageFields, negated: Negation | None = None) -> tuple[str, re.Match[str]] | None:
        """The first value of the field that matches, with its match; with ``negated``, the first match in the
        ``text`` field that the page does not deny (``negated(value, start)`` false).

        Every match begins where one of the literals does, so the pattern is tried there only, in
        order: the first that holds is the match a search would find (a value with more places
        than ``MATCH_AT_MOST`` is searched from the first). Trying a case-insensitive pattern
        at every character costs far more than trying it at a few places.
        """
        if self.field != "text":
            negated = None
        for value, starts in zip(fields.values(self.field), self._starts(fields)):
            if starts is None:
                continue
            for denied, found in enumerate(self._matches(value, starts)):
                if negated is None or not negated(value, found.start()):
                    return value, found
                if denied >= MATCH_AT_MOST:
                    break  # a value that denies it this often denies it throughout: not read to its end
        return None

    def _matches(self, value: str, starts: list[int]) -> Iterator[re.Match[str]]:
        """The pattern's matches in ``value``, in order of where they begin."""
        if self.whole:
            if found := self.pattern.fullmatch(value):
                yield found
        elif not starts or len(starts) > MATCH_AT_MOST:
            position = starts[0] if starts else 0
            while (found := self.pattern.search(value, position)) is not None:
                yield found
                position = found.start() + 1
        else:
            yield from filter(None, (self.pattern.match(value, start) for start in starts))


@dataclass(frozen=True, slots=True)
class Rule:
    """A validated rule with its conditions compiled."""

    id: str
    category: str
    score: float
    description: str
    language: str
    all: tuple[Condition, ...]
    any: tuple[Condition, ...]
    none: tuple[Condition, ...]
    origin: str  # the file it came from
    #: Whether a page's warning frame scales the rule's finding down (``frame: false``: a script told as a warning).
    frame: bool = True


@dataclass(frozen=True, slots=True)
class RuleMatch:
    """A rule that matched a page, with a snippet for every positive condition that held."""

    rule: Rule
    evidence: tuple[str, ...]


# -- normalisation and page fields ---------------------------------------------------


class LiteralIndex:
    """Every literal the conditions of some rules look for, one automaton per field and case mode.

    One pass over a value finds them all, where testing each condition's literals one by one
    would read the value once per literal: hundreds of reads a page.
    """

    def __init__(self, rules: Iterable[Rule]) -> None:
        wanted: dict[tuple[str, bool], set[str]] = {}
        for rule in rules:
            for condition in (*rule.all, *rule.any, *rule.none):
                if condition.literals is not None:
                    wanted.setdefault((condition.field, condition.folded), set()).update(condition.literals)
        self._automata: dict[tuple[str, bool], StringIndex[str]] = {}
        for key, literals in wanted.items():
            if found := {literal: literal for literal in sorted(literals) if literal}:
                self._automata[key] = StringIndex(found)

    def starts(self, field: str, folded: bool, probes: Iterable[str]) -> tuple[dict[str, list[int]], ...]:
        """For each probe, every indexed literal found in it -> where it begins, in order."""
        automaton = self._automata.get((field, folded))
        result = []
        for probe in probes:
            found: dict[str, list[int]] = {}
            if automaton is not None:
                for literal, start in automaton.occurrences(probe):  # one literal's starts come in order
                    found.setdefault(literal, []).append(start)
            result.append(found)
        return tuple(result)


class PageFields:
    """The values of every rule field for one page, normalised on first use."""

    def __init__(self, page: PageObservation, url: UrlParts, index: LiteralIndex, text: str | None = None) -> None:
        self._page = page
        self._url = url
        #: What the ``text`` field reads: the visible text, or (given, in canonical form) everything a visitor
        #: can read, hidden places included (:attr:`fraudwall.page_view.PageView.canonical_strings`: script-built
        #: text, attributes, decoded base64 blocks), so a rule sees text assembled after load too.
        self._text = page.text if text is None else text
        self._cache: dict[str, tuple[str, ...]] = {}
        if text is not None:
            self._cache["text"] = (text,) if text else ()  # canonical already: another pass would change nothing
        self._folded: dict[str, tuple[str, ...]] = {}
        self._languages: dict[str, bool] = {}
        self._index = index
        self._starts: dict[tuple[str, bool], tuple[dict[str, list[int]], ...]] = {}
        self._found: dict[tuple[str, bool], frozenset[str]] = {}

    def values(self, field: str) -> tuple[str, ...]:
        """The normalised, non-empty values of ``field``."""
        cached = self._cache.get(field)
        if cached is None:
            cached = tuple(normalized for value in self._raw(field) if value and (normalized := canonical(value)))
            self._cache[field] = cached
        return cached

    def folded(self, field: str) -> tuple[str, ...]:
        """:meth:`values`, each folded as case-insensitive literals are looked for in it."""
        cached = self._folded.get(field)
        if cached is None:
            cached = self._folded[field] = tuple(fold(value) for value in self.values(field))
        return cached

    def literal_starts(self, field: str, folded: bool) -> tuple[dict[str, list[int]], ...]:
        """For each value of ``field`` (folded or not), the literals found in it -> where each begins."""
        key = (field, folded)
        cached = self._starts.get(key)
        if cached is None:
            values = self.values(field)
            probes = self.folded(field) if folded else values
            starts = self._index.starts(field, folded, probes)
            # Positions in a probe are positions in its value unless folding changed its length (it does not,
            # for any character str.lower knows today); then no position is known and the whole value is searched.
            cached = self._starts[key] = tuple(
                found if len(probe) == len(value) else dict.fromkeys(found, [])
                for found, probe, value in zip(starts, probes, values)
            )
        return cached

    def literals_found(self, field: str, folded: bool) -> frozenset[str]:
        """Every literal found in any value of ``field``."""
        key = (field, folded)
        cached = self._found.get(key)
        if cached is None:
            cached = self._found[key] = frozenset(literal for first in self.literal_starts(field, folded) for literal in first)
        return cached

    def _raw(self, field: str) -> Iterable[str]:
        page, url = self._page, self._url
        if field == "url":
            return (page.final_url,)
        if field == "host":
            return dict.fromkeys((url.host, url.unicode_host))
        if field == "title":
            return (page.title,)
        if field == "text":
            return (self._text,)
        if field == "links":
            return [part for link in page.links for part in (link.url, link.text)]
        if field == "scripts":
            return page.scripts
        if field == "form_fields":
            return [part for form in page.forms for item in form.fields for part in (item.label, item.name, item.type)]
        if field == "meta":
            return [f"{name}: {content}" for name, content in page.meta]
        raise KeyError(field)  # unreachable: conditions are validated against FIELDS

    def language_ok(self, language: str) -> bool:
        """Whether a rule written in ``language`` is worth trying on this page."""
        if language == "any":
            return True
        if language not in self._languages:
            pattern = _CJK if language == "zh" else _LATIN
            values = (*self.values("title"), *self.values("text"))
            self._languages[language] = any(pattern.search(value) for value in values)
        return self._languages[language]


def _snippet(field: str, value: str, found: re.Match[str]) -> str:
    start, end = found.span()
    matched = value[start:end]
    if len(matched) > EVIDENCE_MATCH_MAX:
        matched = matched[:EVIDENCE_MATCH_MAX] + "…"
    left = max(0, start - EVIDENCE_CONTEXT)
    right = min(len(value), end + EVIDENCE_CONTEXT)
    before = ("…" if left else "") + value[left:start]
    after = value[end:right] + ("…" if right < len(value) else "")
    return f"{field}: {before}「{matched}」{after}"


def match_rule(rule: Rule, fields: PageFields, negated: Negation | None = None) -> RuleMatch | None:
    """The match of ``rule`` on a page, or ``None``; ``negated`` (see :meth:`RuleSet.match`) passes over the
    matches of its positive ``text`` conditions that the page denies."""
    if not fields.language_ok(rule.language):
        return None
    # Substring tests first: a rule whose literals are absent is settled before any pattern runs.
    if not all(condition.may_match(fields) for condition in rule.all):
        return None
    if rule.any and not any(condition.may_match(fields) for condition in rule.any):
        return None
    evidence = []
    for condition in rule.all:
        hit = condition.first_match(fields, negated)
        if hit is None:
            return None
        evidence.append(_snippet(condition.field, *hit))
    if rule.any:
        for condition in rule.any:
            hit = condition.first_match(fields, negated)
            if hit is not None:
                evidence.append(_snippet(condition.field, *hit))
                break
        else:
            return None
    if any(condition.first_match(fields) for condition in rule.none):
        return None
    return RuleMatch(rule, tuple(evidence))


# -- the schema ------------------------------------------------------------------


def _strings(value: Any, where: str) -> list[str]:
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(item, str) and item for item in items):
        raise RuleSchemaError(f"{where} must be a non-empty string or a list of non-empty strings, got {value!r}")
    return items


def parse_condition(data: Any, where: str) -> Condition:
    """Validate and compile one condition; ``where`` names it in error messages."""
    if not isinstance(data, Mapping):
        raise RuleSchemaError(f"{where} must be a mapping like {{field: text, contains: ...}}, got {data!r}")
    unknown = set(data) - _CONDITION_KEYS
    if unknown:
        allowed = sorted(_CONDITION_KEYS)
        raise RuleSchemaError(f"{where} has unknown keys {sorted(map(str, unknown))} (allowed: {allowed})")
    field = data.get("field")
    if field not in FIELDS:
        raise RuleSchemaError(f"{where}.field must be one of {', '.join(FIELDS)}, got {field!r}")
    operators = [op for op in OPERATORS if op in data]
    if len(operators) != 1:
        raise RuleSchemaError(f"{where} needs exactly one of {', '.join(OPERATORS)}, got {operators or 'none'}")
    operator = operators[0]
    nocase = data.get("nocase", False)
    if not isinstance(nocase, bool):
        raise RuleSchemaError(f"{where}.nocase must be true or false, got {nocase!r}")
    flags = re.IGNORECASE if nocase else 0
    if operator == "regex":
        source = data["regex"]
        if not isinstance(source, str) or not source:
            raise RuleSchemaError(f"{where}.regex must be a non-empty string, got {source!r}")
    else:
        source = "|".join(re.escape(canonical(item)) for item in _strings(data[operator], f"{where}.{operator}"))
    try:
        pattern = re.compile(source, flags)
    except re.error as exc:
        raise RuleSchemaError(f"{where}.regex is not a valid regular expression: {exc}") from exc
    return Condition(field=field, pattern=pattern, whole=operator == "equals", literals=required_literals(pattern))


def _conditions(match: Mapping[str, Any], section: str, where: str) -> tuple[Condition, ...]:
    items = match.get(section, [])
    if not isinstance(items, list) or (section in match and not items):
        raise RuleSchemaError(f"{where}.{section} must be a non-empty list of conditions, got {items!r}")
    return tuple(parse_condition(item, f"{where}.{section}[{index}]") for index, item in enumerate(items))


def parse_rule(data: Any, where: str, origin: str = "") -> Rule:
    """Validate and compile one rule; ``where`` names it in error messages."""
    if not isinstance(data, Mapping):
        raise RuleSchemaError(f"{where} must be a mapping, got {data!r}")
    if isinstance(data.get("id"), str):
        where = f"{where} ({data['id']})"
    unknown = set(data) - _RULE_KEYS
    if unknown:
        raise RuleSchemaError(f"{where} has unknown keys {sorted(map(str, unknown))} (allowed: {sorted(_RULE_KEYS)})")
    missing = [key for key in _REQUIRED_KEYS if key not in data]
    if missing:
        raise RuleSchemaError(f"{where} lacks {', '.join(missing)}")
    rule_id, category, description = data["id"], data["category"], data["description"]
    if not isinstance(rule_id, str) or not _ID.match(rule_id):
        raise RuleSchemaError(f"{where}.id must be letters, digits and - _ . : (at most 100), got {rule_id!r}")
    for key, value in (("category", category), ("description", description)):
        if not isinstance(value, str) or not value.strip():
            raise RuleSchemaError(f"{where}.{key} must be a non-empty string, got {value!r}")
    score = data["score"]
    # YAML reads `true` as a bool, which Python counts as an int.
    if isinstance(score, bool) or not isinstance(score, (int, float)) or not 0.0 <= score <= 1.0:
        raise RuleSchemaError(f"{where}.score must be a number from 0 to 1, got {score!r}")
    language = data.get("language", "any")
    if language not in LANGUAGES:
        raise RuleSchemaError(f"{where}.language must be one of {', '.join(LANGUAGES)}, got {language!r}")
    frame = data.get("frame", True)
    if not isinstance(frame, bool):
        raise RuleSchemaError(f"{where}.frame must be true or false, got {frame!r}")
    match = data["match"]
    if not isinstance(match, Mapping) or set(match) - set(SECTIONS):
        raise RuleSchemaError(f"{where}.match must be a mapping of {', '.join(SECTIONS)}, got {match!r}")
    sections = {section: _conditions(match, section, f"{where}.match") for section in SECTIONS}
    if not sections["all"] and not sections["any"]:
        raise RuleSchemaError(f"{where}.match needs 'all' or 'any': 'none' alone would match every page")
    return Rule(
        id=rule_id, category=category.strip(), score=float(score), description=description.strip(),
        language=language, all=sections["all"], any=sections["any"], none=sections["none"], origin=origin,
        frame=frame,
    )


def _yaml_problem(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    return f"{problem} at line {mark.line + 1}, column {mark.column + 1}" if mark else " ".join(problem.split())


def parse_rules(text: str, origin: str) -> list[Rule]:
    """The rules of one file's text; raises :class:`RuleSchemaError` naming ``origin``."""
    try:
        data = yaml.load(text, Loader=_SAFE_LOADER)
    except yaml.YAMLError as exc:
        raise RuleSchemaError(f"{origin}: not valid YAML: {_yaml_problem(exc)}") from exc
    if not isinstance(data, Mapping) or set(data) != {"rules"}:
        raise RuleSchemaError(f"{origin}: a rule file is a mapping with one key, 'rules' (a list of rules)")
    if not isinstance(data["rules"], list):
        raise RuleSchemaError(f"{origin}: 'rules' must be a list of rules")
    rules = [parse_rule(item, f"{origin}: rule {index}", origin) for index, item in enumerate(data["rules"])]
    seen: set[str] = set()
    for rule in rules:
        if rule.id in seen:
            raise RuleSchemaError(f"{origin}: rule id {rule.id!r} appears twice")
        seen.add(rule.id)
    return rules


def load_rule_file(path: str | Path) -> list[Rule]:
    """The rules of one file; raises :class:`RuleSchemaError` naming the file."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise RuleSchemaError(f"{path}: cannot read: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise RuleSchemaError(f"{path}: not UTF-8 text: {exc.reason} at byte {exc.start}") from exc
    return parse_rules(text, str(path))


# -- rule sets ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RuleSet:
    """The rules loaded from some directories, and the files that were rejected."""

    rules: tuple[Rule, ...]
    files: tuple[str, ...]
    errors: tuple[RuleFileError, ...]
    index: LiteralIndex = dataclass_field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "index", LiteralIndex(self.rules))

    def match(self, page: PageObservation, url: UrlParts, text: str | None = None,
              negated: Negation | None = None) -> list[RuleMatch]:
        """Every rule that matches ``page``, in load order.

        ``text``, when given, is what the ``text`` field reads instead of the visible text, in canonical
        form (:func:`fraudwall.matching.canonical`).

        ``negated(value, start)``: whether the page denies what a match in its text starting at ``start`` says
        ("we will never ask you to pay a fee before..."); such a match does not count, and the next one is tried.
        """
        fields = PageFields(page, url, self.index, text)
        return [found for rule in self.rules if (found := match_rule(rule, fields, negated))]


def rule_files(directory: Path) -> Iterator[Path]:
    """The rule files under ``directory`` (recursively), in a stable order."""
    for path in sorted(directory.rglob("*")):
        if path.suffix.lower() in RULE_FILE_SUFFIXES and path.is_file():
            yield path


def load_rules(directories: Iterable[str | Path]) -> RuleSet:
    """Load every rule file under ``directories``, in order; never raises for a bad file."""
    rules: dict[str, Rule] = {}
    files: list[str] = []
    errors: list[RuleFileError] = []
    for directory in map(Path, directories):
        if not directory.is_dir():
            errors.append(RuleFileError(str(directory), "not a directory"))
            log.error("rules directory %s rejected: not a directory", directory)
            continue
        for path in rule_files(directory):
            try:
                loaded = load_rule_file(path)
            except RuleSchemaError as exc:
                reason = str(exc).removeprefix(f"{path}: ")
                errors.append(RuleFileError(str(path), reason))
                log.error("rule file %s rejected: %s", path, reason)
                continue
            files.append(str(path))
            for rule in loaded:
                if rule.id in rules:
                    log.info("rule %s from %s replaces the one from %s", rule.id, path, rules[rule.id].origin)
                    del rules[rule.id]  # the override takes the later position too
                rules[rule.id] = rule
    log.info("loaded %d YAML rules from %d files; %d rejected", len(rules), len(files), len(errors))
    return RuleSet(rules=tuple(rules.values()), files=tuple(files), errors=tuple(errors))
