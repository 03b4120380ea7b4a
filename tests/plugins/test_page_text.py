"""Unit tests for fraudwall.plugins.page_text: what the word-reading detectors read, and how it is normalised."""

from __future__ import annotations

import base64

import pytest
from tests.plugins.detector_helpers import html_doc, page_of

from fraudwall.plugins import page_text
from fraudwall.plugins.page_text import Term, normalize


def flat(html: str) -> str:
    """The matching text of a page built from ``html``."""
    return page_text.page_text(page_of(html)).flat


# -- normalisation -----------------------------------------------------------------


def test_normalize_folds_full_width_and_case() -> None:
    """NFKC turns full-width letters and digits into ASCII; everything is lowercased."""
    assert normalize("ＵＳＤＴ ＱＱ：１２３４５").flat == "usdt qq:12345"


def test_normalize_joins_spaced_and_punctuated_chinese() -> None:
    """Spaces, dots and symbols between Chinese characters disappear; zero-width and bidi characters too."""
    assert normalize("刷 单·返\u200b利").flat == "刷单返利"
    assert normalize("日 赚 ５００ 元").flat == "日赚500元"
    assert normalize("下载 APP").flat == "下载app"
    assert normalize("解\u202e冻\u2060费").flat == "解冻费"


def test_normalize_folds_traditional_to_simplified() -> None:
    """Traditional (and Taiwan/Hong Kong variant) characters match the simplified lexicon."""
    assert normalize("穩賺不賠 帳戶凍結 臺灣").flat == "稳赚不赔账户冻结台湾"


def test_normalize_keeps_latin_word_spacing() -> None:
    """Spaces between Latin words stay, so English terms keep their word boundaries."""
    assert normalize("Like  and\nFollow").flat == "like and follow"


def test_flat_and_raw_positions_map_both_ways() -> None:
    """Every flat index maps to the raw character it came from, and back."""
    text = normalize("欢迎 刷 单·返 利，立即 加入 USDT 我们")
    for index in range(len(text.flat)):
        raw = text.to_raw(index)
        assert text.to_flat(raw) == index
        assert normalize(text.raw[raw]).flat == text.flat[index]


def test_snippet_shows_the_page_spelling() -> None:
    """Evidence snippets come from the readable text, with the spacing and characters the page used."""
    text = normalize("欢迎来到本站 刷 單 返 利 立即加入")
    start = text.flat.index("刷单")
    assert "刷 單" in text.snippet(start, start + 2)


def test_latin_terms_match_whole_words_with_plurals() -> None:
    """'task' matches 'tasks' but not 'multitask'; Chinese terms match anywhere."""
    term = Term.compile("task")
    assert list(term.spans(normalize("daily tasks here")))
    assert not list(term.spans(normalize("multitasking")))
    assert list(Term.compile("刷单").spans(normalize("在家刷单赚钱")))


def test_traditional_and_simplified_terms_compile_to_one() -> None:
    """A lexicon needs only the simplified spelling: both spellings compile to the same term."""
    assert page_text.compile_terms(["刷單", "刷单"]) == (Term.compile("刷单"),)


def test_negation_is_read_in_the_same_clause() -> None:
    """A cue earlier in the same clause negates a term; one in the previous sentence does not."""
    cues = page_text.compile_terms(["不会", "never"])
    terms = page_text.compile_terms(["解冻费"])
    assert page_text.find_terms(normalize("我们不会收取解冻费"), terms, cues) == {}
    assert page_text.find_terms(normalize("我们不会骗人。请缴纳解冻费"), terms, cues)


# -- hidden text --------------------------------------------------------------------


def test_script_strings_decode_every_escape() -> None:
    """\\u, \\x, %u, %XX escapes, HTML entities and String.fromCharCode lists all come out as text."""
    strings = page_text.script_strings([
        'var a = "\\u5237\\u5355"; var b = \'\\x41\\x42\'; var c = unescape("%u8fd4%u5229");'
        ' var d = decodeURIComponent("%E6%97%A5%E7%BB%93"); var e = "&#20323;&#37329;";'
        " var f = String.fromCharCode(0x57ab, 20184);",
        "https://cdn.example/app.js",
    ])
    assert {"刷单", "AB", "返利", "日结", "佣金", "垫付"} <= set(strings)


def test_empty_literals_keep_the_scan_in_step() -> None:
    """An empty string literal does not throw the quote scanner out of step (packer code is full of them)."""
    assert page_text.script_strings(["if(!''.replace(/^/,String)){x='刷单|返利'}"]) == ["刷单|返利"]


def test_attribute_texts_are_read() -> None:
    """Tooltips, aria labels, button values and data-* payloads are text a page shows."""
    html = '<div title="导师带单" data-tip="&#31283;&#36186;" aria-label="日收益"><input type=button value="立即充值"></div>'
    assert {"导师带单", "稳赚", "日收益", "立即充值"} <= set(page_text.attribute_texts(html))


def test_base64_blocks_decode_only_to_text() -> None:
    """A base64 block of UTF-8 text decodes; images, identifiers and random bytes do not."""
    assert page_text.decode_base64_text(base64.b64encode("刷单返利，日结佣金".encode()).decode()) == "刷单返利，日结佣金"
    assert page_text.decode_base64_text(base64.urlsafe_b64encode("导师带单稳赚不赔".encode()).decode()) == "导师带单稳赚不赔"
    png = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(range(256))).decode()
    assert page_text.decode_base64_text(png) is None
    assert page_text.decode_base64_text("abcdefghijklmnopqrstuvwxyz") is None  # a word, not an encoding
    assert page_text.decode_base64_text("short") is None


def test_nested_base64_payloads_are_unwrapped() -> None:
    """A decoded payload that carries its own base64 block is unwrapped too (two layers)."""
    inner = base64.b64encode("名下资金转入安全账户".encode()).decode()
    outer = base64.b64encode(f'<script>var x = atob("{inner}");</script>'.encode()).decode()
    assert any("安全账户" in text for text in page_text.decoded_blocks([outer]))


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("<img src=a.png alt='导师带单'>", "导师带单"),
        ("<script>var s = {\"notice\": \"\\u7a33\\u8d5a\\u4e0d\\u8d54\"};</script>", "稳赚不赔"),
        ('<iframe src="data:text/html;base64,' + base64.b64encode("<p>刷单返利</p>".encode()).decode() + '"></iframe>', "刷单返利"),
        ("<button data-msg='&#35299;&#20923;&#36153;'>x</button>", "解冻费"),
    ],
)
def test_page_text_reads_hidden_places(body: str, expected: str) -> None:
    """Alts, JSON blobs in scripts, base64 data: frames and entity-encoded attributes are all in the page text."""
    assert expected in flat(html_doc(body))


def test_meta_and_title_are_read() -> None:
    """The title and meta descriptions are part of the text (image-only pages put their words there)."""
    html = "<html><head><title>日结兼职</title><meta name='description' content='点赞任务 先垫付'></head><body></body></html>"
    assert "日结兼职" in flat(html) and "点赞任务先垫付" in flat(html)


def test_code_identifiers_are_not_text() -> None:
    """One-word literals of minified code (class names, API paths) are not read as words; sentences are."""
    text = flat(html_doc('<script>api("refund"); show("Refund your order now")</script>'))
    assert "refund your order now" in text and "\nrefund\n" not in f"\n{text}\n"


# -- decoding (fraudwall.pages) -------------------------------------------------------


@pytest.mark.parametrize("encoding", ["gbk", "big5"])
def test_legacy_encodings_decode_without_a_declared_charset(encoding: str) -> None:
    """GBK and Big5 pages that declare no charset are detected and decoded, not read as mojibake."""
    text = "導師帶單，穩賺不賠，每日收益百分之三，名額有限，請聯繫客服領取內部消息。" * 3
    body = f"<html><head><title>投資</title></head><body><p>{text}</p></body></html>".encode(encoding)
    page = page_of(body)
    assert "穩賺不賠" in page.text or "稳赚不赔" in page.text


def test_a_guessed_cp1252_decoding_is_redone() -> None:
    """A body Scrapy decoded with its last-resort cp1252 guess is decoded again with detection."""
    from fraudwall.pages import parse_page

    body = "<html><body><p>無需抵押，即日批核，最快一小時放款，請先繳付解凍費。</p></body></html>".encode("big5")
    page = parse_page("http://x.example/", body, text=body.decode("cp1252", errors="replace"), encoding="cp1252")
    assert "即日批核" in page.text


# -- the warning frame ------------------------------------------------------------------


def test_warning_frame_needs_several_words_one_narrative() -> None:
    """A page warns when it has three or more warning words, one of them narrating fraud in the third person."""
    warns = page_text.warning_frame(page_of(html_doc("<p>警方提示：谨防骗子，切勿轻信，受害人请报警。</p>")))
    assert warns.warns and warns.factor(0.3) < 0.1
    ordinary = page_text.warning_frame(page_of(html_doc("<p>请勿吸烟。</p>")))
    assert not ordinary.warns and ordinary.factor(0.3) == 1.0
