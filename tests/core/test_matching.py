"""Unit tests for fraudwall.matching: how text is normalised for matching, and how terms are matched against it."""

from __future__ import annotations

import re
import unicodedata

import pytest

from fraudwall import matching, reference
from fraudwall.matching import FORMAT_CHARACTERS, Term, compile_lexicon, normalize


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


def test_clause_ends_and_quotes_still_part_chinese_words() -> None:
    """A clause end or a quotation mark between two words keeps them apart, so no term runs across it: a warning
    that names 「投資老師」、「助理」 holds neither 老师助理 (a scam persona) nor anything across its full stop; an
    enumeration comma still joins, as scam lists write 点赞、关注."""
    assert "老师助理" not in normalize("若有人以「投資老師」、「助理」名義聯絡").flat
    assert "骗人请" not in normalize("我们不会骗人。请缴纳").flat and "安全账户" not in normalize("很安全，账户").flat
    assert "点赞关注" in normalize("给商家点赞、关注、收藏").flat


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
    assert matching.compile_terms(["刷單", "刷单"]) == (Term.compile("刷单"),)


def test_negation_is_read_in_the_same_clause() -> None:
    """A cue earlier in the same clause negates a term; one in the previous sentence does not."""
    cues = matching.compile_terms(["不会", "never"])
    terms = matching.compile_terms(["解冻费"])
    assert matching.find_terms(normalize("我们不会收取解冻费"), terms, cues) == {}
    assert matching.find_terms(normalize("我们不会骗人。请缴纳解冻费"), terms, cues)
    long_list = "本行不会透过 WhatsApp、社交媒体、短讯或来电要求阁下下载远端控制程式、分享萤幕、报出户口结余或缴纳解冻费"
    assert matching.find_terms(normalize(long_list), terms, cues) == {}

def test_latin_terms_match_spaced_or_hyphenated() -> None:
    """A Latin term written with spaces matches its hyphenated spelling and the other way round (a hyphen inside
    a compound reads as a space); words joined without either do not, and numbers keep their hyphens."""
    terms = matching.compile_terms(["product rating", "top-up", "2383-1000"])
    assert set(matching.find_terms(normalize("our product-rating programme, then a top up"), terms)) == {
        "product rating", "top up"}
    assert set(matching.find_terms(normalize("call 2383-1000"), terms)) == {"2383-1000"}
    assert matching.find_terms(normalize("productrating and topup"), terms) == {}


def test_a_term_named_as_a_scam_is_not_counted() -> None:
    """'an advance-fee scam' and 刷单诈骗 name a scam, as warnings do; the same terms running it count."""
    cues = matching.compile_terms(["never"])
    terms = matching.compile_terms(["advance fee", "刷单"])
    assert matching.find_terms(normalize("this is an advance-fee scam. 谨防刷单诈骗"), terms, cues) == {}
    assert set(matching.find_terms(normalize("pay the advance fee now. 刷单返利"), terms, cues)) == {
        "advance fee", "刷单"}


def test_negation_before_a_position_of_any_string() -> None:
    """negated_before reads the clause before a position of a plain string as negated() reads a term's: a cue
    in the same clause negates, one before a clause end or a line break does not."""
    cues = matching.compile_terms(["不会", "never"])
    value = "本平台不会要求您缴纳解冻费。请立即缴纳解冻费\n我们不会骗人\n缴纳解冻费"
    first, second, third = (i for i in range(len(value)) if value.startswith("缴纳解冻费", i))
    assert matching.negated_before(value, first, cues)
    assert not matching.negated_before(value, second, cues) and not matching.negated_before(value, third, cues)
    assert matching.negated_before("We will never ask for a fee", 25, cues)


# -- the warning frame ------------------------------------------------------------------


def test_warning_frame_needs_several_words_one_narrative() -> None:
    """A text warns when it has three or more warning words, one of them narrating fraud in the third person."""
    compiled = compile_lexicon(reference.lexicon())
    warns = matching.warning_frame(normalize("警方提示：谨防骗子，切勿轻信，受害人请报警。"), compiled)
    assert warns.warns and warns.factor(0.3) < 0.1
    ordinary = matching.warning_frame(normalize("请勿吸烟。"), compiled)
    assert not ordinary.warns and ordinary.factor(0.3) == 1.0


def test_hong_kong_and_taiwan_warnings_narrate_with_their_own_words() -> None:
    """騙徒 (scammer) and 受騙 (deceived) are how Hong Kong and Taiwan warnings narrate, and 防詐 how Taiwan's
    headline them: a consumer council's table of the fees scammers name, or an exchange's notice that it never
    charges them, reads as a warning."""
    compiled = compile_lexicon(reference.lexicon())
    council = "本會整理騙徒常用的收費名目：解凍費、保證金。切勿向個人戶口轉賬，如懷疑受騙，應立即報警或致電防騙易熱線18222。"
    assert matching.warning_frame(normalize(council), compiled).warns
    exchange = "防騙提示：近期有騙徒以導師帶單等名義，誘導投資者下載非持牌交易程式。"
    assert matching.warning_frame(normalize(exchange), compiled).warns
    fees = "防詐提醒：MAX 不會要求您先繳納保證金才能出金。若有人以投資老師名義請您轉出，極可能是投資詐騙，請撥打 165 反詐騙專線。"
    assert matching.warning_frame(normalize(fees), compiled).warns


# -- the lexicon ---------------------------------------------------------------------------


def test_bundled_lexicon_is_compiled_once() -> None:
    """Reference data is compiled once per process (a cache keyed on the lexicon, never on a page)."""
    assert compile_lexicon(reference.lexicon()) is compile_lexicon(reference.lexicon())


def test_lexicon_hits_are_read_only() -> None:
    """The hits one page's detectors share cannot be changed by one of them: a read-only mapping of tuples."""
    hits = matching.lexicon_hits(normalize("在家刷单，日结佣金，先垫付后返利"), compile_lexicon(reference.lexicon()))
    assert hits["task_rebate"] and isinstance(hits["task_rebate"], tuple)
    with pytest.raises(TypeError):
        hits["task_rebate"] = ()  # type: ignore[index]


def test_format_characters_are_every_format_character_of_the_basic_plane() -> None:
    """The spelled-out format characters removed before matching are exactly Unicode's ``Cf`` of the basic plane."""
    spelled = re.compile(f"[{FORMAT_CHARACTERS}]")
    expected = {chr(c) for c in range(0x10000) if unicodedata.category(chr(c)) == "Cf"}
    assert {chr(c) for c in range(0x10000) if spelled.fullmatch(chr(c))} == expected
