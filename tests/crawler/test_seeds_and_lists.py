"""Seeds and list files: what goes in, and what is rejected with a reason."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fraudwall.crawler.feeds import read_lists
from fraudwall.crawler.seeds import looks_like_path, read_seeds
from fraudwall.exceptions import ConfigError, CrawlError
from fraudwall.models import Action, Scope


def test_seeds_from_urls_domains_and_files(tmp_path: Path) -> None:
    """URLs, bare domains and seed files all become targets; bad seeds are counted, not fatal."""
    seed_file = tmp_path / "seeds.txt"
    seed_file.write_text("# comment\nshuadan.top\nhttps://usdt-licai.vip/a#frag\n\nftp://x.top/\nbad..name\n")
    seeds = read_seeds(["http://a.top/", "工行-kefu.top", str(seed_file), "http://a.top/"])
    assert [t.url for t in seeds.targets] == [
        "http://a.top/", "http://工行-kefu.top/", "http://shuadan.top/", "https://usdt-licai.vip/a#frag"]
    assert seeds.targets[2].source == "file:seeds.txt"
    assert dict(seeds.rejected.counts) == {"unsupported-scheme": 1, "empty-label": 1}


def test_list_formats_and_scopes(tmp_path: Path) -> None:
    """Plain, hosts, ABP and URL lines are read with the scope, action and URL their syntax states."""
    listing = tmp_path / "list.txt"
    listing.write_text(
        "! abp comment\n# hosts comment\n0.0.0.0 hosts.top\n127.0.0.1 localhost\nplain.xyz\n||abp.vip^\n"
        "http://url.cyou/path\n@@||allowed.com^\n0.0.0.0 a.top b.top\nserver=/x.com/1.2.3.4\n工商银行.top\n",
        encoding="utf-8",
    )
    read = read_lists([listing])
    assert [(n.name, n.scope, n.action, n.url) for n in read.names] == [
        ("hosts.top", Scope.EXACT, Action.BLOCK, ""), ("plain.xyz", Scope.EXACT, Action.BLOCK, ""),
        ("abp.vip", Scope.SUBTREE, Action.BLOCK, ""), ("url.cyou", Scope.EXACT, Action.BLOCK, "http://url.cyou/path"),
        ("allowed.com", Scope.SUBTREE, Action.ALLOW, ""), ("a.top", Scope.EXACT, Action.BLOCK, ""),
        ("b.top", Scope.EXACT, Action.BLOCK, ""), ("xn--czr93rq40bruk.top", Scope.EXACT, Action.BLOCK, "")]
    assert dict(read.rejected.counts) == {"local-name": 1, "dnsmasq-directive": 1}


@pytest.mark.parametrize("value", ["nosuchfile.txt", "seeds/today.txt", "./seeds", "~/seeds.lst", "feeds.csv"])
def test_missing_seed_file_is_an_error_not_a_domain(tmp_path: Path, value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A value that reads as a path but names no file is an error, never a name looked up in DNS."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match=f"seed file {re.escape(value)} does not exist"):
        read_seeds([value])


@pytest.mark.parametrize("value", ["shop.top/login", "example.com", "工行-kefu.top", "list.zip", "x.co.uk/a"])
def test_domains_and_schemeless_urls_are_not_paths(value: str) -> None:
    """Names with a known top-level domain, and URLs without their scheme, stay seeds."""
    assert not looks_like_path(value)
    assert read_seeds([value]).targets


def test_folder_given_as_seed_file_is_an_error(tmp_path: Path) -> None:
    """A folder is not a seed file, and not a domain either: an input error."""
    with pytest.raises(CrawlError, match="is not a regular file"):
        read_seeds([str(tmp_path)])


@pytest.mark.parametrize("content", [b"good.top\n\x00\x01\x02ELF", b"good.top\n\xff\xfe garbage \xc3\x28\n"])
def test_binary_seed_file_is_rejected_whole(tmp_path: Path, content: bytes) -> None:
    """A seed file that is not UTF-8 text is one counted rejection: none of its bytes become a URL to fetch."""
    binary = tmp_path / "seeds.bin"
    binary.write_bytes(content)
    seeds = read_seeds([str(binary), "other.top"])
    assert [target.url for target in seeds.targets] == ["http://other.top/"]
    assert dict(seeds.rejected.counts) == {"binary-file": 1}
