"""The permutation engine: each fuzzer's examples, suffix handling, validity, order, and dnstwist as the floor.

dnstwist is imported, not skipped when absent: the superset property is the
engine's promise, and a test run without the peer would not check it.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from importlib import resources

import dnstwist
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fraudwall.crawler.fuzzers import data, glyphs, is_pinyin, neighbours
from fraudwall.crawler.permutations import FUZZERS, Candidate, brand_domains, permute, punycode
from fraudwall.exceptions import ConfigError, InvalidName
from fraudwall.names import MAX_LABEL_LENGTH, MAX_NAME_LENGTH, is_public_suffix, normalize_name, to_unicode
from fraudwall.reference import brands

# The fuzzers dnstwist runs by default, and the two that need its --dictionary and --tld files.
DNSTWIST_FUZZERS = ("addition", "bitsquatting", "cyrillic", "homoglyph", "hyphenation", "insertion", "omission",
                    "plural", "repetition", "replacement", "subdomain", "transposition", "vowel-swap", "dictionary",
                    "tld-swap", "various")
# Typo fuzzers: they change the label and keep the domain's own suffix.
LABEL_FUZZERS = DNSTWIST_FUZZERS[:13]


def names(domain: str, **options: object) -> dict[str, Candidate]:
    """``permute``'s candidates by name."""
    return {candidate.name: candidate for candidate in permute(domain, **options)}  # type: ignore[arg-type]


def dnstwist_names(domain: str, dictionary: list[str] | None = None, tlds: list[str] | None = None) -> set[str]:
    """dnstwist's candidates for ``domain`` through its Python API, normalised as fraudwall reads names, input left out."""
    fuzzer = dnstwist.Fuzzer(domain, dictionary=dictionary or [], tld_dictionary=list(tlds or []))
    fuzzer.generate()
    return {normalize_name(permutation["domain"]) for permutation in fuzzer.domains} - {domain}


# -- the API ---------------------------------------------------------------------


def test_fuzzers_in_run_order_and_every_dnstwist_fuzzer_there() -> None:
    """FUZZERS lists dnstwist's fuzzers in its order, then ours; every fuzzer dnstwist knows is one of them."""
    assert FUZZERS == (*DNSTWIST_FUZZERS, "dictionary-tld", "fraud-word", "pinyin", "brand-number")
    probe = dnstwist.Fuzzer("example.domain", ["foo"], ["bar"])  # as dnstwist's CLI lists its own fuzzers
    probe.generate()
    assert {permutation["fuzzer"] for permutation in probe.domains} - {"*original"} <= set(FUZZERS)


@pytest.mark.parametrize(("domain", "fuzzer", "expected", "options"), [
    ("icbc.com.cn", "addition", ["icbca.com.cn", "icbc7.com.cn", "aicbc.com.cn"], {}),
    ("zhujiang-bank.com.cn", "addition", ["zhujiangx-bank.com.cn", "zhujiang-xbank.com.cn"], {}),
    ("icbc.com.cn", "bitsquatting", ["kcbc.com.cn", "icbb.com.cn", "acbc.com.cn"], {}),
    ("icbc.com.cn", "homoglyph", ["lcbc.com.cn", "1cbc.com.cn", "icbe.com.cn", "lcbe.com.cn"], {}),
    ("icbc.com.cn", "hyphenation", ["i-cbc.com.cn", "ic-bc.com.cn", "icb-c.com.cn"], {}),
    ("icbc.com.cn", "insertion", ["iucbc.com.cn", "uicbc.com.cn", "icbcv.com.cn"], {}),
    ("icbc.com.cn", "omission", ["cbc.com.cn", "ibc.com.cn", "icb.com.cn"], {}),
    ("alipay.com", "plural", ["alipays.com", "alispay.com"], {}),
    ("icbc.com.cn", "repetition", ["iicbc.com.cn", "icbcc.com.cn"], {}),
    ("icbc.com.cn", "replacement", ["ucbc.com.cn", "ixbc.com.cn"], {}),
    ("icbc.com.cn", "subdomain", ["i.cbc.com.cn", "ic.bc.com.cn", "icb.c.com.cn"], {}),
    ("icbc.com.cn", "transposition", ["cibc.com.cn", "ibcc.com.cn", "iccb.com.cn"], {}),
    ("alipay.com", "vowel-swap", ["elipay.com", "alipoy.com"], {}),
    ("icbc.com.cn", "dictionary", ["icbc-kefu.com.cn", "icbckefu.com.cn", "kefu-icbc.com.cn", "kefuicbc.com.cn"],
     {"dictionary": ["kefu"]}),
    ("zhujiang-bank.com.cn", "dictionary", ["zhujiang-kefu.com.cn", "kefu-bank.com.cn"], {"dictionary": ["kefu"]}),
    ("icbc.com.cn", "tld-swap", ["icbc.cn", "icbc.com", "icbc.top", "icbc.xyz", "icbc.vip", "icbc.net.cn"], {}),
    ("icbc.com.cn", "various", ["icbccom.cn", "icbc-com.cn", "icbc.cn", "icbccn.com", "icbc-cn.com",
                                "wwwicbc.com.cn"], {}),
    ("google.cn", "various", ["googlecn.cn", "google-cn.com", "googlecn.com"], {}),
    ("icbc.com.cn", "dictionary-tld", ["icbc-kefu.top", "kefuicbc.xyz", "icbckefu.cn"], {"dictionary": ["kefu"]}),
    ("icbc.com.cn", "fraud-word", ["icbc-kefu.com", "icbckefu.top", "icbc-vip.top", "icbc-kefu.com.cn",
                                   "kefu-icbc.com", "icbc-tuikuan.xyz", "icbc-refund.cc"], {}),
    ("icbc.com.cn", "pinyin", ["gonghang.top", "gonghang.com", "gonghang-kefu.com", "gongshangyinhang.cn"], {}),
    ("icbc.com.cn", "brand-number", ["icbc95588.com", "icbc-95588.top", "95588icbc.cn", "95588-kefu.com",
                                     "95588kefu.com.cn", "95588.top"], {}),
])
def test_each_fuzzer_makes_its_examples(domain: str, fuzzer: str, expected: list[str], options: dict[str, object]) -> None:
    """Each fuzzer, run alone, makes the lookalikes it is there for."""
    found = names(domain, fuzzers=[fuzzer], **options)
    assert {candidate.fuzzer for candidate in found.values()} == {fuzzer}
    assert [name for name in expected if name not in found] == []


def test_cyrillic_swaps_the_whole_label() -> None:
    """icbc becomes ісьс (every letter Cyrillic), shown in Unicode and named in its A-label."""
    found = permute("icbc.com.cn", fuzzers=["cyrillic"])
    assert found == [Candidate("xn--q1aa6a0b.com.cn", "cyrillic", "ісьс.com.cn")]
    assert to_unicode(found[0].name) == "ісьс.com.cn"


def test_homoglyphs_follow_the_registry() -> None:
    """.com takes accented Latin lookalikes (ícbc.com); .com.cn, whose registry takes none, gets ASCII ones only."""
    com = {candidate.unicode_name for candidate in permute("icbc.com", fuzzers=["homoglyph"])}
    assert {"ícbc.com", "icbċ.com", "ıcbc.com", "lcbc.com", "ícbċ.com"} <= com
    com_cn = permute("icbc.com.cn", fuzzers=["homoglyph"])
    assert com_cn and all(candidate.name.isascii() and "xn--" not in candidate.name for candidate in com_cn)


def test_first_fuzzer_wins_and_each_name_once() -> None:
    """In a full run a name made by several fuzzers appears once, credited to the first in FUZZERS order."""
    found = permute("icbc.com.cn")
    assert len({candidate.name for candidate in found}) == len(found)
    by_name = {candidate.name: candidate.fuzzer for candidate in found}
    assert by_name["lcbc.com.cn"] == "homoglyph"  # replacement (i -> l is no key neighbour) and homoglyph: homoglyph first
    assert by_name["icbcs.com.cn"] == "addition"  # addition before plural
    assert by_name["icbc.cn"] == "tld-swap"  # tld-swap before various
    assert by_name["icbc-kefu.com"] == "fraud-word"
    order = [FUZZERS.index(candidate.fuzzer) for candidate in found]
    assert order == sorted(order)


def test_fuzzers_run_in_their_own_order_whatever_the_order_given() -> None:
    """Asking for omission then addition gives the same list as the other way round: addition's names first."""
    found = permute("icbc.com.cn", fuzzers=["omission", "addition"])
    assert found == permute("icbc.com.cn", fuzzers=("addition", "omission"))
    assert [candidate.fuzzer for candidate in found[:1]] == ["addition"]
    assert {candidate.fuzzer for candidate in found} == {"addition", "omission"}


def test_input_is_never_a_candidate() -> None:
    """The domain itself is left out, even where a fuzzer would make it again (transposing cc, various)."""
    for domain in ("icbc.com.cn", "10086.cn", "www.icbc.com.cn", "ccb.com"):
        assert domain not in names(domain)


def test_brand_domains_are_the_brands_domains_once_sorted() -> None:
    """brand_domains() is every brand's official domains, each once, sorted."""
    domains = brand_domains()
    assert domains == sorted(set(domains))
    assert set(domains) == {domain for brand in brands() for domain in brand.domains}
    assert {"icbc.com.cn", "mps.gov.cn", "12306.cn"} <= set(domains)


# -- suffixes ----------------------------------------------------------------------


def test_com_cn_keeps_its_suffix_and_tld_swap_changes_all_of_it() -> None:
    """icbc.com.cn: the label is permuted under .com.cn; tld-swap replaces com.cn whole (icbc.cn, icbc.top)."""
    found = names("icbc.com.cn")
    for name, candidate in found.items():
        if candidate.fuzzer in LABEL_FUZZERS:
            assert name.endswith(".com.cn"), name
    assert "icbc.top" in found and "icbc.cn" in found
    assert not {"icbc.com.top", "icbc.com.cn.top", "icbc.con.cn", "icbc.com.cm"} & set(found)


def test_gov_cn_permutes_the_label_only() -> None:
    """12321.gov.cn and mps.gov.cn: gov.cn stays (22321.gov.cn, nps.gov.cn); various folds it (mpsgov.cn)."""
    numbers = names("12321.gov.cn")
    assert {"22321.gov.cn", "1231.gov.cn", "12312.gov.cn", "12321.cn", "12321.top"} <= set(numbers)
    assert all(name.endswith(".gov.cn") for name, c in numbers.items() if c.fuzzer in LABEL_FUZZERS)
    assert {"nps.gov.cn", "mpsgov.cn", "mps.cn", "mps-gov.cn"} <= set(names("mps.gov.cn"))


def test_subdomain_stays_in_front() -> None:
    """www.icbc.com.cn: the label under the suffix is permuted and www kept; various also runs www into it."""
    found = names("www.icbc.com.cn")
    assert {"www.lcbc.com.cn", "www.icbc.top", "www.icbc-kefu.com", "wwwicbc.com.cn", "www-icbc.com.cn"} <= set(found)
    assert "www.icbc.com.cn" not in found


def test_idn_domain_is_permuted_in_unicode() -> None:
    """工商银行.中国 is read in Unicode: its TLD swaps and fraud words come back as IDNs in both forms."""
    found = {candidate.unicode_name: candidate for candidate in permute("工商银行.中国")}
    assert {"工商银行.top", "工商银行.com", "工商银行-kefu.com", "工商银行客服.com"} <= set(found)
    assert found["工商银行.top"].name == normalize_name("工商银行.top")


def test_own_tlds_replace_the_bundled_list() -> None:
    """tlds= gives tld-swap and dictionary-tld their suffixes (any case, dots, Unicode): the bundled list is not added."""
    found = permute("icbc.com.cn", fuzzers=["tld-swap", "dictionary-tld"], tlds=[".TOP", "中国", "com.cn"],
                    dictionary=["kefu"])
    assert [c.name for c in found if c.fuzzer == "tld-swap"] == ["icbc.top", "icbc.xn--fiqs8s"]
    assert {"icbc-kefu.top", "icbc-kefu.xn--fiqs8s"} <= {c.name for c in found if c.fuzzer == "dictionary-tld"}
    assert {c.name.partition(".")[2] for c in found} == {"top", "xn--fiqs8s"}


def test_data_file_opens_with_its_schema_comment() -> None:
    """permutations.toml explains its schema and how to extend it, like the other reference files."""
    text = resources.files("fraudwall").joinpath("data", "permutations.toml").read_text(encoding="utf-8")
    header = text[: text.index("\n[")]
    assert text.startswith("#") and all(line.startswith("#") for line in header.strip().splitlines())
    assert "Schema" in header and "Extending" in header


def test_bundled_tld_lists_are_public_suffixes() -> None:
    """Every suffix the bundled lists swap to or join fraud words with is a public suffix, suspicious TLDs included."""
    table = data()
    for suffix in (*table.swap_tlds, *table.fraud_tlds, *table.near_tlds):
        assert is_public_suffix(suffix), suffix
    assert {"top", "xyz", "vip", "com", "cn", "com.cn"} <= set(table.swap_tlds)


# -- validity --------------------------------------------------------------------


@pytest.mark.parametrize("domain", ["icbc.com.cn", "microsoftonline.com", "12321.gov.cn", "www.icbc.com.cn",
                                    "sf-international.com", "amazon.de", "hsbc.co.uk", "工商银行.中国", "t.me",
                                    "10086.cn", "foo.github.io"])
def test_every_candidate_is_a_valid_name(domain: str) -> None:
    """Every candidate passes normalize_name unchanged, shows its own U-label form, and has sound labels."""
    found = permute(domain, dictionary=["kefu", "客服", "xn--3ds443g", "secure.login"], tlds=["top", "中国", "co.uk"])
    assert found
    for candidate in found:
        assert normalize_name(candidate.name) == candidate.name, candidate
        assert candidate.unicode_name == to_unicode(candidate.name), candidate
        assert len(candidate.name) <= MAX_NAME_LENGTH
        for label in candidate.name.split("."):
            assert 0 < len(label) <= MAX_LABEL_LENGTH and label[0] != "-" and label[-1] != "-", candidate


def test_dns_limits_hold_at_the_edge() -> None:
    """A 253-character name with a 57-letter label: nothing longer than 253, no label over 63, and still candidates."""
    # x has few lookalikes: a run of 57 letters with many would make millions of double homoglyphs.
    domain = ".".join(["a" * 63, "b" * 63, "c" * 63, "x" * 57, "com"])
    assert len(domain) == MAX_NAME_LENGTH
    found = permute(domain)
    assert found
    assert all(len(c.name) <= MAX_NAME_LENGTH for c in found)
    long_label = permute(("e" * 63) + ".com", fuzzers=["addition", "insertion", "omission", "tld-swap"])
    assert {c.fuzzer for c in long_label} == {"omission", "tld-swap"}  # additions and insertions would pass 63


def test_dictionary_a_label_words_join_as_letters() -> None:
    """A dictionary word given as an A-label (xn--ubtq9x, 客服) joins the label as the characters it stands for."""
    found = {c.unicode_name for c in permute("icbc.com.cn", fuzzers=["dictionary"], dictionary=["xn--ubtq9x"])}
    assert {"icbc客服.com.cn", "客服-icbc.com.cn"} <= found


def test_brand_number_and_pinyin_for_a_brand_token_on_another_suffix() -> None:
    """icbc.top belongs to no brand, but its label is icbc's token: it still gets 95588 and gonghang."""
    found = names("icbc.top", fuzzers=["brand-number", "pinyin"])
    assert {"icbc95588.top", "95588-kefu.com", "gonghang.top"} <= set(found)
    assert names("zhujiang-bank.com.cn", fuzzers=["brand-number", "pinyin"]) == {}


def test_pinyin_names_are_told_from_other_tokens() -> None:
    """Tokens that split into two or more pinyin syllables are pinyin names; abbreviations and English are not."""
    assert all(is_pinyin(token) for token in ("gonghang", "gongshangyinhang", "zhaohang", "zhifubao", "xingye"))
    assert not any(is_pinyin(token) for token in ("icbc", "cmbchina", "wechat", "man", "paypal", "gjfzzx", "95588"))


# -- order -----------------------------------------------------------------------


def test_same_output_every_run_and_every_hash_seed() -> None:
    """The list is identical twice in one process and under two other PYTHONHASHSEEDs (no set order leaks out)."""
    domains = ["icbc.com.cn", "alipay.com", "www.icbc.com.cn"]
    options = {"dictionary": ["kefu", "客服", "login"], "tlds": ["top", "cn", "xyz"]}

    def digest() -> str:
        text = "".join(f"{c.name} {c.fuzzer} {c.unicode_name}\n" for d in domains for c in permute(d, **options))
        return hashlib.sha256(text.encode()).hexdigest()

    here = digest()
    assert digest() == here
    script = ("import hashlib; from fraudwall.crawler.permutations import permute; "
              f"domains = {domains!r}; options = {options!r}; "
              "text = ''.join(f'{c.name} {c.fuzzer} {c.unicode_name}\\n' for d in domains for c in permute(d, **options)); "
              "print(hashlib.sha256(text.encode()).hexdigest())")
    for seed in ("1", "4242"):
        result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                                env={**os.environ, "PYTHONHASHSEED": seed})
        assert result.stdout.strip() == here


# -- errors ----------------------------------------------------------------------


@pytest.mark.parametrize(("domain", "reason"), [
    ("", "empty"),
    ("icbc", "single-label"),
    ("com.cn", "public-suffix"),
    ("gov.cn", "public-suffix"),
    ("github.io", "public-suffix"),
    ("1.2.3.4", "ip-literal"),
    ("icbc.zzzz", "unknown-suffix"),
    ("icbc..com.cn", "empty-label"),
    ("-icbc.com.cn", "bad-character"),
    ("http://icbc.com.cn/", "bad-character"),
    ("a" * 64 + ".com", "label-too-long"),
])
def test_bad_domains_are_refused_with_a_reason(domain: str, reason: str) -> None:
    """A domain that is no registrable name raises InvalidName with a countable reason."""
    with pytest.raises(InvalidName) as raised:
        permute(domain)
    assert raised.value.reason == reason


@pytest.mark.parametrize("options", [
    {"fuzzers": ["homoglyph", "typo"]},
    {"fuzzers": "homoglyph"},
    {"tlds": ["top", "notatld"]},
    {"tlds": ["bad tld"]},
    {"dictionary": ["two words"]},
    {"dictionary": ["c++"]},
])
def test_bad_options_are_config_errors(options: dict[str, object]) -> None:
    """An unknown fuzzer, a TLD that is no public suffix or a word no name can hold is a ConfigError."""
    with pytest.raises(ConfigError):
        permute("icbc.com.cn", **options)  # type: ignore[arg-type]


# -- dnstwist as the floor -------------------------------------------------------------


@pytest.mark.parametrize("domain", brand_domains())
def test_superset_of_dnstwist_for_every_brand_domain(domain: str) -> None:
    """Every name dnstwist's default run makes for a brand domain, fraudwall makes too."""
    ours = {candidate.name for candidate in permute(domain)}
    assert sorted(dnstwist_names(domain) - ours) == []


@pytest.mark.parametrize("domain", ["icbc.com.cn", "zhujiang-bank.com.cn", "microsoft.com", "mps.gov.cn", "amazon.de"])
def test_superset_of_dnstwist_with_the_same_dictionary_and_tlds(domain: str) -> None:
    """Given the same --dictionary words and --tld list, dnstwist's names are still all ours."""
    words = ["kefu", "login", "secure-pay", "客服", "xn--3ds443g", "icbc"]
    tlds = ["top", "com", "cn", "com.cn", "xyz", "co.uk", "xn--fiqs8s"]
    ours = {candidate.name for candidate in permute(domain, dictionary=words, tlds=tlds)}
    assert sorted(dnstwist_names(domain, words, tlds) - ours) == []


def test_glyph_and_keyboard_tables_cover_dnstwists() -> None:
    """Our lookalikes hold each of dnstwist's, per registry, and our key neighbours each of its layouts'."""
    for suffix, table in dnstwist.Fuzzer.glyphs_idn_by_tld.items():
        ours = glyphs(suffix)
        for key, lookalikes in {**dnstwist.Fuzzer.glyphs_ascii, **table}.items():
            assert set(lookalikes) <= set(ours.get(key, ())), (suffix, key)
    ours = glyphs("com")
    for key, lookalikes in {**dnstwist.Fuzzer.glyphs_ascii, **dnstwist.Fuzzer.glyphs_unicode}.items():
        assert set(lookalikes) <= set(ours.get(key, ())), key
    for layout in dnstwist.Fuzzer.keyboards:
        for key, near in layout.items():
            assert set(near) <= set(neighbours()[key]), key


@given(st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x2FFFF, exclude_categories=("Cs",)),
               min_size=1, max_size=30))
def test_punycode_matches_the_codec(label: str) -> None:
    """Our Punycode encoder gives what Python's codec gives, for any text."""
    assert punycode(label) == label.encode("punycode").decode("ascii")
