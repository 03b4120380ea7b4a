"""Unit tests for the diversion_channels page detector: chat IDs and wallet addresses as indicators."""

from __future__ import annotations

import hashlib

from tests.core.test_wallets import base58check
from tests.plugins.detector_helpers import MALICIOUS, SUSPICIOUS, html_doc, page_findings, view_of

from fraudwall.plugins import diversion_channels

TRON = base58check(0x41, hashlib.sha256(b"pool").digest()[:20])


def contacts(html: str) -> set[tuple[str, str]]:
    """The chat indicators diversion_channels reads in the page (PageView.contacts)."""
    return set(view_of(html_doc(html)).contacts)


def test_ids_written_beside_channel_names() -> None:
    """QQ, WeChat, Telegram, WhatsApp and LINE IDs written beside their names become indicators."""
    found = contacts("<p>QQ：12345678 微信：kefu-vip888 飞机 @tasks_boss WhatsApp: +44 7700 900812 LINE: fuda88</p>")
    assert {("qq", "12345678"), ("wechat", "kefu-vip888"), ("telegram", "@tasks_boss"),
            ("whatsapp", "+447700900812"), ("line", "fuda88")} <= found


def test_everyday_words_after_a_channel_name_are_not_ids() -> None:
    """'Telegram group', 'WeChat account' or 'line of text' are words, not IDs: without a colon an ID must look like one."""
    assert contacts("<p>Join our Telegram group. Open your WeChat account. The first line explains it.</p>") == set()


def test_chat_links_become_indicators() -> None:
    """t.me, tg://, wa.me, tencent:// and weixin:// links are read as channels."""
    found = contacts(
        '<a href="https://t.me/Boost_Group">群</a> <a href="tg://resolve?domain=vip_mentor">TG</a>'
        '<a href="https://wa.me/85291234567">WA</a> <a href="tencent://message/?uin=99887766">QQ</a>'
    )
    assert {("telegram", "@boost_group"), ("telegram", "@vip_mentor"), ("whatsapp", "85291234567"), ("qq", "99887766")} <= found


def test_wallet_addresses_become_indicators_with_payee_context() -> None:
    """A valid TRON address shown as where to pay is reported with more weight than a bare one."""
    bare = page_findings(diversion_channels, html_doc(f"<p>{TRON}</p>"))[0]
    payee = page_findings(diversion_channels, html_doc(f"<p>USDT 充值地址（TRC20）：{TRON}</p>"))[0]
    assert ("trc20", TRON) in bare.indicators and ("trc20", TRON) in payee.indicators
    assert bare.score < payee.score < SUSPICIOUS


def test_score_stays_modest_whatever_the_page_shows() -> None:
    """Even every channel at once stays below suspicious: legitimate pages show contact IDs too."""
    html = html_doc(f"<p>QQ：12345678 微信：kefu-vip888 飞机 @tasks_boss WhatsApp: +44 7700 900812 充值地址 {TRON}</p>")
    finding = page_findings(diversion_channels, html)[0]
    assert finding.score < SUSPICIOUS < MALICIOUS
    assert finding.category == "diversion" and finding.reason.endswith(".")


def test_warning_pages_keep_their_indicators_at_a_low_score() -> None:
    """A news story quoting a scammer's QQ keeps the ID for campaign linking, with a tiny score."""
    html = html_doc("<p>警方提示：谨防刷单骗局。骗子冒充客服，受害人添加了所谓接待员的QQ：2876651093后被骗。</p>")
    finding = page_findings(diversion_channels, html)[0]
    assert ("qq", "2876651093") in finding.indicators and finding.score <= 0.05


def test_official_names_and_pages_without_channels_get_nothing() -> None:
    """A brand's own page listing its Telegram community, and a page with no channel, get no finding."""
    html = html_doc('<a href="https://t.me/binance_chinese">Telegram</a>')
    assert page_findings(diversion_channels, html, "https://www.binance.com/zh-CN/community") == []
    assert page_findings(diversion_channels, html_doc("<p>天气晴</p>")) == []
