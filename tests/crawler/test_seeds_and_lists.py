"""Seeds and list files: what goes in, and what is rejected with a reason.

A seed file is read as ``export --input`` reads a list or feed: these tests hold
``read_seeds`` to the same formats and the same counted rejections.
"""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pytest

from fraudwall.crawler.seeds import looks_like_path, read_seeds
from fraudwall.exceptions import ConfigError, CrawlError
from tests.core.lists.samples import JPCERT_CSV, PHISHTANK_RECORD, URLHAUS_CSV


def test_seeds_from_urls_domains_and_files(tmp_path: Path) -> None:
    """URLs, bare domains and seed files all become targets; bad seeds are counted, not fatal."""
    seed_file = tmp_path / "seeds.txt"
    seed_file.write_text("# comment\nshuadan.top\nhttps://usdt-licai.vip/a#frag\n\nftp://x.top/\nbad..name\n")
    seeds = read_seeds(["http://a.top/", "工行-kefu.top", str(seed_file), "http://a.top/"])
    assert [t.url for t in seeds.targets] == [
        "http://a.top/", "http://工行-kefu.top/", "http://shuadan.top/", "https://usdt-licai.vip/a#frag"]
    assert seeds.targets[2].source == "file:seeds.txt"
    assert dict(seeds.rejected.counts) == {"unsupported-scheme": 1, "empty-label": 1}


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


# -- feeds as seeds -------------------------------------------------------------

URLHAUS_TARGETS = [
    "http://shuadan-fanli.top/bin.sh", "https://app-xiazai-vip.top/apk/kefu.apk", "http://61.54.253.89:37352/i"]


def test_urlhaus_csv_seed_file(tmp_path: Path) -> None:
    """Each URL of a URLhaus CSV dump is a target, its feed the source (one on a public address too); a row
    without a URL is the rejection ``export --input`` counts, its sample naming file and line."""
    feed = tmp_path / "urlhaus.csv"
    feed.write_text(URLHAUS_CSV, encoding="utf-8")
    seeds = read_seeds([str(feed)])
    assert [target.url for target in seeds.targets] == URLHAUS_TARGETS
    assert {target.source for target in seeds.targets} == {"file:urlhaus.csv"}
    assert dict(seeds.rejected.counts) == {"no-url": 1}
    assert seeds.rejected.samples[0][0].startswith("urlhaus.csv:11: ")


def test_compressed_feed_seed_file(tmp_path: Path) -> None:
    """A gzip-compressed feed is read as seeds as it is by export: text once decompressed, not a binary file."""
    feed = tmp_path / "urlhaus.csv.gz"
    feed.write_bytes(gzip.compress(URLHAUS_CSV.encode()))
    seeds = read_seeds([str(feed)])
    assert [target.url for target in seeds.targets] == URLHAUS_TARGETS
    assert dict(seeds.rejected.counts) == {"no-url": 1}


def test_phishtank_json_seed_file(tmp_path: Path) -> None:
    """Each verified http(s) URL of a PhishTank JSON dump is a target; an unverified record and a mailto: URL
    are rejected as export rejects them."""
    feed = tmp_path / "online-valid.json"
    records = [PHISHTANK_RECORD, dict(PHISHTANK_RECORD, phish_id=2, url="https://gone.top/x", verified="no"),
               dict(PHISHTANK_RECORD, phish_id=3, url="mailto:kefu@jd-tuikuan.top"),
               dict(PHISHTANK_RECORD, phish_id=4, url="https://kefu.jd-tuikuan.top/refund")]
    feed.write_text(json.dumps(records, indent=2), encoding="utf-8")
    seeds = read_seeds([str(feed)])
    assert [(target.url, target.source) for target in seeds.targets] == [
        ("https://usdt-licai.vip/login.php?id=1", "file:online-valid.json"),
        ("https://kefu.jd-tuikuan.top/refund", "file:online-valid.json")]
    assert dict(seeds.rejected.counts) == {"unverified": 1, "unsupported-scheme": 1}


def test_jpcert_csv_seed_file(tmp_path: Path) -> None:
    """Each URL of a JPCERT/CC CSV is a target as a client sends it (a space as %20); a URL whose scheme lost
    its h (``ttps://``) is ``unsupported-scheme``, never fetched."""
    feed = tmp_path / "202503.csv"
    feed.write_text(JPCERT_CSV, encoding="utf-8")
    seeds = read_seeds([str(feed)])
    assert [target.url for target in seeds.targets] == [
        "https://suill.cn/aeondsjkJKFD9834jkhKJ/", "http://arrow.razor.jp/special/,v/crypt/crypt/index.php",
        "https://www.etc-noreply.aibnwfgcdu.com/", "https://47.238.159.31/",
        "http://marikitpark.com/chameleon%20page/hotmail/"]
    assert dict(seeds.rejected.counts) == {"unsupported-scheme": 1}
    assert seeds.rejected.samples == [
        ("202503.csv:6: 2021/12/16 09:22:00,ttps://www.jaccss.co.jp-service.gotobed.cn/,Amazon", "unsupported-scheme")]


def test_abp_list_seed_file(tmp_path: Path) -> None:
    """Every name an ABP/AdGuard list blocks (subtree or exact) and every hosts-line name is a target
    ``http://name/``; an ``@@`` exception is no seed but an ``untrusted-exception``, and a narrowed rule
    an ``abp-option``, as in an export."""
    rules = tmp_path / "filters.txt"
    rules.write_text(
        "[Adblock Plus 2.0]\n! Title: fraud domains\n||shuadan.top^\n|exact.usdt-licai.vip^\n@@||kefu.jd.com^\n"
        "||third.top^$third-party\n0.0.0.0 hosts-line.top\n.squid-style.top\n", encoding="utf-8")
    seeds = read_seeds([str(rules), "http://shuadan.top/"])
    assert [target.url for target in seeds.targets] == [
        "http://shuadan.top/", "http://exact.usdt-licai.vip/", "http://hosts-line.top/", "http://squid-style.top/"]
    assert dict(seeds.rejected.counts) == {"untrusted-exception": 1, "abp-option": 1}
    assert seeds.rejected.samples[0] == ("filters.txt:5: @@||kefu.jd.com^", "untrusted-exception")
