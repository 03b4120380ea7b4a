"""Chat accounts in text: an ID written after a channel's name, and links that open a chat.

Part of fraudwall's core, for every reader of evidence: the page view reads a
page's contacts with it, APK analysis the handles in an app's strings. Kinds
are ``qq``, ``wechat``, ``telegram`` (as ``@handle``), ``whatsapp`` and
``line``; the channel words are ``[channels]`` in
``fraudwall/data/page_signals.toml``. Text is matched lowercased.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

from fraudwall import reference

# Account ID formats per channel kind (protocol facts, not vocabulary): after a
# colon any well-formed ID counts; without one, only an ID that cannot be an
# ordinary word ("Telegram group", "WeChat account"): an @handle, a number, a
# WeChat ID with a digit, dash or underscore.
ID_AFTER_COLON = {
    "qq": r"[1-9]\d{4,11}(?!\d)",
    "wechat": r"(?:[a-z][-_a-z0-9]{5,19}|1[3-9]\d{9})(?![a-z0-9])",
    "telegram": r"@?[a-z][a-z0-9_]{4,31}(?![a-z0-9_])",
    "whatsapp": r"\+?\d[\d -]{7,16}\d",
    "line": r"@?[a-z0-9][-_.a-z0-9]{3,19}(?![a-z0-9])",
}
ID_WITHOUT_COLON = {
    "qq": ID_AFTER_COLON["qq"],
    "wechat": r"(?:(?=[a-z]*[-_\d])[a-z][-_a-z0-9]{5,19}|1[3-9]\d{9})(?![a-z0-9])",
    "telegram": r"@[a-z][a-z0-9_]{4,31}(?![a-z0-9_])",
    "whatsapp": ID_AFTER_COLON["whatsapp"],
}
#: Channel words that are also everyday Latin words need a colon before the ID.
NEEDS_COLON = frozenset({"line", "wa", "tg", "vx", "wx"})
#: Links that open a chat directly: (kind, pattern with the ID as group 1).
CHAT_LINKS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("telegram", re.compile(r"^(?:https?://)?(?:t\.me|telegram\.me|telegram\.dog)/(?:s/)?\+?([a-z0-9_]{4,32})", re.I)),
    ("telegram", re.compile(r"^tg://resolve\?domain=([a-z0-9_]{4,32})", re.I)),
    ("whatsapp", re.compile(r"^(?:https?://)?(?:wa\.me/|(?:api|web)\.whatsapp\.com/send/?\?phone=)(\+?\d{6,16})", re.I)),
    ("whatsapp", re.compile(r"^whatsapp://send\?phone=(\+?\d{6,16})", re.I)),
    ("qq", re.compile(r"^(?:tencent://message/\?.*uin=|mqqwpa://im/chat\?.*uin=)(\d{5,12})", re.I)),
    ("qq", re.compile(r"^https?://wpa\.qq\.com/msgrd\?.*uin=(\d{5,12})", re.I)),
    ("wechat", re.compile(r"^weixin://(?:dl/chat\?|contacts/profile/)?([-_a-z0-9]{6,20})", re.I)),
    ("line", re.compile(r"^(?:https?://)?line\.me/(?:ti/p|r/ti/p)/[~@]?([-_.a-z0-9]{4,20})", re.I)),
)

# Any of them, in one pass: most links open no chat, and one combined test spares them eight.
_ANY_CHAT_LINK = re.compile("|".join(f"(?:{pattern.pattern})" for _, pattern in CHAT_LINKS), re.I)


def chat_link(url: str) -> tuple[str, str] | None:
    """``(kind, handle)`` of the chat ``url`` opens (see :func:`handle`); ``None`` for a link that opens none."""
    if _ANY_CHAT_LINK.match(url) is None:
        return None
    for kind, pattern in CHAT_LINKS:  # the prefixes exclude one another: one pattern matches at most
        opened = pattern.match(url)
        if opened:
            return handle(kind, opened.group(1))
    return None


def _alternation(words: Iterable[str]) -> str:
    return "|".join(re.escape(word) for word in sorted(words, key=len, reverse=True))


@functools.cache
def channel_patterns(space: str = r"\s") -> tuple[tuple[str, tuple[str, ...], re.Pattern[str]], ...]:
    """Per channel kind: its words, and a pattern for a channel word, an optional 号/ID, then an ID.

    ``space`` is what may stand between them: any whitespace on a page, spaces
    and tabs only where an ID must be on the channel word's line (``[ \\t]``).
    The ID is the first group that matched.
    """
    patterns = []
    for kind, words in reference.page_signals().channel_words.items():
        if kind not in ID_AFTER_COLON or not words:
            continue
        suffix = rf"{space}*(?:号码|号|id|群)?{space}*"
        after_colon = rf"[:：]{space}*({ID_AFTER_COLON[kind]})"
        loose = [word for word in words if word not in NEEDS_COLON]
        strict = [word for word in words if word in NEEDS_COLON]
        branches = []
        if loose:
            without_colon = f"|({ID_WITHOUT_COLON[kind]})" if kind in ID_WITHOUT_COLON else ""
            branches.append(rf"(?:{_alternation(loose)}){suffix}(?:{after_colon}{without_colon})")
        if strict:
            branches.append(rf"(?:{_alternation(strict)}){suffix}{after_colon}")
        patterns.append((kind, words, re.compile(rf"(?<![a-z0-9])(?:{'|'.join(branches)})")))
    return tuple(patterns)


def handle(kind: str, value: str) -> tuple[str, str]:
    """A found ID written one way: a WhatsApp number without spaces or dashes, a Telegram ``@handle`` lowercased."""
    if kind == "whatsapp":
        value = re.sub(r"[\s-]+", "", value)
    elif kind == "telegram":
        value = "@" + value.lstrip("@").lower()
    return kind, value
