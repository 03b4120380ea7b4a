"""APK detector: an app that presents itself as a protected bank, payment, government or anti-fraud app.

Counterfeit apps (仿冒APP) are the oldest trick of app-borne fraud: a fake
国家反诈中心 that a "police officer" tells the victim to install (and that is
really a remote-control or screen-recording tool), a fake 工银融e联 or bank app
that collects card numbers, passwords and SMS codes, a fake 云闪付 or 支付宝 in
"refund" and "unfreeze your account" scripts. China's regulators and CNCERT
publish lists of counterfeit apps every year, and the Ministry of Public
Security warns that its anti-fraud app is only distributed through the app
stores.

What it reads (all in :mod:`fraudwall.plugins.apk_signals`):

* the app's **labels**, every locale, normalised (traditional characters fold
  to simplified, so 國家反詐中心 reads 国家反诈中心; full-width letters fold):
  a label that *is* a protected brand's name or one of its app names
  (``names`` and ``apps`` in ``fraudwall/data/brands.toml``) is a strong claim;
  a label that *carries* the name of a bank, payment service or government body
  (工商银行信用卡管家) a weaker one;
* the **package name**: a distinctive brand token in it (``com.xx.icbcpay``);
* **who owns the app**: the brand's ``packages`` and ``certificates`` in
  ``brands.toml``. Package names are unique only inside an app store; a
  sideloaded APK may use any, so the certificate is the only proof (Android's
  signing model: only the holder of the key can sign an update). An app signed
  by one of the brand's certificates is never flagged, whatever its package;
  an app on the brand's own package signed by another certificate is a
  repackaged fake (the strongest finding); an app claiming the brand on a
  package the brand does not list is flagged by the package mismatch. Where the
  reference data lists neither packages nor certificates for the brand, a claim
  weighs less: the real app could not be told from the clone. The bundled data
  records packages only (no copy of the brands' signed store APKs ships with
  it); an analyst adds certificates, and packages, in brand files named by the
  ``APK_BRAND_FILES`` setting, merged over the bundled brands.

Scores (noisy-OR with the other findings; malicious >= 0.75, suspicious >= 0.40):
label is the name 0.55, carries it 0.35, package token 0.25, both label and
package +0.15, capped at 0.70 without certificate evidence; +0.20 (cap 0.92)
when the brand's certificates are known and none signs the app; 0.80 (+0.15
with a label claim) for the brand's own package under a foreign certificate;
x0.6 when the brand's owner data is unknown. So a claim alone is suspicious,
and malicious only beside another signal (a throw-away certificate, SMS
harvesting, a remote-control SDK) or certificate proof.

When no protected brand is named, a label that presents the app as an
institution of a kind fraud impersonates — a bank (China has thousands; the
reference data lists the big ones), a police bureau, court or anti-fraud
office, a social-security or tax office (``INSTITUTION_WORDS``) — is a weak
claim, 0.15, or 0.30 when the app also reads SMS or has an accessibility
service: the costume and the tools of a banking trojan. Real regional banks'
apps stay well below suspicious on it.

Category: ``police_impersonation`` for police, procuratorate, court and
anti-fraud brands and institutions (冒充公检法), ``fake_subsidy`` for social
security and tax offices, ``brand_impersonation`` for the others.
"""

from __future__ import annotations

from collections.abc import Sequence

from fraudwall import reference
from fraudwall.exceptions import ConfigError, PluginError
from fraudwall.hookspecs import hookimpl
from fraudwall.models import ApkObservation, Finding, SubjectKind
from fraudwall.plugins import apk_signals
from fraudwall.plugins.rule_files import files_digest
from fraudwall.reference import Brand
from fraudwall.settings import Settings

name = "apk_impersonation"
version = apk_signals.VERSION

#: The brands this process judges apps against: the bundled ones and the ``APK_BRAND_FILES`` (set by configure).
_brands: tuple[Brand, ...] | None = None


def judge(apk: ApkObservation, brands: Sequence[Brand] | None = None) -> list[Finding]:
    """At most one finding about the app: the protected brand it claims most strongly (``brands``: the bundled)."""
    signal = apk_signals.impersonation(apk, brands)
    return [apk_signals.to_finding(signal, apk.sha256, SubjectKind.APK, name, version)] if signal else []


@hookimpl
def configure(settings: Settings) -> str | None:
    """Read the brands (the bundled ones and the ``APK_BRAND_FILES``) and compile their names, once; the
    digest names the analyst's brand files, so that editing one re-judges stored apps on ``reanalyze``."""
    global _brands
    files = settings.getlist("APK_BRAND_FILES")
    try:
        _brands = reference.brands(files)
    except ConfigError as exc:
        raise PluginError(f"APK_BRAND_FILES: {exc}") from exc
    apk_signals.brand_apps(_brands)
    return files_digest(files) or None


@hookimpl
def analyze_apk(apk: ApkObservation) -> list[Finding]:
    """The impersonation finding about ``apk``, if it claims a protected brand it does not belong to."""
    return judge(apk, _brands)
