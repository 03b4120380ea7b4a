"""The literals a regular expression cannot match without: a cheap test before the search.

A rule's regex is searched in every page's whole text, and Python's ``re``
scans an alternation such as ``(call|dial|contact)...`` position by position: a
tenth of a millisecond per pattern and page, over dozens of rules. Most pages
contain none of the words such a pattern starts with, and a substring test
(``"contact" in text``) says so a hundred times faster. :func:`required_literals`
reads the compiled pattern's parse tree and returns the strings one of which
every match must start with, or ``None`` when it cannot tell (a pattern that
starts with a character class, a repetition or ``.``); a caller searches only
text that holds one of them.

The answer is exact, never a guess: a literal is returned only when every match
begins with it. Case-insensitive patterns give lower-case literals, to be looked
for in :func:`fold`-ed text: ``re`` folds a few characters (the dotted and
dotless i) to ASCII letters that ``str.lower`` does not, and the rule engine's
values are NFKC-normalised first, which turns the others (the Kelvin sign, the
long s) into ASCII already.
"""

from __future__ import annotations

import re
from re import _constants as sre  # the parse tree's opcodes: internal, stable across 3.11-3.13
from re import _parser as sre_parse

#: Literals shorter than this are found in nearly every text: no filter then.
MIN_LITERAL = 2

# Zero-width items that may precede the first character of a match without consuming it.
_ZERO_WIDTH = {sre.AT, sre.ASSERT, sre.ASSERT_NOT}
# What re's case folding makes of the two i's that str.lower leaves alone (or turns into two characters).
_FOLD = str.maketrans({"\u0130": "i", "\u0131": "i"})


def fold(text: str) -> str:
    """``text`` as a case-insensitive pattern's literals are looked for in it."""
    if "\u0130" in text or "\u0131" in text:  # rare; the translation costs ten times the lower-casing
        text = text.translate(_FOLD)
    return text.lower()


def required_literals(pattern: re.Pattern[str]) -> tuple[str, ...] | None:
    """Strings one of which begins every match of ``pattern`` (lower-cased if it ignores case); ``None`` if unknown."""
    try:
        tree = sre_parse.parse(pattern.pattern, pattern.flags & ~re.UNICODE)
    except (re.error, ValueError, TypeError, RecursionError):
        return None
    found = _prefixes(list(tree))
    if not found or any(len(literal) < MIN_LITERAL for literal in found):
        return None
    if pattern.flags & re.IGNORECASE:
        found = {literal.lower() for literal in found}
    return tuple(sorted(found))


def _prefixes(items: list[tuple[object, object]]) -> set[str] | None:
    """The literal prefixes every match of the sequence ``items`` starts with, or ``None``."""
    buffer: list[str] = []
    for op, argument in items:
        if op is sre.LITERAL:
            buffer.append(chr(argument))  # type: ignore[arg-type]
            continue
        if buffer:
            return {"".join(buffer)}
        if op in _ZERO_WIDTH:
            continue
        if op is sre.SUBPATTERN:
            _, added, removed, sub = argument  # type: ignore[misc]
            if (added | removed) & re.IGNORECASE:
                return None  # a group with case rules of its own: its literals cannot share the pattern's
            return _prefixes(list(sub))
        if op is sre.BRANCH:
            branches = [_prefixes(list(branch)) for branch in argument[1]]  # type: ignore[index]
            if any(branch is None for branch in branches):
                return None
            return set().union(*branches)  # type: ignore[arg-type]
        return None
    return {"".join(buffer)} if buffer else None
