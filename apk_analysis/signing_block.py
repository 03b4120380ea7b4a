"""APK Signature Scheme v2, v3 and v3.1: the APK Signing Block, parsed and verified.

The block sits right before the central directory: ``size`` (uint64), pairs of
(uint64 length, uint32 ID, value), ``size`` again and the magic
``APK Sig Block 42``. The v2 (0x7109871a), v3 (0xf05368c0) and v3.1
(0x1b93ad61) values each hold signers; a signer holds its signed data
(content digests, certificates), its signatures over the signed data and its
public key.

A signer verifies when its strongest signature checks out over the signed
data with its public key, that key is its first certificate's key, and the
content digest it signed matches the file: the chunked SHA-256 or SHA-512
over the zip entries, the central directory (up to its end record, garbage
included, as Android reads it) and the end record pointing at the block.
Hashing runs at hundreds of MB/s, so the digests are always checked. Only
the verity algorithms (0x0421, 0x0423, 0x0425, whose digest is a Merkle tree
root) get their signature checked without their digest; apksigner always
writes a chunked digest beside them, which is preferred.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from fraudwall.apk_analysis.archive import SIGNING_BLOCK_MAGIC, Archive
from fraudwall.apk_analysis.notes import Notes
from fraudwall.apk_analysis.public_keys import verifies

SCHEME_IDS = {0x7109871A: "v2", 0xF05368C0: "v3", 0x1B93AD61: "v3.1"}
FOOTER_SIZE = 24  # uint64 size + 16-byte magic
CHUNK_SIZE = 1024 * 1024


@dataclass(frozen=True, slots=True)
class _Algorithm:
    key: str  # "rsa", "rsa-pss", "ecdsa", "dsa"
    hash: str
    digest: str  # "sha256", "sha512" (chunked) or "verity"
    strength: int  # Android verifies the strongest signature a signer has


ALGORITHMS = {
    0x0101: _Algorithm("rsa-pss", "sha256", "sha256", 2), 0x0102: _Algorithm("rsa-pss", "sha512", "sha512", 3),
    0x0103: _Algorithm("rsa", "sha256", "sha256", 2), 0x0104: _Algorithm("rsa", "sha512", "sha512", 3),
    0x0201: _Algorithm("ecdsa", "sha256", "sha256", 2), 0x0202: _Algorithm("ecdsa", "sha512", "sha512", 3),
    0x0301: _Algorithm("dsa", "sha256", "sha256", 2),
    0x0421: _Algorithm("rsa", "sha256", "verity", 1), 0x0423: _Algorithm("ecdsa", "sha256", "verity", 1),
    0x0425: _Algorithm("dsa", "sha256", "verity", 1),
}


@dataclass(frozen=True, slots=True)
class SchemeSigner:
    """One signer of one scheme: its certificates (DER, signer's first) and whether it verified."""

    scheme: str
    certificates: tuple[bytes, ...]
    verified: bool


class _Malformed(ValueError):
    """A length or count in the block points outside its parent."""


def block_pairs(archive: Archive, notes: Notes) -> tuple[int, list[tuple[int, memoryview]]] | None:
    """The signing block's start offset and its (ID, value) pairs, or ``None`` when there is no block."""
    data, end = archive.data, archive.cd_offset
    if end < FOOTER_SIZE or data[end - 16:end] != SIGNING_BLOCK_MAGIC:
        return None
    (size,) = struct.unpack_from("<Q", data, end - FOOTER_SIZE)
    start = end - size - 8
    if size < FOOTER_SIZE or start < 0 or struct.unpack_from("<Q", data, start)[0] != size:
        notes.add("signing", "APK Signing Block sizes do not match")
        return None
    pairs: list[tuple[int, memoryview]] = []
    position, limit = start + 8, end - FOOTER_SIZE
    while position + 12 <= limit:
        (length,) = struct.unpack_from("<Q", data, position)
        if length < 4 or position + 8 + length > limit:
            notes.add("signing", "APK Signing Block entry runs past the block")
            break
        (block_id,) = struct.unpack_from("<I", data, position + 8)
        pairs.append((block_id, archive.view[position + 12:position + 8 + length]))
        position += 8 + length
    return start, pairs


def verify_block(archive: Archive, notes: Notes) -> list[SchemeSigner]:
    """Every v2/v3/v3.1 signer in the APK Signing Block, verified against the file."""
    found = block_pairs(archive, notes)
    if found is None:
        return []
    start, pairs = found
    seen: set[int] = set()
    signers: list[SchemeSigner] = []
    digests = _Digests(archive, start)
    for block_id, value in pairs:
        if block_id in seen:
            notes.add("signing", f"duplicate APK Signing Block entry 0x{block_id:08x}")
            continue  # Android reads the first one
        seen.add(block_id)
        scheme = SCHEME_IDS.get(block_id)
        if scheme is None:
            continue
        try:
            for signer in _sequence(_prefixed(value, 0)[0]):
                signers.append(_signer(scheme, signer, digests))
        except _Malformed:
            notes.add("signing", f"{scheme} signature block is malformed")
    return signers


def _signer(scheme: str, signer: memoryview, digests: _Digests) -> SchemeSigner:
    signed_data, position = _prefixed(signer, 0)
    if scheme != "v2":
        position += 8  # minSdkVersion, maxSdkVersion
    signatures, position = _prefixed(signer, position)
    public_key, _ = _prefixed(signer, position)
    content_digests, inner = _prefixed(signed_data, 0)
    certificates = tuple(bytes(cert) for cert in _sequence(_prefixed(signed_data, inner)[0]))
    best: tuple[int, bytes] | None = None  # (algorithm ID, signature)
    for item in _sequence(signatures):
        if len(item) < 8:
            raise _Malformed
        (algorithm_id,) = struct.unpack_from("<I", item, 0)
        if algorithm_id in ALGORITHMS and (
            best is None or ALGORITHMS[algorithm_id].strength > ALGORITHMS[best[0]].strength
        ):
            best = (algorithm_id, bytes(_prefixed(item, 4)[0]))
    verified = best is not None and bool(certificates) and _verifies(
        best, bytes(signed_data), bytes(public_key), certificates[0], content_digests, digests,
    )
    return SchemeSigner(scheme, certificates, verified)


def _verifies(best: tuple[int, bytes], signed_data: bytes, public_key: bytes, certificate: bytes,
              content_digests: memoryview, digests: _Digests) -> bool:
    algorithm_id, signature = best
    algorithm = ALGORITHMS[algorithm_id]
    try:
        key = serialization.load_der_public_key(public_key)
        cert_key = x509.load_der_x509_certificate(certificate).public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo,
        )
    except (ValueError, TypeError):
        return False
    if cert_key != key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo):
        return False
    if not verifies(key, signature, signed_data, algorithm.hash, pss=algorithm.key == "rsa-pss"):
        return False
    if algorithm.digest == "verity":
        return True
    for item in _sequence(content_digests):
        (digest_id,) = struct.unpack_from("<I", item, 0) if len(item) >= 4 else (None,)
        if digest_id == algorithm_id:
            return bytes(_prefixed(item, 4)[0]) == digests.of(algorithm.digest)
    return False


class _Digests:
    """The APK's content digests (chunked SHA-256 / SHA-512), computed once each on demand."""

    def __init__(self, archive: Archive, block_start: int) -> None:
        self._archive = archive
        self._block_start = block_start
        self._cache: dict[str, bytes] = {}

    def of(self, kind: str) -> bytes:
        if kind not in self._cache:
            self._cache[kind] = self._compute(hashlib.sha256 if kind == "sha256" else hashlib.sha512)
        return self._cache[kind]

    def _compute(self, new: Callable[[bytes], Any]) -> bytes:
        archive = self._archive
        view = archive.view
        end_record = bytearray(view[archive.end_offset:])
        struct.pack_into("<I", end_record, 16, self._block_start)  # as if the block were not there
        sections = (view[:self._block_start], view[archive.cd_offset:archive.end_offset], memoryview(end_record))
        chunk_digests = []
        for section in sections:
            for offset in range(0, len(section), CHUNK_SIZE):
                chunk = section[offset:offset + CHUNK_SIZE]
                digest = new(b"\xa5" + struct.pack("<I", len(chunk)))
                digest.update(chunk)
                chunk_digests.append(digest.digest())
        top = new(b"\x5a" + struct.pack("<I", len(chunk_digests)))
        for digest in chunk_digests:
            top.update(digest)
        return top.digest()


def _prefixed(buffer: memoryview, position: int) -> tuple[memoryview, int]:
    """The uint32-length-prefixed value at ``position``, and the position after it."""
    if position + 4 > len(buffer):
        raise _Malformed
    (length,) = struct.unpack_from("<I", buffer, position)
    end = position + 4 + length
    if end > len(buffer):
        raise _Malformed
    return buffer[position + 4:end], end


def _sequence(buffer: memoryview) -> list[memoryview]:
    """A sequence of length-prefixed values filling ``buffer``."""
    items, position = [], 0
    while position < len(buffer):
        item, position = _prefixed(buffer, position)
        items.append(item)
    return items
