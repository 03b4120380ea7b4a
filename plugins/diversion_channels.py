"""Page detector: where the page sends its visitors to talk and to pay.

Fraud pages move the victim off the web as soon as they can: to a "mentor" on
Telegram, a "receptionist" on QQ or WeChat, a WhatsApp number, and they take
the money in USDT. This detector extracts those channels as **indicators** on
its finding, the values that link one campaign's hundreds of throw-away domains:

* chat links: ``t.me/...``, ``tg://resolve``, ``wa.me/...``,
  ``api.whatsapp.com/send``, ``tencent://message``, ``weixin://``, ``line.me``;
* account IDs written beside a channel's name (``微信：abc123``, ``飞机 @handle``,
  ``QQ 12345678``); the channel words live in ``fraudwall/data/page_signals.toml``;
* cryptocurrency addresses whose checksum holds (see
  :mod:`fraudwall.plugins.wallets`): TRON (USDT-TRC20), Ethereum (USDT-ERC20), Bitcoin.

Legitimate pages show contact IDs and wallet addresses too, so the score is
modest and capped well below "suspicious": channels only add to what other
detectors find. A page framed as a warning (news quoting a scammer's QQ number)
keeps its indicators, for linking, at a fraction of the score. Names the
reference data vouches for get no finding.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

from fraudwall import reference
from fraudwall.hookspecs import hookimpl
from fraudwall.models import Category, Finding, PageObservation, UrlParts
from fraudwall.plugins import wallets
from fraudwall.plugins.page_text import Term, compile_terms, find_terms, page_strings, page_text, warning_frame

name = "diversion_channels"
version = "1.0"
CATEGORY = Category.DIVERSION.value

# -- calibration ---------------------------------------------------------------
# Combined by noisy-OR with the other findings; malicious >= 0.75, suspicious >= 0.40.

#: Per distinct kind of chat channel (QQ, WeChat, Telegram...), up to CHANNELS_MAX.
PER_CHANNEL = 0.08
CHANNELS_MAX = 0.20
#: A valid cryptocurrency address on the page, and more when it is presented as where to pay.
WALLET = 0.12
WALLET_AS_PAYEE = 0.10
SCORE_MAX = 0.35
#: A page framed as a warning (see page_text.Frame) that opens no chat itself: indicators kept, score scaled.
WARNING_FACTOR = 0.2
#: The floor of the score: a finding is always reported, for its indicators, however framed.
MIN_SCORE = 0.01

# Account ID formats per channel kind (protocol facts, not vocabulary): after a
# colon any well-formed ID counts; without one, only an ID that cannot be an
# ordinary word ("Telegram group", "WeChat account"): an @handle, a number, a
# WeChat ID with a digit, dash or underscore.
_ID_AFTER_COLON = {
    "qq": r"[1-9]\d{4,11}(?!\d)",
    "wechat": r"(?:[a-z][-_a-z0-9]{5,19}|1[3-9]\d{9})(?![a-z0-9])",
    "telegram": r"@?[a-z][a-z0-9_]{4,31}(?![a-z0-9_])",
    "whatsapp": r"\+?\d[\d -]{7,16}\d",
    "line": r"@?[a-z0-9][-_.a-z0-9]{3,19}(?![a-z0-9])",
}
_ID_WITHOUT_COLON = {
    "qq": _ID_AFTER_COLON["qq"],
    "wechat": r"(?:(?=[a-z]*[-_\d])[a-z][-_a-z0-9]{5,19}|1[3-9]\d{9})(?![a-z0-9])",
    "telegram": r"@[a-z][a-z0-9_]{4,31}(?![a-z0-9_])",
    "whatsapp": _ID_AFTER_COLON["whatsapp"],
}
# Channel words that are also everyday Latin words need a colon before the ID.
_NEEDS_COLON = {"line", "wa", "tg", "vx", "wx"}
# Links that open a chat directly: (indicator kind, pattern with the ID as group 1).
_CHAT_LINKS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("telegram", re.compile(r"^(?:https?://)?(?:t\.me|telegram\.me|telegram\.dog)/(?:s/)?\+?([a-z0-9_]{4,32})", re.I)),
    ("telegram", re.compile(r"^tg://resolve\?domain=([a-z0-9_]{4,32})", re.I)),
    ("whatsapp", re.compile(r"^(?:https?://)?(?:wa\.me/|(?:api|web)\.whatsapp\.com/send/?\?phone=)(\+?\d{6,16})", re.I)),
    ("whatsapp", re.compile(r"^whatsapp://send\?phone=(\+?\d{6,16})", re.I)),
    ("qq", re.compile(r"^(?:tencent://message/\?.*uin=|mqqwpa://im/chat\?.*uin=)(\d{5,12})", re.I)),
    ("qq", re.compile(r"^https?://wpa\.qq\.com/msgrd\?.*uin=(\d{5,12})", re.I)),
    ("wechat", re.compile(r"^weixin://(?:dl/chat\?|contacts/profile/)?([-_a-z0-9]{6,20})", re.I)),
    ("line", re.compile(r"^https?://line\.me/(?:ti/p|r/ti/p)/[~@]?([-_.a-z0-9]{4,20})", re.I)),
)


def _alternation(words: Sequence[str]) -> str:
    return "|".join(re.escape(word) for word in sorted(words, key=len, reverse=True))


@functools.cache
def _contact_patterns() -> tuple[tuple[str, tuple[str, ...], re.Pattern[str]], ...]:
    """Per channel kind: a channel word, an optional 号/ID, then an ID (see ``_ID_AFTER_COLON``)."""
    patterns = []
    for kind, words in reference.page_signals().channel_words.items():
        if kind not in _ID_AFTER_COLON or not words:
            continue
        suffix = r"\s*(?:号码|号|id|群)?\s*"
        after_colon = rf"[:：]\s*({_ID_AFTER_COLON[kind]})"
        loose = [word for word in words if word not in _NEEDS_COLON]
        strict = [word for word in words if word in _NEEDS_COLON]
        branches = []
        if loose:
            without_colon = f"|({_ID_WITHOUT_COLON[kind]})" if kind in _ID_WITHOUT_COLON else ""
            branches.append(rf"(?:{_alternation(loose)}){suffix}(?:{after_colon}{without_colon})")
        if strict:
            branches.append(rf"(?:{_alternation(strict)}){suffix}{after_colon}")
        patterns.append((kind, words, re.compile(rf"(?<![a-z0-9])(?:{'|'.join(branches)})")))
    return tuple(patterns)


def _indicator(kind: str, value: str) -> tuple[str, str]:
    value = re.sub(r"[\s-]+", "", value) if kind == "whatsapp" else value
    if kind == "telegram":
        value = "@" + value.lstrip("@").lower()
    return kind, value


@functools.lru_cache(maxsize=8)
def contacts(page: PageObservation) -> tuple[tuple[str, str], ...]:
    """Chat indicators: ``(kind, id)`` from IDs written in the page and from chat links."""
    found = []
    text = page_text(page).raw
    for kind, words, pattern in _contact_patterns():
        if not any(word in text for word in words):
            continue  # the channel is not named at all: skip the regex
        found += [
            _indicator(kind, next(value for value in match.groups() if value)) for match in pattern.finditer(text)
        ]
    for link in page.links:
        for kind, pattern in _CHAT_LINKS:
            opened = pattern.match(link.url)
            if opened:
                found.append(_indicator(kind, opened.group(1)))
    return tuple(dict.fromkeys(found))


def chat_links(page: PageObservation) -> bool:
    """True when the page links straight into a chat app (it opens the conversation itself)."""
    return any(pattern.match(link.url) for link in page.links for _, pattern in _CHAT_LINKS)


@functools.lru_cache(maxsize=8)
def wallet_addresses(page: PageObservation) -> tuple[tuple[str, str], ...]:
    """``(kind, address)`` for every valid cryptocurrency address the page shows (case matters: page spelling)."""
    return tuple(dict.fromkeys(wallets.addresses(page_strings(page))))


@functools.cache
def _crypto_context() -> tuple[Term, ...]:
    return compile_terms(reference.page_signals().crypto_context)


def judge(page: PageObservation, url: UrlParts) -> Finding | None:
    """The finding carrying the page's channels as indicators, or ``None`` when it shows none."""
    if not url.is_ip and reference.is_allowlisted(url.host):
        return None
    chats = contacts(page)
    addresses = wallet_addresses(page)
    if not chats and not addresses:
        return None
    kinds = sorted({kind for kind, _ in chats})
    score = min(CHANNELS_MAX, PER_CHANNEL * len(kinds))
    reasons = []
    if kinds:
        reasons.append(f"it sends visitors to {', '.join(kinds)}")
    payee_words: Sequence[str] = ()
    if addresses:
        score += WALLET
        payee_words = list(find_terms(page_text(page), _crypto_context()))
        if payee_words:
            score += WALLET_AS_PAYEE
        reasons.append(
            f"it shows {len(addresses)} valid cryptocurrency address(es)"
            + (f" as where to pay ({', '.join(payee_words[:3])})" if payee_words else "")
        )
    frame = warning_frame(page)
    if frame.warns and not chat_links(page):
        score *= WARNING_FACTOR
        reasons.append(f"but it is framed as a warning ({', '.join(frame.terms[:3])}), so the score was lowered")
    score = max(MIN_SCORE, min(SCORE_MAX, score))
    indicators = (*chats, *addresses)
    return Finding(
        subject=page.final_url, detector=name, detector_version=version, category=CATEGORY,
        score=round(score, 3), reason="Page diverts to other channels: " + "; ".join(reasons) + ".",
        evidence=tuple(f"{kind}: {value}" for kind, value in indicators[:8]), indicators=indicators,
    )


@hookimpl
def analyze_page(page: PageObservation, url: UrlParts) -> list[Finding]:
    """At most one finding, whose indicators are the page's chat IDs and wallet addresses."""
    finding = judge(page, url)
    return [finding] if finding else []
