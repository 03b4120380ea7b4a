"""Indicators in strings: URLs, hosts, IPs, wallets, chat handles, phones, and what must not count."""

from __future__ import annotations

import pytest

from fraudwall.apk_analysis.indicators import Collector, Indicators, bare_host

TRON = "TRTPLGm13bggWoHH36hTyd9JMBd49NqaVD"


def _scan(*strings: str, ignored: tuple[str, ...] = ()) -> Indicators:
    collector = Collector(1000, ignored_addresses=ignored)
    collector.scan("\n".join(strings))
    return collector.result()


def test_urls_and_their_hosts() -> None:
    """http, https, ws and wss URLs are kept (trailing punctuation trimmed) and their hosts listed."""
    found = _scan("https://api.fraud-app.top/v1/login?x=1", "ws://chat.kefu88.vip/ws",
                  "wss://x.fraud.cc/socket).", "see http://x.org/a_(b).")
    assert found.urls == ("https://api.fraud-app.top/v1/login?x=1", "ws://chat.kefu88.vip/ws",
                          "wss://x.fraud.cc/socket", "http://x.org/a_(b)")
    assert found.hosts == ("api.fraud-app.top", "chat.kefu88.vip", "x.fraud.cc", "x.org")


def test_url_inside_chinese_text() -> None:
    """A URL written straight into Chinese text ends where the ASCII ends."""
    found = _scan("请访问https://xiazai.fraud.top/app进行下载")
    assert found.urls == ("https://xiazai.fraud.top/app",)


def test_url_on_an_ip_address() -> None:
    """A URL on an IP address puts the address into ips, not hosts."""
    found = _scan("http://45.137.21.9:8080/api/sms/report")
    assert found.urls == ("http://45.137.21.9:8080/api/sms/report",)
    assert found.ips == ("45.137.21.9",)
    assert found.hosts == ()


def test_urls_without_a_real_host_are_dropped() -> None:
    """Templates, bare schemes, loopback and schema URLs are no indicators."""
    found = _scan("https://%s/api", "http://", "http://127.0.0.1:8080/", "http://localhost/x",
                  "http://schemas.android.com/apk/res/android", "http://www.w3.org/2000/svg",
                  "http://www.apache.org/licenses/LICENSE-2.0")
    assert found == Indicators()


@pytest.mark.parametrize("name", ["api.fraud.com", "fraud-site.top", "m.kefu.vip", "cdn.example-pay.cn"])
def test_bare_hosts(name: str) -> None:
    """A bare lowercase name with a site TLD reads as a host."""
    assert bare_host(name)
    assert _scan(f"host={name}").hosts == (name,)


@pytest.mark.parametrize("name", [
    "androidx.core.app",  # a Kotlin/Java package
    "com.example.app",  # reverse DNS: the first label is a TLD
    "cn.fraud.net",  # likewise, however much it looks like a name
    "java.net",  # a package root
    "user.name",  # a system property
    "libmain.so", "run.sh", "main.py", "README.md",  # file names
    "f.id", "user.id",  # field access
    "a.b",  # not a known TLD
])
def test_names_that_are_not_hosts(name: str) -> None:
    """Packages, properties, file names and field accesses are not taken for hosts."""
    assert not bare_host(name)
    assert _scan(name).hosts == ()


def test_bare_ipv4_rules() -> None:
    """Standalone IPv4 addresses count; versions, user agents, loopback, masks and the app version do not."""
    found = _scan("8.8.8.8", "192.168.1.10", "server=45.76.12.34:9000", "version 1.2.3.4", "ver:4.3.2.1",
                  "Chrome/91.0.4472.120", "Mozilla/5.0.1.2", "v1.2.3.4", "1.2.3.4.5", "127.0.0.1", "0.0.0.0",
                  "255.255.255.0", "224.0.0.1", "2.12.9.2", ignored=("2.12.9.2",))
    assert found.ips == ("8.8.8.8", "192.168.1.10", "45.76.12.34")


def test_bare_ipv6_only_as_a_whole_string() -> None:
    """An IPv6 address counts when it is the whole string; colons in other text do not make one."""
    found = _scan("2001:db8:85a3::8a2e:370:7334", "a:b:c", "::1", "time 12:30:45:10")
    assert found.ips == ("2001:db8:85a3::8a2e:370:7334",)


def test_wallets_need_a_valid_checksum() -> None:
    """Checksum-valid TRON and Ethereum addresses count; a TRON-looking string with a bad checksum does not."""
    found = _scan(f"充值地址：{TRON}", "0x52908400098527886E0F7030069857D2E4169EE7", "T" + "1" * 33)
    assert found.wallets == (("trc20", TRON), ("erc20", "0x52908400098527886E0F7030069857D2E4169EE7"))


def test_chat_links() -> None:
    """Telegram, WhatsApp, QQ, WeChat and LINE links give handles in the page detector's forms."""
    found = _scan("https://t.me/Kefu_888", "tg://resolve?domain=FooBar1", "wa.me/8613912563478",
                  "tencent://message/?uin=123456789&Site=x", "weixin://dl/chat?kefu_abc",
                  "https://line.me/ti/p/~scam.line")
    assert found.handles == (
        ("telegram", "@kefu_888"), ("telegram", "@foobar1"), ("whatsapp", "8613912563478"),
        ("qq", "123456789"), ("wechat", "kefu_abc"), ("line", "scam.line"),
    )


def test_ids_after_a_channel_name() -> None:
    """IDs written after a channel's name count, with or without a colon where the page detector allows it."""
    found = _scan("请联系客服微信：abc_12345", "QQ号：12345678", "飞机 @scam_helper", "加vx: kf2024", "qq 87654321")
    assert set(found.handles) == {
        ("wechat", "abc_12345"), ("qq", "12345678"), ("telegram", "@scam_helper"), ("wechat", "kf2024"),
        ("qq", "87654321"),
    }


def test_channel_words_inside_identifiers_are_not_ids() -> None:
    """A channel word inside code (wxapi, lineSpacing, qqShare) with no ID after it gives nothing."""
    found = _scan("com.tencent.mm.opensdk.wxapi", "lineSpacingExtra", "qqShareCallback", "wa", "tg")
    assert found.handles == ()


def test_ids_do_not_run_across_strings() -> None:
    """A channel word ending one DEX string and digits starting the next are two strings, not one ID."""
    assert _scan("QQ:", "12345678").handles == ()


def test_phones() -> None:
    """Chinese mobiles (with or without +86) and E.164 numbers count, normalised; placeholders do not."""
    found = _scan("客服电话13912563478", "+86 139 5566 7788", "0086 13755667788", "+14155550100",
                  "13000000000", "+12345678901", "1634567890123", "id=139125634789")
    assert found.phones == ("+8613912563478", "+8613955667788", "+8613755667788", "+14155550100")


def test_limit_per_kind() -> None:
    """No more than the limit of values is kept for a kind."""
    collector = Collector(3)
    collector.scan("\n".join(f"https://h{index}.fraud.top/" for index in range(10)))
    assert len(collector.result().urls) == 3


def test_add_url_for_web_shell_start_pages() -> None:
    """A start URL added directly joins urls and hosts; a non-URL is refused."""
    collector = Collector(10)
    assert collector.add_url("https://usdt-licai.vip/#/pages/index")
    assert not collector.add_url("index.html")
    assert collector.result().hosts == ("usdt-licai.vip",)
