"""APK detector: remote control and screen sharing dressed as a meeting, customer-service or anti-fraud app.

The fake customer-service script (虚假客服: refunds, "cancel the student loan",
"your insurance will be charged") and the fake police script end the same way:
the victim is told to install a "meeting" app and share the screen, so the
scammer sees card numbers, passwords and the SMS codes as they arrive. Police
warnings have made 腾讯会议 and Zoom screen sharing notorious; the gangs now
ship their own APKs, named 会议, 在线客服, 安全防护 or 国家反诈, built on
remote-desktop and real-time video SDKs (the observation's ``apk.sdks`` marks).

Scores (category ``customer_service``; cap 0.60, so never malicious alone):

* a remote-control SDK (TeamViewer, AnyDesk, RustDesk, Sunlogin/向日葵, ToDesk,
  AirDroid, VNC...) 0.20; a screen-sharing or RTC SDK (Agora, ZEGO, TRTC,
  WebRTC, Jitsi...) 0.10, since honest chat and dating apps carry them;
* with an accessibility service or an overlay: +0.15 (remote) / +0.10 (screen);
* with a lure label (会议, meeting, 客服, 远程协助, 反诈, 安全中心, 公安...): +0.25;
* no SDK, but a lure label with an accessibility service and screen capture or
  an overlay (a home-made remote control): 0.20; with both screen capture and
  an overlay (the whole kit) 0.35.

Apps on a package of a protected brand (``brands.toml``: 腾讯会议 is
``com.tencent.*``, DingTalk ``com.alibaba.*``, Feishu ``com.ss.android.*``) or
of a remote-support vendor (Zoom, TeamViewer, AnyDesk, Oray, RustDesk, AirDroid,
Splashtop) get no finding: package names can be forged off-store, but a
forgery is then caught by the certificate and impersonation checks, not here.
"""

from __future__ import annotations

from fraudwall.hookspecs import hookimpl
from fraudwall.models import ApkObservation, Finding, SubjectKind
from fraudwall.plugins import apk_signals

name = "apk_remote_control"
version = apk_signals.VERSION


def judge(apk: ApkObservation) -> list[Finding]:
    """At most one finding about the app: remote control or screen sharing, and how it is dressed."""
    signal = apk_signals.remote_control(apk)
    return [apk_signals.to_finding(signal, apk.sha256, SubjectKind.APK, name, version)] if signal else []


@hookimpl
def analyze_apk(apk: ApkObservation) -> list[Finding]:
    """The remote-control finding about ``apk``."""
    return judge(apk)
