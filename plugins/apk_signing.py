"""APK detector: how the app is signed and packaged — weak signals that corroborate the others.

Fraud apps are produced in bulk by packaging services and short-lived
developers, and it shows in their signatures: the public Android debug key
(anyone can sign with it; no store accepts it), the public AOSP test keys,
certificates made in seconds with a one-letter or placeholder name (CN=a,
CN=test) and no organisation, validity periods that start in 1970, after the
app was seen, or run for centuries. Some are unsigned or no longer verify
(changed after signing); some carry zip-level tricks that break analysis tools
while Android still installs them (malformed headers, bogus compression
methods, data smuggled between the central directory and its end: the
"BadPack" technique reported in 2024). Packers (360 Jiagu, Bangcle, iJiami,
Legu, SecNeo) hide code from analysts — but Chinese banks pack their apps too.

None of this is fraud on its own, so the finding (category ``fake_app``) is
capped at 0.35, below "suspicious", whatever it finds: debug or public test key
0.20; a throw-away certificate 0.08/0.12/0.15 for one/two/three or more marks
(a one- or two-letter or placeholder name, one lowercase word for both person
and organisation, absurd dates; a missing organisation only counts beside
another mark); unsigned 0.15; no signature verifies 0.25, some do not 0.15;
newer schemes stripped 0.15; a packer 0.05; zip tricks 0.20 (+0.05 each
further, up to 0.30); members named to escape the app's folder or to exhaust
the unpacker 0.30; combined by noisy-OR. The one exception is **Janus**
(CVE-2017-13156): a DEX put before a v1-signed zip runs code the signature
does not cover, which no honest app does, so it scores 0.75 (cap 0.90) on its
own. ``apk.tamper`` messages are read by their words (``TAMPER_KINDS``);
nested APKs and unverified signatures are left to the fields that carry them.
Dates are compared with the observation's ``observed_at``, never the clock, so
re-analysis gives the same answer.
"""

from __future__ import annotations

from fraudwall.hookspecs import hookimpl
from fraudwall.models import ApkObservation, Finding, SubjectKind
from fraudwall.plugins import apk_signals

name = "apk_signing"
version = apk_signals.VERSION


def judge(apk: ApkObservation) -> list[Finding]:
    """At most one finding about the app: what its signature and packaging give away."""
    signal = apk_signals.signing(apk)
    return [apk_signals.to_finding(signal, apk.sha256, SubjectKind.APK, name, version)] if signal else []


@hookimpl
def analyze_apk(apk: ApkObservation) -> list[Finding]:
    """The signing finding about ``apk``."""
    return judge(apk)
