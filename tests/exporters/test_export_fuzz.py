"""Lists nobody wrote by hand: generated hostile list files through the list compiler into every format.

The list compiler and the exporters are a standalone list compiler that ISPs
feed with other people's lists. Whatever a list file holds — directives of
every consumer's grammar, broken IDNs, control characters, odd line ends,
shapes of every list format at once — each format must come out whole: no
render guard tripping (the validation before it let something through), no
exception, every line in the format's own grammar, and the consumers' own
checkers accepting a large generated list in every format.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fraudwall.blocklists.guards import PublishGuard
from fraudwall.exporters import EXPORTERS, ExportMeta, export, get_exporter
from fraudwall.exporters.base import DocumentExporter
from fraudwall.list_compiler import compile_lists

WHEN = datetime(2026, 11, 1, tzinfo=UTC)

# Pieces of every grammar the outputs and inputs speak, and of the names that break them.
FRAGMENTS = [
    "evil", "kefu", "icbc", "usdt", "example", "com", "cn", "com.cn", "top", "github.io", "web.app",
    ".", "..", "-", "_", "*", "*.", "xn--", "xn--zz", "xn--55qx5d", "工商银行", "ａｐｐｌｅ", "\u200b", "\u0301",
    "İ", "ß", "ς", "\u202e", "0.0.0.0 ", "127.0.0.1\t", ":: ", "1.2.3.4", "[::1]", "http://", "https://",
    "/path?q=1", ":8080", "@", "#", "!", ";", ",", '"', "'", "\\", "%", "$", "(", ")", "{", "}", "<script>",
    "||", "|", "^", "@@", "$important", "$INCLUDE /etc/passwd", "$ORIGIN .", "$TTL 0", "server=/x/1.2.3.4",
    "address=/x/#", "local=/x/", "local-zone: \"x.\" static", "include: \"/etc/x\"", "CNAME .", "rpz-passthru.",
    "IN A 1.2.3.4", "acl x dstdomain", "alert dns any any -> any any (msg:\"x\"; sid:1;)", "=cmd|' /C calc'!A0",
    " ", "\t", "a" * 63, "b" * 64, "URL,Date", "url,phish_id", '{"url": "http://x.example.com/"}',
]
SEPARATORS = ["\n", "\r\n", "\r", "\x00", "\u2028", "\x0b", "\x0c", "\x85", ""]
LINE_FORMATS = sorted(name for name in EXPORTERS if not isinstance(get_exporter(name), DocumentExporter))

lines = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=6)), max_size=8).map("".join)
list_files = st.lists(st.tuples(lines, st.sampled_from(SEPARATORS)), max_size=40).map(
    lambda pairs: "".join(line + separator for line, separator in pairs)
)


def _random_list(rng: random.Random, count: int) -> str:
    """``count`` lines of fragments joined at random: the bulk input for the consumers' checkers."""
    out = []
    for _ in range(count):
        line = "".join(rng.choice(FRAGMENTS) for _ in range(rng.randint(1, 7)))
        out.append(line + rng.choice(SEPARATORS[:3]))
    # Plenty of names that survive, so the checkers see full files, not empty ones.
    out += [f"{rng.choice(['kefu', 'usdt', 'loan'])}-{index}.{rng.choice(['top', 'com', 'com.cn', 'xyz'])}\n"
            for index in range(count // 4)]
    return "".join(out)


@settings(max_examples=150, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(text=list_files)
def test_any_list_file_renders_in_every_format(text: str, tmp_path: Path) -> None:
    """A generated list file compiles, and every format renders it without its guard refusing a line."""
    source = tmp_path / "list.txt"
    source.write_bytes(text.encode("utf-8"))
    entries = compile_lists([str(source)], PublishGuard.from_files()).entries
    meta = ExportMeta("fuzz", WHEN)
    for name in sorted(EXPORTERS):
        exporter = get_exporter(name)
        rendered = exporter.render(entries, meta)
        if name in LINE_FORMATS:
            exporter.check_lines(rendered.split("\n")[:-1])


@pytest.mark.parametrize("format_name", sorted(EXPORTERS))
def test_generated_hostile_list_passes_the_consumers_checker(format_name: str, tmp_path: Path) -> None:
    """Thousands of generated hostile lines, published with --verify: the consumer's own checker accepts it."""
    source = tmp_path / "list.txt"
    source.write_text(_random_list(random.Random(20261202), 4000), encoding="utf-8")
    selection = compile_lists([str(source)], PublishGuard.from_files())
    assert len(selection.entries) > 1000  # the names that survive are there to be checked
    result = export(selection.entries, format_name, tmp_path / format_name, title="generated", verify=True,
                    generated_at=WHEN, refused=selection.refused)
    assert result.verified
