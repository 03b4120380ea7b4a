"""Cryptocurrency addresses: find them in text and prove they are well formed.

Part of fraudwall's core, for any detector that reports the wallets a page or
an app shows (``diversion_channels`` does). A string only counts as an address
when its checksum holds, so random tokens, hashes and base64 noise that merely
look like addresses are not reported:

* TRON (where USDT-TRC20 is paid): base58check, 25 bytes, version byte 0x41;
* Bitcoin legacy and script addresses: base58check, version 0x00 (``1...``) or
  0x05 (``3...``);
* Bitcoin SegWit: bech32 for witness version 0, bech32m for 1 to 16 (BIP 173, BIP 350);
* Ethereum (where USDT-ERC20 is paid): ``0x`` and 40 hex digits; mixed case must
  carry a valid EIP-55 checksum (Keccak-256, implemented here because hashlib's
  ``sha3_256`` is the later, differently padded NIST variant).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator

BASE58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_BASE58_INDEX = {ch: index for index, ch in enumerate(BASE58_ALPHABET)}
TRON_VERSION = 0x41
BTC_VERSIONS = (0x00, 0x05)
ADDRESS_BYTES = 25  # version byte, 20-byte hash, 4-byte checksum

BECH32_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_BECH32_INDEX = {ch: index for index, ch in enumerate(BECH32_CHARSET)}
_BECH32_GENERATOR = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
BECH32_CONST = 1
BECH32M_CONST = 0x2BC830A3

_B58 = "1-9A-HJ-NP-Za-km-z"
_CANDIDATES = re.compile(
    rf"(?<![{_B58}])(?P<tron>T[{_B58}]{{33}})(?![{_B58}])"
    rf"|(?<![{_B58}])(?P<btc>[13][{_B58}]{{25,34}})(?![{_B58}])"
    r"|(?<![a-zA-Z0-9])(?P<bech32>(?:bc|BC)1[ac-hj-np-zAC-HJ-NP-Z02-9]{11,71})(?![a-zA-Z0-9])"
    r"|(?<![0-9a-zA-Z])(?P<eth>0x[0-9a-fA-F]{40})(?![0-9a-fA-F])"
)

#: The shortest address of any kind: bc1 and 11 bech32 characters.
_SHORTEST = 14
_ALNUMERIC_RUN = re.compile(rf"[0-9A-Za-z]{{{_SHORTEST},}}")


# -- base58check -----------------------------------------------------------------


def base58_decode(text: str) -> bytes | None:
    """The bytes ``text`` encodes in Bitcoin's base58, or ``None`` for a character outside the alphabet."""
    number = 0
    for ch in text:
        digit = _BASE58_INDEX.get(ch)
        if digit is None:
            return None
        number = number * 58 + digit
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    leading_zeros = len(text) - len(text.lstrip("1"))
    return b"\x00" * leading_zeros + body


def base58check_payload(text: str) -> bytes | None:
    """The payload (version byte included) of a base58check string whose checksum holds, else ``None``."""
    raw = base58_decode(text)
    if raw is None or len(raw) < 5:
        return None
    payload, checksum = raw[:-4], raw[-4:]
    if hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4] != checksum:
        return None
    return payload


def is_tron_address(text: str) -> bool:
    """True for a TRON address: base58check of 0x41 followed by a 20-byte account hash."""
    payload = base58check_payload(text)
    return payload is not None and len(payload) == ADDRESS_BYTES - 4 and payload[0] == TRON_VERSION


def is_btc_base58_address(text: str) -> bool:
    """True for a Bitcoin P2PKH (``1...``) or P2SH (``3...``) address."""
    payload = base58check_payload(text)
    return payload is not None and len(payload) == ADDRESS_BYTES - 4 and payload[0] in BTC_VERSIONS


# -- bech32 ------------------------------------------------------------------------


def _bech32_polymod(values: list[int]) -> int:
    checksum = 1
    for value in values:
        top = checksum >> 25
        checksum = (checksum & 0x1FFFFFF) << 5 ^ value
        for bit, generator in enumerate(_BECH32_GENERATOR):
            if (top >> bit) & 1:
                checksum ^= generator
    return checksum


def _hrp_expand(hrp: str) -> list[int]:
    return [ord(ch) >> 5 for ch in hrp] + [0] + [ord(ch) & 31 for ch in hrp]


def _convert_bits(data: list[int], from_bits: int, to_bits: int) -> list[int] | None:
    """Regroup ``data`` from ``from_bits``-bit to ``to_bits``-bit values without padding (BIP 173)."""
    accumulator, bits, result = 0, 0, []
    for value in data:
        accumulator = (accumulator << from_bits) | value
        bits += from_bits
        while bits >= to_bits:
            bits -= to_bits
            result.append((accumulator >> bits) & ((1 << to_bits) - 1))
    if bits >= from_bits or (accumulator << (to_bits - bits)) & ((1 << to_bits) - 1):
        return None
    return result


def is_segwit_address(text: str, hrp: str = "bc") -> bool:
    """True for a SegWit address of ``hrp``: bech32 for witness v0, bech32m for v1-16, valid program length."""
    if text.lower() != text and text.upper() != text:
        return False  # mixed case is invalid bech32
    text = text.lower()
    separator = text.rfind("1")
    if text[:separator] != hrp or len(text) - separator - 1 < 7:
        return False
    data = [_BECH32_INDEX.get(ch, -1) for ch in text[separator + 1:]]
    if -1 in data:
        return False
    constant = _bech32_polymod(_hrp_expand(hrp) + data)
    version = data[0]
    program = _convert_bits(data[1:-6], 5, 8)
    if program is None or not 2 <= len(program) <= 40 or version > 16:
        return False
    if version == 0:
        return constant == BECH32_CONST and len(program) in (20, 32)
    return constant == BECH32M_CONST


# -- Ethereum ------------------------------------------------------------------------

_MASK64 = (1 << 64) - 1
_KECCAK_ROUNDS = (
    0x0000000000000001, 0x0000000000008082, 0x800000000000808A, 0x8000000080008000,
    0x000000000000808B, 0x0000000080000001, 0x8000000080008081, 0x8000000000008009,
    0x000000000000008A, 0x0000000000000088, 0x0000000080008009, 0x000000008000000A,
    0x000000008000808B, 0x800000000000008B, 0x8000000000008089, 0x8000000000008003,
    0x8000000000008002, 0x8000000000000080, 0x000000000000800A, 0x800000008000000A,
    0x8000000080008081, 0x8000000000008080, 0x0000000080000001, 0x8000000080008008,
)
# Rotation offset of lane (x, y), indexed [x][y].
_KECCAK_ROTATIONS = (
    (0, 36, 3, 41, 18), (1, 44, 10, 45, 2), (62, 6, 43, 15, 61), (28, 55, 25, 21, 56), (27, 20, 39, 8, 14),
)
KECCAK_256_RATE = 136  # bytes absorbed per permutation: 1600 - 2 * 256 bits


def _rotate(lane: int, shift: int) -> int:
    return ((lane << shift) | (lane >> (64 - shift))) & _MASK64 if shift else lane


def _keccak_f1600(state: list[int]) -> list[int]:
    """The Keccak-f[1600] permutation over 25 lanes, lane (x, y) at index x + 5y."""
    for round_constant in _KECCAK_ROUNDS:
        parity = [state[x] ^ state[x + 5] ^ state[x + 10] ^ state[x + 15] ^ state[x + 20] for x in range(5)]
        mix = [parity[(x - 1) % 5] ^ _rotate(parity[(x + 1) % 5], 1) for x in range(5)]
        state = [lane ^ mix[index % 5] for index, lane in enumerate(state)]
        moved = [0] * 25
        for x in range(5):
            for y in range(5):
                moved[y + 5 * ((2 * x + 3 * y) % 5)] = _rotate(state[x + 5 * y], _KECCAK_ROTATIONS[x][y])
        state = [
            moved[i] ^ ((~moved[(i + 1) % 5 + 5 * (i // 5)] & _MASK64) & moved[(i + 2) % 5 + 5 * (i // 5)])
            for i in range(25)
        ]
        state[0] ^= round_constant
    return state


def keccak256(data: bytes) -> bytes:
    """Keccak-256 as Ethereum uses it (original padding 0x01, not NIST SHA3's 0x06)."""
    padded = bytearray(data)
    padded.append(0x01)
    padded.extend(b"\x00" * (-len(padded) % KECCAK_256_RATE))
    padded[-1] |= 0x80
    state = [0] * 25
    for offset in range(0, len(padded), KECCAK_256_RATE):
        block = padded[offset:offset + KECCAK_256_RATE]
        for lane in range(KECCAK_256_RATE // 8):
            state[lane] ^= int.from_bytes(block[lane * 8:lane * 8 + 8], "little")
        state = _keccak_f1600(state)
    return b"".join(lane.to_bytes(8, "little") for lane in state[:4])


def eip55_checksum(address: str) -> str:
    """``address`` (0x + 40 hex) in its EIP-55 mixed-case form."""
    digits = address[2:].lower()
    digest = keccak256(digits.encode("ascii")).hex()
    return "0x" + "".join(ch.upper() if int(digest[i], 16) >= 8 else ch for i, ch in enumerate(digits))


def is_eth_address(text: str) -> bool:
    """True for 0x + 40 hex digits, all one case or with a valid EIP-55 checksum."""
    if not re.fullmatch(r"0x[0-9a-fA-F]{40}", text):
        return False
    digits = text[2:]
    if digits.lower() == digits or digits.upper() == digits:
        return True
    return eip55_checksum(text) == text


# -- finding them -------------------------------------------------------------------


def addresses(text: str) -> Iterator[tuple[str, str]]:
    """``(kind, address)`` for every valid address in ``text``: kind is trc20, btc or erc20.

    Addresses are searched only inside runs of at least ``_SHORTEST`` letters and digits: every
    address is one, and a run's edges are no letter or digit, so the patterns' own edge tests
    read the same inside a run as in the whole text, at a fifth of the cost.
    """
    for run in _ALNUMERIC_RUN.finditer(text):
        yield from _addresses_in(run.group())


def _addresses_in(text: str) -> Iterator[tuple[str, str]]:
    for match in _CANDIDATES.finditer(text):
        kind = match.lastgroup
        value = match.group(0)
        if kind == "tron" and is_tron_address(value):
            yield "trc20", value
        elif kind == "btc" and is_btc_base58_address(value):
            yield "btc", value
        elif kind == "bech32" and is_segwit_address(value):
            yield "btc", value.lower()
        elif kind == "eth" and is_eth_address(value):
            yield "erc20", value
