"""Page detector: pages that push a fraud app past the app stores.

About six cases in ten go through an app, and the page that delivers it has a
recognisable shape. Two kinds of evidence are combined:

**Install paths** the page offers, as the page view reads them
(:attr:`fraudwall.page_view.PageView.install_paths`, which other detectors weigh
too) from its links, its HTML (onclick handlers, ``data-*`` attributes), its
script strings (escapes decoded) and its decoded base64 payloads: ``.apk`` (and
``.xapk``) downloads, ``.ipa`` files, ``itms-services://`` enterprise installs,
``.mobileconfig`` configuration profiles, TestFlight invitations and
beta-distribution hosts (see ``[apps]`` in ``fraudwall/data/page_signals.toml``),
and QR codes. QR codes inlined as ``data:`` images are decoded when the optional
zxing-cpp decoder (and Pillow) is installed, and what they encode is judged like
a link; a QR image that is only referenced counts, weakly, when it sits on a page
that offers a download. Nothing is ever fetched. Installs served from a name the
reference data vouches for (a brand's own, an allowlisted store) do not count.

**Words**, from the ``fake_app`` scripts of ``fraudwall/data/fraud_lexicon.toml``:
*bypass* instructions (如遇报毒请忽略, 信任企业级开发者, "trust the enterprise
developer", 描述文件), *permissions* a fraud app wants (无障碍权限, 悬浮窗),
*install* phrases, and a *lure*: another fraud script's core or promise words on
the same page (日收益, 刷单, 无视征信).

A download link alone is ordinary (weather apps ship APKs too) and scores low;
an enterprise install or a configuration profile is unusual (suspicious); with
bypass instructions, lures or a brand's name in the package it becomes a fraud
app page. Official and allowlisted names get no finding, and a page framed as a
warning that offers no install itself is scaled down like in ``fraud_lexicon``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

from fraudwall import reference
from fraudwall.hookspecs import hookimpl
from fraudwall.matching import Hit, Term, compile_lexicon, compile_terms, find_terms, longest_first
from fraudwall.models import Category, Finding, PageObservation, UrlParts
from fraudwall.page_view import InstallPath, PageView

name = "app_lures"
version = "1.2"

# -- calibration ---------------------------------------------------------------
# Combined by noisy-OR with the other findings; malicious >= 0.75, suspicious >= 0.40.

#: Base score per kind of install path; the strongest sets the base.
PATH_WEIGHTS = {
    "itms": 0.45,  # enterprise distribution: public pages offering it are rarely honest
    "mobileconfig": 0.45,  # a configuration profile can install certificates and web clips
    "ipa": 0.30,
    "testflight": 0.25,
    "distribution": 0.25,
    "apk": 0.15,
    "qr_url": 0.08,  # a decoded QR code leading to a page, not to an install
    "qr_image": 0.08,  # a QR code image beside download words, not decoded
}
#: Each further kind of install path.
EXTRA_PATH = 0.05
#: Word groups of the fake_app script (and the lure pseudo-group), added to the base.
GROUP_WEIGHTS = {"bypass": 0.35, "lure": 0.25, "permissions": 0.15, "install": 0.05}
#: Bypass instructions with install words but no install path found (built at run time).
BYPASS_WITHOUT_PATH = 0.05
#: A brand's token in the package name, served from a name the brand does not own.
BRAND_PACKAGE = 0.25
SCORE_MAX = 0.97
#: Warning pages that offer no install: score x FRAME_DECAY ** (warning terms - 1).
FRAME_DECAY = 0.3
MIN_SCORE = 0.05

_IMG = re.compile(r"<img\b[^>]*>", re.IGNORECASE)
_NAME_PARTS = re.compile(r"[^a-z0-9]+|(?<=\d)(?=[a-z])|(?<=[a-z])(?=\d)")


def qr_images(page: PageObservation) -> list[str]:
    """``<img>`` tags whose alt, file name, class or id says they are QR codes."""
    words = reference.page_signals().qr_words
    found = []
    for tag in _IMG.finditer(page.html):
        lowered = tag.group(0).lower()
        if any(word in lowered for word in words) or "qr" in re.split(r"[^a-z]+", lowered):
            found.append(tag.group(0)[:120])
    return found


def brand_packages(paths: Iterable[InstallPath]) -> list[tuple[str, str]]:
    """``(brand id, url)`` for app files named after a brand and served from a name it does not own."""
    found = []
    for path in paths:
        if path.kind not in ("apk", "ipa"):
            continue
        stem = path.path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
        parts = [part for part in _NAME_PARTS.split(stem) if part]
        for brand in reference.brands():
            named = any(token in stem for token in brand.tokens) or any(token in parts for token in brand.exact_tokens)
            if named and not brand.owns(path.host):
                found.append((brand.id, path.url))
    return found


def _fake_app_hits(view: PageView) -> list[Hit]:
    """Hits of the fake_app scripts' groups, plus the lure pseudo-group from the other scripts."""
    compiled = compile_lexicon(reference.lexicon())
    hits = view.lexicon_hits
    found: list[Hit] = []
    for script, _ in compiled.scripts:
        if script.category == Category.FAKE_APP.value:
            found += hits[script.id]
        else:
            lure_groups = {*script.core, "promise"}
            found += [Hit("lure", hit.term, hit.start, hit.end) for hit in hits[script.id] if hit.group in lure_groups]
    return longest_first(found)


@functools.cache
def _download_words() -> tuple[Term, ...]:
    return compile_terms(reference.page_signals().download_words)


def judge(view: PageView, url: UrlParts) -> Finding | None:
    """The fake-app finding for the page, or ``None``."""
    if not url.is_ip and reference.is_allowlisted(url.host):
        return None
    paths = list(view.install_paths)
    text = view.text
    qr = qr_images(view.page) if find_terms(text, _download_words()) else []
    if qr:
        paths.append(InstallPath("qr_image", qr[0], "img"))
    hits = _fake_app_hits(view)
    groups = {hit.group for hit in hits}
    if not paths and not ("bypass" in groups and "install" in groups):
        return None
    kinds = sorted({path.kind for path in paths}, key=lambda kind: -PATH_WEIGHTS[kind])
    score = PATH_WEIGHTS[kinds[0]] + EXTRA_PATH * (len(kinds) - 1) if kinds else BYPASS_WITHOUT_PATH
    score += sum(GROUP_WEIGHTS.get(group, 0.0) for group in groups)
    branded = brand_packages(paths)
    if branded:
        score += BRAND_PACKAGE
    frame = view.warning_frame
    # A QR image seen only by its alt text is no install the page itself performs.
    factor = 1.0 if any(path.kind != "qr_image" for path in paths) else frame.factor(FRAME_DECAY)
    score = round(min(SCORE_MAX, score) * factor, 3)
    if score < MIN_SCORE:
        return None
    reasons = []
    if kinds:
        reasons.append("it offers " + ", ".join(kinds).replace("_", " ") + " installs")
    described = [group for group in ("bypass", "lure", "permissions", "install") if group in groups]
    if described:
        reasons.append("its words: " + ", ".join(described))
    if branded:
        reasons.append(f"the package is named after {branded[0][0]}, which does not serve it")
    if factor < 1.0:
        reasons.append(f"but it is framed as a warning ({', '.join(frame.terms[:3])}), so the score was lowered")
    evidence = [f"{path.kind} ({path.via}): {path.url[:100]}" for path in paths[:4]]
    evidence += [f"{hit.group} 「{hit.term}」: {text.snippet(hit.start, hit.end)}" for hit in hits[:4]]
    indicators = [(path.kind, path.url) for path in paths if path.kind != "qr_image"]
    indicators += [("brand", brand_id) for brand_id, _ in branded]
    return Finding(
        subject=view.page.final_url, detector=name, detector_version=version, category=Category.FAKE_APP.value,
        score=score, reason="Page pushes an app outside the stores: " + "; ".join(reasons) + ".",
        evidence=tuple(evidence), indicators=tuple(dict.fromkeys(indicators)),
    )


@hookimpl
def analyze_page(view: PageView, url: UrlParts) -> list[Finding]:
    """At most one finding: the page as a fraud-app download page."""
    finding = judge(view, url)
    return [finding] if finding else []
