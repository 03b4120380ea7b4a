"""APK detector: web-to-APK shells around a remote site, and the site's host as a subject to block.

Most fraud "platforms" (investment, USDT, task and rebate, loans) are web
sites; their "app" is the same site in a shell built with an app-packaging
template — DCloud HBuilder/uni-app, APICloud, GoNative/Median, Cordova — by
one of the packaging services (封装/打包) that advertise to them. The shell
costs nothing, passes as an app to the victim, and points at a remote start
page that the gang can move to a fresh domain whenever one is blocked. The
observation marks the shell in ``apk.shells`` as (framework, evidence), the
evidence carrying the start URL when it is remote.

What it reports:

* about the **APK** (category ``fake_app``, or the category of the fraud words
  found): a shell whose start page is a remote site on a name fraudwall does
  not vouch for (no brand's, allowlisted or shared-platform apex) 0.40, so
  suspicious; named with a fraud script's words in its label (USDT, 理财,
  刷单, 返利, 客服, 贷款, 公安... see ``LABEL_FRAUD_WORDS``) 0.80, malicious;
  with such words only in its package +0.15. A shell of bundled pages only
  counts when its label carries fraud words (0.30). Beside an impersonation
  finding the noisy-OR makes a remote shell malicious too.
* about each remote **start host** (``host``, or ``ip`` for an address): the
  same score and category, so the site reaches the blocklists on the app's
  evidence. A tenant of a shared platform (``x.vercel.app``) is reported by its
  own name, never the platform's.
"""

from __future__ import annotations

from fraudwall.hookspecs import hookimpl
from fraudwall.models import ApkObservation, Finding, SubjectKind
from fraudwall.plugins import apk_signals

name = "apk_shells"
version = apk_signals.VERSION


def judge(apk: ApkObservation) -> list[Finding]:
    """The shell finding about the app, and one about each remote start host."""
    signal, starts = apk_signals.web_shell(apk)
    if signal is None:
        return []
    findings = [apk_signals.to_finding(signal, apk.sha256, SubjectKind.APK, name, version)]
    for start in starts:
        findings.append(apk_signals.to_finding(
            signal, start.host, SubjectKind.IP if start.is_ip else SubjectKind.HOST, name, version,
            reason=f"Start page of the {start.framework} web shell APK {apk.sha256[:16]}…: {signal.reason}",
            indicators=(("apk", apk.sha256), ("url", start.url)),
        ))
    return findings


@hookimpl
def analyze_apk(apk: ApkObservation) -> list[Finding]:
    """The shell findings about ``apk`` and its remote start hosts."""
    return judge(apk)
