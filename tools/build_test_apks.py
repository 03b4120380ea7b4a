#!/usr/bin/env python3
"""Build the test fixtures for fraudwall's APK analysis.

Each folder under ``tools/apk_templates/`` is a tiny Android app in apktool's decoded layout
(``AndroidManifest.xml``, ``apktool.yml``, ``smali/``, ``res/``, ``assets/``) plus a
``fixture.toml`` that says what the app is and which indicators were planted in it. This
script builds every template with ``apktool b``, aligns the result, signs it with
``apksigner`` (v1+v2+v3) using a throw-away key made by ``keytool`` for the DName the
fixture asks for, and checks the signature and that every planted string really ended up
in the APK. It then derives hostile and tampered variants in pure Python (``zipfile`` and
``struct``, nothing is extracted to disk) and writes ``MANIFEST.toml`` describing all of
them.

Usage::

    python tools/build_test_apks.py [--out tests/data/apks]

Missing tools are installed with ``apt-get install -y apktool apksigner`` (plus a JDK when
``java``/``keytool`` are absent), through ``sudo`` only when not running as root. Re-running
replaces the fixtures; the bytes signed are stable between runs, the signatures are not
(keys are new each run).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import tomllib
import xml.etree.ElementTree as ET
import zipfile
import zlib
from dataclasses import dataclass, field, replace
from io import BytesIO
from pathlib import Path
from typing import Iterator

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "apk_templates"
DEFAULT_OUT = HERE.parent / "tests" / "data" / "apks"
ANDROID = "{http://schemas.android.com/apk/res/android}"

# Command -> Debian package that provides it.
TOOL_PACKAGES = {
    "apktool": "apktool",
    "apksigner": "apksigner",
    "java": "default-jdk-headless",
    "keytool": "default-jdk-headless",
}
STORE_PASS = "fixtures"
KEY_ALIAS = "cert"
# A fixed DOS timestamp on every entry, so the signed content is the same from run to run.
FIXED_DATE = (2008, 1, 1, 0, 0, 0)
# Size of the zip bomb's member once inflated: just over 1 GiB (and so over 1 GB).
BOMB_SIZE = 1025 * 1024 * 1024
# Unknown compression method written into the tampered manifest's headers.
BOGUS_METHOD = 30208
# Planted kinds that are not strings inside the APK (compiled to manifest flags).
UNCHECKED_KINDS = {"foreground_service_types"}


# --------------------------------------------------------------------------- fixture records


@dataclass
class Fixture:
    """One file in the output folder and what tests may expect of it (a MANIFEST.toml row)."""

    file: str
    expected: str
    klass: str
    package: str = ""
    label: str = ""
    label_en: str = ""
    signer: str = ""
    base: str = ""
    payload: str = ""
    start_url: str = ""
    impersonates: str = ""
    description: str = ""
    tamper: list[str] = field(default_factory=list)
    planted: dict[str, list[str]] = field(default_factory=dict)
    sha256: str = ""
    size: int = 0


@dataclass
class Template:
    """A template folder with its metadata."""

    name: str
    path: Path
    meta: dict
    package: str
    permissions: list[str]
    label: str
    label_en: str

    @property
    def embeds(self) -> dict[str, str]:
        return self.meta.get("embed", {})


@dataclass
class Built:
    """A template's build products kept for the derived fixtures."""

    fixture: Fixture
    signed: bytes
    unsigned: bytes
    keystore: Path


# --------------------------------------------------------------------------- tool set-up


def run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    """Run a command, raising with its output when it fails (so a broken build is readable)."""
    proc = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def ensure_tools() -> list[str]:
    """Install the Debian packages for missing tools; return the packages asked for."""
    missing = sorted({pkg for tool, pkg in TOOL_PACKAGES.items() if shutil.which(tool) is None})
    if not missing:
        return []
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = sudo + ["apt-get", "install", "-y", "--no-install-recommends", *missing]
    print(f"installing {' '.join(missing)}", file=sys.stderr)
    if subprocess.run(install, env=env).returncode != 0:
        # A fresh machine may have no package lists yet.
        run(sudo + ["apt-get", "update"], env=env)
        run(install, env=env)
    still = [tool for tool in TOOL_PACKAGES if shutil.which(tool) is None]
    if still:
        raise RuntimeError(f"still missing after apt-get: {', '.join(still)}")
    return missing


# --------------------------------------------------------------------------- templates


def load_template(path: Path) -> Template:
    """Read a template's fixture.toml, package, permissions and labels."""
    meta = tomllib.loads((path / "fixture.toml").read_text(encoding="utf-8"))
    root = ET.parse(path / "AndroidManifest.xml").getroot()
    permissions = [el.get(f"{ANDROID}name", "") for el in root.iter("uses-permission")]
    return Template(
        name=path.name,
        path=path,
        meta=meta,
        package=root.get("package", ""),
        permissions=permissions,
        label=app_name(path / "res" / "values" / "strings.xml"),
        label_en=app_name(path / "res" / "values-en" / "strings.xml"),
    )


def app_name(strings_xml: Path) -> str:
    """The app_name string of a values folder ('' when the folder has none)."""
    if not strings_xml.exists():
        return ""
    for el in ET.parse(strings_xml).getroot().iter("string"):
        if el.get("name") == "app_name":
            return el.text or ""
    return ""


def build_order(templates: list[Template]) -> list[Template]:
    """Templates that embed other fixtures come after the ones they embed."""
    outputs = {t.meta["output"]: t for t in templates}
    ordered: list[Template] = []

    def visit(t: Template, stack: tuple[str, ...]) -> None:
        if t in ordered:
            return
        if t.name in stack:
            raise RuntimeError(f"embed cycle through {t.name}")
        for dep in t.embeds.values():
            visit(outputs[dep], stack + (t.name,))
        ordered.append(t)

    for t in sorted(templates, key=lambda t: t.name):
        visit(t, ())
    return ordered


def stage(t: Template, workdir: Path, out: Path) -> Path:
    """Copy a template into the work dir (apktool writes build/ beside its input) and add embeds."""
    dest = workdir / "src" / t.name
    shutil.copytree(t.path, dest, ignore=shutil.ignore_patterns("fixture.toml"))
    for rel, fixture_file in t.embeds.items():
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(out / fixture_file, target)
    return dest


# --------------------------------------------------------------------------- raw zip layer


@dataclass
class Entry:
    """A zip member as it sits in the archive: data is compressed when method is 8."""

    name: str
    method: int
    crc: int
    size: int
    data: bytes
    flags: int = 0
    # Compression method written in the headers when it must differ from the real one.
    header_method: int | None = None


def read_entries(blob: bytes) -> list[Entry]:
    """The members of a zip with their raw (still compressed) data, in archive order."""
    entries = []
    with zipfile.ZipFile(BytesIO(blob)) as zf:
        for info in zf.infolist():
            start = info.header_offset
            name_len, extra_len = struct.unpack_from("<HH", blob, start + 26)
            data_start = start + 30 + name_len + extra_len
            entries.append(Entry(
                name=info.filename,
                method=info.compress_type,
                crc=info.CRC,
                size=info.file_size,
                data=blob[data_start:data_start + info.compress_size],
                flags=info.flag_bits & 0x0800,  # keep only "name is UTF-8"; sizes go in the header
            ))
    return entries


def dos_datetime(date: tuple[int, ...]) -> tuple[int, int]:
    """(time, date) fields of a zip header."""
    year, month, day, hour, minute, second = date
    return (hour << 11) | (minute << 5) | (second // 2), ((year - 1980) << 9) | (month << 5) | day


def alignment_for(entry: Entry) -> int:
    """zipalign's rule: stored .so files on a page, other stored files on 4 bytes."""
    if entry.method != zipfile.ZIP_STORED:
        return 0
    return 4096 if entry.name.endswith(".so") else 4


def write_zip(entries: list[Entry], *, align: bool = True, base_offset: int = 0) -> bytes:
    """Write a zip from raw entries. base_offset is added to every recorded offset (for data
    that will be put in front of the archive)."""
    out = bytearray()
    central = bytearray()
    mtime, mdate = dos_datetime(FIXED_DATE)
    for e in entries:
        name = e.name.encode("utf-8")
        method = e.method if e.header_method is None else e.header_method
        extra = b""
        boundary = alignment_for(e) if align else 0
        if boundary:
            # Android 11+ refuses a stored resources.arsc that is not 4-byte aligned; pad with
            # zipalign's own extra field (0xD935: alignment, then zeros).
            data_at = base_offset + len(out) + 30 + len(name) + 6
            pad = -data_at % boundary
            extra = struct.pack("<HHH", 0xD935, 2 + pad, boundary) + bytes(pad)
        offset = base_offset + len(out)
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, e.flags, method, mtime, mdate,
                           e.crc, len(e.data), e.size, len(name), len(extra))
        out += name + extra + e.data
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, e.flags, method, mtime,
                               mdate, e.crc, len(e.data), e.size, len(name), 0, 0, 0, 0, 0, offset)
        central += name
    cd_offset = base_offset + len(out)
    eocd = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(central),
                       cd_offset, 0)
    return bytes(out + central + eocd)


def find_eocd(blob: bytes) -> int:
    """Offset of the end-of-central-directory record (our archives carry no comment)."""
    pos = blob.rfind(b"PK\x05\x06")
    if pos < 0:
        raise ValueError("no end of central directory")
    return pos


def iter_local_members(blob: bytes) -> Iterator[tuple[str, int, bytes]]:
    """Walk local file headers front to back: (name, method, raw data). Works where the central
    directory lies (tampered fixtures), which is why the planted-string check uses it."""
    pos = blob.find(b"PK\x03\x04")
    while pos >= 0 and pos + 30 <= len(blob):
        (_, _, _, method, _, _, _, csize, _, name_len, extra_len) = struct.unpack_from(
            "<IHHHHHIIIHH", blob, pos)
        start = pos + 30 + name_len + extra_len
        name = blob[pos + 30:pos + 30 + name_len].decode("utf-8", "replace")
        yield name, method, blob[start:start + csize]
        pos = blob.find(b"PK\x03\x04", start + csize)


# --------------------------------------------------------------------------- build and sign


def make_keystore(dname: str, workdir: Path, cache: dict[str, Path]) -> Path:
    """A PKCS#12 keystore with a fresh RSA key for this DName (one per DName per run)."""
    if dname in cache:
        return cache[dname]
    path = workdir / "keys" / f"key{len(cache)}.p12"
    path.parent.mkdir(parents=True, exist_ok=True)
    run(["keytool", "-genkeypair", "-noprompt", "-keystore", str(path), "-storetype", "PKCS12",
         "-storepass", STORE_PASS, "-keypass", STORE_PASS, "-alias", KEY_ALIAS, "-keyalg", "RSA",
         "-keysize", "2048", "-validity", "10000", "-dname", dname])
    cache[dname] = path
    return path


def apktool_build(src: Path, dest: Path) -> bytes:
    """apktool b, then re-lay the archive: fixed timestamps, aligned stored entries."""
    run(["apktool", "b", str(src), "-o", str(dest)])
    return write_zip(read_entries(dest.read_bytes()))


def sign(unsigned: bytes, keystore: Path, workdir: Path, *, v2_v3: bool = True) -> bytes:
    """Sign with apksigner (v1 always; v2 and v3 unless asked for a v1-only APK)."""
    src = workdir / "to_sign.apk"
    dest = workdir / "signed.apk"
    src.write_bytes(unsigned)
    newer = "true" if v2_v3 else "false"
    run(["apksigner", "sign", "--ks", str(keystore), "--ks-key-alias", KEY_ALIAS,
         "--ks-pass", f"pass:{STORE_PASS}", "--key-pass", f"pass:{STORE_PASS}",
         "--v1-signer-name", "CERT", "--v1-signing-enabled", "true",
         "--v2-signing-enabled", newer, "--v3-signing-enabled", newer,
         "--v4-signing-enabled", "false", "--out", str(dest), str(src)])
    return dest.read_bytes()


def verify_signature(apk: Path, dname: str) -> None:
    """apksigner must accept all three schemes and report the DName asked for."""
    out = run(["apksigner", "verify", "--verbose", "--print-certs", str(apk)]).stdout
    for scheme in ("v1 scheme (JAR signing)", "v2 scheme (APK Signature Scheme v2)",
                   "v3 scheme (APK Signature Scheme v3)"):
        if f"Verified using {scheme}: true" not in out:
            raise RuntimeError(f"{apk.name}: not verified with {scheme}\n{out}")
    wanted = dname.replace(",", ", ")
    if f"certificate DN: {wanted}" not in out:
        raise RuntimeError(f"{apk.name}: signer is not {wanted}\n{out}")


def build_template(t: Template, workdir: Path, out: Path, keys: dict[str, Path]) -> Built:
    """Build, sign and check one template; write it to the output folder."""
    src = stage(t, workdir, out)
    unsigned = apktool_build(src, workdir / f"{t.name}.unsigned.apk")
    keystore = make_keystore(t.meta["signer"], workdir, keys)
    signed = sign(unsigned, keystore, workdir)
    dest = out / t.meta["output"]
    dest.write_bytes(signed)
    verify_signature(dest, t.meta["signer"])
    planted = {"permissions": t.permissions, **t.meta.get("planted", {})}
    fixture = Fixture(
        file=t.meta["output"], expected=t.meta["expected"], klass=t.meta["class"],
        package=t.package, label=t.label, label_en=t.label_en, signer=t.meta["signer"],
        payload=next(iter(t.embeds.values()), ""), start_url=t.meta.get("start_url", ""),
        impersonates=t.meta.get("impersonates", ""), description=t.meta.get("description", ""),
        planted=planted,
    )
    return Built(fixture=fixture, signed=signed, unsigned=unsigned, keystore=keystore)


# --------------------------------------------------------------------------- derived fixtures


def inflate(data: bytes) -> bytes:
    return zlib.decompress(data, -15)


def derive_invalid_compression(apk: bytes) -> bytes:
    """AndroidManifest.xml stored, but its headers name an unknown method. Android's parser
    reads such an entry as stored and installs the app; zipfile refuses to read it."""
    entries = []
    for e in read_entries(apk):
        if e.name == "AndroidManifest.xml":
            raw = inflate(e.data) if e.method == zipfile.ZIP_DEFLATED else e.data
            e = replace(e, method=zipfile.ZIP_STORED, data=raw, header_method=BOGUS_METHOD)
        entries.append(e)
    return write_zip(entries)


def derive_garbage_cd_eocd(apk: bytes) -> bytes:
    """Bytes between the central directory and the EOCD: the EOCD still points at the real
    central directory, but readers that infer prepended data from the gap go astray."""
    eocd = find_eocd(apk)
    garbage = b"FRAUDWALL-TEST-GARBAGE\x00" + bytes(range(256))[:105]
    return apk[:eocd] + garbage + apk[eocd:]


def shift_zip_offsets(apk: bytes, delta: int) -> bytes:
    """Add delta to every local-header offset in the central directory and to the EOCD's
    central-directory offset (for an archive that will have delta bytes put in front)."""
    blob = bytearray(apk)
    eocd = find_eocd(blob)
    count, _, cd_offset = struct.unpack_from("<HII", blob, eocd + 10)
    pos = cd_offset
    for _ in range(count):
        name_len, extra_len, comment_len = struct.unpack_from("<HHH", blob, pos + 28)
        (local,) = struct.unpack_from("<I", blob, pos + 42)
        struct.pack_into("<I", blob, pos + 42, local + delta)
        pos += 46 + name_len + extra_len + comment_len
    struct.pack_into("<I", blob, eocd + 16, cd_offset + delta)
    return bytes(blob)


def derive_janus(v1_only_apk: bytes, dex: bytes) -> bytes:
    """Janus (CVE-2017-13156) layout: a DEX in front of a v1-signed APK. The file is both a DEX
    (its header's file_size covers the whole file) and a zip whose offsets account for it."""
    body = shift_zip_offsets(v1_only_apk, len(dex))
    blob = bytearray(dex + body)
    struct.pack_into("<I", blob, 32, len(blob))              # file_size
    blob[12:32] = hashlib.sha1(blob[32:]).digest()           # signature over the rest
    struct.pack_into("<I", blob, 8, zlib.adler32(blob[12:])) # checksum over signature onwards
    return bytes(blob)


def bomb_member(name: str) -> Entry:
    """A deflated member of BOMB_SIZE zeros, about 1 MB compressed. One full-flushed 1 MiB
    segment is independent of what came before, so it is compressed once and repeated."""
    chunk = bytes(1024 * 1024)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    segment = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    final = zlib.compressobj(9, zlib.DEFLATED, -15).flush()  # an empty last block
    repeats = BOMB_SIZE // len(chunk)
    crc = 0
    for _ in range(repeats):
        crc = zlib.crc32(chunk, crc)
    return Entry(name=name, method=zipfile.ZIP_DEFLATED, crc=crc, size=BOMB_SIZE,
                 data=segment * repeats + final)


def derive_zip_bomb(apk: bytes) -> bytes:
    """The APK with assets/data.bin added, which inflates to over 1 GiB."""
    entries = read_entries(apk)
    manifest_at = next(i for i, e in enumerate(entries) if e.name.startswith("META-INF/"))
    entries.insert(manifest_at, bomb_member("assets/data.bin"))
    return write_zip(entries)


def derive_path_traversal(apk: bytes) -> bytes:
    """The APK with members whose names climb out of, or ignore, the extraction folder."""
    script = b"#!/bin/sh\n# fraudwall test fixture: must never be written outside an extraction dir\nexit 0\n"
    cron = b"# fraudwall test fixture: must never be written to /etc\n"
    extra = [
        Entry(name="../../evil.sh", method=0, crc=zlib.crc32(script), size=len(script), data=script),
        Entry(name="/etc/cron.d/x", method=0, crc=zlib.crc32(cron), size=len(cron), data=cron),
    ]
    return write_zip(read_entries(apk) + extra)


def tiny_png() -> bytes:
    """A valid 1x1 grey PNG: an image file given an .apk name."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00\x80")) + chunk(b"IEND", b""))


def dex_of(apk: bytes) -> bytes:
    with zipfile.ZipFile(BytesIO(apk)) as zf:
        return zf.read("classes.dex")


def derived_fixtures(built: dict[str, Built], workdir: Path) -> list[tuple[Fixture, bytes]]:
    """The hostile and tampered files, each with its MANIFEST row."""
    bank = built["fake_bank_security.apk"]
    centre = built["anti_fraud_centre_fake.apk"]
    weather = built["benign_weather.apk"]
    loan = built["loan_app.apk"]
    meeting = built["meeting_remote_control.apk"]

    def tampered(b: Built, file: str, tamper: list[str], **changes) -> Fixture:
        return replace(b.fixture, file=file, base=b.fixture.file, tamper=tamper, **changes)

    # Janus: the weather app's zip (v1-only, as Janus needs) carries the fake bank's DEX in front.
    weather_v1 = sign(weather.unsigned, weather.keystore, workdir, v2_v3=False)
    bank_dex_kinds = {k: v for k, v in bank.fixture.planted.items()
                      if k not in ("permissions", "actions")}
    janus = tampered(
        weather, "tamper_janus.apk", ["janus-prepended-dex"], expected="malicious",
        klass="hostile", payload=bank.fixture.file,
        description="Janus layout: the fake bank's classes.dex prepended to the weather app "
                    "(signed v1 only); starts with dex\\n035, still a valid zip.",
        planted={"permissions": weather.fixture.planted["permissions"], **bank_dex_kinds},
    )
    rejected = dict(expected="rejected", klass="hostile")

    def with_members(b: Built, names: list[str]) -> dict[str, list[str]]:
        return {**b.fixture.planted, "hostile_members": names}

    return [
        (tampered(bank, "tamper_invalid_compression.apk", ["invalid-compression-method"],
                  description=f"fake_bank_security with AndroidManifest.xml stored but its "
                              f"compression method set to {BOGUS_METHOD} in both headers; "
                              "v2/v3 block dropped, v1 files kept."),
         derive_invalid_compression(bank.signed)),
        (tampered(centre, "tamper_garbage_cd_eocd.apk", ["garbage-between-cd-and-eocd"],
                  description="anti_fraud_centre_fake with 128 junk bytes between the central "
                              "directory and the EOCD record."),
         derive_garbage_cd_eocd(centre.signed)),
        (janus, derive_janus(weather_v1, dex_of(bank.signed))),
        (tampered(loan, "zip_bomb.apk", ["zip-bomb"], klass="hostile",
                  planted=with_members(loan, ["assets/data.bin"]),
                  description=f"loan_app plus assets/data.bin that inflates to {BOMB_SIZE} bytes "
                              "of zeros; v2/v3 block dropped."),
         derive_zip_bomb(loan.signed)),
        (tampered(meeting, "path_traversal.apk", ["path-traversal"], klass="hostile",
                  planted=with_members(meeting, ["../../evil.sh", "/etc/cron.d/x"]),
                  description="meeting_remote_control plus members named ../../evil.sh and "
                              "/etc/cron.d/x (inert text); v2/v3 block dropped."),
         derive_path_traversal(meeting.signed)),
        (Fixture(file="not_an_apk.apk", description="A 1x1 PNG image named .apk.", **rejected),
         tiny_png()),
        (Fixture(file="truncated.apk", base=bank.fixture.file,
                 description="The first half of fake_bank_security.apk (no central directory).",
                 **rejected),
         bank.signed[:len(bank.signed) // 2]),
        (Fixture(file="empty.apk", description="Zero bytes.", **rejected), b""),
    ]


# --------------------------------------------------------------------------- checks


def searchable(blob: bytes) -> Iterator[bytes]:
    """The file itself and every member it holds, inflated (capped: one member is a bomb)."""
    yield blob
    for _, method, data in iter_local_members(blob):
        if method == zipfile.ZIP_DEFLATED:
            try:
                yield zlib.decompressobj(-15).decompress(data, 64 * 1024 * 1024)
            except zlib.error:
                continue
        else:
            yield data


def contains(blob: bytes, text: str) -> bool:
    """DEX strings are (modified) UTF-8; binary XML string pools are UTF-8 or UTF-16LE."""
    return text.encode("utf-8") in blob or text.encode("utf-16-le") in blob


def check_planted(fixture: Fixture, blob: bytes) -> None:
    """Fail the build when fixture.toml names an indicator that is not in the file."""
    parts = list(searchable(blob))
    for kind, values in fixture.planted.items():
        if kind in UNCHECKED_KINDS:
            continue
        for value in values:
            if not any(contains(part, str(value)) for part in parts):
                raise RuntimeError(f"{fixture.file}: planted {kind} {value!r} not found")


# --------------------------------------------------------------------------- MANIFEST.toml


def toml_value(value: object) -> str:
    """TOML for the few value types used here (JSON string escapes are valid TOML)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(f"no TOML for {value!r}")


def manifest_toml(fixtures: list[Fixture]) -> str:
    """One [[apk]] table per file; optional fields only when set."""
    lines = [
        "# Test fixtures for fraudwall's APK analysis, written by tools/build_test_apks.py.",
        "# expected: malicious | suspicious-at-most | benign | rejected (the file cannot be read as an APK).",
        "# planted: indicators put into the file on purpose, by kind; each value occurs as a string",
        "# (UTF-8 or UTF-16LE) in the file or one of its members, except foreground_service_types.",
        "",
    ]
    for f in fixtures:
        lines.append("[[apk]]")
        rows = [("file", f.file), ("sha256", f.sha256), ("size", f.size), ("package", f.package),
                ("label", f.label), ("label_en", f.label_en), ("expected", f.expected),
                ("class", f.klass), ("signer", f.signer), ("base", f.base),
                ("payload", f.payload), ("start_url", f.start_url),
                ("impersonates", f.impersonates), ("tamper", f.tamper),
                ("description", f.description)]
        always = {"file", "sha256", "size", "package", "label", "expected", "class"}
        for key, value in rows:
            if key in always or value:
                lines.append(f"{key} = {toml_value(value)}")
        lines.append("[apk.planted]")
        for kind, values in f.planted.items():
            lines.append(f"{kind} = {toml_value(list(values))}")
        lines.append("")
    text = "\n".join(lines)
    tomllib.loads(text)  # refuse to write a file that does not parse
    return text


def remove_previous(out: Path) -> None:
    """Delete the files an earlier run listed, so renamed fixtures do not linger."""
    manifest = out / "MANIFEST.toml"
    if not manifest.exists():
        return
    for row in tomllib.loads(manifest.read_text(encoding="utf-8")).get("apk", []):
        (out / row["file"]).unlink(missing_ok=True)


# --------------------------------------------------------------------------- main


def write_fixture(out: Path, fixture: Fixture, blob: bytes) -> Fixture:
    (out / fixture.file).write_bytes(blob)
    return replace(fixture, sha256=hashlib.sha256(blob).hexdigest(), size=len(blob))


def build_all(out: Path) -> list[Fixture]:
    templates = build_order([load_template(p.parent) for p in sorted(TEMPLATES.glob("*/fixture.toml"))])
    built: dict[str, Built] = {}
    keys: dict[str, Path] = {}
    with tempfile.TemporaryDirectory(prefix="fraudwall-apks-") as tmp:
        workdir = Path(tmp)
        for t in templates:
            started = time.monotonic()
            b = build_template(t, workdir, out, keys)
            check_planted(b.fixture, b.signed)
            built[b.fixture.file] = b
            print(f"built {b.fixture.file} ({len(b.signed)} bytes, {time.monotonic() - started:.1f}s)")
        fixtures = [write_fixture(out, b.fixture, b.signed) for b in built.values()]
        for fixture, blob in derived_fixtures(built, workdir):
            check_planted(fixture, blob)
            fixtures.append(write_fixture(out, fixture, blob))
            print(f"derived {fixture.file} ({len(blob)} bytes)")
    return fixtures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default: %(default)s)")
    args = parser.parse_args(argv)
    started = time.monotonic()
    ensure_tools()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    remove_previous(out)
    fixtures = build_all(out)
    (out / "MANIFEST.toml").write_text(manifest_toml(fixtures), encoding="utf-8")
    total = sum(f.size for f in fixtures)
    print(f"{len(fixtures)} fixtures, {total} bytes, in {time.monotonic() - started:.1f}s -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
