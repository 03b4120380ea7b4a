"""The command line as a user runs it: commands, outputs, errors and exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from fraudwall.demo.server import SiteServer, bundled_site


def _run(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fraudwall.cli", *args], capture_output=True, text=True, timeout=180, cwd=cwd,
        env={**os.environ, **(env or {})},
    )


def test_plugins_lists_builtins_and_plugin_files(tmp_path: Path) -> None:
    """`fraudwall plugins` shows each plugin's name, version, hooks and origin, --plugin files included."""
    scratch = tmp_path / "scratch.py"
    scratch.write_text("from fraudwall import hookimpl\nname = 'scratch'\nversion = '0.3'\n@hookimpl\ndef analyze_url(url):\n    return None\n")
    result = _run("--plugin", str(scratch), "plugins")
    assert result.returncode == 0, result.stderr
    for text in ("fraud_lexicon", "url_heuristics", "analyze_page", "scratch", "0.3", "entry point"):
        assert text in result.stdout


def test_analyze_pages_json_lines_and_evaluation() -> None:
    """`analyze pages --json` prints one JSON line per page, then precision and recall over the labels."""
    manifest = bundled_site() / "manifest.csv"
    result = _run("analyze", "pages", str(manifest), "--json")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    pages, summary = lines[:-1], lines[-1]["summary"]
    assert len(pages) == sum(1 for _ in manifest.open()) - 1
    malicious = next(p for p in pages if p["file"] == "spp-anquan.cyou/index.html")
    assert malicious["verdict"] == "malicious" and "police_impersonation" in malicious["categories"]
    assert malicious["findings"][0]["evidence"], "a verdict explains itself with evidence"
    assert {"tp", "fp", "fn", "tn", "precision", "recall"} <= set(summary)
    assert summary["labelled"] == len(pages)


def test_analyze_pages_counts_unreadable_rows(tmp_path: Path) -> None:
    """A manifest row whose file is missing or whose URL is unusable is rejected and counted; the rest run."""
    (tmp_path / "ok.html").write_text("<title>hello</title>", encoding="utf-8")
    (tmp_path / "m.csv").write_text("file,url\nok.html,http://ok.example.com/\nmissing.html,http://x.top/\nok.html,http://bad..host/\n")
    result = _run("analyze", "pages", str(tmp_path / "m.csv"), "--json")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 2 and lines[0]["verdict"] == "benign"
    assert lines[-1]["summary"]["rejected"] == 2
    assert "cannot read" in result.stderr and "rejected (empty-label)" in result.stderr


def test_export_from_hostile_list_keeps_only_valid_names(tmp_path: Path) -> None:
    """Exporting list files validates and guards every name; nothing hostile reaches the output."""
    listing = tmp_path / "in.txt"
    listing.write_text(textwrap.dedent("""\
        fraud-one.top
        0.0.0.0 fraud-two.xyz
        ||fraud-three.vip^
        github.io
        icbc.com.cn
        com.cn
        evil.top\\n$INCLUDE /etc/passwd
        local-zone: "x.com" static
        1.2.3.4
        nul\x00byte.top
    """), encoding="utf-8")  # the line above holds a real NUL byte; the $INCLUDE line a literal backslash-n
    out = tmp_path / "list.rpz"
    result = _run("export", "--format", "rpz", "--out", str(out), "--input", str(listing), "--verify")
    assert result.returncode == 0, result.stderr
    body = [line for line in out.read_text().splitlines() if line and not line.startswith((";", "$TTL", "@"))]
    assert body == ["fraud-one.top CNAME .", "fraud-three.vip CNAME .", "*.fraud-three.vip CNAME .", "fraud-two.xyz CNAME ."]
    report = json.loads(Path(f"{out}.report.json").read_text())
    assert report["refused_before_export"] == {
        "allowlisted": 1, "ip-literal": 1, "nul-byte": 1, "public-suffix": 2, "unbound-directive": 1,
        "unrecognised-line": 1}
    # Which inputs were refused, not only how many: list lines name their file and line number.
    samples = {sample["input"]: sample["reason"] for sample in report["refused_samples_before_export"]}
    assert samples['in.txt:8: local-zone: "x.com" static'] == "unbound-directive"
    assert samples["icbc.com.cn"] == "allowlisted"
    assert len(samples) == 7


def test_export_from_undecodable_and_oversized_lists(tmp_path: Path) -> None:
    """Invalid UTF-8 and escape sequences are escaped in the report; a list over LIST_MAX_BYTES stops with a reason."""
    hostile = tmp_path / "bytes.txt"
    hostile.write_bytes(b"fraud-one.top\n\x85bad-byte.top\n\x1b]0;pwned\x07title.top\n")
    big = tmp_path / "big.txt"
    big.write_text("".join(f"big-{n:06d}.top\n" for n in range(100_000)), encoding="ascii")
    out = tmp_path / "list.hosts"
    result = _run("export", "--format", "hosts", "--out", str(out), "--input", str(hostile), "--input", str(big),
                  env={"FRAUDWALL_LIST_MAX_BYTES": "500000"})
    assert result.returncode == 0, result.stderr
    report = json.loads(Path(f"{out}.report.json").read_text(encoding="utf-8"))
    assert report["refused_before_export"] == {"bad-character": 1, "input-too-large": 1, "invalid-utf8": 1}
    samples = [sample["input"] for sample in report["refused_samples_before_export"]]
    assert samples[:2] == ["bytes.txt:2: \\x85bad-byte.top", "bytes.txt:3: \\x1b]0;pwned\\x07title.top"]
    assert samples[2].startswith("big.txt:") and samples[2].endswith("more than 500000 bytes; read up to there")
    blocked = [line.split()[1] for line in out.read_text().splitlines() if line.startswith("0.0.0.0")]
    assert "fraud-one.top" in blocked and 0 < len(blocked) - 1 < 500_000 // 15


def test_export_folder_from_hostile_feed_records(tmp_path: Path) -> None:
    """Feed records built to crash a compiler (huge integers, impossible dates, lone surrogates, port 0, a
    backslash before the host) are counted rejections or read as a browser reads them; every format publishes."""
    feed = tmp_path / "feed.jsonl"
    feed.write_text("\n".join([
        '{"url": "https://first.top/login", "urlhaus_link": "x", "dateadded": "0001-01-01 00:00:00", "threat": "caf\u00e9"}',
        '{"url": "https://bignum.top/", "urlhaus_link": "x", "dateadded": "", "n": ' + "7" * 5000 + "}",
        '{"url": "https://late.top/", "urlhaus_link": "x", "dateadded": "9999-12-31T23:59:59-10:00", "threat": "x"}',
        '{"url": "https://surrogate.top/", "urlhaus_link": "x", "dateadded": "", "tags": "\\ud800"}',
        '{"url": "https://zero.top:0/", "urlhaus_link": "x", "dateadded": ""}',
        '{"url": "https://phish.top\\\\@victim-shop.com/login", "urlhaus_link": "x", "dateadded": ""}',
    ]), encoding="utf-8")
    out = tmp_path / "out"
    result = _run("export", "--format", "all", "--out-dir", str(out), "--input", str(feed), "--verify")
    assert result.returncode == 0, result.stderr
    report = json.loads((out / "fraudwall.json.report.json").read_text(encoding="utf-8"))
    assert report["refused_before_export"] == {"bad-json": 1, "bad-url": 1, "invalid-utf8": 1}
    assert "^https?://phish\\.top(:(80|443))?/@victim-shop\\.com/login(\\?.*)?$" in (
        out / "squid-url-regex.txt").read_text().splitlines()
    records = json.loads((out / "fraudwall.json").read_text(encoding="utf-8"))["entries"]
    assert {entry["name"] for entry in records} == {"first.top", "late.top", "phish.top"}
    assert {entry["first_seen"] for entry in records} == {None}


def test_export_without_database_is_a_clear_error(tmp_path: Path) -> None:
    """Exporting from a database that does not exist says so in one line, exit code 2 (a path on the command line
    that is not there), and creates no database; an empty file there is no database either (exit 3)."""
    result = _run("export", "--format", "hosts", "--out", str(tmp_path / "h"), "--db", str(tmp_path / "none.db"))
    assert result.returncode == 2 and not (tmp_path / "none.db").exists()
    (tmp_path / "empty.db").write_bytes(b"")
    empty = _run("export", "--format", "hosts", "--out", str(tmp_path / "h"), "--db", str(tmp_path / "empty.db"))
    assert empty.returncode == 3 and "is empty: no fraudwall database in it yet" in empty.stderr
    assert (tmp_path / "empty.db").read_bytes() == b"" and not (tmp_path / "h").exists()
    assert "no database" in result.stderr and "Traceback" not in result.stderr


def test_scrapy_crawl_runs_the_same_spider(tmp_path: Path) -> None:
    """`scrapy crawl fraudwall` from the repository root stores pages like `fraudwall crawl` does."""
    repo = Path(__file__).resolve().parent.parent
    db = tmp_path / "f.db"
    with SiteServer() as server:
        env = {
            **os.environ, "FRAUDWALL_DB_PATH": str(db), "FRAUDWALL_ALLOW_NETS": "127.0.0.0/8",
            "FRAUDWALL_HOST_MAP": json.dumps({"spp-anquan.cyou": "127.0.0.1"}), "FRAUDWALL_HOST_MAP_ONLY": "1",
        }
        result = subprocess.run(
            [sys.executable, "-m", "scrapy", "crawl", "fraudwall", "-a", f"seeds={server.url('spp-anquan.cyou')}"],
            cwd=repo, env=env, capture_output=True, text=True, timeout=180,
        )
    assert result.returncode == 0, result.stderr
    export = _run("export", "--format", "domains", "--out", str(tmp_path / "d.txt"), "--db", str(db))
    assert export.returncode == 0, export.stderr
    assert "spp-anquan.cyou" in (tmp_path / "d.txt").read_text().split()


def test_export_folder_manifest_and_deltas(tmp_path: Path) -> None:
    """--out-dir publishes several formats with manifest.json, and each generation records its delta."""
    first, second = tmp_path / "first.txt", tmp_path / "second.txt"
    first.write_text("alpha-scam.top\nbeta-scam.top\n")
    second.write_text("beta-scam.top\ngamma-scam.top\n")
    out = tmp_path / "export"
    for listing, workers in ((first, "2"), (second, "1")):
        result = _run("export", "--format", "hosts,rpz", "--out-dir", str(out), "--input", str(listing), "--verify",
                      "--workers", workers)
        assert result.returncode == 0, result.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["generation"] == 2 and manifest["entries"] == 2
    files = {entry["format"]: entry for entry in manifest["files"]}
    assert files["rpz"]["serial"] > 0 and files["hosts"]["verified"] is True
    import hashlib
    assert files["hosts"]["sha256"] == hashlib.sha256((out / files["hosts"]["file"]).read_bytes()).hexdigest()
    delta = json.loads((out / manifest["delta"]["file"]).read_text())
    assert delta["added"] == ["block gamma-scam.top exact"] and delta["removed"] == ["block alpha-scam.top exact"]
    # The worker count comes from the EXPORT_WORKERS setting when --workers is not given.
    refused = _run("export", "--format", "hosts,rpz", "--out-dir", str(out), "--input", str(first),
                   env={"FRAUDWALL_EXPORT_WORKERS": "-1"})
    assert refused.returncode == 2 and "EXPORT_WORKERS must be at least 0, got -1" in refused.stderr
    assert "environment variable FRAUDWALL_EXPORT_WORKERS" in refused.stderr
    assert json.loads((out / "manifest.json").read_text())["generation"] == 2


def test_verify_command_runs_the_consumer_checker(tmp_path: Path) -> None:
    """`fraudwall verify` accepts a good file and refuses a broken one with the checker's reason, or a device."""
    listing = tmp_path / "in.txt"
    listing.write_text("alpha-scam.top\n")
    zone = tmp_path / "z.rpz"
    assert _run("export", "--format", "rpz", "--out", str(zone), "--input", str(listing)).returncode == 0
    assert _run("verify", "--format", "rpz", str(zone)).returncode == 0
    zone.write_text(zone.read_text().replace("@ IN NS localhost.", "@ IN NS"))
    result = _run("verify", "--format", "rpz", str(zone))
    assert result.returncode == 1 and "error:" in result.stderr
    # A device never ends: refused at once, not read until memory runs out.
    result = _run("verify", "--format", "domains", "/dev/zero")
    assert result.returncode == 3 and "not a regular file" in result.stderr and "Traceback" not in result.stderr


def test_export_options_and_unknown_format(tmp_path: Path) -> None:
    """Format options reach the format (rpz zone and TTL); an unknown format is a usage error."""
    listing = tmp_path / "in.txt"
    listing.write_text("alpha-scam.top\n")
    zone = tmp_path / "z.rpz"
    result = _run("export", "--format", "rpz", "--out", str(zone), "--input", str(listing),
                  "--option", "rpz.ttl=60", "--option", "zone=rpz.example.net", "--verify")
    assert result.returncode == 0, result.stderr
    assert "$TTL 60" in zone.read_text()
    assert _run("verify", "--format", "rpz", "--option", "zone=rpz.example.net", str(zone)).returncode == 0
    bad = _run("export", "--format", "nope", "--out", str(zone), "--input", str(listing))
    assert bad.returncode == 2 and "unknown format" in bad.stderr


PLUGIN_SOURCE = """
from fraudwall import Finding, hookimpl
name = "hello_detector"
version = "{version}"

@hookimpl
def analyze_page(page):
    if {finds} and "hello" in page.text:
        return [Finding(page.final_url, name, version, "loan", 0.9, "says hello")]
"""


def test_reanalyze_runs_changed_plugins_over_stored_pages(tmp_path: Path) -> None:
    """A plugin's new version re-runs over stored pages; old findings stay beside, verdicts follow the new one."""
    from fraudwall.blocklists.store import Store
    from fraudwall.judging import judge
    from fraudwall.pages import parse_page
    from fraudwall.plugin_host import PluginHost
    from fraudwall.settings import Settings

    v1, v2 = tmp_path / "v1.py", tmp_path / "v2.py"
    v1.write_text(PLUGIN_SOURCE.format(version="1", finds=True))
    v2.write_text(PLUGIN_SOURCE.format(version="2", finds=False))
    db = tmp_path / "f.db"
    settings = Settings({"PLUGIN_FILES": [str(v1)]})
    host = PluginHost.from_settings(settings)
    with Store.open(db) as store:
        page = parse_page("http://hello-loan.top/", b"<p>hello</p>")
        judgement = judge(host, page)
        store.record([judgement])
        assert judgement.verdict.status == "malicious"

    result = _run("--plugin", str(v2), "reanalyze", "--db", str(db))
    assert result.returncode == 0, result.stderr
    assert "re-analysed: 1" in result.stdout and "verdicts now benign: 1" in result.stdout
    with Store.open(db) as store:
        versions = [row["detector_version"] for row in store.db.query(
            "SELECT detector_version FROM findings WHERE detector = 'hello_detector'")]
        assert versions == ["1"]  # v1's finding is kept for comparison; v2 found nothing
        assert next(store.verdicts())["status"] == "benign"
    again = _run("--plugin", str(v2), "reanalyze", "--db", str(db))
    assert "up to date: 1" in again.stdout and "re-analysed" not in again.stdout
    forced = _run("--plugin", str(v2), "reanalyze", "--db", str(db), "--rerun", "hello_detector")
    assert "re-analysed: 1" in forced.stdout
    # The same version re-run finds what it found before: nothing new reaches the store, and the summary says so.
    assert "findings new to the store: 0" in forced.stdout and "verdicts now" not in forced.stdout


def test_analyze_pages_refuses_unknown_labels_before_running(tmp_path: Path) -> None:
    """A label other than fraud/benign (say 'phish') is a usage error naming its line; no page is analysed."""
    (tmp_path / "p.html").write_text("<title>x</title>", encoding="utf-8")
    (tmp_path / "m.csv").write_text("file,url,label\np.html,http://a.top/,fraud\np.html,http://b.top/,phish\n")
    result = _run("analyze", "pages", str(tmp_path / "m.csv"), "--json")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        f"error: {tmp_path / 'm.csv'} line 3: unknown label 'phish'; labels are fraud, benign or empty "
        "(see 'python -m fraudwall.cli analyze pages --help')"]


def test_analyze_pages_binary_manifest_is_one_line(tmp_path: Path) -> None:
    """A binary file given as the manifest is a data error in one line, not a UnicodeDecodeError traceback."""
    manifest = tmp_path / "m.csv"
    manifest.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe" + bytes(range(256)))
    result = _run("analyze", "pages", str(manifest))
    assert result.returncode == 3
    assert result.stderr.strip().splitlines() == [f"error: bad-manifest: {manifest} is not UTF-8 text (byte 0)"]


def test_analyze_pages_precision_without_predictions_is_not_a_number(tmp_path: Path) -> None:
    """With no page predicted fraud, precision is n/a (null in JSON), not a perfect 1.000."""
    (tmp_path / "p.html").write_text("<title>weather</title><p>sunny</p>", encoding="utf-8")
    (tmp_path / "m.csv").write_text("file,url,label\np.html,http://weather.example.com/,fraud\n")
    text = _run("analyze", "pages", str(tmp_path / "m.csv"))
    assert text.returncode == 0 and "precision=n/a recall=0.000" in text.stdout
    lines = _run("analyze", "pages", str(tmp_path / "m.csv"), "--json").stdout.splitlines()
    assert json.loads(lines[-1])["summary"]["precision"] is None


def test_export_filters_are_checked(tmp_path: Path) -> None:
    """An unknown --category is a usage error with the closest names; verdict filters with --input too."""
    db = tmp_path / "f.db"
    from fraudwall.blocklists.store import Store

    Store.open(db).close()
    out = tmp_path / "h.hosts"
    result = _run("export", "--format", "hosts", "--out", str(out), "--db", str(db), "--category", "loans")
    assert result.returncode == 2 and "unknown category 'loans'; did you mean loan?" in result.stderr
    assert not out.exists()
    listing = tmp_path / "in.txt"
    listing.write_text("alpha-scam.top\n")
    result = _run("export", "--format", "hosts", "--out", str(out), "--input", str(listing), "--status", "suspicious")
    assert result.returncode == 2 and "filter verdicts in the database" in result.stderr


def test_crawl_refuses_bad_options_at_start(tmp_path: Path) -> None:
    """--resolve without an address, negative limits and a config typo are usage errors before anything is fetched."""
    db = tmp_path / "f.db"
    cases = [
        (["crawl", "--db", str(db), "--resolve", "x.top:notanip", "x.top"], "'notanip' is not an IP address"),
        (["crawl", "--db", str(db), "--depth", "-1", "x.top"], "--depth"),
        (["crawl", "--db", str(db), "--max-pages", "-5", "x.top"], "--max-pages"),
    ]
    for args, message in cases:
        result = _run(*args)
        assert result.returncode == 2 and message in result.stderr, (args, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1 and not db.exists()
    config = tmp_path / "c.toml"
    config.write_text("SCORE_MALICOUS = 0.9\n")
    result = _run("--config", str(config), "crawl", "--db", str(db), "x.top")
    assert result.returncode == 2 and "did you mean SCORE_MALICIOUS" in result.stderr and not db.exists()


def test_crawl_refuses_a_database_that_is_not_ours(tmp_path: Path) -> None:
    """`crawl --db` on a file that is not SQLite, or on another application's database: one line, exit 3, untouched."""
    import sqlite3

    other = tmp_path / "other.db"
    connection = sqlite3.connect(other)
    connection.execute("CREATE TABLE accounts (id INTEGER)")
    connection.commit()
    connection.close()
    text = tmp_path / "notes.db"
    text.write_text("not a database\n" * 100)
    for path in (other, text):
        before = path.read_bytes()
        result = _run("crawl", "--db", str(path), "x.top")
        assert result.returncode == 3 and len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert "Traceback" not in result.stderr and path.read_bytes() == before


def test_reanalyze_counts_only_what_changed_in_the_store(tmp_path: Path) -> None:
    """Re-running a plugin that finds the same things again reports no new findings, however often it runs."""
    from fraudwall.blocklists.store import Store
    from fraudwall.judging import judge
    from fraudwall.pages import parse_page
    from fraudwall.plugin_host import PluginHost
    from fraudwall.settings import Settings

    plugin = tmp_path / "p.py"
    plugin.write_text(PLUGIN_SOURCE.format(version="1", finds=True))
    db = tmp_path / "f.db"
    settings = Settings({"PLUGIN_FILES": [str(plugin)]})
    host = PluginHost.from_settings(settings)
    with Store.open(db) as store:
        page = parse_page("http://hello-loan.top/", b"<p>hello</p>")
        store.record([judge(host, page)])
    for _ in range(2):
        forced = _run("--plugin", str(plugin), "reanalyze", "--db", str(db), "--rerun", "hello_detector")
        assert forced.returncode == 0, forced.stderr
        assert "observations re-analysed: 1" in forced.stdout and "findings new to the store: 0" in forced.stdout
    plugin.write_text(PLUGIN_SOURCE.format(version="2", finds=True))
    bumped = _run("--plugin", str(plugin), "reanalyze", "--db", str(db))
    assert "findings new to the store: 1" in bumped.stdout


def test_exceptions_count_only_from_trusted_abp_lists(tmp_path: Path) -> None:
    """An @@ exception in an --input list is a counted rejection; the same list given with --exceptions-from
    keeps its exception, so no feed can unblock what another blocks."""
    feed = tmp_path / "feed.txt"
    feed.write_text("scam-site.top\nother-scam.top\n")
    abp = tmp_path / "mine.txt"
    abp.write_text("[Adblock Plus 2.0]\n||scam-site.top^\n@@||help.scam-site.top^\n")
    untrusted = _run("export", "--format", "adblock", "--out", str(tmp_path / "u.txt"), "--input", str(feed),
                     "--input", str(abp))
    assert untrusted.returncode == 0, untrusted.stderr
    assert not [line for line in (tmp_path / "u.txt").read_text().splitlines() if line.startswith("@@")]
    report = json.loads((tmp_path / "u.txt.report.json").read_text())
    assert report["refused_before_export"].get("untrusted-exception") == 1
    trusted = _run("export", "--format", "adblock", "--out", str(tmp_path / "t.txt"), "--input", str(feed),
                   "--exceptions-from", str(abp))
    assert trusted.returncode == 0, trusted.stderr
    assert "@@||help.scam-site.top^" in (tmp_path / "t.txt").read_text().splitlines()


def test_analyze_pages_reports_each_class_and_keeps_a_split(tmp_path: Path) -> None:
    """With class and split columns, --split keeps one split's rows and the summary gives each class's pages,
    verdicts and (for fraud classes) recall."""
    site = bundled_site()
    manifest = tmp_path / "m.csv"
    manifest.write_text(
        "file,url,label,class,split\n"
        f"{site}/spp-anquan.cyou/index.html,http://spp-anquan.cyou/,fraud,police,heldout\n"
        f"{site}/spp-anquan.cyou/warrant.html,http://spp-anquan.cyou/warrant.html,fraud,police,tune\n"
        f"{site}/tianqi-app.cn/index.html,http://tianqi-app.cn/,benign,app_store,heldout\n", encoding="utf-8")
    result = _run("analyze", "pages", str(manifest), "--split", "heldout", "--json")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 3
    classes = {entry["class"]: entry for entry in lines[-1]["summary"]["classes"]}
    assert classes["police"] == {"label": "fraud", "class": "police", "pages": 1, "malicious": 1, "suspicious": 0,
                                 "benign": 0, "recall": 1.0}
    assert classes["app_store"]["pages"] == 1 and "recall" not in classes["app_store"]
    missing = _run("analyze", "pages", str(manifest), "--split", "nosuch")
    assert missing.returncode != 0 and "no row" in missing.stderr
