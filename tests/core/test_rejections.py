"""Rejections are counted by reason, with a bounded number of samples."""

from __future__ import annotations

from fraudwall.rejections import SAMPLE_LENGTH, Rejections


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
