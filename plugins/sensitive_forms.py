"""Page detector: forms that ask for what only a bank, a wallet or the visitor should know.

What the page's fields ask for is read by the page view
(:attr:`fraudwall.page_view.PageView.credential_fields`, which other detectors
weigh too): each field's label, placeholder, aria-label, name and type against
the ``[calls_to_action.fields]`` vocabulary of ``fraudwall/data/fraud_lexicon.toml``
(ID-card number, bank card, card security code or expiry (CVV), card PIN,
payment password, login password, SMS code), inputs outside any ``<form>``
included: phishing kits often post them with a script.

Names the reference data vouches for (a brand's own domains and country sites, allowlisted sites)
are never judged. Elsewhere, **what is asked together** decides, because a
single field proves nothing (every shop has a password, every app an SMS code):

* a bank card with its PIN: no lender, shop or refund desk asks for a card PIN,
  so this alone is strong;
* a payment password (支付密码): only the wallet itself asks for it;
* a crypto wallet's recovery phrase (助记词) or private key: whoever has it owns the
  wallet, and only the wallet's own app asks for it, so this alone is strong;
* a card with its security code or expiry: card harvesting, or an ordinary
  checkout, so moderate;
* ID number, bank card and SMS code together (the "elements" a fraudster needs
  to open payments in the victim's name): moderate, since lenders ask too;
* a card's security code with a one-time code: a real checkout leaves the
  one-time code to the card issuer's own page, so moderate as card harvesting.

It rises when the page sends the data somewhere odd: a form posting to another
registrable domain or an IP literal, or a script posting to the Telegram bot API
(how phishing kits deliver what they harvest).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from fraudwall import reference
from fraudwall.hookspecs import hookimpl
from fraudwall.models import Category, Finding, PageObservation, UrlParts
from fraudwall.names import is_ip_literal, registrable_domain
from fraudwall.page_view import PageView

name = "sensitive_forms"
version = "1.2"

# -- calibration ---------------------------------------------------------------
# Combined by noisy-OR with the other findings; malicious >= 0.75, suspicious >= 0.40.

#: Base scores of the combinations; the strongest one present sets the base.
CARD_WITH_PIN = 0.70
SEED_PHRASE = 0.70  # a wallet's recovery phrase is the wallet: only its own app ever asks for it
PAYMENT_PASSWORD = 0.45
CARD_WITH_SECURITY_CODE = 0.35
IDENTITY_ELEMENTS = 0.35  # ID number + bank card + SMS code
#: Each further kind asked for beyond those of the base combination.
EXTRA_KIND = 0.08
#: The data leaves for another registrable domain or an IP literal.
FOREIGN_ACTION = 0.10
#: A script delivers it to the Telegram bot API.
TELEGRAM_EXFILTRATION = 0.25
SCORE_MAX = 0.95

_COMBINATIONS: tuple[tuple[frozenset[str], float, str], ...] = (
    (frozenset({"bank_card", "card_pin"}), CARD_WITH_PIN, "a bank card together with its PIN"),
    (frozenset({"seed_phrase"}), SEED_PHRASE, "a wallet's recovery phrase or private key"),
    (frozenset({"payment_password"}), PAYMENT_PASSWORD, "a payment password"),
    (frozenset({"bank_card", "card_security"}), CARD_WITH_SECURITY_CODE, "a card with its security code or expiry"),
    (frozenset({"id_number", "bank_card", "sms_code"}), IDENTITY_ELEMENTS, "ID number, bank card and SMS code"),
    (frozenset({"card_security", "sms_code"}), CARD_WITH_SECURITY_CODE, "a card's security code and a one-time code"),
)
_TELEGRAM_BOT = re.compile(r"api\.telegram\.org/bot[0-9]{5,}:[A-Za-z0-9_-]{20,}/send", re.IGNORECASE)


def _host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:  # hostile pages carry malformed URLs
        return ""


def foreign_actions(page: PageObservation, url: UrlParts) -> list[str]:
    """Form actions that send the data to another registrable domain or to an IP literal."""
    found = []
    for form in page.forms:
        host = _host(form.action)
        if not host or host == url.host:
            continue
        if is_ip_literal(host) or registrable_domain(host) != url.registrable_domain:
            found.append(form.action)
    return list(dict.fromkeys(found))


def telegram_exfiltration(page: PageObservation) -> bool:
    """True when an inline script posts to the Telegram bot API (a bot token in the page)."""
    return any(_TELEGRAM_BOT.search(script) for script in page.scripts)


def judge(view: PageView, url: UrlParts) -> Finding | None:
    """The finding for the page's forms, or ``None`` when they ask for nothing that needs explaining."""
    if not url.is_ip and (reference.is_allowlisted(url.host) or reference.country_site_brand(url.host)):
        return None
    page = view.page
    asked = dict(view.credential_fields)
    matched = [(kinds, score, label) for kinds, score, label in _COMBINATIONS if kinds <= asked.keys()]
    if not matched:
        return None
    kinds, base, label = max(matched, key=lambda item: item[1])
    extra = asked.keys() - kinds - {"password"}  # a login password next to card data adds nothing new
    score = base + EXTRA_KIND * len(extra)
    reasons = [f"a form asks for {label}"]
    if extra:
        reasons.append("also for " + ", ".join(sorted(kind.replace("_", " ") for kind in extra)))
    actions = foreign_actions(page, url)
    if actions:
        score += FOREIGN_ACTION
        reasons.append(f"it posts to {_host(actions[0])}")
    if telegram_exfiltration(page):
        score += TELEGRAM_EXFILTRATION
        reasons.append("a script sends data to the Telegram bot API")
    evidence = [f"{kind.replace('_', ' ')}: {field_label}" for kind, field_label in asked.items()]
    evidence += [f"form action {action}" for action in actions]
    return Finding(
        subject=page.final_url, detector=name, detector_version=version,
        category=Category.CREDENTIAL_PHISHING.value, score=round(min(SCORE_MAX, score), 3),
        reason=f"On {url.host or url.url}, which no brand or allowlist vouches for, " + "; ".join(reasons) + ".",
        evidence=tuple(evidence), indicators=tuple(("form_action", action) for action in actions),
    )


@hookimpl
def analyze_page(view: PageView, url: UrlParts) -> list[Finding]:
    """At most one finding: the credentials the page's forms ask for, on a name no brand owns."""
    finding = judge(view, url)
    return [finding] if finding else []
