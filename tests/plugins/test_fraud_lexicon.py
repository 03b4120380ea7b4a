"""Unit tests for the fraud_lexicon page detector."""

from __future__ import annotations

import pytest
from tests.plugins.detector_helpers import (
    MALICIOUS,
    SUSPICIOUS,
    html_doc,
    lexicon_findings,
    noisy_or,
    page_of,
)
from fraudwall.plugins import fraud_lexicon
from fraudwall.plugins.fraud_lexicon import Term, normalize

from fraudwall.models import Category, Finding
from fraudwall.names import parse_url


def by_category(findings: list[Finding]) -> dict[str, Finding]:
    return {finding.category: finding for finding in findings}


# -- normalisation -----------------------------------------------------------------


def test_normalize_folds_full_width_and_case() -> None:
    """NFKC turns full-width letters and digits into ASCII; everything is lowercased."""
    assert normalize("ＵＳＤＴ ＱＱ：１２３４５").flat == "usdt qq:12345"


def test_normalize_joins_spaced_and_punctuated_chinese() -> None:
    """Spaces, dots and symbols between Chinese characters disappear; zero-width characters too."""
    assert normalize("刷 单·返\u200b利").flat == "刷单返利"
    assert normalize("日 赚 ５００ 元").flat == "日赚500元"
    assert normalize("下载 APP").flat == "下载app"


def test_normalize_keeps_latin_word_spacing() -> None:
    """Spaces between Latin words stay, so English terms keep their word boundaries."""
    assert normalize("Like  and\nFollow").flat == "like and follow"


def test_snippet_maps_back_to_readable_text() -> None:
    """Evidence snippets come from the readable text, with the spacing the page used."""
    text = normalize("欢迎来到本站 刷 单 返 利 立即加入")
    start = text.flat.index("刷单")
    assert "刷 单" in text.snippet(start, start + 2)


def test_latin_terms_match_whole_words_with_plurals() -> None:
    """'task' matches 'tasks' but not 'multitask'; Chinese terms match anywhere."""
    term = Term.compile("task")
    assert list(term.spans(normalize("daily tasks here")))
    assert not list(term.spans(normalize("multitasking")))
    assert list(Term.compile("刷单").spans(normalize("在家刷单赚钱")))


def test_script_strings_decode_escapes() -> None:
    """Inline script string literals are searched, with \\u escapes decoded and tags dropped."""
    strings = fraud_lexicon.script_strings(['var a = "\\u5237\\u5355"; el.innerHTML = \'<b>返利</b>\';', "https://cdn.example/app.js"])
    assert "刷单" in strings and " 返利 " in strings


# -- co-occurrence ---------------------------------------------------------------


def test_single_group_is_not_enough() -> None:
    """Many words from one group alone never make a finding: no single word (or kind of word) decides."""
    html = html_doc("<p>刷单 做单 抢单 派单 连单 卡单 补单</p>")
    assert lexicon_findings(html) == []


def test_core_group_is_required() -> None:
    """Promise and payment words without the script's core mechanism are ordinary (a cashback site)."""
    html = html_doc("<p>返利 佣金 日结 在家兼职。提现 充值 会员等级</p>")
    assert "task_rebate" not in by_category(lexicon_findings(html))


def test_two_groups_stay_below_suspicious() -> None:
    """Two groups and nothing else is a weak hint, below the suspicious threshold."""
    finding = by_category(lexicon_findings(html_doc("<p>兼职刷单，日结佣金。</p>")))["task_rebate"]
    assert 0 < finding.score < SUSPICIOUS


def test_score_grows_with_groups_and_terms() -> None:
    """More distinct groups and terms give a higher score."""
    two = html_doc("<p>兼职刷单，日结佣金。</p>")
    three = html_doc("<p>兼职刷单，日结佣金。先垫付，本金返还。</p>")
    four = html_doc("<p>兼职刷单，日结佣金，动动手指。先垫付，本金返还，操作失误账户冻结。联系接待员。</p>")
    scores = [by_category(lexicon_findings(html))["task_rebate"].score for html in (two, three, four)]
    assert scores == sorted(scores) and scores[0] < scores[1] < scores[2]


def test_overlapping_terms_count_once() -> None:
    """The phrase 刷单返利 is one mechanism term, not also a promise (返利) and a second mechanism (刷单)."""
    assert "task_rebate" not in by_category(lexicon_findings(html_doc("<p>刷单返利</p>")))


def test_calls_to_action_raise_the_score() -> None:
    """Contact IDs, credential forms and download links push a matched script higher."""
    words = "<p>兼职刷单，日结佣金。</p>"
    plain = by_category(lexicon_findings(html_doc(words)))["task_rebate"].score
    acting = html_doc(words + "<p>接待员QQ：2987361540</p><form><label for=c>银行卡号</label><input id=c name=card></form>")
    assert by_category(lexicon_findings(acting))["task_rebate"].score > plain


def test_negated_terms_do_not_count() -> None:
    """A term denied in its clause ("我们不会收取解冻费") is not evidence of the script."""
    html = html_doc("<p>无视征信，黑户可贷。本平台不会以任何名义收取解冻费、保证金。</p>")
    assert "loan" not in by_category(lexicon_findings(html))


# -- the five scripts, in Chinese and English ----------------------------------------

SCRIPT_PAGES = {
    ('task_rebate', 'zh'): (
        '<p>招募点赞员，动动手指日赚300，一单一结。福利任务需先垫付，本金加佣金立即返还，连单未完成账户冻结。'
        '联系接待员 微信 xt-task888</p>'
    ),
    ('task_rebate', 'en'): (
        '<p>Work from home, earn daily,'
        ' high commission! Grab orders in the task hall;'
        ' a combination order may give a negative balance &ndash;'
        ' recharge to complete the set.'
        ' Your mentor on Telegram @boost_mentor</p>'
    ),
    ('investment', 'zh'): (
        '<p>导师带单，稳赚不赔，日收益5%。USDT 量化交易，名额有限，充值最低100U，提现需缴纳个人所得税。'
        '加导师微信 licai-teacher8</p>'
    ),
    ('investment', 'en'): (
        '<p>Guaranteed returns, 4% daily profit, zero risk.'
        ' Our AI trading bot trades crypto with USDT. Minimum deposit $200,'
        ' limited slots; pay the tax before withdrawal.'
        ' Professor Lee on Telegram @prof_lee_signals</p>'
    ),
    ('loan', 'zh'): (
        '<p>无视征信 黑户可贷 秒到账。您的银行卡号填写错误，资金已冻结，请缴纳解冻费，转账至放款专员指定账户。QQ 3390172251</p>'
    ),
    ('loan', 'en'): (
        '<p>No credit check, guaranteed approval, instant cash.'
        ' Your account is frozen: pay the unfreezing fee and an insurance fee before disbursement.'
        ' Send payment by gift card to your loan officer,'
        ' WhatsApp +1 302 555 0147</p>'
    ),
    ('customer_service', 'zh'): (
        '<p>快递丢失双倍赔偿，理赔专员为您办理退款。请下载腾讯会议开启屏幕共享，否则将影响征信。官方客服QQ 1931448820</p>'
    ),
    ('customer_service', 'en'): (
        '<p>Your account will be charged $499 for auto-renewal. For a refund,'
        ' our refund department needs you to install AnyDesk and share your screen,'
        ' or your credit score will be affected.'
        ' Technical support: Telegram @refund_help_desk</p>'
    ),
    ('police_impersonation', 'zh'): (
        '<p>最高人民检察院通知：您的身份证涉嫌洗钱，已签发通缉令。请配合调查，严格保密，不得告诉家人，立即将名下资金转入安全账户接受资金清查。'
        '办案警官微信 jcy-wang110</p>'
    ),
    ('police_impersonation', 'en'): (
        '<p>Ministry of Public Security: your identity was used in a money laundering case and an arrest warrant was issued.'
        ' Do not tell anyone.'
        ' Transfer your funds to the safe account for asset verification within 24 hours,'
        ' or you will be arrested.'
        ' Police officer Telegram @officer_chen_mps</p>'
    ),
}


@pytest.mark.parametrize(("category", "language"), sorted(SCRIPT_PAGES))
def test_each_script_is_recognised(category: str, language: str) -> None:
    """Every script is found in both languages with a malicious score from the page alone."""
    findings = by_category(lexicon_findings(html_doc(SCRIPT_PAGES[(category, language)])))
    assert category in findings, findings
    assert findings[category].score >= MALICIOUS


def test_traditional_chinese_is_recognised() -> None:
    """Traditional-character pages match the traditional spellings in the lexicon."""
    html = html_doc("<p>跟隨帶單老師，穩賺不賠，零風險。入金USDT，出金需繳納個人所得稅。</p>")
    assert by_category(lexicon_findings(html))["investment"].score >= SUSPICIOUS


def test_full_width_and_spaced_evasion_is_caught() -> None:
    """Spacing, dots, zero-width characters and full-width digits do not hide a script."""
    html = html_doc("<p>刷&#8203;单 返·利｜日 赚 ５００</p><p>做·任·务 先·垫·付，本·金 返 还</p><p>接·待·员 ｑｑ：３３８７６５４２１０</p>")
    finding = by_category(lexicon_findings(html))["task_rebate"]
    assert finding.score >= MALICIOUS
    assert ("qq", "3387654210") in finding.indicators


def test_text_hidden_in_scripts_and_alts_is_searched() -> None:
    """Script string literals and image alt texts are part of what is searched."""
    html = html_doc(
        '<img src="a.png" alt="导师带单 稳赚不赔"><script>var t = "\\u0055\\u0053\\u0044\\u0054 \\u5145\\u503c";</script>'
    )
    assert "investment" in by_category(lexicon_findings(html))


# -- warning frame ------------------------------------------------------------------

WARNING = (
    "<h1>警方提示：谨防刷单返利诈骗</h1><p>骗子以“动动手指日赚300”“一单一结”为诱饵，要求受害人先垫付，"
    "再以“连单未完成、账户冻结”为由不断骗钱。所谓刷单都是诈骗，切勿轻信。如被骗请拨打96110。</p>"
)


def test_warning_frame_makes_a_police_notice_benign() -> None:
    """A notice quoting the script in an anti-fraud frame comes out (near) zero."""
    assert noisy_or(lexicon_findings(html_doc(WARNING))) < 0.1


def test_warning_frame_quoting_contact_ids_stays_benign() -> None:
    """A news story that quotes the scammer's QQ number is still a story, not the scam."""
    html = html_doc(WARNING + "<p>受害人添加了所谓接待员的QQ（2876651093）后被拉入任务群，民警提醒不要轻信。</p>")
    assert noisy_or(lexicon_findings(html)) < SUSPICIOUS


def test_warning_frame_does_not_shield_a_page_that_acts() -> None:
    """Anti-fraud words on a page that asks for a bank card and its PIN do not lower its score."""
    form = (
        "<form><label for=a>银行卡号</label><input id=a name=card>"
        "<label for=b>取款密码</label><input id=b name=pin type=password></form>"
    )
    assert noisy_or(lexicon_findings(html_doc(WARNING + form))) >= MALICIOUS


def test_links_into_the_scheme_count_as_acting() -> None:
    """Police vocabulary on a scam portal does not frame it as a warning when it links into the scheme."""
    html = html_doc(
        "<p>犯罪嫌疑人冒用您的身份证涉嫌洗钱，办案民警已通知您。请勿拨打110核实，严格保密。</p>"
        '<a href="/wanted">查询本人通缉令</a> <a href="/check">进入资金清查</a>'
    )
    assert by_category(lexicon_findings(html))["police_impersonation"].score >= SUSPICIOUS


# -- calls to action and indicators ---------------------------------------------------


def test_contact_ids_become_indicators() -> None:
    """QQ, WeChat, Telegram and WhatsApp IDs in text and chat links are extracted as indicators."""
    html = html_doc(
        "<p>QQ：12345678 微信：kefu-vip888 飞机 @tasks_boss WhatsApp: +44 7700 900812</p>"
        '<a href="https://t.me/Boost_Group">群</a> <a href="tencent://message/?uin=99887766">QQ</a>'
    )
    page = page_of(html)
    contacts = set(fraud_lexicon.contact_ids(fraud_lexicon.page_text(page), page))
    assert {("qq", "12345678"), ("wechat", "kefu-vip888"), ("telegram", "@tasks_boss"), ("whatsapp", "+447700900812")} <= contacts
    assert {("telegram", "@boost_group"), ("qq", "99887766")} <= contacts


def test_app_links_are_found_in_links_and_scripts() -> None:
    """.apk downloads and itms-services installs are found in links and in script code."""
    html = html_doc(
        '<a href="/dl/app_v2.apk">安卓下载</a><a href="itms-services://?action=download-manifest&amp;url=https://x.top/m.plist">iOS</a>'
        "<script>function go(){location.href='https://cdn.x.top/pkg/fin.apk?v=3';}</script>"
    )
    links = set(fraud_lexicon.app_links(page_of(html, "http://x.top/")))
    assert ("apk", "http://x.top/dl/app_v2.apk") in links
    assert ("apk", "https://cdn.x.top/pkg/fin.apk") in links
    assert any(kind == "itms" for kind, _ in links)


def test_finding_fields() -> None:
    """Findings carry subject, detector name/version, category, a reason and snippets with the terms."""
    url = "http://dianzan-jianzhi.top/index.html"
    finding = by_category(lexicon_findings(html_doc(SCRIPT_PAGES[("task_rebate", "zh")]), url))["task_rebate"]
    assert finding.subject == url
    assert (finding.detector, finding.detector_version) == (fraud_lexicon.name, fraud_lexicon.version)
    assert finding.category == Category.TASK_REBATE.value
    assert 0.0 <= finding.score <= 1.0 and finding.reason.endswith(".")
    assert finding.evidence and all("「" in line and len(line) < 120 for line in finding.evidence)
    assert ("wechat", "xt-task888") in finding.indicators


# -- fake apps and credential forms ----------------------------------------------------

FAKE_APP = (
    "<h1>鼎盛财富APP</h1><p>日收益5%，稳赚不赔。</p><a href='/d/ds.apk'>安卓下载</a>"
    "<p>如遇报毒请忽略，选择继续安装。</p>"
)


def test_fake_app_page_is_found() -> None:
    """An APK push with lure words and warning-bypass instructions is a fake-app page."""
    finding = by_category(lexicon_findings(html_doc(FAKE_APP), "http://dingsheng-app.top/"))[Category.FAKE_APP.value]
    assert finding.score >= MALICIOUS
    assert ("apk", "http://dingsheng-app.top/d/ds.apk") in finding.indicators


def test_official_app_page_is_not_a_fake_app() -> None:
    """A brand's own download page on its official domain is never a fake-app page."""
    html = html_doc("<h1>工行手机银行</h1><p>理财产品、贷款。</p><a href='https://www.icbc.com.cn/m/icbc.apk'>安卓下载</a>"
                     "<a href='https://apps.apple.com/cn/app/id423514795'>App Store 下载</a>")
    assert Category.FAKE_APP.value not in by_category(lexicon_findings(html, "https://www.icbc.com.cn/mobile/"))


def test_app_store_page_without_lures_is_benign() -> None:
    """A weather app offering an APK and store links, with no fraud words, gets no finding."""
    html = html_doc("<h1>天气预报APP</h1><a href='/weather.apk'>安卓下载</a><a href='https://apps.apple.com/app/id1'>App Store</a>")
    assert lexicon_findings(html, "https://weather-example.cn/") == []


def test_card_and_pin_form_is_phishing_on_a_foreign_site() -> None:
    """A form asking for a bank card and its PIN is credential phishing, except on the bank's own site."""
    html = html_doc(
        "<form><label for=a>银行卡号</label><input id=a name=cardno><label for=b>取款密码</label>"
        "<input id=b name=atmpwd type=password><label for=c>短信验证码</label><input id=c name=sms></form>"
    )
    phishing = by_category(lexicon_findings(html, "http://icbc-verify.xyz/"))["credential_phishing"]
    assert phishing.score >= 0.7 and any("取款密码" in line for line in phishing.evidence)
    assert "credential_phishing" not in by_category(lexicon_findings(html, "https://www.icbc.com.cn/verify"))


def test_hook_signature_matches_the_host() -> None:
    """The hook implementation takes only page and url, as the plugin host passes them by name."""
    page = page_of("<p>hello</p>")
    assert fraud_lexicon.analyze_page(page=page, url=parse_url(page.final_url)) == []


def test_calls_to_action_boost_only_the_leading_script() -> None:
    """A registration form serves the page's main script; a script it merely brushes against stays weak."""
    html = html_doc(
        "<p>刷单返利 做任务赚佣金 点赞关注日结 垫付越多返利越高 联系导师 充值升级VIP</p>"
        "<p>导师带你充值</p>"
        "<form><input name='phone' placeholder='手机号'><input type='password' placeholder='登录密码'>"
        "<input name='invite' placeholder='邀请码'></form><p>客服QQ：2873316409</p>",
        title="乐赚联盟 刷单返利",
    )
    scores = {f.category: f.score for f in lexicon_findings(html, "http://lezhuan-demo.top/")}
    assert scores["task_rebate"] >= MALICIOUS
    assert scores.get("investment", 0.0) < 0.5
