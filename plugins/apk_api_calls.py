"""APK detector: dangerous capabilities the app's code is seen using (the full analysis only).

``apk_capabilities`` weighs what the manifest *allows*. With the full analysis
(``fraudwall analyze apk --full``), ``apk.api_calls`` lists the sensitive
framework methods the app's own code really calls, found through
cross-references rather than names in the string table; this detector reports
where a call corroborates a dangerous capability (category ``fake_app``;
weights combine by noisy-OR):

* ``SEND_SMS`` and a call of ``SmsManager.sendTextMessage`` (or its
  multipart and data forms) 0.08: the app sends SMS itself;
* SMS read or received and ``BroadcastReceiver.abortBroadcast`` 0.10: it
  can swallow the bank's message before the victim sees it;
* an accessibility service and ``AccessibilityService.dispatchGesture`` or
  ``performGlobalAction`` 0.12: the service taps, swipes and presses Back and
  Home, the way banking trojans and remote-control fraud apps drive the phone;
* a MediaProjection service and ``MediaProjectionManager.createScreenCaptureIntent``,
  ``getMediaProjection`` or ``MediaProjection.createVirtualDisplay`` 0.10;
* ``SYSTEM_ALERT_WINDOW`` and ``WindowManager.addView`` with an overlay
  window type 0.05;
* ``REQUEST_INSTALL_PACKAGES`` and dynamic code loading (``DexClassLoader``,
  ``PathClassLoader``, ``InMemoryDexClassLoader``...) 0.12: the dropper's pair;
* ``REQUEST_INSTALL_PACKAGES``, an APK carried inside, and code that installs
  packages (``PackageInstaller`` sessions, an install intent) 0.08;
* a device-admin receiver and ``DevicePolicyManager.lockNow``,
  ``resetPassword`` or ``wipeData`` 0.10.

The total is capped at 0.25, so that with ``apk_capabilities`` at its own cap
(0.65) the two stay under malicious (0.7375): calls confirm capabilities,
they are not a second, independent concept; they do lift a suspicious app
with other signals (impersonation, a throw-away certificate) further.
Calls without the matching capability (a weather app calling
``LocationManager.requestLocationUpdates``, any app calling
``ContentResolver.query``) give nothing, and so does an observation without
the full analysis (``api_calls`` empty): judging stays as it was.
"""

from __future__ import annotations

from fraudwall.hookspecs import hookimpl
from fraudwall.models import ApkObservation, Finding, SubjectKind
from fraudwall.plugins import apk_signals

name = "apk_api_calls"
version = apk_signals.VERSION


def judge(apk: ApkObservation) -> list[Finding]:
    """At most one finding about the app: the capabilities its code is seen using."""
    signal = apk_signals.code_corroboration(apk)
    return [apk_signals.to_finding(signal, apk.sha256, SubjectKind.APK, name, version)] if signal else []


@hookimpl
def analyze_apk(apk: ApkObservation) -> list[Finding]:
    """The code-corroboration finding about ``apk``."""
    return judge(apk)
