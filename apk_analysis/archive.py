"""A tolerant zip reader that reads an APK the way Android does, and notes every trick it meets.

Android's ``libziparchive`` finds the end-of-central-directory record by
scanning back from the end of the file, trusts the central directory for names,
offsets and sizes, and reads each member's data after its local header. Fraud
apps abuse everything the usual zip readers are stricter about than Android
(Python's ``zipfile`` refuses, androguard gives up) so analysis tools fail
while the phone installs the app. This reader follows Android, and records each
deviation as a short tamper string:

* compression methods other than deflate are read as stored, as Android does
  (``invalid compression method N on NAME``);
* sizes that are zero or point outside the file fall back to the other size
  field, then to where the next member starts; deflate streams end themselves;
* data before the first entry (``dex\\n`` there is the Janus layout,
  CVE-2017-13156), bytes between the central directory and its end record,
  misaligned central directory entries (read on from the next signature),
  duplicate names, path-traversal names, symbolic links, the encryption flag Android ignores;
* decompression is capped per member and in total (:class:`~.budget.ApkBudget`):
  a zip bomb stops at the cap, recorded, and never raises; a member whose
  declared size is past the cap, or a large one deflated 200:1 or more, is
  recorded as a bomb without being read.

Nothing is ever written to disk: members are read into memory, within the caps.
"""

from __future__ import annotations

import bisect
import struct
import zlib
from dataclasses import dataclass

from fraudwall.apk_analysis.budget import MIB, Meter
from fraudwall.apk_analysis.errors import ApkRejected
from fraudwall.apk_analysis.notes import Notes

LOCAL_SIGNATURE = b"PK\x03\x04"
CENTRAL_SIGNATURE = b"PK\x01\x02"
END_SIGNATURE = b"PK\x05\x06"
ZIP64_LOCATOR_SIGNATURE = b"PK\x06\x07"
ZIP64_END_SIGNATURE = b"PK\x06\x06"
SIGNING_BLOCK_MAGIC = b"APK Sig Block 42"

END_SIZE = 22
CENTRAL_SIZE = 46
LOCAL_SIZE = 30
MAX_COMMENT = 0xFFFF
ZIP64_EXTRA_ID = 0x0001
ZIP64_LOCATOR_SIZE = 20

STORED = 0
DEFLATED = 8
#: A deflated member declaring at least this many bytes, at this ratio or more, is a bomb on its own word.
BOMB_MIN_SIZE = 16 * MIB
BOMB_RATIO = 200
FLAG_ENCRYPTED = 0x0001

_END = struct.Struct("<4sHHHHIIH")
_CENTRAL = struct.Struct("<4sHHHHHHIIIHHHHHII")
#: The "made by" system of a central directory entry whose external attributes hold a Unix file mode.
_UNIX = 3
_LOCAL = struct.Struct("<4sHHHHHIIIHH")
_ZIP64_END = struct.Struct("<4sQHHIIQQQQ")


@dataclass(frozen=True, slots=True)
class Member:
    """One central directory entry: what Android reads the member by."""

    name: str
    raw_name: bytes
    method: int
    flags: int
    compressed_size: int
    size: int  # uncompressed, as declared
    offset: int  # of the local header, in the file as read (any prefix shift applied)


@dataclass(frozen=True, slots=True)
class _End:
    offset: int
    entries: int
    cd_size: int
    cd_offset: int
    comment_end: int
    directory_end: int  # where the directory should end: this record, or the zip64 end record before it


class Archive:
    """An APK's zip structure over its bytes; :meth:`read` gives a member's content within the caps.

    Build it with :meth:`open`, which raises :class:`~.errors.ApkRejected` for
    bytes that are no zip at all. ``notes`` collects the tamper signs met, while
    opening and while reading members.
    """

    def __init__(self, data: bytes, meter: Meter, notes: Notes) -> None:
        self.data = data
        self.view = memoryview(data)
        self.meter = meter
        self.notes = notes
        self.members: list[Member] = []
        self._by_name: dict[str, Member] = {}
        self._starts: list[int] = []
        self.end_offset = 0  # of the end-of-central-directory record
        self.cd_offset = 0  # as declared, which is what the APK Signing Block sits before
        self.zip_start = 0

    # -- opening ---------------------------------------------------------------

    @classmethod
    def open(cls, data: bytes, meter: Meter, notes: Notes) -> Archive:
        """Read the central directory of ``data``; :class:`ApkRejected` when it is not a zip archive."""
        archive = cls(data, meter, notes)
        archive._read_directory()
        return archive

    def _read_directory(self) -> None:
        data = self.data
        if not data:
            raise ApkRejected("empty file")
        end = _find_end(data)
        if end is None:
            if data.startswith(b"PK"):
                raise ApkRejected("truncated zip archive (no end of central directory record)")
            raise ApkRejected(f"not a zip archive (starts with {data[:4].hex()})")
        end = self._zip64(end)
        if end.entries == 0:
            raise ApkRejected("zip archive has no entries")
        if end.comment_end < len(data):
            self.notes.add("trailing", f"{len(data) - end.comment_end} bytes after the end of central directory record")
        elif end.comment_end > len(data):
            self.notes.add("trailing", "zip comment runs past the end of the file")
        self.end_offset, self.cd_offset = end.offset, end.cd_offset
        shift = 0
        if data[end.cd_offset:end.cd_offset + 4] != CENTRAL_SIGNATURE:
            # Offsets written for a zip that was later prefixed with other bytes (a
            # self-extractor): Android reads nothing, desktop tools look where the directory ends.
            shift = end.offset - end.cd_size - end.cd_offset
            if shift <= 0 or data[end.cd_offset + shift:end.cd_offset + shift + 4] != CENTRAL_SIGNATURE:
                raise ApkRejected("corrupt zip archive (no central directory where its end record points)")
            self.notes.add("shift", f"zip offsets are {shift} bytes off (data prepended to the archive)")
        cd_end = end.cd_offset + end.cd_size
        if cd_end < end.directory_end and shift == 0:
            self.notes.add("gap", f"{end.directory_end - cd_end} bytes between the central directory and its end record")
        self._read_entries(end, shift)
        if not self.members:
            raise ApkRejected("corrupt zip archive (no readable central directory entry)")
        self._starts = sorted({member.offset for member in self.members})
        self.zip_start = self._starts[0]
        if self.zip_start > 0:
            if data.startswith(b"dex\n"):
                self.notes.add("janus", "DEX before the zip (Janus, CVE-2017-13156)")
            else:
                self.notes.add("prefix", f"{self.zip_start} bytes before the first zip entry")

    def _zip64(self, end: _End) -> _End:
        """The zip64 end record's values when the classic record defers to it (0xFFFF / 0xFFFFFFFF fields)."""
        if end.entries != 0xFFFF and end.cd_size != 0xFFFFFFFF and end.cd_offset != 0xFFFFFFFF:
            return end
        locator = end.offset - ZIP64_LOCATOR_SIZE
        if locator < 0 or self.data[locator:locator + 4] != ZIP64_LOCATOR_SIGNATURE:
            return end
        (record,) = struct.unpack_from("<Q", self.data, locator + 8)
        if record + _ZIP64_END.size > locator or self.data[record:record + 4] != ZIP64_END_SIGNATURE:
            return end
        *_, entries, cd_size, cd_offset = _ZIP64_END.unpack_from(self.data, record)
        return _End(end.offset, entries, cd_size, cd_offset, end.comment_end, record)

    def _read_entries(self, end: _End, shift: int) -> None:
        data, notes = self.data, self.notes
        position = end.cd_offset + shift
        limit = min(end.directory_end, end.cd_offset + shift + end.cd_size) if shift else end.directory_end
        wanted = end.entries
        if wanted > self.meter.budget.members:
            notes.add("budget", f"central directory lists {wanted} entries; only the first "
                                f"{self.meter.budget.members} are read")
            wanted = self.meter.budget.members
        seen: set[str] = set()
        for index in range(wanted):
            if data[position:position + 4] != CENTRAL_SIGNATURE:
                found = data.find(CENTRAL_SIGNATURE, position, limit)
                if found < 0:
                    notes.add("directory", f"central directory ends after {index} of {end.entries} entries")
                    break
                notes.add("misaligned", f"central directory entry {index} misaligned by {found - position} bytes")
                position = found
            if position + CENTRAL_SIZE > len(data):
                notes.add("directory", f"central directory ends after {index} of {end.entries} entries")
                break
            (_, made_by, _, flags, method, _, _, _, compressed, size, name_length, extra_length, comment_length,
             _, _, attributes, offset) = _CENTRAL.unpack_from(data, position)
            name_start = position + CENTRAL_SIZE
            raw_name = data[name_start:name_start + name_length]
            extra = self.view[name_start + name_length:name_start + name_length + extra_length]
            if 0xFFFFFFFF in (compressed, size, offset):
                size, compressed, offset = _zip64_extra(extra, size, compressed, offset)
            position = name_start + name_length + extra_length + comment_length
            member = Member(
                name=raw_name.decode("utf-8", "replace"), raw_name=raw_name, method=method, flags=flags,
                compressed_size=compressed, size=size, offset=offset + shift,
            )
            self._check_member(member, seen)
            if made_by >> 8 == _UNIX and (attributes >> 16) & 0o170000 == 0o120000:
                # Android never reads it as a link; an analysis tool that extracts the APK follows it off the disk.
                notes.add("symlink", f"symbolic link member {member.name}")
            self.members.append(member)
            self._by_name.setdefault(member.name, member)
        if position < limit and data[position:position + 4] == CENTRAL_SIGNATURE:
            notes.add("hidden", "central directory holds more entries than its end record counts")

    def _check_member(self, member: Member, seen: set[str]) -> None:
        name = member.name
        if name in seen:
            self.notes.add("duplicate", f"duplicate entry {name}")
        seen.add(name)
        parts = name.replace("\\", "/").split("/")
        if name.startswith(("/", "\\")) or ".." in parts:
            self.notes.add("traversal", f"path-traversal member name {name}")
        if member.flags & FLAG_ENCRYPTED:
            self.notes.add("encrypted", f"{name} flagged as encrypted (Android ignores the flag)")
        if member.method not in (STORED, DEFLATED):
            self.notes.add("method", f"invalid compression method {member.method} on {name}")
        cap = self.meter.budget.member_bytes
        if member.size > cap or (member.method == DEFLATED and member.size >= BOMB_MIN_SIZE
                                 and member.size > BOMB_RATIO * max(member.compressed_size, 1)):
            self.notes.add("bomb", f"zip bomb: member {name} declares {member.size:,} bytes "
                                   f"from {member.compressed_size:,}")

    # -- members ---------------------------------------------------------------

    def member(self, name: str) -> Member | None:
        """The member called ``name`` (the first one, when the name is duplicated)."""
        return self._by_name.get(name)

    @property
    def names(self) -> list[str]:
        """Member names in central directory order, duplicates included."""
        return [member.name for member in self.members]

    @property
    def prefix(self) -> bytes:
        """The bytes before the first zip entry (a DEX, in the Janus layout)."""
        return self.data[:self.zip_start]

    def read(self, member: Member, limit: int | None = None) -> bytes:
        """The content of ``member``, at most ``limit`` bytes (a deliberate partial read) or the budget's caps.

        Never raises: a missing local header, corrupt deflate data or a cap
        reached is noted and what could be read is returned.
        """
        data = self.data
        local = member.offset
        if local < 0 or data[local:local + 4] != LOCAL_SIGNATURE:
            self.notes.add("local", f"{member.name}: no local header at offset {local}")
            return b""
        (_, _, _, _, _, _, _, _, _, name_length, extra_length) = _LOCAL.unpack_from(data, local)
        if data[local + LOCAL_SIZE:local + LOCAL_SIZE + name_length] != member.raw_name:
            self.notes.add("local", f"{member.name}: local header carries another name")
        start = local + LOCAL_SIZE + name_length + extra_length
        bound = self._bound(member)
        allowance = self.meter.allowance(self.meter.budget.member_bytes if limit is None else limit)
        if member.method == DEFLATED:
            return self._inflate(member, start, bound, allowance, partial=limit is not None)
        length = _stored_length(member, start, bound, len(data))
        content = data[start:start + min(length, allowance)]
        if length > allowance and limit is None:
            self._capped(member)
        self.meter.spend(len(content))
        return content

    def _inflate(self, member: Member, start: int, bound: int, allowance: int, *, partial: bool) -> bytes:
        if allowance <= 0:  # zlib reads a max_length of 0 as "no limit"
            if not partial:
                self._capped(member)
            return b""
        end = start + member.compressed_size
        if member.compressed_size <= 0 or end > len(self.data):
            end = bound  # a bogus size: the deflate stream says where it ends
        inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        try:
            content = inflater.decompress(self.view[start:end], allowance + 1)
        except zlib.error:
            self.notes.add("deflate", f"{member.name}: corrupt deflate data")
            return b""
        if len(content) > allowance:
            content = content[:allowance]
            if not partial:
                self._capped(member)
        elif not inflater.eof and not partial:
            self.notes.add("deflate", f"{member.name}: deflate data ends early")
        self.meter.spend(len(content))
        return content

    def _capped(self, member: Member) -> None:
        if self.meter.total_left <= 0:
            self.notes.add("bomb", f"zip bomb: total decompression cap reached at {member.name}")
        else:
            cap = self.meter.budget.member_bytes
            self.notes.add("bomb", f"zip bomb: member {member.name} decompresses beyond cap ({cap // MIB} MiB)")

    def _bound(self, member: Member) -> int:
        """Where ``member``'s data must end: the next local header, else the signing block or the directory."""
        following = bisect.bisect_right(self._starts, member.offset)
        if following < len(self._starts):
            return self._starts[following]
        directory = min(self.cd_offset, len(self.data))
        return directory if directory > member.offset else len(self.data)


def _find_end(data: bytes) -> _End | None:
    """The end-of-central-directory record Android would use, scanning back from the end of the file.

    The last record whose directory fits before it wins; one whose comment runs
    exactly to the end of the file is preferred, as Android insists on it.
    """
    floor = max(0, len(data) - END_SIZE - MAX_COMMENT)
    position = data.rfind(END_SIGNATURE, floor)
    fallback: _End | None = None
    while position >= 0:
        if position + END_SIZE <= len(data):
            _, _, _, _, entries, cd_size, cd_offset, comment_length = _END.unpack_from(data, position)
            end = _End(position, entries, cd_size, cd_offset, position + END_SIZE + comment_length, position)
            if cd_offset + cd_size <= position or 0xFFFFFFFF in (cd_size, cd_offset):
                if end.comment_end == len(data):
                    return end
                fallback = fallback or end
        position = data.rfind(END_SIGNATURE, floor, position + len(END_SIGNATURE) - 1)
    return fallback


def _zip64_extra(extra: memoryview, size: int, compressed: int, offset: int) -> tuple[int, int, int]:
    """Sizes and offset from a zip64 extra field; each is present only when its 32-bit field is 0xFFFFFFFF."""
    position = 0
    while position + 4 <= len(extra):
        header, length = struct.unpack_from("<HH", extra, position)
        if header == ZIP64_EXTRA_ID:
            values = iter(struct.unpack_from(f"<{min(length, len(extra) - position - 4) // 8}Q", extra, position + 4))
            size = next(values, size) if size == 0xFFFFFFFF else size
            compressed = next(values, compressed) if compressed == 0xFFFFFFFF else compressed
            offset = next(values, offset) if offset == 0xFFFFFFFF else offset
            break
        position += 4 + length
    return size, compressed, offset


def _stored_length(member: Member, start: int, bound: int, file_size: int) -> int:
    """How many bytes a stored member holds: Android copies the declared size; bogus sizes fall back."""
    for declared in (member.size, member.compressed_size):
        if 0 < declared and start + declared <= file_size:
            return declared
    if member.size == 0 and member.compressed_size == 0:
        return 0
    return max(0, bound - start)
