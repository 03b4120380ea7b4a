"""Rejections are counted by reason, with a bounded number of samples."""

from __future__ import annotations

from fraudwall.rejections import SAMPLE_LENGTH, Rejections, readable


def test_counts_samples_and_merge() -> None:
    """Every rejection is counted; samples stop at the cap and are cut to a readable length."""
    first = Rejections(max_samples=3)
    for index in range(5):
        first.add(f"bad{index}.top", "label-too-long")
    first.add("x" * 1000, "bad-character")
    assert first.counts == {"label-too-long": 5, "bad-character": 1} and first.total == 6
    assert len(first.samples) == 3
    second = Rejections()
    second.add("y" * 1000, "ip-literal")
    second.merge(first)
    assert second.total == 7 and len(second.samples[0][0]) == SAMPLE_LENGTH
    assert not Rejections() and second


def test_samples_are_printable_whatever_the_input() -> None:
    """Bytes that were not UTF-8, terminal escapes and line separators are escaped; Chinese text is kept."""
    rejections = Rejections()
    rejections.add("a\udc85b\x1b[2J\u2028中文\ud800 x\n", "bad-character")
    assert rejections.samples == [("a\\x85b\\x1b[2J\\u2028中文\\ud800 x\\n", "bad-character")]
    assert readable("工商银行.top") == "工商银行.top"
    assert rejections.samples[0][0].encode("utf-8")  # a UTF-8 report can hold it
