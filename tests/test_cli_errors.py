"""Every command against bad inputs: the documented exit code, one `error: ` line, nothing published or touched.

ISPs run fraudwall from cron; its exit code and its refusal to publish are their only protection. The contract
(fraudwall/exit_codes.py): 0 ok, 1 the operation failed (a verification that did not pass), 2 usage (bad option
or value, unknown format, category or config key, a config file that is not valid settings, an argument naming
a path that does not exist), 3 input or data (a file that exists but is unusable: empty where content is
needed, binary, a directory or device where a file is read, the wrong format, not SQLite or someone else's
SQLite database, an unwritable output), 4 a crawl that fetched nothing, 5 a list
not published because it would collapse (unless --allow-shrink), 130 interrupted. For every error: exactly one
line on stderr starting with `error: `, no traceback, and no file replaced or created.

Each case runs in a folder of its own holding every file it names (built on first use from the `{key}`
placeholders of its arguments), and the whole folder is compared byte for byte before and after the run:
a published list, its report and `.prev`, a database given with --db, a folder that is not an output, all
unchanged. The table runs once, a few cases at a time, in a module fixture; each test asserts one row.

Nothing here leaves the machine: crawls go to a loopback port where nothing listens, every name is answered
by --resolve and FRAUDWALL_HOST_MAP_ONLY forbids DNS. A FIFO is watched (a reader blocked on it is noticed
and released), every run has a 60 s timeout, and a 4 GiB address-space limit turns reading /dev/zero into
a failure instead of a machine out of memory.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import gzip
import hashlib
import json
import os
import shutil
import socket
import sqlite3
import stat
import struct
import subprocess
import sys
import threading
import time
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

TIMEOUT = 60  # seconds for any one run of the CLI
FIFO_GRACE = 10  # seconds a process may keep a FIFO open for reading before it counts as blocked on it
MEMORY_LIMIT = 4 << 30  # address space of each CLI run
WORKERS = 4  # CLI runs at a time

# Sets the address-space limit, then becomes `python -m fraudwall.cli ARGS` (same pid, so a timeout kills it).
_LAUNCH = (
    "import os, resource, sys\n"
    "limit = int(sys.argv[1])\n"
    "resource.setrlimit(resource.RLIMIT_AS, (limit, limit))\n"
    "os.execv(sys.argv[2], [sys.argv[2], '-m', 'fraudwall.cli', *sys.argv[3:]])\n"
)


def _names(prefix: str, start: int, stop: int) -> list[str]:
    return [f"{prefix}-{n:04d}.top" for n in range(start, stop)]


PREVIOUS = _names("scam-site", 0, 300)  # first good generation: ends up as `.prev`
PUBLISHED = _names("scam-site", 50, 350)  # second good generation: the live list every export case starts from
THREE = PUBLISHED[:3]
# 2,000 feed lines, the live list first; names after it are hashed so that the feed does not compress too well.
FEED = PUBLISHED + [f"h{hashlib.sha256(str(n).encode()).hexdigest()[:16]}.top" for n in range(1700)]
INVALID_LINES = [
    "not a domain name", "-leading-hyphen.top", "bad..label.top", "com.cn", "1.2.3.4",
    "server=/x.top/1.2.3.4", 'local-zone: "x.top" static', "printer.local", "$INCLUDE /etc/passwd",
]
FOLDER_FORMATS = "hosts,domains"


def _lines(names: list[str]) -> bytes:
    return "".join(f"{name}\n" for name in names).encode("ascii")


def _png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b""))


def _hosts_names(path: Path) -> set[str]:
    """The names a published hosts file blocks."""
    return {line.split()[1] for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("0.0.0.0 ")}


def _free_port() -> int:
    """A loopback port nothing listens on (bound once to find it, then closed)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- the world the cases share: published lists to copy, a dead port ----------------------------------------


@dataclasses.dataclass
class World:
    """What cases copy from: a published hosts list (with report and .prev) and a published export folder."""

    root: Path
    dead_port: int
    published: dict[str, Path] = dataclasses.field(default_factory=dict)  # "file": folder holding list.hosts,
    # list.hosts.prev and list.hosts.report.json; "folder": an --out-dir export folder at its second generation
    publish_log: list[Run] = dataclasses.field(default_factory=list)
    ready: dict[str, threading.Event] = dataclasses.field(
        default_factory=lambda: {"file": threading.Event(), "folder": threading.Event()})

    def require(self, kind: str) -> Path:
        self.ready[kind].wait(4 * TIMEOUT)
        if kind not in self.published:
            raise RuntimeError("the good lists could not be published, so this case has nothing to protect: "
                               + "; ".join(f"{run.args} -> {run.returncode}: {run.stderr.strip()}"
                                           for run in self.publish_log))
        return self.published[kind]


class Files:
    """The inputs of one case, made in its folder on first use: `{binary}` in its arguments is a binary file."""

    def __init__(self, folder: Path, world: World) -> None:
        self.folder, self.world = folder, world
        self.made: dict[str, str] = {}
        self.fifos: list[Path] = []

    def __getitem__(self, key: str) -> str:
        if key not in self.made:
            self.made[key] = str(getattr(self, f"make_{key}")())
        return self.made[key]

    def _write(self, name: str, data: bytes) -> Path:
        path = self.folder / name
        path.write_bytes(data)
        return path

    # paths that do not exist
    def make_missing(self) -> Path:
        return self.folder / "does-not-exist.txt"

    def make_missing_db(self) -> Path:
        return self.folder / "does-not-exist.db"

    def make_no_such_folder(self) -> Path:
        return self.folder / "no-such-folder"

    def make_new_db(self) -> Path:
        return self.folder / "new.db"

    # unusable inputs
    def make_empty(self) -> Path:
        return self._write("empty.txt", b"")

    def make_empty_db(self) -> Path:
        return self._write("empty.db", b"")

    def make_binary(self) -> Path:
        return self._write("binary.txt", bytes(range(256)) * 16)

    def make_dir(self) -> Path:
        folder = self.folder / "a-directory"
        folder.mkdir()
        (folder / "inside.txt").write_text("inside-a-directory.top\n", encoding="ascii")
        return folder

    def make_fifo(self) -> Path:
        path = self.folder / "pipe"
        os.mkfifo(path)
        self.fifos.append(path)
        return path

    def make_devzero(self) -> str:
        return "/dev/zero"

    def make_png(self) -> Path:
        return self._write("feed.png", _png())

    def make_apk(self) -> Path:
        path = self.folder / "app.apk"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as apk:
            apk.writestr("AndroidManifest.xml", b"\x03\x00\x08\x00" + bytes(range(256)) * 4)
            apk.writestr("classes.dex", b"dex\n035\x00" + bytes(range(256)) * 8)
            apk.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\n")
        return path

    def make_json_manifest(self) -> Path:
        self._write("page.html", b"<title>hello</title>")
        return self._write("manifest.json", json.dumps([{"file": "page.html", "url": "http://json-page.top/"}]).encode())

    def make_wrong_columns(self) -> Path:
        self._write("page.html", b"<title>hello</title>")
        return self._write("manifest.csv", b"path,link\npage.html,http://csv-page.top/\n")

    def make_other_db(self) -> Path:
        path = self.folder / "customers.db"
        connection = sqlite3.connect(path)
        connection.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, iban TEXT)")
        connection.execute("INSERT INTO customers (name, iban) VALUES ('Li Wei', 'CN00 0000 0000 0000')")
        connection.commit()
        connection.close()
        return path

    def make_text_db(self) -> Path:
        return self._write("notes.db", b"not a database, just notes\n" * 100)

    def make_gz_stub(self) -> Path:
        return self._write("feed-stub.txt.gz", gzip.compress(_lines(FEED), mtime=0)[:12])

    def make_gz_half(self) -> Path:
        whole = gzip.compress(_lines(FEED), mtime=0)
        return self._write("feed-half.txt.gz", whole[: len(whole) // 2])

    # good inputs
    def make_good(self) -> Path:
        return self._write("good.txt", _lines(PUBLISHED))

    def make_three(self) -> Path:
        return self._write("three.txt", _lines(THREE))

    def make_invalid(self) -> Path:
        return self._write("invalid.txt", "\n".join(INVALID_LINES + [""]).encode())

    def make_plain_file(self) -> Path:
        return self._write("plain-file", b"a regular file, not a folder\n")

    def make_store_db(self) -> Path:
        from fraudwall.blocklists.store import Store  # a real, empty fraudwall database, made as tests/test_cli.py does

        path = self.folder / "fraudwall.db"
        Store.open(path).close()
        return path

    # configuration and plugins
    def make_typo_config(self) -> Path:
        return self._write("typo.toml", b"SCORE_MALICOUS = 0.9\n")

    def make_bad_value_config(self) -> Path:
        return self._write("bad-value.toml", b'SCORE_MALICIOUS = "very high"\n')

    def make_json_config(self) -> Path:
        return self._write("settings.toml", b'{"SCORE_MALICIOUS": 0.9}\n')

    def make_broken_plugin(self) -> Path:
        return self._write("broken.py", b"name = 'broken'\nversion = '1'\ndef analyze_page(page:\n")

    # published outputs, copied from the world
    def make_out(self) -> Path:
        target = self.folder / "published"
        shutil.copytree(self.world.require("file"), target)
        return target / "list.hosts"

    def make_outdir(self) -> Path:
        target = self.folder / "export"
        shutil.copytree(self.world.require("folder"), target)
        return target

    def make_first_out(self) -> Path:
        return self.folder / "list.hosts"

    def make_dead_port(self) -> int:
        return self.world.dead_port


# --- running the CLI --------------------------------------------------------------------------------------


@dataclasses.dataclass
class Run:
    """One CLI run and what it did to its folder."""

    args: list[str]
    returncode: int | None
    stdout: str
    stderr: str
    timed_out: bool = False
    blocked_on_fifo: bool = False
    changes: list[str] = dataclasses.field(default_factory=list)

    def describe(self) -> str:
        return (f"fraudwall {' '.join(self.args)}\n  exit {self.returncode}"
                f"{' (killed after %d s)' % TIMEOUT if self.timed_out else ''}"
                f"{' (blocked reading the FIFO)' if self.blocked_on_fifo else ''}\n"
                f"  stderr: {self.stderr.strip()[-1500:]!r}\n  changes: {self.changes}")


def _snapshot(folder: Path) -> dict[str, Any]:
    """Every entry below folder: a regular file's bytes, or its kind (FIFOs are never opened)."""
    state: dict[str, Any] = {}
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            path = Path(root, name)
            mode = path.lstat().st_mode
            key = str(path.relative_to(folder))
            state[key] = path.read_bytes() if stat.S_ISREG(mode) else stat.filemode(mode)
    return state


def _changes(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    return ([f"created {key}" for key in sorted(after.keys() - before.keys())]
            + [f"removed {key}" for key in sorted(before.keys() - after.keys())]
            + [f"changed {key}" for key in sorted(before.keys() & after.keys()) if before[key] != after[key]])


def _watch_fifo(fifo: Path, process: subprocess.Popen[str], verdict: dict[str, bool]) -> None:
    """Notice a reader blocked on the FIFO: open its write end once a reader has it open, give the process
    FIFO_GRACE seconds to finish without data, then close it (EOF) so that a blocked reader goes on."""
    while process.poll() is None:
        try:
            fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError:  # ENXIO: nobody reads it (yet)
            time.sleep(0.05)
            continue
        deadline = time.monotonic() + FIFO_GRACE
        while process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        verdict["blocked"] = process.poll() is None
        os.close(fd)
        return


def _run(args: list[str], folder: Path, fifos: list[Path] | None = None) -> Run:
    env = {key: value for key, value in os.environ.items() if not key.startswith("FRAUDWALL_")}
    # No progress lines: on a loaded machine a crawl of a dead port outlasts the first one, and the test reads
    # what stderr says besides them.
    env.update(FRAUDWALL_DB_PATH=str(folder / "default.db"), FRAUDWALL_HOST_MAP_ONLY="1", FRAUDWALL_CRAWL_PROGRESS="off")
    process = subprocess.Popen(
        [sys.executable, "-S", "-c", _LAUNCH, str(MEMORY_LIMIT), sys.executable, *args],
        cwd=folder, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        errors="backslashreplace",
    )
    verdict = {"blocked": False}
    watchers = [threading.Thread(target=_watch_fifo, args=(fifo, process, verdict), daemon=True)
                for fifo in fifos or []]
    for watcher in watchers:
        watcher.start()
    timed_out = False
    try:
        stdout, stderr = process.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        stdout, stderr = process.communicate()
        timed_out = True
    for watcher in watchers:
        watcher.join(FIFO_GRACE + 1)
    return Run(args, process.returncode, stdout, stderr, timed_out, verdict["blocked"])


def _execute(templates: list[str], folder: Path, world: World, files: Files | None = None) -> Run:
    """Make the files a case names in its folder (or reuse those of an earlier step), run it, and record
    what changed in the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    files = files or Files(folder, world)
    args = [template.format_map(files) for template in templates]
    before = _snapshot(folder)
    run = _run(args, folder, files.fifos)
    run.changes = _changes(before, _snapshot(folder))
    return run


# --- the table -----------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Case:
    """A command line, the exit code the contract gives it, and why."""

    id: str
    args: tuple[str, ...]
    code: int
    why: str
    says: str = ""  # text the error line must hold
    untouched: bool = True  # the case's folder must be byte-identical after the run


def case(id: str, args: str | list[str], code: int, why: str, says: str = "", untouched: bool = True) -> Case:
    return Case(id, tuple(args.split() if isinstance(args, str) else args), code, why, says, untouched)


USAGE, DATA, FAILURE, NOTHING_FETCHED, REFUSED = 2, 3, 1, 4, 5

DEAD = "http://x.top:{dead_port}/"
CRAWL = "crawl --allow-net 127.0.0.0/8 --resolve x.top:127.0.0.1 --depth 0 --max-pages 1"
CRAWL_NEW_DB = f"{CRAWL} --db {{new_db}}"
EXPORT = "export --format hosts --out {out}"
EXPORT_DIR = f"export --format {FOLDER_FORMATS} --out-dir {{outdir}}"

CASES = [
    # crawl: the database
    case("crawl-db-someone-elses-sqlite", f"{CRAWL} --db {{other_db}} {DEAD}", DATA, "another application's SQLite database"),
    case("crawl-db-text-file-named-db", f"{CRAWL} --db {{text_db}} {DEAD}", DATA, "a text file is not SQLite"),
    case("crawl-db-directory", f"{CRAWL} --db {{dir}} {DEAD}", DATA, "a directory where the database file should be"),
    case("crawl-db-dev-zero", f"{CRAWL} --db {{devzero}} {DEAD}", DATA, "a device is not a database"),
    case("crawl-db-fifo", f"{CRAWL} --db {{fifo}} {DEAD}", DATA, "a FIFO is not a database"),
    case("crawl-db-parent-is-a-file", f"{CRAWL} --db {{plain_file}}/fraudwall.db {DEAD}", DATA,
         "an unwritable output: the database's parent is a regular file"),
    # crawl: the seeds
    case("crawl-seed-file-missing", f"{CRAWL_NEW_DB} {{missing}}", USAGE, "a seed that names a path that does not exist"),
    case("crawl-seed-file-empty", f"{CRAWL_NEW_DB} {{empty}}", DATA, "an empty seed file: nothing to crawl"),
    case("crawl-seed-file-binary", f"{CRAWL_NEW_DB} {{binary}}", DATA, "a binary seed file"),
    case("crawl-seed-directory", f"{CRAWL_NEW_DB} {{dir}}", DATA, "a directory given as a seed file"),
    case("crawl-seed-dev-zero", f"{CRAWL_NEW_DB} {{devzero}}", DATA, "a device given as a seed file"),
    case("crawl-seed-fifo", f"{CRAWL_NEW_DB} {{fifo}}", DATA, "a FIFO given as a seed file"),
    # crawl: options
    case("crawl-resolve-not-an-ip", f"{CRAWL_NEW_DB} --resolve y.top:notanip {DEAD}", USAGE, "--resolve HOST:notanip",
         says="notanip"),
    case("crawl-depth-negative", f"{CRAWL_NEW_DB} --depth -1 {DEAD}", USAGE, "--depth -1", says="--depth"),
    case("crawl-max-pages-negative", f"{CRAWL_NEW_DB} --max-pages -5 {DEAD}", USAGE, "--max-pages -5", says="--max-pages"),
    case("crawl-allow-net-not-a-cidr", f"{CRAWL_NEW_DB} --allow-net 300.0.0.0/8 {DEAD}", USAGE, "--allow-net 300.0.0.0/8",
         says="300.0.0.0/8"),
    case("crawl-config-typo", f"--config {{typo_config}} {CRAWL_NEW_DB} {DEAD}", USAGE, "config key SCORE_MALICOUS",
         says="SCORE_MALICOUS"),
    # crawl: nothing could be fetched (loopback only; the database may be created)
    case("crawl-nothing-fetched-ip", "crawl --db {new_db} --allow-net 127.0.0.0/8 --depth 0 http://127.0.0.1:{dead_port}/",
         NOTHING_FETCHED, "nothing listens on the seed's port", untouched=False),
    case("crawl-nothing-fetched-resolved-name",
         "crawl --db {new_db} --allow-net 127.0.0.0/8 --resolve dead.top:127.0.0.1 --depth 0 http://dead.top:{dead_port}/",
         NOTHING_FETCHED, "a --resolve'd name whose port nothing listens on", untouched=False),
    # analyze pages
    case("analyze-manifest-missing", "analyze pages {missing}", USAGE, "a manifest that does not exist"),
    case("analyze-manifest-empty", "analyze pages {empty}", DATA, "an empty manifest: no header, no pages"),
    case("analyze-manifest-binary", "analyze pages {binary}", DATA, "a binary manifest"),
    case("analyze-manifest-directory", "analyze pages {dir}", DATA, "a directory given as the manifest"),
    case("analyze-manifest-dev-zero", "analyze pages {devzero}", DATA, "a device given as the manifest"),
    case("analyze-manifest-fifo", "analyze pages {fifo}", DATA, "a FIFO given as the manifest"),
    case("analyze-manifest-is-json", "analyze pages {json_manifest}", DATA, "a JSON file given as the CSV manifest"),
    case("analyze-manifest-wrong-columns", "analyze pages {wrong_columns}", DATA, "a CSV without the file,url columns"),
    case("analyze-config-typo", "--config {typo_config} analyze pages {wrong_columns}", USAGE, "config key SCORE_MALICOUS",
         says="SCORE_MALICOUS"),
    # reanalyze
    case("reanalyze-db-missing", "reanalyze --db {missing_db}", USAGE, "a database that does not exist (and is not created)"),
    case("reanalyze-db-empty-file", "reanalyze --db {empty_db}", DATA, "an empty file: no pages to re-analyse"),
    case("reanalyze-db-someone-elses-sqlite", "reanalyze --db {other_db}", DATA, "another application's SQLite database"),
    case("reanalyze-db-text-file-named-db", "reanalyze --db {text_db}", DATA, "a text file is not SQLite"),
    case("reanalyze-db-directory", "reanalyze --db {dir}", DATA, "a directory given as the database"),
    case("reanalyze-db-dev-zero", "reanalyze --db {devzero}", DATA, "a device given as the database"),
    case("reanalyze-db-fifo", "reanalyze --db {fifo}", DATA, "a FIFO given as the database"),
    case("reanalyze-since-garbage", ["reanalyze", "--db", "{store_db}", "--since", "last tuesday"], USAGE,
         "--since that is neither a date nor 7d/12h/30m"),
    case("reanalyze-rerun-unknown-plugin", "reanalyze --db {store_db} --rerun no_such_plugin", USAGE,
         "--rerun names no installed plugin", says="no_such_plugin"),
    case("reanalyze-config-typo", "--config {typo_config} reanalyze --db {store_db}", USAGE, "config key SCORE_MALICOUS",
         says="SCORE_MALICOUS"),
    # export --out: every case starts from a published 300-name list, report and .prev, which must not change
    case("export-input-missing", f"{EXPORT} --input {{missing}}", USAGE, "an --input that does not exist"),
    case("export-input-directory", f"{EXPORT} --input {{dir}}", DATA, "a directory given as --input"),
    case("export-input-dev-zero", f"{EXPORT} --input {{devzero}}", DATA, "a device given as --input"),
    case("export-input-fifo", f"{EXPORT} --input {{fifo}}", DATA, "a FIFO given as --input"),
    case("export-input-empty", f"{EXPORT} --input {{empty}}", REFUSED, "an empty feed after a good list: collapse"),
    case("export-input-binary", f"{EXPORT} --input {{binary}}", REFUSED,
         "a binary feed is one rejection (README), so only rejections: collapse"),
    case("export-input-png", f"{EXPORT} --input {{png}}", REFUSED, "a PNG given as a feed: only rejections, collapse"),
    case("export-input-apk", f"{EXPORT} --input {{apk}}", REFUSED, "an APK (zip) given as a feed: only rejections, collapse"),
    case("export-input-gzip-cut-to-nothing", f"{EXPORT} --input {{gz_stub}}", REFUSED,
         "a gzip feed cut inside its header: nothing usable remains, collapse"),
    case("export-input-only-invalid-lines", f"{EXPORT} --input {{invalid}}", REFUSED,
         "a feed of invalid lines after a good list: only rejections, collapse"),
    case("export-input-three-names", f"{EXPORT} --input {{three}}", REFUSED, "300 names shrinking to 3: collapse"),
    case("export-db-missing", f"{EXPORT} --db {{missing_db}}", USAGE, "a --db that does not exist (and is not created)"),
    case("export-db-empty-file", f"{EXPORT} --db {{empty_db}}", DATA, "an empty file given as the database"),
    case("export-db-someone-elses-sqlite", f"{EXPORT} --db {{other_db}}", DATA, "another application's SQLite database"),
    case("export-db-text-file-named-db", f"{EXPORT} --db {{text_db}}", DATA, "a text file is not SQLite"),
    case("export-db-directory", f"{EXPORT} --db {{dir}}", DATA, "a directory given as the database"),
    case("export-db-dev-zero", f"{EXPORT} --db {{devzero}}", DATA, "a device given as the database"),
    case("export-db-fifo", f"{EXPORT} --db {{fifo}}", DATA, "a FIFO given as the database"),
    case("export-category-unknown", f"{EXPORT} --db {{store_db}} --category loans", USAGE, "--category loans",
         says="loans"),
    case("export-format-unknown", "export --format nope --out {out} --input {good}", USAGE, "--format nope", says="nope"),
    case("export-option-unknown", f"{EXPORT} --input {{good}} --option hosts.no_such_option=1", USAGE,
         "a format option the format does not have", says="no_such_option"),
    case("export-since-garbage", [*EXPORT.split(), "--db", "{store_db}", "--since", "whenever"], USAGE,
         "--since that is neither a date nor 7d/12h/30m"),
    case("export-allowlist-missing", f"{EXPORT} --input {{good}} --allowlist {{missing}}", USAGE,
         "an --allowlist that does not exist"),
    case("export-no-out", "export --format hosts --input {good}", USAGE, "neither --out nor --out-dir"),
    case("export-config-typo", f"--config {{typo_config}} {EXPORT} --input {{good}}", USAGE, "config key SCORE_MALICOUS",
         says="SCORE_MALICOUS"),
    case("export-out-parent-is-a-file", "export --format hosts --out {plain_file}/out.hosts --input {good}", DATA,
         "an unwritable output: its parent is a regular file"),
    case("export-out-parent-missing", "export --format hosts --out {no_such_folder}/out.hosts --input {good}", DATA,
         "an unwritable output: its folder does not exist (and is not created)"),
    case("export-out-under-proc", "export --format hosts --out /proc/self/fraudwall-out.hosts --input {good}", DATA,
         "an unwritable output: nothing can be created in /proc, even by root"),
    case("export-out-is-a-directory", "export --format hosts --out {dir} --input {good}", DATA,
         "a hosts list cannot replace a directory"),
    # export --out-dir: every case starts from a published two-generation export folder, which must not change
    case("export-dir-input-empty", f"{EXPORT_DIR} --input {{empty}}", REFUSED, "an empty feed after a good folder: collapse"),
    case("export-dir-input-three-names", f"{EXPORT_DIR} --input {{three}}", REFUSED, "300 names shrinking to 3: collapse"),
    case("export-dir-format-unknown", "export --format hosts,nope --out-dir {outdir} --input {good}", USAGE,
         "one unknown format in the list", says="nope"),
    case("export-dir-parent-is-a-file", f"export --format {FOLDER_FORMATS} --out-dir {{plain_file}}/export --input {{good}}",
         DATA, "an unwritable export folder: its parent is a regular file"),
    # verify
    case("verify-missing", "verify --format hosts {missing}", USAGE, "a path that does not exist"),
    # verify judges content: a file it can read but that fails the check is a failed verification (1).
    case("verify-empty", "verify --format rpz {empty}", FAILURE, "an empty file: no zone to check"),
    case("verify-binary", "verify --format hosts {binary}", FAILURE, "a binary file"),
    case("verify-png-as-rpz", "verify --format rpz {png}", FAILURE, "a PNG given as a zone"),
    case("verify-directory", "verify --format hosts {dir}", DATA, "a directory given for a file format"),
    case("verify-dev-zero", "verify --format domains {devzero}", DATA, "a device never ends"),
    case("verify-fifo", "verify --format hosts {fifo}", DATA, "a FIFO given as the file"),
    case("verify-format-unknown", "verify --format nope {good}", USAGE, "--format nope", says="nope"),
    case("verify-config-typo", "--config {typo_config} verify --format domains {good}", USAGE, "config key SCORE_MALICOUS",
         says="SCORE_MALICOUS"),
    # plugins, and the global --config and --plugin
    case("plugins-config-typo", "--config {typo_config} plugins", USAGE, "config key SCORE_MALICOUS", says="SCORE_MALICOUS"),
    case("plugins-config-bad-value", "--config {bad_value_config} plugins", USAGE, 'SCORE_MALICIOUS = "very high"',
         says="SCORE_MALICIOUS"),
    case("plugins-config-missing", "--config {missing} plugins", USAGE, "a --config that does not exist"),
    # A config file's content is settings: wrong settings are a usage error (2), as a bad option is.
    case("plugins-config-binary", "--config {binary} plugins", USAGE, "a binary --config file"),
    case("plugins-config-is-json", "--config {json_config} plugins", USAGE, "a JSON file given as TOML settings"),
    case("plugins-config-directory", "--config {dir} plugins", DATA, "a directory given as --config"),
    case("plugins-config-dev-zero", "--config {devzero} plugins", DATA, "a device given as --config"),
    case("plugins-config-fifo", "--config {fifo} plugins", DATA, "a FIFO given as --config"),
    case("plugins-plugin-missing", "--plugin {missing} plugins", USAGE, "a --plugin file that does not exist"),
    case("plugins-plugin-directory", "--plugin {dir} plugins", DATA, "a directory given as a --plugin file"),
    case("plugins-plugin-syntax-error", "--plugin {broken_plugin} plugins", FAILURE,
         "a plugin that would not load (exit_codes.py: FAILURE)"),
]
assert len({c.id for c in CASES}) == len(CASES), "case ids must be unique"


def _needs_published(templates: list[str] | tuple[str, ...]) -> bool:
    return any("{out}" in t or "{outdir}" in t for t in templates)


# --- scenarios: several runs in order ----------------------------------------------------------------------


def _scenario_shrink(folder: Path, world: World) -> list[Run]:
    """A 3-name list against the published 300: refused; with --allow-shrink: published."""
    folder.mkdir(parents=True)
    files = Files(folder, world)
    refused = _execute([*EXPORT.split(), "--input", "{three}"], folder, world, files)
    allowed = _execute([*EXPORT.split(), "--input", "{three}", "--allow-shrink"], folder, world, files)
    return [refused, allowed]


def _scenario_first_export_invalid(folder: Path, world: World) -> list[Run]:
    """The very first export, from a feed of invalid lines only."""
    return [_execute(["export", "--format", "hosts", "--out", "{first_out}", "--input", "{invalid}"], folder, world)]


def _scenario_truncated(folder: Path, world: World) -> list[Run]:
    """A 2,000-line gzip feed cut in half, against the published 300."""
    return [_execute([*EXPORT.split(), "--input", "{gz_half}"], folder, world)]


SCENARIOS: dict[str, tuple[Callable[[Path, World], list[Run]], bool]] = {
    "shrink": (_scenario_shrink, True),
    "first-export-invalid": (_scenario_first_export_invalid, False),
    "truncated": (_scenario_truncated, True),
}


def _publish(world: World, kind: str) -> None:
    """Publish the good list (kind "file") or export folder (kind "folder") that export cases start from:
    two generations, so that `.prev` exists."""
    try:
        inputs = world.root / f"publish-{kind}"
        inputs.mkdir()
        (inputs / "previous.txt").write_bytes(_lines(PREVIOUS))
        (inputs / "published.txt").write_bytes(_lines(PUBLISHED))
        target = inputs / "published"
        target.mkdir()
        if kind == "file":
            args = ["export", "--format", "hosts", "--out", str(target / "list.hosts")]
        else:
            target = target / "export"
            args = ["export", "--format", FOLDER_FORMATS, "--out-dir", str(target)]
        runs = [_run([*args, "--input", str(inputs / name)], inputs) for name in ("previous.txt", "published.txt")]
        world.publish_log.extend(runs)
        if all(run.returncode == 0 for run in runs):
            world.published[kind] = target
    finally:
        world.ready[kind].set()


@dataclasses.dataclass
class Table:
    """The futures of every case and scenario, and the world they ran in."""

    world: World
    cases: dict[str, concurrent.futures.Future[Run]]
    scenarios: dict[str, concurrent.futures.Future[list[Run]]]


@pytest.fixture(scope="module")
def table(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Table]:
    """Run the whole table once, WORKERS runs at a time: cases that need no published list first, while the
    good lists are published; then the export cases, each on its own copy of the published files."""
    root = tmp_path_factory.mktemp("cli-errors")
    world = World(root, _free_port())
    pool = concurrent.futures.ThreadPoolExecutor(WORKERS)
    publishing = [pool.submit(_publish, world, kind) for kind in ("file", "folder")]
    cases: dict[str, concurrent.futures.Future[Run]] = {}
    scenarios: dict[str, concurrent.futures.Future[list[Run]]] = {}
    # Runs that wait (on a dead port, or on a FIFO or device if the CLI gets them wrong) start first.
    slow_first = sorted(CASES, key=lambda c: not any(word in c.id for word in ("nothing-fetched", "fifo", "dev-zero")))
    later = [c for c in slow_first if _needs_published(c.args)]
    for c in [c for c in slow_first if not _needs_published(c.args)]:
        cases[c.id] = pool.submit(_execute, list(c.args), root / c.id, world)
    for name, (function, needs) in SCENARIOS.items():
        if not needs:
            scenarios[name] = pool.submit(function, root / f"scenario-{name}", world)
    for future in publishing:
        future.result()
    for c in later:
        cases[c.id] = pool.submit(_execute, list(c.args), root / c.id, world)
    for name, (function, needs) in SCENARIOS.items():
        if needs:
            scenarios[name] = pool.submit(function, root / f"scenario-{name}", world)
    yield Table(world, cases, scenarios)
    pool.shutdown(wait=True)


def _assert_one_error_line(run: Run, code: int, says: str = "", why: str = "") -> None:
    """The contract for every error: the code, no traceback, exactly one stderr line starting `error: `."""
    where = f"{why}\n{run.describe()}" if why else run.describe()
    assert not run.timed_out, f"hung: killed after {TIMEOUT} s; {where}"
    assert not run.blocked_on_fifo, f"blocked reading a FIFO (released after {FIFO_GRACE} s); {where}"
    assert run.returncode == code, f"expected exit {code}; {where}"
    assert "Traceback" not in run.stderr, f"a traceback; {where}"
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), f"expected one `error: ` line; {where}"
    assert says in lines[0], f"the error line should mention {says!r}; {where}"


# --- tests ---------------------------------------------------------------------------------------------------


def test_good_lists_publish(table: Table) -> None:
    """The starting point of every export case: two good generations publish (exit 0) with report and .prev."""
    world = table.world
    for event in world.ready.values():
        event.wait(4 * TIMEOUT)
    for run in world.publish_log:
        assert run.returncode == 0, run.describe()
    assert set(world.published) == {"file", "folder"}
    published = world.published["file"] / "list.hosts"
    assert _hosts_names(published) == set(PUBLISHED)
    assert _hosts_names(Path(f"{published}.prev")) == set(PREVIOUS)
    assert Path(f"{published}.report.json").is_file()
    assert (world.published["folder"] / "manifest.json").is_file()


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_refused(table: Table, case: Case) -> None:
    """Each row: the documented exit code, one `error: ` line and no traceback, and (for every error but a
    crawl that fetched nothing) the case's folder byte-identical: no published list, report, .prev or
    database replaced, no output created."""
    run = table.cases[case.id].result()
    _assert_one_error_line(run, case.code, case.says, case.why)
    if case.untouched:
        assert run.changes == [], f"{case.why}: files changed by a refused run\n{run.describe()}"


def test_shrink_is_refused_then_published_with_allow_shrink(table: Table) -> None:
    """300 names then 3: exit 5 and the old list, report and .prev kept; again with --allow-shrink: exit 0,
    the 3 names published and the 300 moved to .prev."""
    refused, allowed = table.scenarios["shrink"].result()
    problems = []
    try:
        _assert_one_error_line(refused, REFUSED)
        assert refused.changes == [], f"files changed by a refused run\n{refused.describe()}"
    except AssertionError as error:
        problems.append(f"without --allow-shrink: {error}")
    out = Path(allowed.args[allowed.args.index("--out") + 1])
    if allowed.returncode != 0:
        problems.append(f"with --allow-shrink: expected exit 0\n{allowed.describe()}")
    elif _hosts_names(out) != set(THREE):
        problems.append(f"with --allow-shrink: published {len(_hosts_names(out))} names, not the 3")
    elif _hosts_names(Path(f"{out}.prev")) != set(PUBLISHED):
        problems.append(f"with --allow-shrink: .prev holds {len(_hosts_names(Path(f'{out}.prev')))} names, not the "
                        "300 that were live (the refused run published?)")
    assert not problems, "\n".join(problems)


def test_first_export_of_only_invalid_lines_is_refused(table: Table) -> None:
    """A first export (no previous list) from a feed that yields nothing but rejections: exit 5, no file created."""
    (run,) = table.scenarios["first-export-invalid"].result()
    _assert_one_error_line(run, REFUSED)
    assert run.changes == [], run.describe()


def test_truncated_gzip_feed_keeps_its_whole_lines(table: Table) -> None:
    """A gzip feed cut in half is not an error by itself: exit 0, the whole lines read before the cut are
    published (no half line becomes a name), and the report counts the damage as `corrupt-file`."""
    (run,) = table.scenarios["truncated"].result()
    assert not run.timed_out and run.returncode == 0, run.describe()
    assert "Traceback" not in run.stderr, run.describe()
    out = Path(run.args[run.args.index("--out") + 1])
    names = _hosts_names(out)
    assert names <= set(FEED), f"names not in the feed (half lines?): {sorted(names - set(FEED))[:5]}"
    assert set(PUBLISHED) <= names and len(names) < len(FEED), len(names)
    report = json.loads(Path(f"{out}.report.json").read_text(encoding="utf-8"))
    assert "corrupt-file" in report["refused_before_export"], report["refused_before_export"]
    assert _hosts_names(Path(f"{out}.prev")) == set(PUBLISHED)
