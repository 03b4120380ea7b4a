"""Unit tests for fraudwall.wallets: addresses are checked by their checksums, not their looks.

Valid addresses are built here with the algorithms themselves (base58check,
bech32), independently of the code under test; invalid ones are the same
addresses with one character or the version byte changed.
"""

from __future__ import annotations

import hashlib

import pytest

from fraudwall import wallets

BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
ACCOUNT = hashlib.sha256(b"fraudwall test account").digest()[:20]


def base58check(version: int, payload: bytes) -> str:
    """Bitcoin's base58check encoding of ``version`` + ``payload`` (written from the spec, for the tests)."""
    data = bytes([version]) + payload
    data += hashlib.sha256(hashlib.sha256(data).digest()).digest()[:4]
    number, text = int.from_bytes(data, "big"), ""
    while number:
        number, digit = divmod(number, 58)
        text = BASE58[digit] + text
    return "1" * (len(data) - len(data.lstrip(b"\x00"))) + text


def bech32_address(version: int, program: bytes, constant: int) -> str:
    """A SegWit address (BIP 173 / 350 reference algorithm) for ``program`` with checksum ``constant``."""
    def polymod(values: list[int]) -> int:
        generator = [0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3]
        checksum = 1
        for value in values:
            top = checksum >> 25
            checksum = (checksum & 0x1FFFFFF) << 5 ^ value
            for bit in range(5):
                checksum ^= generator[bit] if (top >> bit) & 1 else 0
        return checksum

    accumulator, bits, data = 0, 0, [version]
    for byte in program:
        accumulator, bits = (accumulator << 8) | byte, bits + 8
        while bits >= 5:
            bits -= 5
            data.append((accumulator >> bits) & 31)
    if bits:
        data.append((accumulator << (5 - bits)) & 31)
    expanded = [ord(ch) >> 5 for ch in "bc"] + [0] + [ord(ch) & 31 for ch in "bc"]
    mod = polymod(expanded + data + [0] * 6) ^ constant
    checksum = [(mod >> 5 * (5 - i)) & 31 for i in range(6)]
    return "bc1" + "".join(BECH32[value] for value in data + checksum)


def flip(address: str) -> str:
    """``address`` with its third-last character replaced by the next one of the same alphabet."""
    alphabet = BECH32 if address.startswith("bc1") else BASE58
    index = len(address) - 3
    new = alphabet[(alphabet.index(address[index]) + 1) % len(alphabet)]
    return address[:index] + new + address[index + 1:]


def test_tron_addresses_need_version_0x41_and_a_valid_checksum() -> None:
    """A TRON address is base58check of 0x41 + 20 bytes; a changed character or version byte fails."""
    address = base58check(0x41, ACCOUNT)
    assert address.startswith("T") and len(address) == 34
    assert wallets.is_tron_address(address)
    assert not wallets.is_tron_address(flip(address))
    assert not wallets.is_tron_address(base58check(0x00, ACCOUNT))


def test_bitcoin_base58_addresses() -> None:
    """P2PKH (0x00, '1...') and P2SH (0x05, '3...') addresses pass; a TRON address or a typo does not."""
    p2pkh, p2sh = base58check(0x00, ACCOUNT), base58check(0x05, ACCOUNT)
    assert p2pkh.startswith("1") and p2sh.startswith("3")
    assert wallets.is_btc_base58_address(p2pkh) and wallets.is_btc_base58_address(p2sh)
    assert not wallets.is_btc_base58_address(flip(p2pkh))
    assert not wallets.is_btc_base58_address(base58check(0x41, ACCOUNT))


def test_base58_leading_zero_bytes_are_leading_ones() -> None:
    """Each leading zero byte is one leading '1', both ways."""
    assert wallets.base58_decode("11") == b"\x00\x00"
    assert wallets.base58check_payload(base58check(0x00, ACCOUNT)) == b"\x00" + ACCOUNT
    assert wallets.base58_decode("0OIl") is None  # characters base58 leaves out


@pytest.mark.parametrize(
    ("version", "program", "constant", "valid"),
    [
        (0, ACCOUNT, wallets.BECH32_CONST, True),  # P2WPKH
        (0, hashlib.sha256(b"script").digest(), wallets.BECH32_CONST, True),  # P2WSH
        (1, hashlib.sha256(b"taproot").digest(), wallets.BECH32M_CONST, True),  # taproot uses bech32m
        (0, ACCOUNT, wallets.BECH32M_CONST, False),  # v0 must use bech32
        (1, hashlib.sha256(b"taproot").digest(), wallets.BECH32_CONST, False),  # v1 must use bech32m
        (0, ACCOUNT[:15], wallets.BECH32_CONST, False),  # v0 programs are 20 or 32 bytes
    ],
)
def test_segwit_addresses(version: int, program: bytes, constant: int, valid: bool) -> None:
    """bech32 for witness v0 and bech32m for later versions, with the program lengths BIP 141 allows."""
    address = bech32_address(version, program, constant)
    assert wallets.is_segwit_address(address) is valid
    if valid:
        assert wallets.is_segwit_address(address.upper())
        assert not wallets.is_segwit_address(flip(address))


def test_keccak256_is_ethereums_not_sha3() -> None:
    """Keccak-256 of the empty string is Ethereum's well-known value, which differs from NIST SHA3-256."""
    empty = "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
    assert wallets.keccak256(b"").hex() == empty != hashlib.sha3_256(b"").hexdigest()
    assert len(wallets.keccak256(b"x" * 500)) == 32  # several absorbed blocks


def test_eip55_checksums() -> None:
    """Mixed case must be the EIP-55 checksum; all-lower and all-upper addresses carry none and pass."""
    digits = hashlib.sha256(b"eth").hexdigest()[:40]
    checksummed = wallets.eip55_checksum("0x" + digits)
    assert checksummed.lower() == "0x" + digits and checksummed != "0x" + digits
    assert wallets.is_eth_address(checksummed)
    assert wallets.is_eth_address("0x" + digits) and wallets.is_eth_address("0x" + digits.upper())
    swapped = checksummed[:2] + checksummed[2:].swapcase()
    assert not wallets.is_eth_address(swapped)
    # EIP-55's own examples.
    assert wallets.is_eth_address("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed")
    assert wallets.is_eth_address("0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359")


def test_addresses_are_found_in_text_and_typos_are_not() -> None:
    """Only addresses whose checksum holds are extracted; lookalike strings beside them are ignored."""
    tron = base58check(0x41, ACCOUNT)
    text = f"充值地址：{tron}，备用 {flip(tron)}；BTC {base58check(0x00, ACCOUNT)}；ETH 0x{'ab' * 20}；hash 0x{'cd' * 32}"
    found = list(wallets.addresses(text))
    assert ("trc20", tron) in found and ("btc", base58check(0x00, ACCOUNT)) in found
    assert ("erc20", "0x" + "ab" * 20) in found
    assert len(found) == 3
