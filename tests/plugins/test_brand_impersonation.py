"""Unit tests for the brand_impersonation page detector: claims, not mentions."""

from __future__ import annotations

from tests.plugins.detector_helpers import MALICIOUS, SUSPICIOUS, html_doc, page_findings, verdict

from fraudwall.models import Category
from fraudwall.plugins import brand_impersonation

FOREIGN = "http://secure-check-center.com/"
LOGIN = "<form><input name=u placeholder='用户名'><input name=p type=password placeholder='登录密码'></form>"


def finding(html: str, url: str = FOREIGN, title: str = ""):
    found = page_findings(brand_impersonation, html_doc(html, title), url)
    return found[0] if found else None


def test_title_logo_and_login_form_make_a_phishing_page() -> None:
    """A page titled and branded as a bank, with a login form, on a name the bank does not own is malicious."""
    result = finding("<img src='/i/ccb_logo.png' alt='中国建设银行'><p>个人网上银行</p>" + LOGIN, title="中国建设银行个人网上银行")
    assert result is not None and result.category == Category.BRAND_IMPERSONATION.value
    assert result.score >= MALICIOUS and ("brand", "ccb") in result.indicators


def test_claims_add_up_and_a_single_claim_is_weak() -> None:
    """One claim (the title) is weak; title, logo, hotline and a form each add to it."""
    title_only = finding("<p>欢迎</p>", title="招商银行").score
    with_logo = finding("<img class='logo' src='/l.png' alt='招商银行'>", title="招商银行").score
    with_hotline = finding("<img class='logo' src='/l.png' alt='招商银行'><p>客服热线95555</p>", title="招商银行").score
    assert title_only < SUSPICIOUS and title_only < with_logo < with_hotline


def test_service_wording_is_a_claim() -> None:
    """The brand's name right beside a self-presentation word (安全中心, sign in) presents the page as the brand."""
    result = finding("<p>支付宝安全中心提醒您：账户存在风险。</p>")
    assert result is not None and "service" in result.reason
    assert finding("<h2>PayPal sign in</h2>", url="http://acct-review.info/") is not None


def test_taiwan_and_hong_kong_channel_names_are_service_wording() -> None:
    """網路銀行, 行動銀行, 網上理財 and 登入 are how Taiwan and Hong Kong banks name their channels: beside the
    bank's name they present the page as the bank, as 网上银行 does on the mainland."""
    result = finding("<p>國泰世華銀行 網路銀行</p><p>系統偵測您的帳戶存在異常登入。</p>")
    assert result is not None and "service" in result.reason
    assert finding("<h2>滙豐網上理財</h2>") is not None


def test_mentions_are_not_claims() -> None:
    """Payment methods (支持微信支付), warnings (谨防冒充工商银行) and plain mentions in text claim nothing."""
    assert finding("<p>本店支持微信支付、支付宝和银联云闪付付款。</p>") is None
    assert finding("<p>谨防冒充工商银行客服的电话。</p>") is None
    assert finding("<p>我在工商银行办了一张卡，利率还行。</p>") is None


def test_logo_walls_are_lists_not_claims() -> None:
    """A row of bank logos (payment methods) is a list: no logo or service claim for any of them."""
    logos = "".join(f"<img class='logo' src='/b/{n}.png' alt='{name}'>" for n, name in
                    [("icbc", "工商银行"), ("ccb", "建设银行"), ("abc", "农业银行"), ("cmb", "招商银行")])
    assert finding("<h3>支付方式</h3>" + logos + LOGIN) is None


def test_messaging_apps_named_as_channels_are_not_claimed() -> None:
    """"在线客服 Telegram" names the channel the page talks through, not a brand it claims to be."""
    assert finding("<p>在线客服 Telegram：@pool_service</p>") is None


def test_official_app_offered_on_a_foreign_name() -> None:
    """Offering a brand's official app for download on a name the brand does not own is a claim."""
    result = finding("<p>国家反诈中心APP 全民安装</p><a href='/fz.apk'>安卓下载</a>", url="http://gjfz-app.cn/")
    assert result is not None and "app" in result.reason and ("brand", "antifraud") in result.indicators


def test_the_brands_own_and_allowlisted_names_get_nothing() -> None:
    """On the brand's own domain, another brand's domain or an allowlisted site nothing is claimed falsely."""
    html = "<img class='logo' src='/l.png' alt='中国工商银行'>" + LOGIN
    assert finding(html, url="https://mybank.icbc.com.cn/", title="中国工商银行") is None
    assert finding(html, url="https://www.baidu.com/s", title="中国工商银行") is None


def test_a_brands_country_site_is_its_own() -> None:
    """HSBC's login on hsbc.com.sg (its official domain with Singapore's suffix) and PayPal's on paypal.com.au
    are the brands' country sites, which the brand data does not list one by one: no claim, no credential
    finding, and the whole page stays short of malicious; the same login one label away is a clone."""
    html = "<img src='/logo.svg' alt='HSBC'><h1>Log on to HSBC Online Banking</h1>" + LOGIN
    for url in ("https://www.hsbc.com.sg/security/", "https://www.paypal.com.au/signin"):
        assert finding(html, url=url, title="Log on to Online Banking | HSBC") is None
        assert verdict(html_doc(html, title="HSBC Online Banking"), url).status != "malicious"
    assert finding(html, url="https://www.hsbc-secure.com.sg/security/", title="HSBC Online Banking") is not None


def test_warning_pages_are_scaled_down_unless_they_ask_for_credentials() -> None:
    """A warning page naming the brand in its title stays low; the same words over a login form do not."""
    warning = "<p>警方提示：骗子冒充工商银行工作人员，受害人切勿轻信，谨防诈骗。</p>"
    quiet = finding(warning, title="工商银行提醒")
    acting = finding(warning + LOGIN, title="工商银行提醒")
    assert (quiet.score if quiet else 0.0) < 0.1 < acting.score
