"""APK detector: dangerous combinations of capabilities, and the loan-app profile.

An app's manifest says what it may do. One alarming permission means little
(SMS backup apps read SMS, launchers draw overlays, password managers use
accessibility), so this detector scores **combinations**, by how many and
which, and keeps the total below "malicious" on its own (0.65 at most):
capabilities corroborate impersonation, a throw-away certificate, a web shell
or a remote-control SDK; they do not convict an app alone.

**Dangerous combinations** (category ``fake_app``; weights combine by noisy-OR,
+0.10 when three or more of weight >= 0.10 come together):

* SMS read/receive 0.10; with contacts *or* call log 0.25; with both 0.35;
  sending SMS +0.05. The SMS stealer's harvest: bank verification codes and the
  victim's social graph (and the fake-loan app's, below);
* an ``SMS_RECEIVED`` receiver at priority 999 or more, 0.15: first to read the
  bank's message, and able to abort the broadcast so the victim never sees it;
* an accessibility service 0.10, with ``SYSTEM_ALERT_WINDOW`` 0.35: reading and
  driving the screen under an overlay, the pair banking trojans (Anatsa,
  SpyNote) and Chinese remote-control fraud apps use to empty accounts while
  showing a fake "processing" screen; an overlay alone 0.05;
* screen capture (a ``mediaProjection`` foreground service, or
  ``FOREGROUND_SERVICE_MEDIA_PROJECTION``) 0.05, with an overlay 0.25: fake
  customer-service scripts record the screen while the victim types passwords
  and codes;
* ``REQUEST_INSTALL_PACKAGES`` 0.10, an APK carried inside (``apk.nested``)
  0.10, both 0.40: the dropper that installs the real fraud app as an
  "update" (each nested APK is judged on its own observation);
* a device-admin receiver 0.15 (cannot be uninstalled, can lock the phone);
* default-SMS-app components 0.10, in-call or call-redirection components
  0.15 (voice-phishing malware such as FakeCalls and Letscall takes over the
  dialler and reroutes calls to the bank's hotline to the fraudsters), a
  notification listener 0.05 (reads codes from notifications).

**Loan-app profile** (category ``loan``): illegal online lenders make their
apps collect contacts, call logs, SMS, location and camera, then shame and
harass borrowers and their contacts (暴力催收); regulators in China and India
have ordered such apps removed, and Google Play's personal-loan policy forbids
loan apps access to contacts and call logs. The profile needs loan words in the
label (贷款, 借款, 额度, the one-character names 闪电借, 快易贷) or in the
package (daikuan, jiekuan, loan: the loan theme of ``domain_words.toml``):
four or five of the five groups 0.55; three, or contacts with call log, 0.40;
contacts alone 0.25.
"""

from __future__ import annotations

from fraudwall.hookspecs import hookimpl
from fraudwall.models import ApkObservation, Finding, SubjectKind
from fraudwall.plugins import apk_signals

name = "apk_capabilities"
version = apk_signals.VERSION


def judge(apk: ApkObservation) -> list[Finding]:
    """Up to two findings about the app: its dangerous combinations (``fake_app``) and its loan profile (``loan``)."""
    signals = (apk_signals.dangerous_capabilities(apk), apk_signals.loan_profile(apk))
    return [apk_signals.to_finding(signal, apk.sha256, SubjectKind.APK, name, version)
            for signal in signals if signal is not None]


@hookimpl
def analyze_apk(apk: ApkObservation) -> list[Finding]:
    """The capability findings about ``apk``."""
    return judge(apk)
