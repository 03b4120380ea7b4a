"""Page detector: where the page sends its visitors to talk and to pay.

Fraud pages move the victim off the web as soon as they can: to a "mentor" on
Telegram, a "receptionist" on QQ or WeChat, a WhatsApp number, and they take
the money in USDT. This detector extracts those channels as **indicators** on
its finding, the values that link one campaign's hundreds of throw-away domains:

* chat links: ``t.me/...``, ``tg://resolve``, ``wa.me/...``,
  ``api.whatsapp.com/send``, ``tencent://message``, ``weixin://``, ``line.me``;
* account IDs written beside a channel's name (``微信：abc123``, ``飞机 @handle``,
  ``QQ 12345678``); the channel words live in ``fraudwall/data/page_signals.toml``.
  Both are read by the page view (:attr:`fraudwall.page_view.PageView.contacts`),
  since ``fraud_lexicon`` weighs them too;
* cryptocurrency addresses whose checksum holds (see
  :mod:`fraudwall.wallets`): TRON (USDT-TRC20), Ethereum (USDT-ERC20), Bitcoin.

Legitimate pages show contact IDs and wallet addresses too, so the score is
modest and capped well below "suspicious": channels only add to what other
detectors find. A page framed as a warning (news quoting a scammer's QQ number)
keeps its indicators, for linking, at a fraction of the score. Names the
reference data vouches for get no finding.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from fraudwall import reference, wallets
from fraudwall.hookspecs import hookimpl
from fraudwall.matching import Term, compile_terms, find_terms
from fraudwall.models import Category, Finding, UrlParts
from fraudwall.page_view import PageView

name = "diversion_channels"
version = "1.1"
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
#: A page framed as a warning (see fraudwall.matching.Frame) that opens no chat itself: indicators kept, score scaled.
WARNING_FACTOR = 0.2
#: The floor of the score: a finding is always reported, for its indicators, however framed.
MIN_SCORE = 0.01


def wallet_addresses(view: PageView) -> tuple[tuple[str, str], ...]:
    """``(kind, address)`` for every valid cryptocurrency address the page shows (case matters: page spelling)."""
    return tuple(dict.fromkeys(wallets.addresses(view.strings)))


@functools.cache
def _crypto_context() -> tuple[Term, ...]:
    return compile_terms(reference.page_signals().crypto_context)


def judge(view: PageView, url: UrlParts) -> Finding | None:
    """The finding carrying the page's channels as indicators, or ``None`` when it shows none."""
    if not url.is_ip and reference.is_allowlisted(url.host):
        return None
    chats = view.contacts
    addresses = wallet_addresses(view)
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
        payee_words = list(find_terms(view.text, _crypto_context()))
        if payee_words:
            score += WALLET_AS_PAYEE
        reasons.append(
            f"it shows {len(addresses)} valid cryptocurrency address(es)"
            + (f" as where to pay ({', '.join(payee_words[:3])})" if payee_words else "")
        )
    frame = view.warning_frame
    if frame.warns and not view.opens_chat:
        score *= WARNING_FACTOR
        reasons.append(f"but it is framed as a warning ({', '.join(frame.terms[:3])}), so the score was lowered")
    score = max(MIN_SCORE, min(SCORE_MAX, score))
    indicators = (*chats, *addresses)
    return Finding(
        subject=view.page.final_url, detector=name, detector_version=version, category=CATEGORY,
        score=round(score, 3), reason="Page diverts to other channels: " + "; ".join(reasons) + ".",
        evidence=tuple(f"{kind}: {value}" for kind, value in indicators[:8]), indicators=indicators,
    )


@hookimpl
def analyze_page(view: PageView, url: UrlParts) -> list[Finding]:
    """At most one finding, whose indicators are the page's chat IDs and wallet addresses."""
    finding = judge(view, url)
    return [finding] if finding else []
