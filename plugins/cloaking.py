"""Page detector: signs that a page hides what it is from whoever is not its target.

Fraud kits show crawlers, reviewers and blocklist builders an empty or harmless
page and show victims the scam: they bounce the visitor on at once, build the
page from an encoded payload at run time, or obfuscate their scripts so that no
word of them can be read. Read from the inline HTML and scripts only:

* **redirect-only pages**: a meta refresh, a JavaScript location change or a
  full-window frame, on a page with almost no text of its own (more when the
  target is another registrable domain or an IP literal);
* **visitor checks**: scripts that look for automation or crawlers
  (``navigator.webdriver``, "bot|spider|headless" user-agent tests);
* **decoded payloads**: ``document.write``, ``eval``, ``innerHTML``,
  ``new Function`` and the like fed straight from ``atob``, ``unescape``,
  ``decodeURIComponent`` or ``String.fromCharCode``;
* **heavy obfuscation**: the ``eval(function(p,a,c,k,e,...)`` packer,
  JSFuck-style bracket soup, javascript-obfuscator's ``_0x`` names in bulk, and
  scripts written mostly as ``\\xNN``/``\\uNNNN`` escapes.

Legitimate sites redirect and minify too, and some small sites pack their
analytics, so the signs add up slowly and are capped below "malicious": hiding
only matters beside what the other detectors find, often in the very payload
the page view (:attr:`fraudwall.page_view.PageView.hidden_sources`) decodes for them. Names the reference data
vouches for get no finding.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

from fraudwall import reference
from fraudwall.hookspecs import hookimpl
from fraudwall.models import Category, Finding, PageObservation, UrlParts
from fraudwall.names import is_ip_literal, registrable_domain

name = "cloaking"
version = "1.0"
CATEGORY = Category.CLOAKING.value

# -- calibration ---------------------------------------------------------------
# Combined by noisy-OR with the other findings; malicious >= 0.75, suspicious >= 0.40.

WEIGHTS = {
    "redirect": 0.20,  # the page only sends the visitor elsewhere
    "foreign_redirect": 0.10,  # ... to another registrable domain or an IP literal
    "visitor_check": 0.20,  # it looks for crawlers and automation
    "decoded_payload": 0.35,  # it writes or runs a decoded payload
    "packer": 0.30,
    "jsfuck": 0.30,
    "obfuscator_names": 0.25,
    "escaped_script": 0.25,
}
SCORE_MAX = 0.60
#: A page with fewer visible characters than this is "almost no content".
THIN_PAGE_CHARS = 80
#: Escape sequences must make up this share of an inline script of at least ESCAPED_MIN_LENGTH.
ESCAPED_SHARE = 0.30
ESCAPED_MIN_LENGTH = 200
#: javascript-obfuscator names (_0x1a2b) needed to call a script obfuscated.
OBFUSCATOR_NAMES_MIN = 20

_LOCATION = re.compile(
    r"""(?:window\.|top\.|self\.|document\.)?location(?:\.href)?\s*=\s*["'`]([^"'`]+)["'`]"""
    r"""|location\.(?:replace|assign)\s*\(\s*["'`]([^"'`]+)["'`]""",
    re.IGNORECASE,
)
_DYNAMIC_LOCATION = re.compile(r"location(?:\.href)?\s*=|location\.(?:replace|assign)\s*\(", re.IGNORECASE)
_REFRESH_URL = re.compile(r"url\s*=\s*['\"]?([^'\";]+)", re.IGNORECASE)
_FULL_FRAME = re.compile(
    r"""<iframe\b[^>]*\bsrc\s*=\s*["']([^"']+)["'][^>]*(?:width\s*=\s*["']?100%|height\s*=\s*["']?100%|100vh|100vw)""",
    re.IGNORECASE,
)
_VISITOR_CHECK = re.compile(
    r"navigator\.webdriver|callPhantom|_phantom|__nightmare|domAutomation"
    r"|(?:bot|spider|crawl|headless)[^\n]{0,40}\.test\s*\(\s*navigator\.userAgent"
    r"|navigator\.userAgent[^\n]{0,60}(?:bot|spider|crawl|headless)",
    re.IGNORECASE,
)
_DECODED_PAYLOAD = re.compile(
    r"(?:document\.write(?:ln)?\s*\(|\beval\s*\(|\.(?:inner|outer)HTML\s*=|insertAdjacentHTML\s*\([^,]*,"
    r"|new\s+Function\s*\(|set(?:Timeout|Interval)\s*\()\s*(?:window\.)?"
    r"(?:atob|unescape|decodeURIComponent|decodeURI|String\.fromCharCode|escape)\s*\(",
    re.IGNORECASE,
)
_PACKER = re.compile(r"eval\s*\(\s*function\s*\(\s*p\s*,\s*a\s*,\s*c\s*,\s*k\s*,\s*e\s*,\s*[rd]\s*\)")
# JSFuck writes everything with six characters: a long run of nothing else is no hand-written code.
_JSFUCK = re.compile(r"[\[\]()!+]{60,}")
_OBFUSCATOR_NAME = re.compile(r"\b_0x[0-9a-f]{4,6}\b")
_ESCAPE = re.compile(r"\\x[0-9a-fA-F]{2}|\\u[0-9a-fA-F]{4}")
# Substrings (of the lowercased script, spaces removed) without which a pattern cannot match: a
# plain substring test over a large minified bundle is far cheaper than the regex.
_NEEDS = {
    "visitor_check": ("webdriver", "phantom", "nightmare", "domautomation", "headless", "spider", "crawl", "bot|"),
    "decoded_payload": ("atob", "unescape", "decodeuri", "fromcharcode", "escape("),
    "packer": ("function(p,a,c,k,e,",),
    "jsfuck": ("![]",),
    "obfuscator_names": ("_0x",),
}


def _may_match(lowered: str, sign: str) -> bool:
    return any(needle in lowered for needle in _NEEDS[sign])


def _is_url(entry: str) -> bool:
    return not any(ch.isspace() for ch in entry) and entry.startswith(("http://", "https://", "//"))


def _foreign(target: str, url: UrlParts) -> bool:
    """True when ``target`` leads to another registrable domain or to an IP literal."""
    try:
        host = (urlsplit(target).hostname or "").lower()
    except ValueError:
        return False
    if not host or host == url.host:
        return False
    return is_ip_literal(host) or registrable_domain(host) != url.registrable_domain


def redirect_targets(page: PageObservation, inline: list[str]) -> list[str]:
    """Where the page sends the visitor by itself: meta refresh, script location changes, full-window frames."""
    targets = [match.group(1).strip() for key, content in page.meta if key == "refresh"
               for match in [_REFRESH_URL.search(content)] if match]
    for script in inline:
        if "location" in script.lower():
            targets += [next(group for group in match.groups() if group) for match in _LOCATION.finditer(script)]
    targets += [match.group(1) for match in _FULL_FRAME.finditer(page.html)]
    return list(dict.fromkeys(urljoin(page.final_url, target) for target in targets))


def signs(page: PageObservation, url: UrlParts) -> tuple[dict[str, str], list[str]]:
    """(sign -> evidence, redirect targets) for ``page``."""
    inline = [script for script in page.scripts if not _is_url(script)]
    found: dict[str, str] = {}
    targets = redirect_targets(page, inline)
    redirects = bool(targets) or any(
        "location" in script.lower() and _DYNAMIC_LOCATION.search(script) for script in inline
    )
    if redirects and len(page.text) < THIN_PAGE_CHARS:
        found["redirect"] = f"almost no content ({len(page.text)} characters) and a redirect to {targets[0] if targets else 'a computed URL'}"
        foreign = next((target for target in targets if _foreign(target, url)), None)
        if foreign:
            found["foreign_redirect"] = f"the redirect leaves for {foreign}"
    for script in inline:
        lowered = script.lower().replace(" ", "")
        if "visitor_check" not in found and _may_match(lowered, "visitor_check"):
            if match := _VISITOR_CHECK.search(script):
                found["visitor_check"] = f"checks the visitor: {match.group(0)[:60]}"
        if "decoded_payload" not in found and _may_match(lowered, "decoded_payload"):
            if match := _DECODED_PAYLOAD.search(script):
                found["decoded_payload"] = f"runs a decoded payload: {match.group(0)[:60]}"
        if "packer" not in found and _may_match(lowered, "packer") and _PACKER.search(script):
            found["packer"] = "eval(function(p,a,c,k,e,...)) packer"
        if "jsfuck" not in found and _may_match(lowered, "jsfuck") and _JSFUCK.search(script):
            found["jsfuck"] = "JSFuck-style bracket encoding"
        if "obfuscator_names" not in found and _may_match(lowered, "obfuscator_names"):
            names = len(set(_OBFUSCATOR_NAME.findall(script)))
            if names >= OBFUSCATOR_NAMES_MIN:
                found["obfuscator_names"] = f"{names} javascript-obfuscator names (_0x...)"
        if "escaped_script" not in found and len(script) >= ESCAPED_MIN_LENGTH:
            # Each escape is 4 or 6 characters; count them only when there could be enough.
            if (lowered.count("\\x") + lowered.count("\\u")) * 6 >= ESCAPED_SHARE * len(script):
                escaped = sum(len(match) for match in _ESCAPE.findall(script))
                if escaped >= ESCAPED_SHARE * len(script):
                    found["escaped_script"] = f"{escaped * 100 // len(script)}% of a script written as escapes"
    return found, targets


def judge(page: PageObservation, url: UrlParts) -> Finding | None:
    """The cloaking finding for ``page``, or ``None`` when it shows no sign."""
    if not url.is_ip and reference.is_allowlisted(url.host):
        return None
    found, targets = signs(page, url)
    if not found:
        return None
    score = min(SCORE_MAX, sum(WEIGHTS[sign] for sign in found))
    return Finding(
        subject=page.final_url, detector=name, detector_version=version, category=CATEGORY,
        score=round(score, 3), reason="Page hides what it is: " + ", ".join(sign.replace("_", " ") for sign in found) + ".",
        evidence=tuple(found.values()),
        indicators=tuple(("redirect", target) for target in targets[:5]) if "redirect" in found else (),
    )


@hookimpl
def analyze_page(page: PageObservation, url: UrlParts) -> list[Finding]:
    """At most one finding: how the page hides from those it does not target."""
    finding = judge(page, url)
    return [finding] if finding else []
