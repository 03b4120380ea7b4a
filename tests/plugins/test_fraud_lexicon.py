"""Unit tests for the fraud_lexicon page detector."""

from __future__ import annotations

import base64

import pytest
from tests.plugins.detector_helpers import (
    MALICIOUS,
    SUSPICIOUS,
    html_doc,
    lexicon_findings,
    noisy_or,
    page_of,
    verdict,
)
from fraudwall.plugins import fraud_lexicon

from fraudwall.models import Category, Finding
from fraudwall.names import parse_url
from fraudwall.page_view import PageView


def by_category(findings: list[Finding]) -> dict[str, Finding]:
    return {finding.category: finding for finding in findings}


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


def test_claims_an_institution_disowns_do_not_count() -> None:
    """An exchange listing what impostors claim ("凡声称'合作平台'……承诺'带单月收益20%以上'的，均与本所无关")
    names the scheme's words to disown them; the same words told as an offer count."""
    disowned = html_doc("<p>本所不直接面向个人开户。凡声称“本所合作平台”、通过客服提供每日更换的收款账户、承诺“带单月收益20%以上”、"
                        "以杠杆保证金交易吸收资金的，均与本所无关。</p>")
    assert "investment" not in by_category(lexicon_findings(disowned))
    offered = html_doc("<p>本所合作平台，导师带单月收益20%以上，入金请联系客服获取每日更换的收款账户，缴纳保证金即可开户。</p>")
    assert "investment" in by_category(lexicon_findings(offered))


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


def test_a_court_report_quoting_the_script_is_a_warning() -> None:
    """A news report of a trial that quotes the chat logs read out in court tells the script, it does not run it."""
    html = html_doc(
        "<p>Five defendants went on trial at the District Court. The court heard that victims were told by a"
        " 'recruiter' from the HR department: 'just like videos, daily pay up to HK$800, no experience needed', then"
        " moved to a Telegram group to deposit money for prepaid merchant tasks with a 30% commission. 'Your account"
        " is in a combo order; top up or your credit score will drop and the funds will be frozen.' They have"
        " pleaded not guilty to conspiracy to defraud.</p>")
    assert noisy_or(lexicon_findings(html)) < SUSPICIOUS


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
    finding = by_category(lexicon_findings(html_doc(WARNING + form)))["task_rebate"]
    assert "framed as a warning" not in finding.reason and finding.score >= SUSPICIOUS
    assert verdict(html_doc(WARNING + form), "http://example-test.top/").score >= MALICIOUS


def test_links_into_the_scheme_count_as_acting() -> None:
    """Police vocabulary on a scam portal does not frame it as a warning when it links into the scheme."""
    html = html_doc(
        "<p>犯罪嫌疑人冒用您的身份证涉嫌洗钱，办案民警已通知您。请勿拨打110核实，严格保密。</p>"
        '<a href="/wanted">查询本人通缉令</a> <a href="/check">进入资金清查</a>'
    )
    assert by_category(lexicon_findings(html))["police_impersonation"].score >= SUSPICIOUS


# -- calls to action and indicators ---------------------------------------------------


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


# -- scope ------------------------------------------------------------------------


def test_hook_signature_matches_the_host() -> None:
    """The hook implementation takes only the page's view and url, as the plugin host passes them by name."""
    page = page_of("<p>hello</p>")
    assert fraud_lexicon.analyze_page(view=PageView(page), url=parse_url(page.final_url)) == []


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


def test_allowlisted_and_official_names_are_not_judged() -> None:
    """A brand's own site and allowlisted sites explain fees and quote scripts: they get no finding."""
    html = html_doc(SCRIPT_PAGES[("loan", "zh")])
    assert lexicon_findings(html, "https://www.icbc.com.cn/loan/notice.html") == []
    assert lexicon_findings(html, "https://news.sina.com.cn/s/2024/loan.shtml") == []
    assert lexicon_findings(html, "http://loan-notice.top/")


def test_fake_app_scripts_are_left_to_app_lures() -> None:
    """The fake_app script is judged by app_lures, which sees install paths; fraud_lexicon never reports it."""
    html = html_doc("<h1>鼎盛财富APP</h1><p>日收益5%，稳赚不赔。</p><a href='/d/ds.apk'>安卓下载</a><p>如遇报毒请忽略，选择继续安装。</p>")
    assert Category.FAKE_APP.value not in by_category(lexicon_findings(html, "http://dingsheng-app.top/"))


# -- more scripts and evasion ------------------------------------------------------------

SUBSIDY_PAGES = {
    "zh": (
        "<h2>关于发放2024年度个人劳动补贴的通知</h2><p>根据人社局通知，请于24小时内扫码领取补贴，填写收款银行卡，"
        "逾期视为自动放弃。</p><form><input name=card placeholder='银行卡号'><input name=sms placeholder='验证码'></form>"
    ),
    "en": (
        "<h1>You are eligible for a tax refund</h1><p>HMRC has calculated your refund. Claim your refund before Friday:"
        " unclaimed funds will be returned. Enter your card number and verification code.</p>"
    ),
}


@pytest.mark.parametrize("language", sorted(SUBSIDY_PAGES))
def test_fake_subsidy_script_is_recognised(language: str) -> None:
    """Fake subsidy and tax-refund notices are a script of their own, in Chinese and English."""
    finding = by_category(lexicon_findings(html_doc(SUBSIDY_PAGES[language])))["fake_subsidy"]
    assert finding.score >= SUSPICIOUS


def test_hong_kong_and_taiwan_wording_is_recognised() -> None:
    """Regional vocabulary (戶口, 批核, 解除分期) is in the lexicon beside the mainland words, folded to simplified."""
    loan = html_doc("<p>無需抵押，信貸不良也可申請，即日批核。閣下銀行戶口號碼錯誤，請先繳付解凍費，審核專員核實後放款。</p>")
    assert by_category(lexicon_findings(loan))["loan"].score >= SUSPICIOUS
    refund = html_doc("<p>訂單設定錯誤，被誤設為分期付款，每月自動扣款。請依指示解除分期，並開啟螢幕共享，以免影響信用紀錄。</p>")
    assert by_category(lexicon_findings(refund))["customer_service"].score >= SUSPICIOUS


def test_text_hidden_as_base64_and_entities_is_searched() -> None:
    """A script that writes a base64 payload, and words written as numeric entities, are read like visible text."""
    payload = "<p>理赔专员为您办理三倍赔偿退款，请下载腾讯会议开启屏幕共享，否则影响征信。</p>"
    encoded = base64.b64encode(payload.encode()).decode()
    html = html_doc(f'<script>document.write(decodeURIComponent(escape(atob("{encoded}"))));</script>')
    assert by_category(lexicon_findings(html))["customer_service"].score >= SUSPICIOUS
    entities = "".join(f"&#{ord(ch)};" for ch in "您的银行卡涉嫌洗钱，须配合调查，将名下资金转入安全账户，严格保密")
    assert "police_impersonation" in by_category(lexicon_findings(html_doc(f"<script>el.innerHTML='{entities}';</script>")))


def test_two_groups_and_one_call_to_action_are_one_complete_piece_of_evidence() -> None:
    """Two groups of a script and one call-to-action phrase reach CORROBORATION_MIN_SCORE, the scoring stage's one
    complete piece of evidence; the same two groups without the phrase stay under it."""
    from fraudwall.blocklists.scoring import CORROBORATION_MIN_SCORE

    def loan_score(html: str) -> float:
        return max((f.score for f in lexicon_findings(html_doc(html)) if f.category == "loan"), default=0.0)

    words = "<p>黑户可贷，审核通过。</p>"
    with_phrase = loan_score(words + "<button>立即申请</button>")
    assert loan_score(words) < CORROBORATION_MIN_SCORE <= with_phrase


def test_the_exit_steps_fee_names_read_as_the_investment_scheme() -> None:
    """A withdrawal held for a "verification deposit", a "liquidity margin" or a tax that cannot come out of the
    balance, or a platform "credit score" too low to withdraw, reads as the fake-investment script's scheme: no
    exchange charges to release a withdrawal."""
    for html in ("<p>Withdrawal of 41,000 USDT held: pay the 15% verification deposit to release it.</p>",
                 "<p>提幣失敗：帳戶信用分不足，請補繳保證金 28,905 USDT。</p>",
                 "<p>Withdrawal of 48,210 USDT: pending tax clearance. Tax cannot be deducted from your account "
                 "balance.</p>"):
        (finding,) = [f for f in lexicon_findings(html_doc(html)) if f.category == "investment"]
        assert "scheme" in finding.reason


#: Scripts told in words the lexicon learnt from the tune batches: elderly-care "bed shares", a fake news
#: endorsement of an auto-trading platform, a signals group run by an "analyst", the recovery of scammed funds
#: for a fee, a Taiwan liking job, an urgent loan, a British advance-fee loan, a DVLA fine, a convenience-store
#: parcel fee, a labour-insurance benefit verified through online banking, a seller-growth order task, an
#: insider "data window" gold platform, an AI arbitrage plan, a hotel-review task, NFT staking, a "risk margin"
#: freeze, a loan's paid fast lane, a Taiwan notarisation fee, a student-loan "cancellation", pre-listing
#: "original shares", elderly care-bed shares, a misused health-insurance card sent to the prosecutors and a
#: Philippine "ayuda" payout; each with the script it must read as.
SCRIPTS_IN_NEW_WORDS = [
    ("investment", "<p>认购养老床位份额，按月领取分红，国家兜底，保本保息，随时可退，满一年也可继续复投。</p>"),
    ("investment", "<p>It's called Quantum AI: you put in £250 and the software does the trading for you. The interview "
                   "was taken off air. Minimum deposit £250; your account manager will call you to activate.</p>"),
    ("investment", "<p>Our AI bot made members +31% last month. Copy our signals. Limited free seats in the VIP group: "
                   "join on Telegram and contact our analyst Ms. Emma.</p>"),
    ("customer_service", "<p>Lost money to a crypto scam? Our blockchain forensic team traces your funds and issues a "
                         "freeze order; a legal filing fee is payable in USDT. Talk to a recovery specialist.</p>"),
    ("task_rebate", "<p>線上兼職：幫電商店家按讚、提高商品評價，日薪 NT$1,500，當天匯款。</p>"),
    ("loan", "<p>個人急用週轉，免保人，當天撥款。</p>"),
    ("loan", "<p>We are pleased to confirm your loan has been approved regardless of credit history. A credit file "
             "repair fee must be paid in advance by Paysafecard; it is refunded in full with your first repayment.</p>"),
    ("credential_phishing", "<p>DVLA Penalty Charge Notice: a speed camera offence remains unpaid. Final notice: pay "
                            "now. Card number, expiry (MM/YY), security code.</p>"),
    ("credential_phishing", "<p>7-ELEVEN 交貨便：您的包裹因地址資料不全無法配送，請於24小時內支付補運費，逾期退回。"
                            "請輸入信用卡號、有效期限、背面末三碼。</p>"),
    ("fake_subsidy", "<p>勞保局失業給付加發生活補助：請由專員協助以網路銀行完成帳戶驗證，驗證成功即可撥款。"
                     "請準備網路銀行帳號密碼或金融卡。</p>"),
    ("task_rebate", "<p>衝銷量訂單任務：信譽分低於100分無法提領佣金，請繳納補足金，補足後本金與佣金一起退回，"
                    "請拍照收據給任務專員。</p>"),
    ("investment", "<p>港金富通貴金屬內部交易通道：跟隨「數據回調」窗口操作，單次收益 15%-40%。入金請聯繫線上客服索取公司"
                   "收款帳戶，每次帳戶不同，請勿轉入舊帳戶。</p>"),
    ("investment", "<p>Let AI trade for you: our arbitrage engine pays 2.1% daily, principal protected. Withdrawal "
                   "requires a 15% tax clearance fee; chat with your personal account manager.</p>"),    ("task_rebate", "<p>飯店評論員：每天領取評論任務，系統隨機派發豪華套房組合訂單，佣金6倍，需補足餘額差額後才能提交。</p>"),
    ("investment", "<p>NFT 質押挖礦，每日派息 2.5%，以 USDT 結算。收益提取已鎖定，需升級至鑽石礦工方可解鎖。</p>"),
    ("investment", "<p>Account frozen: abnormal trading. To verify fund ownership, deposit a risk margin equal to 20% of "
                   "your USDT balance.</p>"),
    ("loan", "<p>Loan approved. Skip the disbursement queue with VIP: the fee is added back to your first repayment. "
             "Send via GCash.</p>"),
    ("loan", "<p>您申請之個人信用貸款已初審核准，撥款前須完成律師公證對保。公證費須匯入合作事務所帳戶，撥款時將一併退還。</p>"),
    ("customer_service", "<p>學生貸款賬戶須完成賬戶註銷，未註銷將影響個人征信。請下載會議軟件開啟屏幕共享，將額度借出後轉入"
                         "監管賬戶清零核銷。</p>"),    ("investment", "<p>原始股內部認購：國家扶持企業即將上市，上市後預計30元以上，由公司統一回購。認購起點5萬元，簽署股權代持"
                   "協議。</p>"),    ("investment", "<p>康養專項認購：面向老人認購康養床位收益權，按月返息，政府兜底，到期還本。認購資金請轉入項目託管賬戶。</p>"),    ("police_impersonation", "<p>衛生福利部中央健康保險署：您的健保卡已被異常使用，於多家醫療院所重複就醫及盜領藥品，"
                             "健保身分將於24小時內暫停並移送地檢署偵辦。</p>"),    ("fake_subsidy", "<p>DSWD Ayuda payout: claim your ayuda of ₱8,000 cash assistance. Enter your GCash MPIN and the "
                     "authentication code. Share this link to prioritize your payout.</p>"),
]


@pytest.mark.parametrize(("category", "html"), SCRIPTS_IN_NEW_WORDS)
def test_scripts_in_new_words_are_recognised(category: str, html: str) -> None:
    """Each script, told only in the words it was missing, reads as that script in at least two groups."""
    assert by_category(lexicon_findings(html_doc(html)))[category].score >= 0.3


def test_working_from_home_is_no_task_scam_promise() -> None:
    """A job board's "在家工作" (work from home) listing beside its own 刷單 warning stays under suspicious: working
    from home is an ordinary job term, not the scam's promise."""
    board = "<p>在家工作：客服專員，月薪三萬。求職提醒：要求刷單或先儲值的工作都不要應徵。</p>"
    assert all(f.score < SUSPICIOUS for f in lexicon_findings(html_doc(board)))


def test_a_lenders_long_disclaimer_denies_the_fees_it_names() -> None:
    """A licensed lender's disclaimer may put thirty characters between its 不會 and the fees it denies; the
    fees are still denied, so a page of such disclaimers reads as no loan scam."""
    disclaimer = ("<p>本公司為持牌放債人。本公司及其職員在任何情況下均不會在批核或放款前要求客戶繳付保證金、驗資費、解凍費或任何"
                  "前期費用。</p><p>無抵押私人貸款，即日批核。</p>")
    assert all(f.category != "loan" or f.score < 0.3 for f in lexicon_findings(html_doc(disclaimer)))


# -- crypto wallet phishing ------------------------------------------------------------

WALLET_CLAIM = (
    "<h2>Claim your ARB airdrop</h2><p>Your wallet is eligible for 2,450 ARB. Wallet synchronisation failed:"
    " validate your wallet manually. Enter your 12 or 24 word Secret Recovery Phrase.</p>"
    "<p>Claim window closes in 02:14:37.</p>"
)


def test_a_claim_page_asking_for_the_recovery_phrase_is_wallet_phishing() -> None:
    """An airdrop or wallet 'sync' that needs the recovery phrase reads as credential phishing."""
    finding = by_category(lexicon_findings(html_doc(WALLET_CLAIM)))["credential_phishing"]
    assert "crypto wallet phishing" in finding.reason
    assert finding.score >= SUSPICIOUS


def test_a_wallet_safety_page_naming_the_recovery_phrase_is_not() -> None:
    """A wallet's own advice that nobody may ask for the phrase names the same words without running the script."""
    html = html_doc(
        "<h2>Protect your Secret Recovery Phrase</h2><p>Never share your recovery phrase. Scammers set up fake airdrop"
        " and wallet validation sites; our support will never ask for your 12 words. Report such sites to us.</p>"
    )
    assert noisy_or(lexicon_findings(html)) < SUSPICIOUS
