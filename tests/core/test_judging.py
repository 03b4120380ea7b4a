"""The one judging road: every kind of evidence through judge(), each to its hooks and its kind of subject."""

from __future__ import annotations

from pathlib import Path

import pytest

from fraudwall import Finding, hookimpl
from fraudwall.exceptions import InvalidName
from fraudwall.judging import judge
from fraudwall.models import (
    ApkObservation, DnsObservation, DnsRecord, SubjectKind, Target, VerdictStatus,
)
from fraudwall.names import parse_url
from fraudwall.page_view import PageView
from fraudwall.pages import parse_page
from fraudwall.plugin_host import PluginHost
from fraudwall.settings import Settings


class _EveryHook:
    """A plugin with one finding per hook, so each call shows which hooks ran."""

    name = "every_hook"
    version = "2"

    @hookimpl
    def analyze_url(self, url):  # type: ignore[no-untyped-def]
        return [Finding(url.host, self.name, self.version, "suspicious_url", 0.3, "url hook")]

    @hookimpl
    def analyze_page(self, page):  # type: ignore[no-untyped-def]
        return [Finding(page.final_url, self.name, self.version, "loan", 0.6, "page hook")]

    @hookimpl
    def analyze_dns(self, dns):  # type: ignore[no-untyped-def]
        return [Finding(dns.name, self.name, self.version, "suspicious_url", 0.5, "dns hook")]

    @hookimpl
    def analyze_apk(self, apk):  # type: ignore[no-untyped-def]
        return [Finding(apk.sha256, self.name, self.version, "fake_app", 0.9, "apk hook",
                        subject_kind=SubjectKind.APK)]


@pytest.fixture
def host() -> PluginHost:
    """A host with only the test plugin, so its findings are the whole story."""
    plugin_host = PluginHost(Settings())
    plugin_host.register(_EveryHook(), origin="test")
    return plugin_host


def test_page_runs_url_then_page_hooks_and_is_judged_by_its_url(host: PluginHost) -> None:
    """A page's verdict is about its final URL (kind url), from the URL hook on its host and the page hook."""
    judgement = judge(host, parse_page("http://daikuan.top/a", b"<p>x</p>"))
    assert [f.reason for f in judgement.findings] == ["url hook", "page hook"]
    assert judgement.verdict.subject == "http://daikuan.top/a" and judgement.verdict.subject_kind is SubjectKind.URL
    assert judgement.host == "daikuan.top" and judgement.plugins == (("every_hook", "2"),)
    assert [f.subject_kind for f in judgement.findings] == [SubjectKind.HOST, SubjectKind.URL]


def test_name_dns_and_apk_each_take_their_hook(host: PluginHost) -> None:
    """A name is judged by analyze_url alone, a DNS answer by analyze_url (its name) then analyze_dns, an APK by
    analyze_apk, each as its kind."""
    name = judge(host, parse_url("http://kefu.top/"))
    dns = judge(host, DnsObservation("KeFu.top.", "NOERROR", (DnsRecord("A", "203.0.113.9", 30),)))
    apk = judge(host, ApkObservation("cd" * 32, 1000, package="com.fake"))
    assert [f.reason for f in name.findings] == ["url hook"] and name.verdict.subject_kind is SubjectKind.HOST
    assert [f.reason for f in dns.findings] == ["url hook", "dns hook"]
    assert dns.verdict.subject == dns.host == "kefu.top" and dns.verdict.subject_kind is SubjectKind.HOST
    assert apk.verdict.subject == "cd" * 32 and apk.verdict.subject_kind is SubjectKind.APK and apk.host == ""
    assert apk.verdict.status is VerdictStatus.MALICIOUS and not apk.verdict.subject_kind.blocklistable
    address = judge(host, parse_url("http://203.0.113.7/x"))
    assert address.verdict.subject_kind is SubjectKind.IP


def test_only_restricts_and_kept_findings_count(host: PluginHost) -> None:
    """only= runs the named plugins alone; kept findings join the verdict but are not this run's findings."""
    page = parse_page("http://daikuan.top/a", b"<p>x</p>")
    kept = [Finding("http://daikuan.top/a", "other", "1", "loan", 0.9, "stored earlier")]
    nothing = judge(host, page, only=set(), kept=kept, observation_id=7)
    assert nothing.findings == () and nothing.plugins == () and nothing.observation_id == 7
    assert nothing.verdict.findings == tuple(kept) and nothing.verdict.status is VerdictStatus.MALICIOUS


class _ViewReader:
    """A page plugin that declares ``view`` and keeps every view it is given."""

    version = "1"

    def __init__(self, name: str) -> None:
        self.name = name
        self.views: list[PageView] = []

    @hookimpl
    def analyze_page(self, page, view):  # type: ignore[no-untyped-def]
        self.views.append(view)
        return [Finding(page.final_url, self.name, self.version, "loan", 0.1, f"read {view.text.flat}")]


def test_page_hooks_share_one_view_built_once_per_page() -> None:
    """judge() builds one PageView per page and hands that same view to every page hook that declares it.

    What one detector read of it (the normalised text) is there for the next; the next page gets a new view.
    Hooks that do not declare ``view``, like third-party plugins written before it, run as before.
    """
    first, second = _ViewReader("first"), _ViewReader("second")
    host = PluginHost(Settings())
    for plugin in (first, second, _EveryHook()):
        host.register(plugin, origin="test")
    page, other = parse_page("http://daikuan.top/a", b"<p>A</p>"), parse_page("http://daikuan.top/b", b"<p>B</p>")
    judgement = judge(host, page)
    judge(host, other, only={"second"})
    assert first.views[0] is second.views[0] and first.views[0].page is page
    assert second.views[1].page is other and second.views[1] is not second.views[0] and len(first.views) == 1
    assert [f.reason for f in judgement.findings] == ["url hook", "read a", "read a", "page hook"]


def test_unusable_evidence_is_a_rejection(host: PluginHost) -> None:
    """A page whose URL is no usable name raises InvalidName (a counted rejection); a non-observation is a TypeError."""
    with pytest.raises(InvalidName):
        judge(host, parse_page("http://bad..name/", b""))
    with pytest.raises(TypeError, match="takes an observation"):
        judge(host, Target("http://a.top/"))  # type: ignore[arg-type]


def test_subject_kind_is_read_from_the_subject_unless_given() -> None:
    """Findings without a kind read as url, ip or host; an APK finding names its kind, and it survives pickling."""
    import pickle

    assert Finding("https://a.top/x", "d", "1", "loan", 0.1, "r").subject_kind is SubjectKind.URL
    assert Finding("2001:db8::1", "d", "1", "loan", 0.1, "r").subject_kind is SubjectKind.IP
    assert Finding("a.top", "d", "1", "loan", 0.1, "r").subject_kind is SubjectKind.HOST
    apk = Finding("ab" * 32, "d", "1", "fake_app", 0.1, "r", subject_kind="apk")  # type: ignore[arg-type]
    assert apk.subject_kind is SubjectKind.APK and pickle.loads(pickle.dumps(apk)) == apk
    assert {kind.value for kind in SubjectKind if kind.blocklistable} == {"url", "host", "ip"}


def test_tutorial_style_plugin_file_gets_every_kind(tmp_path: Path) -> None:
    """A plugin file loaded like --plugin answers analyze_dns through judge() like any built-in hook."""
    plugin = tmp_path / "p.py"
    plugin.write_text(
        "from fraudwall import Finding, hookimpl\nname = 'p'\nversion = '1'\n"
        "@hookimpl\ndef analyze_dns(dns):\n    return [Finding(dns.name, name, version, 'loan', 0.2, 'seen')]\n")
    plugin_host = PluginHost(Settings())
    plugin_host.load_file(plugin)
    assert [f.reason for f in judge(plugin_host, DnsObservation("a.top", "NXDOMAIN")).findings] == ["seen"]


class _ApkWithEmbedded:
    """An APK plugin reporting the app, its C2 host, its signer and a wallet it carries, and reading the archive."""

    name = "embedded"
    version = "1"

    def __init__(self) -> None:
        self.archives: list[bytes] = []

    @hookimpl
    def analyze_apk(self, apk, archive):  # type: ignore[no-untyped-def]
        self.archives.append(archive)
        return [
            Finding(apk.sha256, self.name, self.version, "fake_app", 0.8, "app", subject_kind=SubjectKind.APK),
            Finding("c2.loan-fast.top", self.name, self.version, "fake_app", 0.8, "its C2 host",
                    subject_kind=SubjectKind.HOST),
            Finding("TRTPLGm13bggWoHH36hTyd9JMBd49NqaVD", self.name, self.version, "investment", 0.3, "wallet",
                    subject_kind=SubjectKind.WALLET),
        ]


def test_findings_about_other_subjects_are_judged_on_their_own() -> None:
    """An APK's verdict counts only findings about the APK; its embedded host and wallet each get a verdict of
    their own from their own findings, kinds kept, so the host can be blocked while the hash is only intel."""
    plugin = _ApkWithEmbedded()
    plugin_host = PluginHost(Settings())
    plugin_host.register(plugin, origin="test")
    judgement = judge(plugin_host, ApkObservation("cd" * 32, 1000), archive=b"PK\x05\x06")
    assert judgement.verdict.subject == "cd" * 32 and judgement.verdict.score == 0.8
    assert [f.reason for f in judgement.verdict.findings] == ["app"]
    related = {v.subject: (v.subject_kind, v.status, [f.reason for f in v.findings]) for v in judgement.related}
    assert related == {
        "c2.loan-fast.top": (SubjectKind.HOST, VerdictStatus.MALICIOUS, ["its C2 host"]),
        "TRTPLGm13bggWoHH36hTyd9JMBd49NqaVD": (SubjectKind.WALLET, VerdictStatus.BENIGN, ["wallet"]),
    }
    assert len(judgement.findings) == 3 and plugin.archives == [b"PK\x05\x06"]


def test_a_page_still_counts_findings_about_its_host() -> None:
    """A page's URL hook files under the page's host: that is the page's own name, so it counts towards the page."""
    plugin_host = PluginHost(Settings())
    plugin_host.register(_EveryHook(), origin="test")
    judgement = judge(plugin_host, parse_page("http://daikuan.top/a", b"<p>x</p>"))
    assert judgement.related == () and len(judgement.verdict.findings) == 2


def test_an_apk_carrying_a_fraud_app_is_judged_by_it() -> None:
    """A carrier gets the core's apk_carrier finding at the score of the worst APK inside it; a verdict on an APK
    that is not inside it, or a benign one, adds nothing."""
    inner = ApkObservation("11" * 32, 10)
    bad = judge(PluginHost(Settings()), inner).verdict.__class__(
        "11" * 32, 0.9, VerdictStatus.MALICIOUS, ("fake_app",), subject_kind=SubjectKind.APK)
    carrier = ApkObservation("22" * 32, 20, nested=("11" * 32,))
    judged = judge(PluginHost(Settings()), carrier, carried=[bad])
    assert judged.verdict.status is VerdictStatus.MALICIOUS and judged.verdict.score == 0.9
    [finding] = judged.findings
    assert (finding.detector, finding.category, finding.subject_kind) == ("apk_carrier", "fake_app", SubjectKind.APK)
    stranger = ApkObservation("33" * 32, 30)
    assert judge(PluginHost(Settings()), stranger, carried=[bad]).findings == ()
    benign = bad.__class__("11" * 32, 0.1, VerdictStatus.BENIGN, subject_kind=SubjectKind.APK)
    assert judge(PluginHost(Settings()), carrier, carried=[benign]).findings == ()


class _LandingPage:
    """Judges the page at https://landing-usdt.top malicious (0.9) and any other page benign."""

    name = "landing"
    version = "1"

    @hookimpl
    def analyze_page(self, page):  # type: ignore[no-untyped-def]
        if "landing-usdt.top" in page.final_url:
            return [Finding(page.final_url, self.name, self.version, "investment", 0.9, "the scam")]
        return []


def _reached_through(chain: list[str], final: str = "https://landing-usdt.top/") -> dict[str, tuple[str, float]]:
    plugin_host = PluginHost(Settings())
    plugin_host.register(_LandingPage(), origin="test")
    judgement = judge(plugin_host, parse_page(chain[0] if chain else final, b"<p>USDT</p>", final_url=final,
                                              redirect_chain=chain))
    return {verdict.subject: (verdict.status, verdict.score) for verdict in judgement.related}


def test_the_entries_a_malicious_page_was_reached_through_share_its_verdict() -> None:
    """Each URL of the chain on another registered domain (a campaign's entry names, a short link) gets the core's
    redirect_entry finding at the page's score, judged into a verdict of its own; the landing site's own hops (http
    to https, www), an open redirect that names its target, and an allowlisted name get none; a benign page hands
    nothing on."""
    related = _reached_through([
        "http://entry-7731.top/", "http://t.cn/A6x", "http://www.baidu.com/link?url=https%3A%2F%2Flanding-usdt.top%2F",
        "http://news-portal.top/go?u=https://landing-usdt.top/", "http://landing-usdt.top/", "https://www.landing-usdt.top/",
    ])
    assert related == {
        "http://entry-7731.top/": (VerdictStatus.MALICIOUS, 0.9),
        "http://t.cn/A6x": (VerdictStatus.MALICIOUS, 0.9),
    }
    assert _reached_through(["http://entry-7731.top/"], final="https://benign-shop.top/") == {}
    assert _reached_through([]) == {}


def test_an_entry_finding_names_the_page_and_its_chain() -> None:
    """The finding says where the entry leads and shows the chain, and is about the entry URL (kind url)."""
    plugin_host = PluginHost(Settings())
    plugin_host.register(_LandingPage(), origin="test")
    judgement = judge(plugin_host, parse_page("http://entry-7731.top/", b"<p>USDT</p>",
                                              final_url="https://landing-usdt.top/",
                                              redirect_chain=["http://entry-7731.top/"]))
    [entry] = [finding for finding in judgement.findings if finding.detector == "redirect_entry"]
    assert entry.subject == "http://entry-7731.top/" and entry.subject_kind is SubjectKind.URL
    assert entry.category == "investment" and "landing-usdt.top" in entry.reason
    assert entry.evidence == ("redirect chain: http://entry-7731.top/ -> https://landing-usdt.top/",)
    assert judgement.verdict.subject == "https://landing-usdt.top/" and judgement.verdict.score == 0.9


class _SeesTheUrl:
    """Records the URL each URL hook is given."""

    name = "sees_the_url"
    version = "1"
    seen: list[str] = []

    @hookimpl
    def analyze_url(self, url):  # type: ignore[no-untyped-def]
        self.seen.append(url.url)
        return []


def test_a_page_fetched_without_its_links_user_name_is_judged_as_linked() -> None:
    """The crawler fetches http://www.icbc.com.cn@pay-verify.top/ without the user name and records the link as the
    page's first hop: the URL hooks get the URL as linked (they can see the bank's name before the '@'), the
    verdict is about the final URL. A page that only redirected elsewhere gets its final URL."""
    plugin = _SeesTheUrl()
    plugin.seen = []
    plugin_host = PluginHost(Settings())
    plugin_host.register(plugin, origin="test")
    linked = "http://www.icbc.com.cn@pay-verify.top/login"
    judged = judge(plugin_host, parse_page(linked, b"<p>x</p>", final_url="http://pay-verify.top/login",
                                           redirect_chain=[linked]))
    judge(plugin_host, parse_page(linked, b"<p>x</p>", final_url="http://pay-verify.top/other",
                                  redirect_chain=[linked]))
    assert plugin.seen == [linked, "http://pay-verify.top/other"]
    assert judged.verdict.subject == "http://pay-verify.top/login"
