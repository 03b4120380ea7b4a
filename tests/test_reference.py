"""Tests for fraudwall.reference: the bundled reference data and its loaders."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

from fraudwall import reference
from fraudwall.exceptions import ConfigError
from fraudwall.models import Category
from fraudwall.names import registrable_domain

DATA_FILES = (
    "brands.toml", "fraud_lexicon.toml", "domain_words.toml", "shared_platforms.toml", "allowlist.toml", "t2s.toml",
    "page_signals.toml",
)
# Categories of fraudwall.models plus the one the lexicon adds for its fake-subsidy script.
KNOWN_CATEGORIES = {str(category) for category in Category} | {"fake_subsidy"}


# -- the bundled files -----------------------------------------------------------


@pytest.mark.parametrize("filename", DATA_FILES)
def test_every_data_file_opens_with_its_schema_comment(filename: str) -> None:
    """Each reference file starts by explaining its schema and how to extend it."""
    lines = resources.files("fraudwall").joinpath("data", filename).read_text(encoding="utf-8").splitlines()
    header = "\n".join(line for line in lines[: next(i for i, line in enumerate(lines) if not line.startswith("#"))])
    assert lines[0].startswith("#")
    assert "Schema" in header and "Extending" in header


def test_bundled_brands_cover_the_protected_sectors() -> None:
    """Banks, payment, telecoms, e-commerce, government and global brands are all present."""
    kinds = {brand.kind for brand in reference.brands()}
    assert {"bank", "payment", "telecom", "ecommerce", "government", "global"} <= kinds
    ids = {brand.id for brand in reference.brands()}
    assert {"icbc", "ccb", "abc", "boc", "bocom", "cmb", "psbc", "alipay", "wechatpay", "unionpay"} <= ids
    assert {"chinamobile", "unicom", "chinatelecom", "taobao", "jd", "pinduoduo", "meituan"} <= ids
    assert {"mps", "spp", "court", "antifraud", "apple", "paypal", "microsoft", "amazon", "binance"} <= ids


def test_brand_ids_are_unique_and_icbc_is_complete() -> None:
    """Brand ids are unique; ICBC carries names, tokens, hotline and official domain."""
    ids = [brand.id for brand in reference.brands()]
    assert len(ids) == len(set(ids))
    icbc = next(brand for brand in reference.brands() if brand.id == "icbc")
    assert "工商银行" in icbc.names and "ICBC" in icbc.names
    assert {"icbc", "gonghang"} <= set(icbc.tokens)
    assert "95588" in icbc.hotlines
    assert "icbc.com.cn" in icbc.domains


def test_brand_domains_are_registrable_domains() -> None:
    """Official domains are registrable domains, so ownership checks are suffix-aware and exact."""
    for brand in reference.brands():
        for domain in brand.domains:
            assert registrable_domain(domain) == domain, f"{brand.id}: {domain}"


def test_tokens_are_lowercase_ascii() -> None:
    """Label tokens are what appears in A-label domain names: lowercase ASCII."""
    for brand in reference.brands():
        for token in (*brand.tokens, *brand.exact_tokens):
            assert token.isascii() and token == token.lower(), f"{brand.id}: {token}"


def test_lexicon_has_every_script_with_valid_categories() -> None:
    """The five fraud scripts and the fake-app script exist, each with known category and core groups."""
    lexicon = reference.lexicon()
    ids = {script.id for script in lexicon.scripts}
    assert {"task_rebate", "investment", "loan", "customer_service", "impersonation", "subsidy", "fake_app"} <= ids
    for script in lexicon.scripts:
        assert script.category in KNOWN_CATEGORIES
        group_names = {group.name for group in script.groups}
        assert len(group_names) >= 2 and set(script.core) <= group_names
        assert all(group.terms for group in script.groups)


def test_lexicon_is_bilingual_and_has_the_warning_frame() -> None:
    """Scripts carry Chinese and English terms; the warning frame has the narrative words."""
    lexicon = reference.lexicon()
    terms = {term for script in lexicon.scripts for group in script.groups for term in group.terms}
    assert {"刷单", "like and follow", "解冻费", "unfreeze fee", "安全账户", "safe account"} <= terms
    assert {"谨防", "警惕", "切勿", "反诈", "警方提示", "beware"} <= set(lexicon.warning)
    assert {"骗子", "诈骗分子", "所谓", "scammer", "so-called"} <= set(lexicon.narrative)
    assert {kind.name for kind in lexicon.credential_fields} >= {"id_number", "bank_card", "card_pin", "password", "sms_code"}


def test_domain_words_and_tlds() -> None:
    """Fraud words for labels include the pinyin classics; TLDs are bare and confusables single characters."""
    words = reference.domain_words()
    all_words = {word for theme in words.themes for word in (*theme.words, *theme.exact)}
    assert {"kefu", "tuikuan", "daikuan", "licai", "touzi", "jiedong", "anquan", "app", "vip", "download", "xiazai"} <= all_words
    assert {"top", "xyz", "vip", "icu"} <= words.suspicious_tlds
    assert all("." not in tld for tld in words.suspicious_tlds)
    assert all(len(char) == 1 for char in words.confusables)
    assert all(theme.category in KNOWN_CATEGORIES for theme in words.themes)


# -- questions -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "brand_id"),
    [("icbc.com.cn", "icbc"), ("www.icbc.com.cn", "icbc"), ("MyBank.ICBC.com.cn.", "icbc"), ("m.jd.com", "jd"), ("www.spp.gov.cn", "spp")],
)
def test_brand_for_domain_is_suffix_aware(name: str, brand_id: str) -> None:
    """A brand owns its official domains and every name under them."""
    brand = reference.brand_for_domain(name)
    assert brand is not None and brand.id == brand_id


@pytest.mark.parametrize("name", ["icbc.com.cn.secure-login.xyz", "icbc-kefu.top", "fakeicbc.com.cn", "example.com"])
def test_brand_for_domain_ignores_lookalikes(name: str) -> None:
    """Names that merely contain a brand are not owned by it."""
    assert reference.brand_for_domain(name) is None


def test_allowlist_includes_brand_domains_and_top_sites() -> None:
    """Brands' official domains are allowlisted automatically, beside the listed top sites."""
    names = reference.allowlist()
    assert {"icbc.com.cn", "alipay.com", "mps.gov.cn", "baidu.com", "qq.com", "google.com"} <= names


@pytest.mark.parametrize("name", ["www.icbc.com.cn", "icbc.com.cn", "news.baidu.com", "www.google.com"])
def test_is_allowlisted_covers_subdomains(name: str) -> None:
    """Allowlisting is suffix-aware: www.icbc.com.cn is allowlisted because icbc.com.cn is."""
    assert reference.is_allowlisted(name)


@pytest.mark.parametrize("name", ["icbc.com.cn.evil.top", "evil-baidu.com", "phish.sites.google.com", "x.github.io"])
def test_is_allowlisted_rejects_lookalikes_and_tenants(name: str) -> None:
    """Lookalikes are not allowlisted, nor tenants under a shared platform of an allowlisted operator."""
    assert not reference.is_allowlisted(name)


def test_no_shared_platform_tenant_is_allowlisted() -> None:
    """The allowlist never vouches for a platform's tenants, so fraud there stays blockable."""
    for apex in reference.shared_platforms():
        assert not reference.is_allowlisted(f"tenant-name.{apex}"), apex


def test_shared_platform_apex_and_tenant() -> None:
    """Apexes are recognised as such; their subdomains report the apex they live under."""
    for apex in ("github.io", "web.app", "vercel.app", "pages.dev", "workers.dev", "netlify.app", "duckdns.org", "ngrok-free.app"):
        assert reference.is_shared_platform_apex(apex)
        assert reference.shared_platform_of(f"icbc-login.{apex}") == apex
    assert not reference.is_shared_platform_apex("icbc-login.github.io")
    assert reference.shared_platform_of("github.io") is None
    assert reference.shared_platform_of("example.com") is None


def test_cached_loaders_return_the_same_object() -> None:
    """The short-named loaders are cached: detectors can call them per page for free."""
    assert reference.brands() is reference.brands()
    assert reference.lexicon() is reference.lexicon()


# -- user extensions -------------------------------------------------------------


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_extra_brands_merge_by_id_and_add_new_ones(tmp_path: Path) -> None:
    """An extra file extends an existing brand's lists and adds new brands."""
    extra = _write(tmp_path, "brands.toml", """
[[brand]]
id = "icbc"
domains = ["icbc-example.cn"]

[[brand]]
id = "zhujiang"
kind = "bank"
names = ["珠江银行"]
tokens = ["zhujiangbank"]
domains = ["zhujiang-bank.com.cn"]
""")
    brands = {brand.id: brand for brand in reference.load_brands([extra])}
    assert {"icbc.com.cn", "icbc-example.cn"} <= set(brands["icbc"].domains)
    assert brands["icbc"].kind == "bank" and "95588" in brands["icbc"].hotlines
    assert brands["zhujiang"].tokens == ("zhujiangbank",)
    assert reference.brand_for_domain("www.zhujiang-bank.com.cn", brands.values()).id == "zhujiang"


def test_extra_lexicon_extends_groups_and_adds_scripts(tmp_path: Path) -> None:
    """An extra lexicon file adds terms to a group and may add a whole script."""
    extra = _write(tmp_path, "lexicon.toml", """
[scripts.loan.groups]
mechanism = ["提额费"]

[scripts.lottery]
category = "lottery"
label = "lottery scam"
core = ["prize"]
[scripts.lottery.groups]
prize = ["中奖"]
fee = ["手续费"]
""")
    lexicon = reference.load_lexicon([extra])
    loan_mechanism = next(g for g in lexicon.script("loan").groups if g.name == "mechanism")
    assert "提额费" in loan_mechanism.terms and "解冻费" in loan_mechanism.terms
    assert lexicon.script("lottery").core == ("prize",)


def test_extra_lists_merge(tmp_path: Path) -> None:
    """Allowlist, shared platforms and domain words extend with extra files."""
    allow = _write(tmp_path, "allow.toml", 'domains = ["Example-Bank.CN"]')
    shared = _write(tmp_path, "shared.toml", 'apexes = ["pages.example.net"]')
    words = _write(tmp_path, "words.toml", 'suspicious_tlds = [".zip"]\n[themes.loan]\ncategory = "loan"\nwords = ["kuaijie"]')
    assert {"example-bank.cn", "baidu.com"} <= reference.load_allowlist([allow])
    assert {"pages.example.net", "github.io"} <= reference.load_shared_platforms([shared])
    loaded = reference.load_domain_words([words])
    assert "zip" in loaded.suspicious_tlds and "top" in loaded.suspicious_tlds
    assert "kuaijie" in next(theme for theme in loaded.themes if theme.id == "loan").words


def test_bad_extra_files_raise_config_error(tmp_path: Path) -> None:
    """Broken TOML, missing files and missing required fields are ConfigError, naming the problem."""
    with pytest.raises(ConfigError, match="not valid TOML"):
        reference.load_brands([_write(tmp_path, "bad.toml", "[[brand]\n")])
    with pytest.raises(ConfigError, match="cannot read"):
        reference.load_allowlist([tmp_path / "missing.toml"])
    with pytest.raises(ConfigError, match="'kind' is required"):
        reference.load_brands([_write(tmp_path, "nokind.toml", '[[brand]]\nid = "newbank"\n')])
    with pytest.raises(ConfigError, match="core"):
        reference.load_lexicon([_write(tmp_path, "nocore.toml", '[scripts.x]\ncategory = "x"\nlabel = "x"\ncore = ["nope"]\n[scripts.x.groups]\na = ["b"]\n')])


# -- character folding, page vocabulary, brand apps ---------------------------------


def test_t2s_maps_single_characters_and_covers_the_scripts_vocabulary() -> None:
    """The fold table maps one character to one, and folds the traditional spellings of script words."""
    table = reference.t2s()
    assert len(table) > 4000 and all(len(k) == 1 == len(v) for k, v in table.items())
    fold = str.maketrans({k: v for k, v in table.items()})
    assert "刷單 解凍費 穩賺不賠 帳戶".translate(fold) == "刷单 解冻费 稳赚不赔 账户"


def test_lexicon_terms_are_written_simplified() -> None:
    """Lexicon terms are already folded: a traditional term would be a second, unreachable spelling."""
    fold = str.maketrans(dict(reference.t2s()))
    lexicon = reference.lexicon()
    words = [term for script in lexicon.scripts for group in script.groups for term in group.terms]
    words += [*lexicon.warning, *lexicon.narrative, *lexicon.negation_cues, *lexicon.cta_phrases]
    assert [word for word in words if word.translate(fold) != word] == []


def test_extra_t2s_entries_win(tmp_path: Path) -> None:
    """An extra fold file adds entries and overrides bundled ones; a multi-character value is refused."""
    extra = _write(tmp_path, "t2s.toml", '[characters]\n"𠮷" = "吉"\n')
    assert reference.load_t2s([extra])["𠮷"] == "吉"
    bad = _write(tmp_path, "bad.toml", '[characters]\n"萬" = "一万"\n')
    with pytest.raises(ConfigError):
        reference.load_t2s([bad])


def test_page_signals_vocabulary() -> None:
    """Claim words, mention cues, channel words and app vocabulary are present and normalised."""
    signals = reference.page_signals()
    assert {"官方", "网上银行", "sign in"} <= set(signals.claim_words)
    assert {"支持", "冒充"} <= set(signals.mention_cues) and "支付方式" in signals.list_cues
    assert {"qq", "wechat", "telegram", "whatsapp"} <= signals.channel_words.keys()
    assert "testflight.apple.com" in signals.app_distribution_hosts and "充值地址" in signals.crypto_context


def test_brands_carry_their_official_apps() -> None:
    """Official app names are part of a brand, for fake-app claims."""
    apps = {brand.id: brand.apps for brand in reference.brands()}
    assert "工银融e联" in apps["icbc"] and "云闪付App" in apps["unionpay"]


def test_domain_words_lookalike_tables() -> None:
    """Confusables, letter-pair sequences and everyday words exempt from typo matching load from domain_words.toml."""
    words = reference.domain_words()
    assert words.confusables["а"] == "a" and words.sequences["rn"] == "m"
    assert {"cloud", "finance"} <= words.not_typos


@pytest.mark.parametrize(("name", "brand"), [
    ("www.hsbc.com.sg", "hsbc"),
    ("amazon.com.mx", "amazon"),
    ("paypal.com.au", "paypal"),
    ("hsbc.co.uk", None),  # listed: the brand owns it
    ("hsbc-secure.com.sg", None),
    ("paypal.com.evil.top", None),
    ("icbc.com.cn", None),
])
def test_a_brands_official_domain_under_a_countrys_suffix_is_its_country_site(name: str, brand: str | None) -> None:
    """``hsbc.com`` with Singapore's suffix is HSBC's country site; a listed domain is owned, and the brand's
    name inside another registered name is not its site."""
    found = reference.country_site_brand(name)
    assert (found.id if found else None) == brand


def test_unreviewed_platforms_are_shared_platforms() -> None:
    """Every platform listed as publishing unreviewed is one of the shared platforms (a tenant boundary)."""
    from fraudwall import reference

    assert reference.unreviewed_platforms() <= reference.shared_platforms()
    assert "aliyuncs.com" in reference.unreviewed_platforms() and "github.io" not in reference.unreviewed_platforms()


def test_an_unreviewed_platform_that_is_no_apex_is_refused(tmp_path) -> None:
    """An extra file naming an unreviewed platform that is not a shared apex is a configuration error, named."""
    import pytest
    from fraudwall import reference
    from fraudwall.exceptions import ConfigError

    extra = tmp_path / "platforms.toml"
    extra.write_text('apexes = []\nunreviewed = ["pages.example-host.net"]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="pages.example-host.net"):
        reference.load_unreviewed_platforms([extra])


def test_shorteners_are_shared_platforms_and_no_apex_is_refused(tmp_path) -> None:
    """The link shorteners (followed one hop by the crawler) are shared apexes; an extra file naming one that
    is no apex is a configuration error, named."""
    import pytest
    from fraudwall import reference
    from fraudwall.exceptions import ConfigError

    assert {"t.cn", "bit.ly"} <= reference.shorteners() <= reference.shared_platforms()
    assert "github.io" not in reference.shorteners()
    extra = tmp_path / "platforms.toml"
    extra.write_text('apexes = []\nshorteners = ["go.example-links.net"]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="shorteners platforms that are no apex.*go.example-links.net"):
        reference.load_shorteners([extra])
