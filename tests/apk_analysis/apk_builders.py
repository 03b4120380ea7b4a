"""Builders for the APK analysis tests: zips, DEX string tables, binary XML and signatures made in memory.

Each builds the smallest valid thing of its kind from the specification, so a
test can plant exactly what it checks and then break exactly one field.
"""

from __future__ import annotations

import base64
import hashlib
import io
import struct
import warnings
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID

ANDROID_NS = "http://schemas.android.com/apk/res/android"
PNG_1X1 = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


# -- zips ---------------------------------------------------------------------------------


def make_zip(entries: list[tuple[str, bytes]], *, method: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A zip of ``entries`` (name, content), in order, duplicates allowed."""
    buffer = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buffer, "w", method) as archive:
        warnings.simplefilter("ignore")  # duplicate names are what some tests want
        for name, content in entries:
            archive.writestr(zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0)), content, compress_type=method)
    return buffer.getvalue()


def end_record(data: bytes) -> int:
    """Offset of the end-of-central-directory record."""
    return data.rfind(b"PK\x05\x06")


def set_method(data: bytes, name: str, method: int) -> bytes:
    """``data`` with ``name``'s compression method set to ``method`` in its local and central headers."""
    patched = bytearray(data)
    encoded = name.encode()
    for signature, method_at, name_at in ((b"PK\x03\x04", 8, 30), (b"PK\x01\x02", 10, 46)):
        position = patched.find(signature)
        while position >= 0:
            if patched[position + name_at:position + name_at + len(encoded)] == encoded:
                struct.pack_into("<H", patched, position + method_at, method)
            position = patched.find(signature, position + 4)
    return bytes(patched)


def insert_before_end(data: bytes, garbage: bytes) -> bytes:
    """``garbage`` between the central directory and its end record (offsets stay right)."""
    end = end_record(data)
    return data[:end] + garbage + data[end:]


def make_zip64(name: str, content: bytes) -> bytes:
    """A one-member stored zip written the zip64 way: every size and offset in zip64 extra fields and end records."""
    encoded = name.encode()
    crc = zlib.crc32(content)
    local_extra = struct.pack("<HHQQ", 1, 16, len(content), len(content))
    local = struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 45, 0, 0, 0, 0, crc, 0xFFFFFFFF, 0xFFFFFFFF,
                        len(encoded), len(local_extra)) + encoded + local_extra + content
    central_extra = struct.pack("<HHQQQ", 1, 24, len(content), len(content), 0)
    central = struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 45, 45, 0, 0, 0, 0, crc, 0xFFFFFFFF, 0xFFFFFFFF,
                          len(encoded), len(central_extra), 0, 0, 0, 0, 0xFFFFFFFF) + encoded + central_extra
    record_at = len(local) + len(central)
    record = struct.pack("<4sQHHIIQQQQ", b"PK\x06\x06", 44, 45, 45, 0, 0, 1, 1, len(central), len(local))
    locator = struct.pack("<4sIQI", b"PK\x06\x07", 0, record_at, 1)
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    return local + central + record + locator + end


def prepend(prefix: bytes, data: bytes) -> bytes:
    """``prefix`` before the zip, every offset moved so the zip still opens (the Janus layout)."""
    shift = len(prefix)
    patched = bytearray(data)
    position = patched.find(b"PK\x01\x02")
    while position >= 0:
        (offset,) = struct.unpack_from("<I", patched, position + 42)
        struct.pack_into("<I", patched, position + 42, offset + shift)
        position = patched.find(b"PK\x01\x02", position + 4)
    end = end_record(bytes(patched))
    (cd_offset,) = struct.unpack_from("<I", patched, end + 16)
    struct.pack_into("<I", patched, end + 16, cd_offset + shift)
    return prefix + bytes(patched)


# -- DEX ----------------------------------------------------------------------------------


def _uleb128(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def mutf8(text: str) -> bytes:
    """``text`` in Java's modified UTF-8: NUL as C0 80, characters beyond the BMP as two 3-byte surrogates."""
    units = text.encode("utf-16-le", "surrogatepass")
    out = bytearray()
    for index in range(0, len(units), 2):
        unit = int.from_bytes(units[index:index + 2], "little")
        out += b"\xc0\x80" if unit == 0 else chr(unit).encode("utf-8", "surrogatepass")
    return bytes(out)


def make_dex(strings: list[str], *, declared_count: int | None = None, bad_offset: int | None = None) -> bytes:
    """A DEX file holding a header and a string table of ``strings`` (nothing else a reader of strings needs).

    ``declared_count`` overrides the header's string count; ``bad_offset``
    replaces the first string's offset (to point outside the file).
    """
    header_size = 0x70
    table = header_size
    data_start = table + 4 * len(strings)
    items, offsets = bytearray(), []
    for text in strings:
        offsets.append(data_start + len(items))
        items += _uleb128(len(text.encode("utf-16-le", "surrogatepass")) // 2) + mutf8(text) + b"\0"
    if bad_offset is not None and offsets:
        offsets[0] = bad_offset
    size = data_start + len(items)
    header = bytearray(header_size)
    header[:8] = b"dex\n035\0"
    struct.pack_into("<IIII", header, 32, size, header_size, 0x12345678, 0)
    count = len(strings) if declared_count is None else declared_count
    struct.pack_into("<II", header, 0x38, count, table)
    return bytes(header) + struct.pack(f"<{len(offsets)}I", *offsets) + bytes(items)


@dataclass(frozen=True)
class CodeMethod:
    """A public method (``signature``, ``()V`` by default) whose code loads ``ints`` and ``strings`` as constants,
    then makes ``calls`` in order.

    A call is a method reference as smali writes it, ``Lpkg/Class;->name(params)return``; it is
    assembled as ``invoke-virtual/range`` with one register per argument plus the receiver
    (``invoke-static/range`` and no receiver when ``static``, ``invoke-direct/range`` for ``<init>``).
    """

    name: str
    calls: tuple[str, ...] = ()
    ints: tuple[int, ...] = ()
    strings: tuple[str, ...] = ()
    static: tuple[str, ...] = ()  # calls among ``calls`` that are static
    signature: str = "()V"


@dataclass(frozen=True)
class CodeClass:
    """A class (``Lpkg/Name;``) extending ``superclass``, with ``methods`` (each ``public void name()``)."""

    name: str
    superclass: str = "Ljava/lang/Object;"
    methods: tuple[CodeMethod, ...] = ()


def _split_reference(reference: str) -> tuple[str, str, tuple[str, ...], str]:
    """``Lpkg/C;->name(IL...;)V`` as (class, name, parameter types, return type)."""
    owner, rest = reference.split("->", 1)
    name, signature = rest.split("(", 1)
    params, returns = signature.split(")", 1)
    types, index = [], 0
    while index < len(params):
        start = index
        while params[index] == "[":
            index += 1
        index = params.index(";", index) + 1 if params[index] == "L" else index + 1
        types.append(params[start:index])
    return owner, name, tuple(types), returns


def _shorty(kind: str) -> str:
    return "L" if kind[0] in "L[" else kind


def make_code_dex(classes: list[CodeClass]) -> bytes:
    """A DEX file (version 035) defining ``classes``, their methods with code, and every id they reference.

    Laid out as the specification orders it: header, string/type/proto/method ids,
    class defs, then the data section (type lists, code items, class data, string
    data) and the map list; ids are sorted, checksum and signature filled in.
    """
    own_methods = [_split_reference(f"{c.name}->{m.name}{m.signature}") for c in classes for m in c.methods]
    called = {reference: _split_reference(reference) for c in classes for m in c.methods for reference in m.calls}
    method_keys = sorted(set(own_methods) | set(called.values()))
    strings_needed = {s for c in classes for m in c.methods for s in m.strings}
    types_needed = {c.name for c in classes} | {c.superclass for c in classes}
    protos = set()
    for owner, name, params, returns in method_keys:
        types_needed |= {owner, *params, returns}
        strings_needed.add(name)
        protos.add((returns, params))
    strings_needed |= types_needed
    strings_needed |= {_shorty(r) + "".join(_shorty(p) for p in ps) for r, ps in protos}
    # string_ids sort by the strings' UTF-16 code units; ASCII names sort as bytes do.
    strings = sorted(strings_needed, key=lambda s: s.encode("utf-16-be"))
    string_index = {s: i for i, s in enumerate(strings)}
    types = sorted(types_needed, key=lambda t: string_index[t])
    type_index = {t: i for i, t in enumerate(types)}
    proto_list = sorted(protos, key=lambda p: (type_index[p[0]], [type_index[t] for t in p[1]]))
    proto_index = {p: i for i, p in enumerate(proto_list)}
    method_list = sorted(method_keys, key=lambda m: (type_index[m[0]], string_index[m[1]], proto_index[(m[3], m[2])]))
    method_index = {m: i for i, m in enumerate(method_list)}
    ordered = sorted(classes, key=lambda c: type_index[c.name])

    header_size = 0x70
    string_ids_off = header_size
    type_ids_off = string_ids_off + 4 * len(strings)
    proto_ids_off = type_ids_off + 4 * len(types)
    method_ids_off = proto_ids_off + 12 * len(proto_list)
    class_defs_off = method_ids_off + 8 * len(method_list)
    data_off = class_defs_off + 32 * len(ordered)
    data = bytearray()

    def here() -> int:
        return data_off + len(data)

    def align(boundary: int) -> None:
        data.extend(b"\0" * (-here() % boundary))

    type_lists: dict[tuple[str, ...], int] = {}
    for _, params in proto_list:
        if params and params not in type_lists:
            align(4)
            type_lists[params] = here()
            items = struct.pack(f"<{len(params)}H", *(type_index[kind] for kind in params))
            data.extend(struct.pack("<I", len(params)) + items)
            align(4)
    code_offsets: dict[tuple[str, str], int] = {}
    for item in ordered:
        for method in item.methods:
            align(4)
            code_offsets[(item.name, method.name)] = here()
            insns, registers, outs = bytearray(), 1, 0
            for value in method.ints:
                insns += struct.pack("<BBi", 0x14, 0, value)  # const v0, #+value
            for text in method.strings:
                insns += struct.pack("<BBH", 0x1A, 0, string_index[text])  # const-string v0, string@
            for reference in method.calls:
                owner, name, params, returns = called[reference]
                static = reference in method.static
                words = sum(2 if p in ("J", "D") else 1 for p in params) + (0 if static else 1)
                registers, outs = max(registers, words), max(outs, words)
                opcode = 0x77 if static else 0x76 if name == "<init>" else 0x74  # invoke-static/direct/virtual range
                insns += struct.pack("<BBHH", opcode, words, method_index[(owner, name, params, returns)], 0)
            insns += b"\x0e\x00"  # return-void
            registers += 1  # the receiver of the method itself
            data.extend(struct.pack("<HHHHII", registers, 1, outs, 0, 0, len(insns) // 2) + insns)
    class_data_offsets: dict[str, int] = {}
    for item in ordered:
        class_data_offsets[item.name] = here()
        by_index = {method_index[_split_reference(f"{item.name}->{m.name}{m.signature}")]: m for m in item.methods}
        entries = sorted(by_index)
        data.extend(_uleb128(0) + _uleb128(0) + _uleb128(0) + _uleb128(len(entries)))
        previous = 0
        for index in entries:
            code = code_offsets[(item.name, by_index[index].name)]
            data.extend(_uleb128(index - previous) + _uleb128(0x1) + _uleb128(code))  # public
            previous = index
    string_data_off = here()
    string_offsets = []
    for text in strings:
        string_offsets.append(here())
        data.extend(_uleb128(len(text.encode("utf-16-le", "surrogatepass")) // 2) + mutf8(text) + b"\0")
    align(4)
    map_off = here()
    sections = [
        (0x0000, 1, 0), (0x0001, len(strings), string_ids_off), (0x0002, len(types), type_ids_off),
        (0x0003, len(proto_list), proto_ids_off), (0x0005, len(method_list), method_ids_off),
        (0x0006, len(ordered), class_defs_off),
    ]
    if type_lists:
        sections.append((0x1001, len(type_lists), min(type_lists.values())))
    if code_offsets:
        sections.append((0x2001, len(code_offsets), min(code_offsets.values())))
    sections += [(0x2000, len(ordered), min(class_data_offsets.values(), default=string_data_off)),
                 (0x2002, len(strings), string_data_off), (0x1000, 1, map_off)]
    sections.sort(key=lambda s: s[2])
    data.extend(struct.pack("<I", len(sections)) + b"".join(struct.pack("<HHII", k, 0, n, o) for k, n, o in sections))

    ids = bytearray()
    ids += b"".join(struct.pack("<I", offset) for offset in string_offsets)
    ids += b"".join(struct.pack("<I", string_index[t]) for t in types)
    for returns, params in proto_list:
        shorty = _shorty(returns) + "".join(_shorty(p) for p in params)
        ids += struct.pack("<III", string_index[shorty], type_index[returns], type_lists.get(params, 0))
    for owner, name, params, returns in method_list:
        ids += struct.pack("<HHI", type_index[owner], proto_index[(returns, params)], string_index[name])
    for item in ordered:
        ids += struct.pack("<IIIIIIII", type_index[item.name], 0x1, type_index[item.superclass], 0, 0xFFFFFFFF, 0,
                           class_data_offsets[item.name], 0)
    size = data_off + len(data)
    header = bytearray(header_size)
    header[:8] = b"dex\n035\0"
    struct.pack_into("<IIII", header, 32, size, header_size, 0x12345678, 0)
    struct.pack_into("<II", header, 0x30, 0, 0)  # link
    struct.pack_into("<I", header, 0x34, map_off)
    struct.pack_into("<IIIIIIIIIIII", header, 0x38, len(strings), string_ids_off, len(types), type_ids_off,
                     len(proto_list), proto_ids_off, 0, 0, len(method_list), method_ids_off, len(ordered),
                     class_defs_off)
    struct.pack_into("<II", header, 0x68, len(data), data_off)
    body = bytes(header) + bytes(ids) + bytes(data)
    signed = body[:12] + hashlib.sha1(body[32:]).digest() + body[32:]
    return signed[:8] + struct.pack("<I", zlib.adler32(signed[12:])) + signed[12:]


# -- binary XML ----------------------------------------------------------------------------


@dataclass
class Element:
    """An XML element to compile: ``android:`` attributes go in the Android namespace."""

    tag: str
    attributes: dict[str, object] = field(default_factory=dict)
    children: list[Element] = field(default_factory=list)


@dataclass(frozen=True)
class Hex:
    """An integer attribute compiled as hexadecimal flags (TYPE_INT_HEX), as aapt writes flag attributes."""

    value: int


@dataclass(frozen=True)
class Reference:
    """A resource reference (``@7F0B0001``)."""

    value: int


_TYPE_REFERENCE, _TYPE_STRING, _TYPE_INT_DEC, _TYPE_INT_HEX, _TYPE_BOOLEAN = 0x01, 0x03, 0x10, 0x11, 0x12


def make_axml(root: Element) -> bytes:
    """``root`` compiled to Android binary XML: a UTF-16 string pool, the android namespace, the elements."""
    strings: list[str] = []

    def index(text: str) -> int:
        if text not in strings:
            strings.append(text)
        return strings.index(text)

    prefix, uri = index("android"), index(ANDROID_NS)
    body = bytearray(struct.pack("<HHIIIII", 0x0100, 16, 24, 1, 0xFFFFFFFF, prefix, uri))

    def element(node: Element) -> None:
        attributes = bytearray()
        for name, value in node.attributes.items():
            namespace = uri if name.startswith("android:") else 0xFFFFFFFF
            name_index = index(name.removeprefix("android:"))
            raw = 0xFFFFFFFF
            if isinstance(value, bool):
                kind, data = _TYPE_BOOLEAN, 0xFFFFFFFF if value else 0
            elif isinstance(value, Hex):
                kind, data = _TYPE_INT_HEX, value.value
            elif isinstance(value, Reference):
                kind, data = _TYPE_REFERENCE, value.value
            elif isinstance(value, int):
                kind, data = _TYPE_INT_DEC, value
            else:
                raw = data = index(str(value))
                kind = _TYPE_STRING
            attributes += struct.pack("<IIIHBBI", namespace, name_index, raw, 8, 0, kind, data)
        count = len(node.attributes)
        start = struct.pack("<HHIIIIIHHHHHH", 0x0102, 16, 36 + len(attributes), 1, 0xFFFFFFFF, 0xFFFFFFFF,
                            index(node.tag), 20, 20, count, 0, 0, 0)
        body.extend(start + attributes)
        for child in node.children:
            element(child)
        body.extend(struct.pack("<HHIIIII", 0x0103, 16, 24, 1, 0xFFFFFFFF, 0xFFFFFFFF, index(node.tag)))

    element(root)
    body.extend(struct.pack("<HHIIIII", 0x0101, 16, 24, 1, 0xFFFFFFFF, prefix, uri))
    pool_data = bytearray()
    offsets = []
    for text in strings:
        offsets.append(len(pool_data))
        encoded = text.encode("utf-16-le")
        pool_data += struct.pack("<H", len(encoded) // 2) + encoded + b"\0\0"
    pool_data += b"\0" * (-len(pool_data) % 4)
    strings_start = 28 + 4 * len(strings)
    pool = struct.pack("<HHIIIIII", 0x0001, 28, strings_start + len(pool_data), len(strings), 0, 0,
                       strings_start, 0) + struct.pack(f"<{len(offsets)}I", *offsets) + pool_data
    return struct.pack("<HHI", 0x0003, 8, 8 + len(pool) + len(body)) + pool + bytes(body)


def manifest(package: str = "com.example.app", *, label: object = "App", permissions: tuple[str, ...] = (),
             components: tuple[Element, ...] = (), application: dict[str, object] | None = None) -> bytes:
    """A compiled manifest with the usual skeleton around what the test varies."""
    application_element = Element("application", {"android:label": label, **(application or {})}, list(components))
    root = Element("manifest", {"android:versionCode": 7, "android:versionName": "1.2", "package": package}, [
        Element("uses-sdk", {"android:minSdkVersion": 21, "android:targetSdkVersion": 33}),
        *(Element("uses-permission", {"android:name": name}) for name in permissions),
        application_element,
    ])
    return make_axml(root)


# -- signatures -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Signer:
    """An RSA key and its self-signed certificate."""

    key: rsa.RSAPrivateKey
    certificate: x509.Certificate

    @property
    def der(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.DER)


def make_signer(common_name: str = "Test Signer") -> Signer:
    """A fresh RSA-2048 key with a self-signed certificate for ``CN=common_name``."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Test")])
    now = datetime(2024, 1, 1, tzinfo=timezone.utc)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(0x1234ABCD).not_valid_before(now).not_valid_after(now + timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )
    return Signer(key, certificate)


def v1_entries(entries: list[tuple[str, bytes]], signer: Signer, *, attributes: bool = True,
               stem: str = "CERT") -> list[tuple[str, bytes]]:
    """``entries`` plus the JAR signature files of ``signer`` (MANIFEST.MF, .SF, .RSA)."""
    def digest(data: bytes) -> str:
        return base64.b64encode(hashlib.sha256(data).digest()).decode()

    manifest_mf = "Manifest-Version: 1.0\r\nCreated-By: test\r\n\r\n" + "".join(
        f"Name: {name}\r\nSHA-256-Digest: {digest(content)}\r\n\r\n" for name, content in entries
    )
    sf = (f"Signature-Version: 1.0\r\nSHA-256-Digest-Manifest: {digest(manifest_mf.encode())}\r\n"
          "Created-By: test\r\n\r\n").encode()
    options = [pkcs7.PKCS7Options.DetachedSignature]
    if not attributes:
        options.append(pkcs7.PKCS7Options.NoAttributes)
    block = (pkcs7.PKCS7SignatureBuilder().set_data(sf)
             .add_signer(signer.certificate, signer.key, hashes.SHA256())
             .sign(serialization.Encoding.DER, options))
    return [*entries, ("META-INF/MANIFEST.MF", manifest_mf.encode()), (f"META-INF/{stem}.SF", sf),
            (f"META-INF/{stem}.RSA", block)]


def _lp(data: bytes) -> bytes:
    return struct.pack("<I", len(data)) + data


CHUNK = 1 << 20


def _chunked_sha256(sections: list[bytes]) -> bytes:
    pieces = [section[start:start + CHUNK] for section in sections for start in range(0, len(section), CHUNK)]
    chunks = [hashlib.sha256(b"\xa5" + struct.pack("<I", len(piece)) + piece).digest() for piece in pieces]
    return hashlib.sha256(b"\x5a" + struct.pack("<I", len(chunks)) + b"".join(chunks)).digest()


def sign_block(data: bytes, signer: Signer, *, scheme: str = "v2", duplicate: bool = False) -> bytes:
    """``data`` (a zip) with an APK Signing Block holding one ``scheme`` ("v2" or "v3") signer.

    The signature is RSASSA-PKCS1-v1_5 with SHA-256 (algorithm 0x0103) over
    the chunked SHA-256 digest. ``duplicate`` writes the scheme's entry twice.
    """
    end = end_record(data)
    (cd_offset,) = struct.unpack_from("<I", data, end + 16)
    digest = _chunked_sha256([data[:cd_offset], data[cd_offset:end], data[end:]])
    algorithm = struct.pack("<I", 0x0103)
    sdk = struct.pack("<II", 24, 0x7FFFFFFF) if scheme == "v3" else b""
    signed_data = _lp(_lp(algorithm + _lp(digest))) + _lp(_lp(signer.der)) + sdk + _lp(b"")
    signature = signer.key.sign(signed_data, padding.PKCS1v15(), hashes.SHA256())
    public_key = signer.key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    signer_bytes = _lp(signed_data) + sdk + _lp(_lp(algorithm + _lp(signature))) + _lp(public_key)
    value = _lp(_lp(signer_bytes))
    block_id = 0x7109871A if scheme == "v2" else 0xF05368C0
    pair = struct.pack("<QI", 4 + len(value), block_id) + value
    pairs = pair * (2 if duplicate else 1)
    size = len(pairs) + 8 + 16
    block = struct.pack("<Q", size) + pairs + struct.pack("<Q", size) + b"APK Sig Block 42"
    end_bytes = bytearray(data[end:])
    struct.pack_into("<I", end_bytes, 16, cd_offset + len(block))
    return data[:cd_offset] + block + data[cd_offset:end] + bytes(end_bytes)
