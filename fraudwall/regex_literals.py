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
#: A pattern's literals are extended while that makes at most this many (``(a|b)(c|d)`` makes four)...
MAX_LITERALS = 64
#: ...and through character classes of at most this many characters (``[2-9]``).
MAX_CLASS = 10

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
    expanded = _expand(list(tree))
    if expanded is None:
        return None
    found = expanded[0]
    if pattern.flags & re.IGNORECASE:
        found = {literal.lower() for literal in found}
    if any(len(literal) < MIN_LITERAL for literal in found):
        return None
    return tuple(sorted(_shortest(found)))


def _shortest(literals: set[str]) -> set[str]:
    """``literals`` without those that begin with another one: a match beginning with the longer begins with the shorter."""
    kept: list[str] = []
    for literal in sorted(literals):  # a literal's extensions sort right after it
        if not kept or not literal.startswith(kept[-1]):
            kept.append(literal)
    return set(kept)


def _expand(items: list[tuple[object, object]]) -> tuple[set[str], bool] | None:
    """The strings every match of the sequence ``items`` begins with, and whether they are its whole matches.

    Read left to right: literals, small character classes, optional parts and groups whose every
    match is one of a few strings extend each string; the first item that is none of these ends
    them (``complete`` is then false). ``None`` when the sequence may begin with anything.
    """
    strings = {""}
    for op, argument in items:
        if op in _ZERO_WIDTH:
            continue  # consumes nothing: the strings before and after it are adjacent in the text
        part = _alternatives(op, argument)
        if part is None:
            return (strings, False) if strings != {""} else None
        choices, complete = part
        if strings == {""}:
            strings = choices  # however many: they are what every match begins with
        elif len(strings) * len(choices) > MAX_LITERALS:
            return strings, False
        else:
            strings = {head + tail for head in strings for tail in choices}
        if not complete:
            return strings, False
    return strings, True


def _alternatives(op: object, argument: object) -> tuple[set[str], bool] | None:
    """What one parse-tree item matches, as :func:`_expand` returns it; ``None`` when not a few strings."""
    if op is sre.LITERAL:
        return {chr(argument)}, True  # type: ignore[arg-type]
    if op is sre.IN:
        chars = _class_chars(argument)  # type: ignore[arg-type]
        return (chars, True) if chars else None
    if op is sre.SUBPATTERN:
        _, added, removed, sub = argument  # type: ignore[misc]
        if (added | removed) & re.IGNORECASE:
            return None  # a group with case rules of its own: its literals cannot share the pattern's
        return _expand(list(sub))
    if op is sre.BRANCH:
        branches = [_expand(list(branch)) for branch in argument[1]]  # type: ignore[index]
        if any(branch is None for branch in branches):
            return None
        return set().union(*(branch[0] for branch in branches)), all(branch[1] for branch in branches)  # type: ignore[index]
    if op is sre.MAX_REPEAT or op is sre.MIN_REPEAT:
        low, high, sub = argument  # type: ignore[misc]
        once = _expand(list(sub))
        if once is None or not once[1] or (low, high) != (0, 1):
            # x{2,}, x+ and the like: the strings of one pass begin every match that takes it at least once
            return (once[0], False) if once is not None and low >= 1 else None
        return once[0] | {""}, True
    return None


def _class_chars(items: list[tuple[object, object]]) -> set[str] | None:
    """The characters of a small, positive character class (``[2-9]``, ``[xX]``), or ``None``."""
    chars: set[str] = set()
    for op, argument in items:
        if op is sre.LITERAL:
            chars.add(chr(argument))  # type: ignore[arg-type]
        elif op is sre.RANGE:
            low, high = argument  # type: ignore[misc]
            if high - low >= MAX_CLASS:
                return None
            chars.update(map(chr, range(low, high + 1)))
        else:
            return None  # a negated class, a category (\d, \w) and the like
        if len(chars) > MAX_CLASS:
            return None
    return chars or None
