"""The string table of a DEX file, read straight from its header: no class or code parsing.

Every string constant an app's code uses (URLs, hosts, wallet addresses, chat
IDs, class names) is one entry of the DEX ``string_ids`` table, so indicators
need nothing else. The reader goes header -> ``string_ids`` (offsets) ->
``string_data_item`` (a uleb128 UTF-16 length, then MUTF-8 bytes ending in
NUL), and stops at the budget's string count, byte count or deadline.
Offsets that point outside the file are skipped, so a hostile header cannot
make it read past the data or loop.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass

from fraudwall.apk_analysis.archive import Archive, Member
from fraudwall.apk_analysis.budget import Meter

DEX_MAGIC = b"dex\n"
#: The DEX files Android loads: classes.dex, classes2.dex, ... at the root.
MAIN_DEX = re.compile(r"classes\d*\.dex")
HEADER_SIZE = 0x70
STRING_IDS_AT = 0x38  # string_ids_size, then string_ids_off
#: Strings decoded between two looks at the clock.
CLOCK_EVERY = 4096


@dataclass(slots=True)
class StringAllowance:
    """What is left of the budget's DEX strings and bytes, shared by every DEX of one APK."""

    strings: int
    bytes: int


@dataclass(frozen=True, slots=True)
class DexStrings:
    """The strings read from one DEX, and why reading stopped early, if it did."""

    strings: tuple[str, ...]
    problem: str = ""


def is_dex(data: bytes) -> bool:
    """True when ``data`` starts like a DEX file (``dex\\n`` and a version)."""
    return len(data) >= HEADER_SIZE and data.startswith(DEX_MAGIC)


def dex_sources(archive: Archive) -> list[tuple[str, Member | None]]:
    """Every DEX in ``archive`` by name: a Janus prefix DEX first (member ``None``), the DEX files
    Android loads, then DEX files elsewhere in the APK (payloads that code loads at run time)."""
    main = [member for member in archive.members if MAIN_DEX.fullmatch(member.name)]
    others = [member for member in archive.members
              if member.name.lower().endswith(".dex") and not MAIN_DEX.fullmatch(member.name)]
    sources: list[tuple[str, Member | None]] = [(member.name, member) for member in main + others]
    if is_dex(archive.prefix):
        sources.insert(0, ("the DEX before the zip", None))
    return sources


def read_strings(dex: bytes, allowance: StringAllowance, meter: Meter) -> DexStrings:
    """The strings of ``dex``'s string table, within ``allowance`` (which is spent) and ``meter``'s deadline."""
    if not is_dex(dex):
        return DexStrings((), "not a DEX file")
    count, table = struct.unpack_from("<II", dex, STRING_IDS_AT)
    problem = ""
    fits = max(0, (len(dex) - table) // 4) if table <= len(dex) else 0
    if count > fits:
        count, problem = fits, "string table runs past the end of the file"
    if count > allowance.strings:
        count, problem = allowance.strings, "string budget reached"
    offsets = struct.unpack_from(f"<{count}I", dex, table) if count else ()
    strings: list[str] = []
    last_nul = dex.rfind(b"\0")  # a string starting after it has no end: skipped without a search
    budget_bytes = allowance.bytes
    for index, offset in enumerate(offsets):
        if index % CLOCK_EVERY == 0 and index and meter.expired():
            problem = "time budget reached"
            break
        start = offset
        while start < last_nul and dex[start] & 0x80:  # skip the uleb128 UTF-16 length
            start += 1
        start += 1
        if start > last_nul:
            continue
        end = dex.index(b"\0", start)
        budget_bytes -= end - start
        if budget_bytes < 0:
            problem = "string byte budget reached"
            break
        strings.append(decode_mutf8(dex[start:end]))
    allowance.strings -= len(strings)
    allowance.bytes = max(0, budget_bytes)
    return DexStrings(tuple(strings), problem)


def decode_mutf8(raw: bytes) -> str:
    """Text of Java's modified UTF-8: NUL as ``C0 80``, characters beyond the BMP as surrogate pairs.

    Nearly every string is plain UTF-8 and takes the first decode; the rest
    are folded into UTF-8 form, their surrogate pairs joined through UTF-16.
    Anything still malformed is replaced, never raised.
    """
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    folded = raw.replace(b"\xc0\x80", b"\x00")
    try:
        text = folded.decode("utf-8", "surrogatepass")
    except UnicodeDecodeError:
        return folded.decode("utf-8", "replace")
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
