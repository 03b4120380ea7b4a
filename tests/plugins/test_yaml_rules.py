"""YAML rules: the schema and its errors, loading user directories, matching every field kind."""

from __future__ import annotations

import csv
import logging
import textwrap
from pathlib import Path

import pytest

from fraudwall.plugins import yaml_rules
from fraudwall.plugins.rules_engine import (
    BUNDLED_RULES_DIR,
    FIELDS,
    RuleSchemaError,
    RuleSet,
    load_rules,
    parse_rules,
)
from fraudwall.settings import Settings
from fraudwall.testing import assert_finding, assert_no_finding, make_page, make_url, run_plugin
from tests.conftest import REPO

PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>资金清查中心</title>
<meta name="description" content="最高检 在线核查">
<meta http-equiv="refresh" content="5;url=http://dl.example-test.top/app.apk">
<script src="http://cdn.example-test.top/track.js"></script>
<script>var install = "itms-services://?action=download-manifest";</script></head>
<body><p>您的账户涉嫌洗钱，请将资金转入安全账户配合资金清查。</p>
<a href="http://meet.example-test.top/room/123">进入会议室</a>
<form action="/submit"><label for="c">银行卡号</label><input id="c" name="card_no">
<input name="pwd" type="password" placeholder="取款密码"></form></body></html>"""


def _rule(match: str | dict[str, list[str]], rule_id: str = "t1", **extra: str) -> str:
    """A one-rule file: ``match`` maps sections to condition lines (or is a raw YAML match block)."""
    if isinstance(match, dict):
        match = "".join(f"{section}:\n" + "".join(f"  - {c}\n" for c in lines) for section, lines in match.items())
    head = "".join(f"    {key}: {value}\n" for key, value in extra.items())
    return (
        f"rules:\n  - id: {rule_id}\n    category: police_impersonation\n    score: 0.6\n"
        "    description: test rule\n" + head + "    match:\n" + textwrap.indent(match, "      ")
    )


SAFE = "{field: text, contains: 安全账户}"
LAUNDERING = "{field: text, contains: 洗钱}"
WANTED = "{field: text, contains: 通缉}"
LIAR = "{field: text, contains: 骗子}"
X = "{field: text, contains: x}"
BASIC = _rule({"all": [X]})


def _matches(rule_text: str, html: str = PAGE, url: str = "http://sh-gongan.example-test.top/check") -> list[str]:
    page = make_page(html, url)
    ruleset = RuleSet(tuple(parse_rules(rule_text, "t.yaml")), ("t.yaml",), ())
    return [match.rule.id for match in ruleset.match(page, make_url(page.final_url))]


# -- matching every field kind ---------------------------------------------------------


@pytest.mark.parametrize(
    ("condition", "matches"),
    [
        ("{field: url, contains: /check}", True),
        ("{field: host, equals: sh-gongan.example-test.top}", True),
        ("{field: host, equals: example-test.top}", False),
        ("{field: title, equals: 资金清查中心}", True),
        ("{field: text, contains: 安全账户}", True),
        ("{field: links, regex: '^http://meet\\.'}", True),
        ("{field: links, contains: 进入会议室}", True),
        ("{field: scripts, contains: 'itms-services://'}", True),
        ("{field: scripts, contains: cdn.example-test.top/track.js}", True),
        ("{field: form_fields, contains: 银行卡号}", True),
        ("{field: form_fields, equals: card_no}", True),
        ("{field: form_fields, equals: password}", True),
        ("{field: form_fields, contains: 取款密码}", True),
        ("{field: meta, regex: '^refresh: .*\\.apk$'}", True),
        ("{field: meta, contains: 'description: 最高检'}", True),
        ("{field: text, contains: 通缉令}", False),
    ],
)
def test_each_field_kind_matches(condition: str, matches: bool) -> None:
    """Every field a rule can name reads the part of the page it documents."""
    assert _matches(_rule({"all": [condition]})) == (["t1"] if matches else [])


def test_all_fields_are_covered_by_the_field_test() -> None:
    """The parametrised field test above exercises every field of the schema."""
    source = Path(__file__).read_text(encoding="utf-8")
    assert all(f"{{field: {field}," in source for field in FIELDS)


def test_all_any_none_semantics() -> None:
    """all: every condition; any: at least one; none: not one."""
    assert _matches(_rule({"all": [SAFE, LAUNDERING]})) == ["t1"]
    assert _matches(_rule({"all": [SAFE, WANTED]})) == []
    assert _matches(_rule({"any": [WANTED, LAUNDERING]})) == ["t1"]
    assert _matches(_rule({"any": [WANTED, "{field: text, contains: 拘留}"]})) == []
    assert _matches(_rule({"all": [SAFE], "none": [LAUNDERING]})) == []
    assert _matches(_rule({"all": [SAFE], "none": [LIAR]})) == ["t1"]


def test_nocase_and_regex() -> None:
    """Matching is case-sensitive unless nocase; regexes are searched, equals must cover the whole value."""
    html = "<title>Safe Account Notice</title><p>Move funds to a SAFE ACCOUNT now.</p>"
    assert _matches(_rule({"all": ["{field: text, contains: safe account}"]}), html) == []
    assert _matches(_rule({"all": ["{field: text, contains: safe account, nocase: true}"]}), html) == ["t1"]
    regex = "{field: text, regex: 'funds? to an? (safe|secure) account', nocase: true}"
    assert _matches(_rule({"all": [regex]}), html) == ["t1"]
    assert _matches(_rule({"all": ["{field: title, equals: safe account notice, nocase: true}"]}), html) == ["t1"]
    assert _matches(_rule({"all": ["{field: title, equals: Safe Account}"]}), html) == []


def test_contains_takes_a_list_of_alternatives() -> None:
    """contains: [a, b] matches when any one of them is present (simplified or traditional spellings)."""
    html = "<p>請轉入安全帳戶</p>"
    assert _matches(_rule({"all": ["{field: text, contains: [安全账户, 安全帳戶]}"]}), html) == ["t1"]


def test_values_are_nfkc_normalised() -> None:
    """Full-width letters and zero-width characters do not hide a phrase from a rule."""
    html = "<p>充值 ＵＳＤＴ，安全\u200b账户</p>"
    assert _matches(_rule({"all": ["{field: text, contains: USDT}", SAFE]}), html) == ["t1"]


def test_language_gate() -> None:
    """A zh rule is not tried on a page without Chinese text; an en rule not on one without Latin letters."""
    english = "<p>move money to a safe account</p>"
    chinese = "<p>安全账户</p>"
    rule = {"all": ["{field: url, contains: example}"]}
    assert _matches(_rule(rule, language="zh"), english) == []
    assert _matches(_rule(rule, language="zh"), chinese) == ["t1"]
    assert _matches(_rule(rule, language="en"), chinese) == []
    assert _matches(_rule(rule, language="any"), chinese) == ["t1"]


def test_evidence_is_the_matched_snippet() -> None:
    """Each positive condition contributes its field and the matched words, marked, with some context."""
    page = make_page(PAGE)
    rules = RuleSet(tuple(parse_rules(_rule({"all": [SAFE, "{field: form_fields, regex: 银行卡}"]}), "t.yaml")), (), ())
    (match,) = rules.match(page, make_url(page.final_url))
    assert match.evidence[0].startswith("text: ") and "「安全账户」" in match.evidence[0]
    assert "资金转入" in match.evidence[0]  # context around the match
    assert match.evidence[1] == "form_fields: 「银行卡」号"


# -- the schema ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("rules: [", "not valid YAML"),
        ("- id: x", "one key, 'rules'"),
        ("rules: {id: x}", "'rules' must be a list"),
        (BASIC.replace("    score: 0.6\n", ""), "lacks score"),
        (BASIC.replace("score: 0.6", "score: 1.5"), "score must be a number from 0 to 1"),
        (BASIC.replace("score: 0.6", "score: true"), "score must be a number"),
        (_rule({"all": [X]}, rule_id="'bad id'"), "id must be"),
        (_rule({"all": [X]}, language="fr"), "language must be one of zh, en, any"),
        (_rule({"all": [X]}, severity="high"), "unknown keys ['severity']"),
        (_rule({"all": [X]}, frame="'no'"), "frame must be true or false"),
        (_rule({"all": ["{field: body, contains: x}"]}), "field must be one of url, host"),
        (_rule({"all": ["{field: text}"]}), "needs exactly one of contains, regex, equals"),
        (_rule({"all": ["{field: text, contains: x, regex: y}"]}), "needs exactly one of"),
        (_rule({"all": ["{field: text, regex: '(unclosed'}"]}), "not a valid regular expression"),
        (_rule({"all": ["{field: text, contains: []}"]}), "non-empty string or a list"),
        (_rule({"all": ["{field: text, contains: x, nocase: 'yes'}"]}), "nocase must be true or false"),
        (_rule({"all": ["{field: text, contians: x}"]}), "unknown keys ['contians']"),
        (_rule({"none": [X]}), "needs 'all' or 'any'"),
        (_rule({"every": [X]}), "match must be a mapping of all, any, none"),
        (_rule("all: []\n"), "all must be a non-empty list"),
        (BASIC + BASIC.removeprefix("rules:\n"), "rule id 't1' appears twice"),
    ],
)
def test_schema_violations_are_clear_errors(text: str, message: str) -> None:
    """Each way of breaking the schema raises a RuleSchemaError that names the file, the rule and the problem."""
    with pytest.raises(RuleSchemaError) as raised:
        parse_rules(text, "mine.yaml")
    assert str(raised.value).startswith("mine.yaml")
    assert message in str(raised.value)


def test_schema_error_locates_the_condition() -> None:
    """The error names the rule by index and id, and the condition by its path in the rule."""
    text = _rule({"all": [X], "any": ["{field: text, contains: y}", "{field: txt, contains: z}"]})
    with pytest.raises(RuleSchemaError) as raised:
        parse_rules(text, "mine.yaml")
    assert "mine.yaml: rule 0 (t1).match.any[1].field" in str(raised.value)


# -- loading directories -----------------------------------------------------------------


def test_bundled_rules_load_without_errors() -> None:
    """Every bundled rule file follows the schema."""
    ruleset = load_rules([BUNDLED_RULES_DIR])
    assert ruleset.errors == ()
    assert len(ruleset.rules) >= 10
    assert {rule.category for rule in ruleset.rules} >= {
        "police_impersonation", "fake_app", "investment", "loan", "customer_service", "task_rebate",
    }


def test_bad_file_is_reported_and_the_others_load(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A broken file is rejected whole, logged and counted by name with its reason; good files still load."""
    (tmp_path / "good.yaml").write_text(_rule({"all": [SAFE]}), encoding="utf-8")
    (tmp_path / "nested").mkdir()
    (tmp_path / "nested" / "also_good.yml").write_text(
        _rule({"all": [LAUNDERING]}, rule_id="t2"), encoding="utf-8")
    (tmp_path / "broken.yaml").write_text(_rule({"all": ["{field: text, regex: '['}"]}, rule_id="t3"), encoding="utf-8")
    (tmp_path / "latin1.yaml").write_bytes("rules: [] # caf\xe9".encode("latin-1"))
    (tmp_path / "notes.txt").write_text("not a rule file")
    with caplog.at_level(logging.ERROR, logger="fraudwall.plugins.rules_engine"):
        ruleset = load_rules([tmp_path, tmp_path / "missing"])
    assert [rule.id for rule in ruleset.rules] == ["t1", "t2"]
    rejected = {Path(error.path).name: error.reason for error in ruleset.errors}
    assert set(rejected) == {"broken.yaml", "latin1.yaml", "missing"}
    assert "not a valid regular expression" in rejected["broken.yaml"]
    assert "not UTF-8" in rejected["latin1.yaml"]
    assert rejected["missing"] == "not a directory"
    assert "broken.yaml" in caplog.text and "not a valid regular expression" in caplog.text


def test_user_rule_overrides_bundled_rule_by_id(tmp_path: Path) -> None:
    """A user rule with a bundled rule's id replaces it, so a noisy bundled rule can be retuned."""
    bundled = load_rules([BUNDLED_RULES_DIR])
    target = bundled.rules[0]
    (tmp_path / "override.yaml").write_text(
        _rule({"all": ["{field: text, contains: never-present-phrase}"]}, rule_id=target.id),
        encoding="utf-8",
    )
    merged = load_rules([BUNDLED_RULES_DIR, tmp_path])
    assert len(merged.rules) == len(bundled.rules)
    replaced = next(rule for rule in merged.rules if rule.id == target.id)
    assert replaced.origin.endswith("override.yaml") and replaced.score == 0.6


def test_plugin_reads_rules_dirs_setting(tmp_path: Path) -> None:
    """The yaml_rules plugin loads RULES_DIRS next to the bundled rules and reports a match as a finding."""
    (tmp_path / "mine.yaml").write_text(textwrap.dedent("""\
        rules:
          - id: my-tianqi-lure
            category: fake_app
            score: 0.45
            description: A weather app page that asks for a bank card
            language: zh
            match:
              all:
                - {field: title, contains: 天气}
                - {field: form_fields, regex: 银行卡|卡号}
    """), encoding="utf-8")
    html = "<title>天气预报下载</title><form><label>银行卡号<input name=c></label></form>"
    findings = run_plugin(yaml_rules, page=html, settings={"RULES_DIRS": [str(tmp_path)]})
    finding = assert_finding(
        findings, category="fake_app", detector="yaml_rules", min_score=0.45, evidence_contains="银行卡"
    )
    assert "my-tianqi-lure" in finding.reason
    assert_no_finding(run_plugin(yaml_rules, page=html), detector="yaml_rules")


def test_rules_of_one_category_make_one_finding() -> None:
    """Findings are stored by category: two matching rules of one category (two mechanisms) make one finding,
    their scores added up by noisy-OR and capped below malicious (0.6 and 0.3 make 0.72, shown as 0.7)."""
    text = _rule({"all": [SAFE]}) + textwrap.indent(textwrap.dedent("""\
        - id: t2
          category: police_impersonation
          score: 0.3
          description: second
          match:
            all:
              - {field: text, contains: 洗钱}
        """), "  ")
    page = make_page(PAGE)
    matches = RuleSet(tuple(parse_rules(text, "t.yaml")), (), ()).match(page, make_url(page.final_url))
    (finding,) = yaml_rules.findings(page.final_url, matches)
    assert finding.score == yaml_rules.MAX_SCORE == 0.7
    assert "rule t1" in finding.reason and "rule t2" in finding.reason
    assert any(item.startswith("t2 text:") for item in finding.evidence)


def test_plugin_is_registered_through_its_entry_point() -> None:
    """yaml_rules is installed like any third-party plugin, through the fraudwall.plugins group."""
    from fraudwall.plugin_host import PluginHost

    infos = {info.name: info for info in PluginHost.from_settings(Settings()).describe()}
    assert "entry point yaml_rules" in infos["yaml_rules"].origin


# -- the bundled rules on the labelled pages -----------------------------------------------


def _labelled_pages() -> list[tuple[str, str, str]]:
    rows = []
    for manifest in (REPO / "tests/data/pages/manifest.csv", REPO / "fraudwall/demo/site/manifest.csv"):
        with manifest.open(encoding="utf-8", newline="") as handle:
            rows += [(str(manifest.parent / row["file"]), row["url"], row["label"]) for row in csv.DictReader(handle)]
    return rows


def test_bundled_rules_spare_every_benign_page() -> None:
    """No bundled rule fires on a benign page of the corpora: banks, notices and news that quote the scripts."""
    ruleset = load_rules([BUNDLED_RULES_DIR])
    fired = {}
    for file, url, label in _labelled_pages():
        if label != "benign":
            continue
        page = make_page(Path(file).read_bytes(), url)
        ids = [match.rule.id for match in ruleset.match(page, make_url(page.final_url))]
        if ids:
            fired[file] = ids
    assert fired == {}


def test_bundled_rules_cover_every_script() -> None:
    """Each fraud category of the bundled rules fires on at least one fraud page of the corpora."""
    ruleset = load_rules([BUNDLED_RULES_DIR])
    seen: set[str] = set()
    for file, url, label in _labelled_pages():
        if label == "fraud":
            page = make_page(Path(file).read_bytes(), url)
            seen |= {match.rule.category for match in ruleset.match(page, make_url(page.final_url))}
    assert seen == {rule.category for rule in ruleset.rules}


def test_warning_frame_keeps_quoting_pages_benign() -> None:
    """The 'none' section spares an anti-fraud notice that quotes a script word for word."""
    notice = ("<p>警方提醒：骗子冒充公检法，称您涉嫌洗钱，要求将资金转入所谓的安全账户配合资金清查。</p>"
              "<form><label>举报人身份证号<input name=id></label><label>涉案银行卡号<input name=card></label></form>")
    scam = notice.replace("警方提醒：骗子冒充公检法，称", "").replace("所谓的", "")
    notice_findings = run_plugin(yaml_rules, page=notice, url="http://notice.example-test.cn/")
    assert_no_finding(notice_findings, category="police_impersonation")
    assert_finding(run_plugin(yaml_rules, page=scam), category="police_impersonation", evidence_contains="安全账户")


@pytest.mark.parametrize(("rule_id", "text"), [
    ("zh-loan-payout-held-for-a-fee", "订单状态：拨款暂停。依合约须经公证后方可拨款，请缴纳公证费 3,600 元。"),
    ("zh-loan-payout-held-for-a-fee", "放款前閣下須先繳付首期還款保證金 HK$4,417。"),
    ("zh-loan-payout-held-for-a-fee", "批核後需先繳付首期手續費 HK$1,200，款項即日轉賬至閣下戶口。"),
    ("zh-loan-payout-held-for-a-fee", "撥款前需先匯入首期手續費 2,800 元至指定帳戶，完成後即安排撥款。"),
    ("en-loan-fee-before-funding", "Action required before funding: a refundable loan protection bond of $350.00 is due."),
    ("zh-pay-at-store-as-game-points", "请持缴费代码至超商缴纳，如店员询问用途请回答游戏点数即可。"),
    ("zh-loan-payout-held-for-a-fee", "需向个人钱包存入借款金额10%作为还款能力验证金，验证通过后立即放款。"),
    ("en-loan-fee-before-funding", "Your ₱30,000 loan is approved. To release it, pay the ₱1,500 processing deposit at 7-Eleven."),
    ("en-loan-fee-before-funding", "Loan protection insurance ₹2,999 must be paid before release of your approved loan."),
    ("en-loan-fee-before-funding", "Once your account is confirmed and the one-time $185 account activation and insurance fee is "
                                   "received, funds are normally released within one business day."),
    ("en-loan-fee-before-funding", "To receive your funds, pay the one-time insurance & registration fee of ₦18,500 by bank "
                                   "transfer."),
])
def test_advance_fee_rules_read_the_shape_not_the_fee_name(rule_id: str, text: str) -> None:
    """A payout held for a fee of any name, in Chinese or English, and the convenience-store cover story match."""
    assert rule_id in _matches_bundled(f"<p>{text}</p>")


@pytest.mark.parametrize("text", [
    "放款前不收取任何费用，凡要求缴纳保证金的均为诈骗。",
    "We never charge a fee before funding. If anyone asks you to pay $350 before funding, it is a scam.",
    "How long does funding take? Funds are on hold for 24 hours for security; there is no fee.",
    "Once your loan is approved, funds are released within one business day; the origination fee is deducted from "
    "the loan amount.",
    "To receive your funds, sign the agreement. The origination fee of $150 is deducted from the loan amount.",
    "本行辦理貸款不會要求您於撥款前先匯款支付保證金、代辦費或解凍金。",
    "本公司從不在放款前要求客戶支付任何保證金、印花稅或公證費。",
    "本公司亦不會在批核或放款前要求客戶繳付任何手續費、保證金、印花稅或驗資款項。",
])
def test_advance_fee_rules_spare_lenders_that_say_they_charge_nothing(text: str) -> None:
    """A licensed lender saying it charges nothing before the payout matches none of them."""
    fired = set(_matches_bundled(f"<p>{text}</p>"))
    assert not fired & {"zh-loan-payout-held-for-a-fee", "en-loan-fee-before-funding", "zh-pay-at-store-as-game-points"}


@pytest.mark.parametrize(("rule_id", "text"), [
    ("en-gift-card-codes-to-a-person", "Pay the $250 insurance with Target or Google Play gift cards and send the card "
                                       "numbers and PINs to your loan officer on WhatsApp."),
    ("zh-gift-card-codes-to-a-person", "请购买游戏点数卡，将卡号和密码拍照发给客服专员核对。"),
    ("en-one-time-code-relayed-to-an-agent", "I'm sending a 6-digit security code. It may say do not share this code: "
                                             "that's a standard message, it's fine to give it to me."),
    ("zh-one-time-code-relayed-to-an-agent", "稍后您会收到一条验证码，请将验证码告诉专员完成资金核查。"),
    ("zh-one-time-code-relayed-to-an-agent", "期間如收到銀行短訊驗證碼，請告知專員以確認收款。"),
    ("en-cs-call-back-to-cancel-a-charge", "Your subscription has been renewed for $399.99. If you did not authorize this "
                                           "renewal, contact our Billing Department within 24 hours: +1 (808) 301-4471."),
    ("zh-cs-screen-share-refund", "退款須透過網上銀行處理：下載螢幕分享工具，將連線碼告知專員。"),
    ("zh-task-recharge-to-go-on", "精選酒店佣金為普通單 6–10 倍，訂單價值可能高於帳戶餘額，需先充值補足方可提交。"),
    ("zh-task-recharge-to-go-on", "每单佣金 5%，每日完成 30 单后方可提现。"),
    ("zh-invest-free-stock-picks-in-a-chat-group", "免费领取3只潜力牛股，添加助理微信即可进群。"),
    ("en-invest-free-stock-picks-in-a-chat-group", "Get 3 free stock picks every week: join Prof. Lee's group on WhatsApp."),
    ("zh-invest-fixed-daily-return", "USDT理财宝：日收益 2.8%，随存随取。"),
    ("en-invest-fixed-daily-return", "AI Quant Vault: guaranteed 1.8% daily profit on every USDT deposit."),
    ("en-invest-fixed-weekly-return", "Structured Yield Programme. Fixed return: 1.8% weekly, capital protected."),
    ("en-invest-fixed-daily-return", "Private client desk: target return 1.2%–1.8% per trading day."),
])
def test_payment_capture_rules_read_codes_handed_to_a_person(rule_id: str, text: str) -> None:
    """Gift-card codes or a one-time code handed to an agent, a call-back number to cancel a charge nobody made,
    a screen-sharing tool for a refund, a task balance to top up before going on, free stock picks in a chat
    group, and a fixed return of a per cent or more a day or a week match."""
    assert rule_id in _matches_bundled(f"<p>{text}</p>")


@pytest.mark.parametrize("text", [
    "Pay with a gift card: enter the gift card number and PIN below to apply it to your order.",
    "Never share this code with anyone. Our agents will never ask you to read a code to them.",
    "If someone asks you to pay with gift cards and read them the card numbers, it is a scam.",
    "请勿将验证码告诉任何人，银行工作人员不会向您索取验证码。",
    "购物卡卡号和密码请妥善保管，切勿拍照发给他人。",
    "To cancel your subscription or ask for a refund of your last renewal, call us on 1-888-280-4331.",
    "警惕“免费荐股群”：添加陌生人微信进群炒股的，都是诈骗。",
    "Beware of free stock picks groups on WhatsApp: they are a scam.",
    "日利率 0.02%–0.05%，按日计息，借款 1 万元每天利息最低 2 元。",
    "Earn up to 4.5% APY on USDC; rewards are paid out daily.",
    "Members earn 1% weekly cashback on groceries.",
    "Never share your PIN with anyone, including your bank.",
    "Do not discuss your investments with strangers who say they are from your bank: it is a scam.",
])
def test_payment_capture_rules_spare_checkouts_and_warnings(text: str) -> None:
    """A shop's own gift-card checkout, its own cancellation line, warnings about codes, stock-tip groups or
    callers posing as the bank, a lender's daily interest rate and an exchange's yearly yield paid daily match none."""
    assert not _fired_among(text, ("codes", "one-time-code", "call-back", "stock-picks", "daily-return", "weekly-return", "hide-the-payment"),
                            url="https://www.example-shop-test.com/checkout")


def test_browser_lock_reads_full_screen_and_a_swallowed_keyboard_beside_an_alert() -> None:
    """A page that goes full screen and swallows keys beside a virus alert is a browser locker; a video player is not."""
    lock = ("<p>Security warning: your PC is infected.</p><script>document.documentElement.requestFullscreen();"
            "document.addEventListener('keydown', function(e){ e.preventDefault(); });</script>")
    player = ("<p>Watch the trailer</p><script>player.requestFullscreen();"
              "document.addEventListener('keydown', function(e){ if (e.key === ' ') e.preventDefault(); });</script>")
    assert "en-cs-browser-lock" in _matches_bundled(lock)
    assert "en-cs-browser-lock" not in _matches_bundled(player)


#: Mechanism rules and sentences of the scripts they spell out, by script (each with its benign look-alikes below).
SCRIPT_SENTENCES = [
    # The fake platform's exit step, agent-supplied accounts, returns, refunds, call-backs, payout fees, virus alerts
    ("zh-invest-tax-before-withdrawal", "您的提现申请已受理。依规定须先缴纳收益部分20%的个人所得税，缴纳后方可提现到账。"),
    ("zh-invest-tax-before-withdrawal", "提幣需先繳納風險保證金 3,000 USDT，繳清後即可解凍。"),
    ("zh-invest-pay-or-be-frozen", "提币审核未通过：请于24小时内充值缴纳保证金，否则账户资产将被永久冻结。"),
    ("en-invest-pay-or-be-frozen", "Your withdrawal of 52,000 USDT is on hold. Failure to pay the 10% release fee before "
                                       "the deadline will result in the account and all its profits being permanently frozen."),
    ("zh-invest-deposit-to-an-account-an-agent-supplies", "入金请联系在线客服索取最新收款账户，每次账户不同。"),
    ("zh-invest-deposit-to-an-account-an-agent-supplies", "認購款項請轉賬至客戶經理提供之指定公司戶口。"),
    ("en-invest-deposit-to-an-account-an-agent-supplies", "Fund your gold trading account by USDT transfer to the wallet "
                                                              "address provided by your account manager."),
    ("zh-invest-guaranteed-return-rate", "跟着老师操作，保证月收益 25% 以上。"),
    ("en-invest-guaranteed-return-rate", "Our desk offers guaranteed monthly returns of 18% on every deposit."),
    ("zh-invest-return-per-trade", "内部数据窗口开放中，单次收益 20%-35%，名额有限。"),
    ("en-invest-return-per-trade", "Members following the signals made 25% per trading window last month. Deposit to join."),
    ("zh-cs-refund-in-your-own-bank", "专员将指导您登录手机银行，输入退款确认码后款项即时到账。"),
    ("en-cs-refund-in-your-own-bank", "Our refund specialist will stay on the line while you log in to your online banking "
                                          "and enter the refund code we give you."),
    ("en-cs-call-within-hours-for-a-refund", "Your subscription has been renewed: $289.00 was charged to your card. To "
                                                 "cancel and get a refund, call our billing desk within 24 hours."),
    ("en-cs-fee-to-release-a-payout", "You are entitled to €400 compensation. A €2.50 processing fee is refunded with "
                                          "your payment once it confirms your card."),
    ("en-cs-virus-alert-call-support", "Your computer has been infected with a Trojan. Call Windows Support now at "
                                           "+1 (855) 300-4417 (toll free)."),
    ("zh-cs-screen-share-refund", "請加入官方客服 LINE，開啟視訊會議並分享畫面，依指示取消會員扣款。"),
    # Authority fees, officers on chat apps, multiple refunds, lies to the bank, ID photos, benefits, parcels, fines
    ("en-police-fee-payable-in-gift-cards-or-crypto", "Pay the immigration correction fee of $900 to the court today. "
                                                          "Payment methods accepted: Zelle, Bitcoin or Target gift cards."),
    ("en-police-officer-on-a-chat-app", "You are a suspect in a money laundering case. Contact Officer Reyes on "
                                            "WhatsApp within 6 hours."),
    ("zh-police-officer-on-a-chat-app", "您涉嫌洗钱案件，请立即添加办案警官微信配合调查。"),
    ("zh-cs-multiple-refund-via-chat", "您的快递丢失，我司将按三倍金额理赔，请扫一扫添加理赔专员微信办理。"),
    ("en-cs-multiple-refund-via-chat", "We will issue a double refund for your damaged item. Message our refund specialist on WhatsApp."),
    ("zh-hide-the-payment-from-the-bank", "转账时请勿备注贷款、借款等字样，否则银行会拦截。"),
    ("zh-hide-the-payment-from-the-bank", "如銀行櫃員詢問用途，請說是匯給家人的生活費。"),
    ("en-hide-the-payment-from-the-bank", "If the bank asks why you are sending the money, say it is for a family member."),
    ("zh-hide-the-payment-from-the-bank", "转账时请勿告知银行工作人员用途，以免影响名额。"),
    ("en-hide-the-payment-from-the-bank", "Send the hash to your receptionist. Do not tell your bank the purpose of the transfer."),
    ("en-hide-the-payment-from-the-bank", "Fund it by wire to the custodian account. Do not discuss allocations with your "
                                          "bank; institutional pricing is confidential."),
    ("en-hide-the-payment-from-the-bank", "Keep your online banking open for the protected transfer. Please do not discuss "
                                          "this case with branch staff."),
    ("zh-id-documents-to-an-agent", "請將身分證正反面及存摺封面拍照傳給專員審核。"),
    ("en-id-documents-to-an-agent", "Send a photo of your ID card and debit card to your loan officer on WhatsApp."),
    ("en-benefit-with-a-deadline-and-bank-details", "You are entitled to a £326 energy rebate. Claim before the deadline "
                                                        "today by entering your card details."),
    ("zh-benefit-held-until-verified", "您的養老金補助暫未發放，請填寫收款銀行帳戶及身分證號碼完成核實，逾期視為放棄。"),
    ("en-parcel-held-for-a-fee", "Your parcel is on hold at our depot. Please pay the $1.99 redelivery fee within 24 hours."),
    ("zh-parcel-held-for-a-fee", "您的包裹已被海关扣留，须补缴税费后方可派送，72小时内未缴将退回。"),
    ("en-fine-or-toll-due-within-hours-by-card", "Your unpaid toll of $6.99 must be settled within 12 hours to avoid a "
                                                     "$50 late fee. Enter your card number below."),
    ("en-loan-fee-before-funding", "A refundable indemnity bond of 4% is due before any funds can be released: send 760 USDT."),
    # Fund checks, paid likes, premium-order top-ups and the exit step in Hong Kong wording
    ("zh-cs-fund-check-returned", "关闭服务前需配合客服完成资金核验，核验资金将在5分钟内原路退回。"),
    ("zh-task-paid-per-like-with-a-dispatcher", "给视频点赞关注，一单3元，日结。留下微信，接待员加你派单。"),
    ("en-task-combination-order-recharge", "Premium products pay 5x commission and require topping up the shortfall "
                                               "before submission."),
    ("zh-invest-tax-before-withdrawal", "出金審核：須繳付賬戶淨值10%保證金以證明資金來源，審核通過後保證金連同盈利一併退還。"),
    ("zh-invest-pay-or-be-frozen", "可出金 0 元。請於24小時內完成，否則賬戶將被永久凍結。"),
    ("zh-invest-deposit-to-an-account-an-agent-supplies", "入金請聯絡指導老師或WhatsApp客服 +852 5694 2173 索取公司指定收款賬戶。"),
    ("en-invest-deposit-to-an-account-an-agent-supplies", "Subscriptions to the fund: your relationship manager will send the "
                                                          "account details and confirm your allocation on Telegram."),
    ("en-invest-tax-before-withdrawal", "Your trading account shows 48,215.60 USDT. Before the first withdrawal is released, a "
                                        "compliance fee equal to 10% of the balance (4,821.56 USDT) is paid from an external wallet."),
    ("en-invest-tax-before-withdrawal", "USDT trading: the verification fee is credited back to your balance together with the "
                                        "withdrawal."),
    # Loan holds, withdrawal deposits, monthly returns and refunds to a card
    ("zh-loan-payout-held-for-a-fee", "综合评分不足，暂无法放款。缴纳修复服务费1980元，修复后即刻放款。"),
    ("zh-loan-payout-held-for-a-fee", "需预存首期还款¥2,875至借款账户证明还款能力，系统将在验证后10分钟内放款。"),
    ("zh-loan-payout-held-for-a-fee", "撥款前須辦理貸款保障保險，保費入數後30分鐘內過數。"),
    ("en-loan-fee-before-funding", "Your loan is APPROVED. Before we release, SEC rules require loan insurance: ₱1,800 one-time."),
    ("en-loan-fee-before-funding", "To get your withdrawal code, pay ₦15,500 to our vendor. Fee is refunded with your first repayment."),
    ("en-loan-fee-before-funding", "A credit repair fee of £249.00 is due before funds are released."),
    ("en-invest-tax-before-withdrawal", "Large withdrawals require a verification deposit of 15% of the withdrawal amount. "
                                            "Profits in USDT."),
    ("en-invest-pay-or-be-frozen", "Your withdrawal is under review. If the deposit is not completed before the deadline "
                                       "the account will be frozen and the profit cleared. USDT trading account."),
    ("zh-cs-refund-in-your-own-bank", "退費須於網路銀行或ATM操作「退款確認」，專員將提供退款代碼。"),
    ("zh-invest-monthly-return", "跟随老师喊单，近3个月月均收益30%以上。"),
    ("en-invest-monthly-return", "Our members earn 25% a month following the trading signals."),
    ("en-cs-refund-to-a-card-with-its-code", "You are entitled to £85 compensation. Enter the card you'd like the refund "
                                                 "paid to: card number, expiry, security code."),
    ("zh-cs-refund-to-a-card-with-its-code", "理賠款將退至您的信用卡，請填寫卡號、有效期及背面三位安全碼。"),
    # Paid recovery of scammed funds, fortunes from small deposits, fake reassurance
    ("en-invest-tax-before-withdrawal", "Withdrawal on hold: accounts with profit over 100,000 USDT must pay a 20% tax before funds are "
                                            "released. Beware of imposters: we will never ask for your password."),
    ("en-invest-fortune-from-a-small-deposit", "Dragons' Den investor reveals the platform that turned £250 into £8,400 "
                                                   "in a month."),
    ("en-cs-paid-recovery-of-scammed-funds", "Lost money to a crypto scam? We get it back: funds are returned after the "
                                                 "retainer and the exchange's release fee are paid in USDT."),
    ("zh-cs-paid-recovery-of-scammed-funds", "被骗资金追回，先追回后收费，前期仅需缴纳案件登记费及冻结保证金。"),
    # Crypto doubling giveaways
    ("en-invest-crypto-giveaway-doubling", "TESLA x BITCOIN 5,000 BTC GIVEAWAY. Send 0.1 to 20 BTC to the address "
                                               "below and get 2x back instantly."),
    ("zh-invest-crypto-giveaway-doubling", "活动期间转入 0.5 ETH 至下方地址，即可获得双倍返还。"),
]


@pytest.mark.parametrize(("rule_id", "text"), SCRIPT_SENTENCES)
def test_mechanism_rules_read_the_scripts(rule_id: str, text: str) -> None:
    """Each mechanism rule matches a sentence of the script it spells out, in the language it is written for."""
    assert rule_id in _matches_bundled(f"<p>{text}</p>")


def test_a_match_the_page_denies_in_its_clause_does_not_count() -> None:
    """A licensed exchange's notice that it never asks for a tax before a withdrawal is not the exit step it denies;
    the scam's own wording on the same page, after the denial, still is: the next match of the condition is tried."""
    def rules_read(html: str) -> str:
        return " ".join(finding.reason for finding in run_plugin(yaml_rules, page=html, url="https://h5.example-test.top/"))

    notice = "防騙提示：本平台職員絕不會透過社交平台聯絡您，亦不會要求您先繳付稅款才可提款。"
    assert "zh-invest-tax-before-withdrawal" in " ".join(_matches_bundled(f"<p>{notice}</p>")), "the rule reads it"
    assert "zh-invest-tax-before-withdrawal" not in rules_read(f"<p>{notice}</p>")
    scam = "提现审核未通过：根据规定须先缴纳个人所得税，缴纳后方可解冻到账。"
    assert "zh-invest-tax-before-withdrawal" in rules_read(f"<p>{notice}</p><p>{scam}</p>")


def test_a_page_that_repeats_a_denial_is_read_in_bounded_time() -> None:
    """A hostile page repeating a denied sentence tens of thousands of times does not have every match tried and
    denied: past MATCH_AT_MOST denials a value is given up, so each condition asks at most that many times more."""
    from fraudwall.plugins.rules_engine import MATCH_AT_MOST

    page = make_page("<p>" + "本平台绝不会要求您先缴纳个人所得税才可提现，" * 20_000 + "</p>", "https://h5.example-test.top/")
    ruleset = load_rules([BUNDLED_RULES_DIR])
    asked = []

    def deny_everything(value: str, start: int) -> bool:
        asked.append(start)
        return True

    assert ruleset.match(page, make_url(page.final_url), negated=deny_everything) == []
    text_conditions = sum(condition.field == "text" for rule in ruleset.rules for condition in (*rule.all, *rule.any))
    assert 0 < len(asked) <= (MATCH_AT_MOST + 1) * text_conditions


#: Benign wording each family of mechanism rules could be confused with: the families' rule-id fragments,
#: the page's URL, and the texts (real platforms' and agencies' wording, and warnings that quote the scripts).
LOOKALIKE_GROUPS = [
    # The exit step, agent-supplied accounts, returns, refunds in one's own bank, call-backs, payout fees, virus alerts
    (("tax-before-withdrawal", "pay-or-be-frozen", "agent-supplies", "guaranteed-return-rate",
      "return-per-trade", "refund-in-your-own-bank", "call-within-hours", "fee-to-release", "virus-alert"),
     "https://www.example-shop-test.com/help", [
        "提现时平台将代扣代缴个人所得税，无需另行支付。",
        "期货交易需缴纳保证金，保证金比例以交易所公布为准。入金后即可开仓。",
        "提币需支付网络手续费，手续费将从提币金额中扣除。",
        "本平台客服不会向您提供任何个人收款账户，充值请以App内地址为准。",
        "本基金不保证收益，过往业绩不代表未来表现。",
        "Deposits are credited to the account shown in the app. Support will never give you a wallet address by chat.",
        "Guaranteed Investment Certificate: 4.5% guaranteed interest, FDIC insured.",
        "Risk warning: most traders lose money; never trade more than 2% of your account per trade.",
        "如需退款，款项将原路退回，无需在手机银行进行任何操作；客服不会要求您输入任何代码。",
        "To cancel your subscription, sign in to your account; refunds are available for 30 days.",
        "Microsoft will never display phone numbers in virus warnings. Fake alerts are a scam.",
        "Our antivirus removed 3 threats. Your device is protected. Contact support from the app at any time.",
        "A temporary $1 authorization may be placed on your card to verify it; it is released within days.",
        "Margin call: deposit funds or close positions to restore your margin; positions may be liquidated.",
     ]),
    # Authority fees, officers on chat apps, multiple refunds, lies to the bank, ID photos, benefits, parcels, fines
    (("gift-cards-or-crypto", "officer-on-a-chat-app", "multiple-refund", "hide-the-payment", "id-documents",
      "benefit-with", "benefit-held", "parcel-held", "fine-or-toll"),
     "https://www.example-gov-test.org/help", [
        "The IRS will never ask you to pay with gift cards, Bitcoin or Zelle. Anyone who does is a scammer.",
        "Police will never contact you on WhatsApp or Telegram about a case.",
        "公安机关不会通过微信、QQ办案，凡是自称警官要求视频做笔录的都是诈骗。",
        "消费者权益保护法规定假一赔三，请联系官方客服处理。",
        "转账时请在附言中填写订单号，方便我们核对。",
        "Add a reference such as your invoice number when you transfer the money.",
        "上传身份证正反面照片即可在线开户，全程由系统自动审核。",
        "You do not need to apply for the Cost of Living Payment: it is paid into the account your benefits are paid into.",
        "Pay your court fine online with a debit or credit card. You have 28 days to pay.",
        "Your parcel is on its way and will be delivered today.",
        "包裹已签收，如有疑问请联系客服。",
     ]),
    # Fund checks, paid likes and premium-order top-ups
    (("fund-check", "paid-per-like", "combination-order"),
     "https://www.example-shop-test.com/help", [
        "退款将原路退回，无需您进行任何资金核验操作。",
        "本平台不收取任何费用，点赞关注等任务一单几元、加微信派单的都是诈骗。",
        "Top up your prepaid balance at any time; premium members get free delivery.",
        "開戶須存入首筆資金，資金核驗由銀行系統自動完成。",
     ]),
    # Loan holds, withdrawal deposits, monthly returns and refunds to a card
    (("loan-payout-held", "loan-fee-before", "tax-before-withdrawal", "pay-or-be-frozen", "monthly-return",
      "refund-to-a-card"),
     "https://www.example-bank-test.com/help", [
        "An arrangement fee of £249 is deducted from your loan before funds are released.",
        "Withdrawals are reviewed within 24 hours; there is no fee and no deposit is ever required.",
        "月利率0.8%，借款1万元每月利息80元。",
        "Our savings account pays 4.1% a year, credited monthly.",
        "Refunds go back to the card you paid with; you do not need to enter any card details.",
        "退款将原路退回至您的付款银行卡，无需提供卡号或安全码。",
     ]),
    # Paid recovery of scammed funds, fortunes from small deposits, withdrawal taxes
    (("recovery-of-scammed", "fortune-from", "tax-before-withdrawal"),
     "https://www.example-gov-test.org/help", [
        "Recovery scams target people who already lost money: never pay an upfront fee to get your funds back.",
        "公安机关提醒：声称能追回被骗资金并收取手续费的，都是二次诈骗。",
        "Fake ads claim celebrities turned £250 into £8,400; these endorsements are fake.",
        "We will never ask you to pay a tax to withdraw your funds. Report it.",
     ]),
    # Crypto doubling giveaways
    (("giveaway-doubling",),
     "https://www.example-exchange-test.com/help", [
        "Scam alert: no one will double the bitcoin you send. Never send BTC to a giveaway address.",
     ]),
]
LOOKALIKE_SENTENCES = [(text, fragments, url) for fragments, url, texts in LOOKALIKE_GROUPS for text in texts]

@pytest.mark.parametrize(("text", "fragments", "url"), LOOKALIKE_SENTENCES)
def test_mechanism_rules_spare_their_benign_look_alikes(text: str, fragments: tuple[str, ...], url: str) -> None:
    """Real platforms' and agencies' wording, and the warnings that quote the scripts, match none of the rules."""
    assert not _fired_among(text, fragments, url=url)


def _fired_among(text: str, fragments: tuple[str, ...], url: str) -> set[str]:
    """The bundled rules whose id holds one of ``fragments`` that match a page of ``text``."""
    return {rule for rule in _matches_bundled(f"<p>{text}</p>", url=url) if any(what in rule for what in fragments)}


def _matches_bundled(html: str, url: str = "https://loan-example-test.top/order") -> list[str]:
    page = make_page(html, url)
    return [match.rule.id for match in load_rules([BUNDLED_RULES_DIR]).match(page, make_url(page.final_url))]


def _two_mechanisms(first: str, second: str, score: float) -> str:
    return textwrap.dedent(f"""\
        rules:
          - id: {first}
            category: investment
            score: {score}
            description: first
            match:
              all:
                - {{field: text, contains: 提现}}
          - id: {second}
            category: investment
            score: {score}
            description: second
            match:
              all:
                - {{field: text, contains: 保证金}}
        """)


def test_distinct_mechanisms_add_up_and_one_mechanism_in_two_languages_counts_once() -> None:
    """Two steps of one script (different ids) add up by noisy-OR; the zh- and en- rules of one step do not."""
    page = make_page("<title>提现</title><body>提现须先缴纳保证金</body>")
    url = make_url(page.final_url)

    def score(text: str) -> float:
        (finding,) = yaml_rules.findings(page.final_url, RuleSet(tuple(parse_rules(text, "t.yaml")), (), ()).match(page, url))
        return finding.score

    assert score(_two_mechanisms("zh-hold", "zh-freeze", 0.4)) == 0.64
    assert score(_two_mechanisms("zh-hold", "en-hold", 0.4)) == 0.4
    assert yaml_rules.mechanism("zh-invest-tax-before-withdrawal") == yaml_rules.mechanism("en-invest-tax-before-withdrawal")


def test_a_warning_page_that_asks_for_nothing_is_scaled_down(tmp_path: Path) -> None:
    """A page framed as a warning (warning and narrative words) that asks for nothing keeps a weak finding that says
    why; the same script told straight, or beside a form asking for a card, keeps its full score."""
    (tmp_path / "r.yaml").write_text(textwrap.dedent("""\
        rules:
          - id: zh-test-safe-account
            category: police_impersonation
            score: 0.6
            description: safe account
            match:
              all:
                - {field: text, contains: 安全账户}
    """), encoding="utf-8")
    settings = {"RULES_DIRS": [str(tmp_path)]}
    script = "<p>请立即将资金转入安全账户配合调查。</p>"
    warning = "<p>谨防骗子！请勿相信陌生来电。</p><p>骗子常说：</p>" + script

    def score(html: str) -> float:
        found = [f for f in run_plugin(yaml_rules, page=html, settings=settings) if f.category == "police_impersonation"]
        return max((f.score for f in found), default=0.0)

    assert score(script) == 0.6
    assert 0 < score(warning) < 0.3
    assert "framed as a warning" in next(f.reason for f in run_plugin(yaml_rules, page=warning, settings=settings)
                                         if f.category == "police_impersonation")
    assert score(warning + "<form><label>银行卡号<input name=card></label></form>") == 0.6


def test_a_script_told_as_a_warning_is_not_scaled_down(tmp_path: Path) -> None:
    """A rule with ``frame: false`` keeps its score on a page that narrates victims and names scams, as a recovery
    service's pitch does; the same rule without it is scaled down like any other."""
    recovery = textwrap.dedent("""\
        rules:
          - id: zh-test-recovery
            category: customer_service
            score: 0.5
            description: paid recovery
            frame: {frame}
            match:
              all:
                - {{field: text, contains: 被骗资金追回}}
    """)
    pitch = ("<p>已帮助12847位受害者，被骗资金追回，先追回后收费。谨防所谓免费追回的骗子，切勿轻信。</p>"
             "<p>诈骗平台服务器定位，请勿拖延。</p>")

    def score(frame: str) -> float:
        (tmp_path / "r.yaml").write_text(recovery.format(frame=frame), encoding="utf-8")
        yaml_rules._load.cache_clear()
        found = run_plugin(yaml_rules, page=pitch, settings={"RULES_DIRS": [str(tmp_path)]})
        return max((f.score for f in found if f.category == "customer_service"), default=0.0)

    assert score("false") == 0.5
    assert score("true") < 0.1
