"""DNS messages as bytes: the cheap encoding and reading the prober's hot path needs.

A query the prober sends is always the same shape: a 12-byte header with one
question, the name, the type, class IN, and an EDNS0 OPT record announcing the
UDP payload size. So it is built by joining bytes (:func:`question`,
:func:`query`), not through ``dns.message``: the encoded name is made once per
name and reused for every type and every retry.

A reply is read from its header first (:func:`read_header`): most replies
carry no answer records (NXDOMAIN, NODATA, SERVFAIL, REFUSED), and those never
reach a parser. A reply with answer records is read by :func:`read_answer`:
the answer section only, the seven record types only, straight from the bytes,
into :class:`~fraudwall.models.DnsRecord` values in presentation form exactly
as dnspython writes them (a property test holds the two to the same output).
``dns.message.from_wire`` was the first choice and is still the fallback for
anything the small reader refuses, but it parses every section into objects
the prober throws away: 100 to 150 microseconds for a one-record reply on the
development machine against about 8, and half the probing time of a name.

:func:`matches` is the anti-spoofing check the receiving side applies before
a reply may settle a pending query: it must be a response, with the query's
ID (checked by the caller's lookup) and the very question asked.
"""

from __future__ import annotations

import re
import socket
import struct
from dataclasses import dataclass
from typing import Any

import dns.exception
import dns.message
import dns.name
import dns.rdatatype

from fraudwall.models import DnsRecord

#: Type codes of the record types the prober asks for, and back.
TYPE_CODES: dict[str, int] = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "MX": 15, "TXT": 16, "AAAA": 28}
TYPE_NAMES: dict[int, str] = {code: name for name, code in TYPE_CODES.items()}

#: Response codes, by number, as the prober names them.
NOERROR, FORMERR, SERVFAIL, NXDOMAIN, NOTIMP, REFUSED = 0, 1, 2, 3, 4, 5

_HEADER = struct.Struct("!6H")
_CLASS_IN = 1
_FLAG_QR = 0x8000
_FLAG_TC = 0x0200
_FLAG_RD = 0x0100
_OPCODE_MASK = 0x7800
_TYPE_CNAME = TYPE_CODES["CNAME"]
#: Longest CNAME chain followed through an answer section: more is a loop or an abuse.
MAX_CHAIN = 16


def encode_name(name: str) -> bytes:
    """``name`` (ASCII, no trailing dot needed) in wire form, or :class:`ValueError` saying why not."""
    text = name.rstrip(".")
    if not text:
        raise ValueError("empty name")
    try:
        raw = text.encode("ascii")
    except UnicodeEncodeError:
        raise ValueError(f"{name!r} is not an A-label name") from None
    parts = []
    for label in raw.split(b"."):
        if not label:
            raise ValueError(f"{name!r} has an empty label")
        if len(label) > 63:
            raise ValueError(f"{name!r} has a label longer than 63 bytes")
        parts.append(bytes((len(label),)) + label)
    wire = b"".join(parts) + b"\x00"
    if len(wire) > 255:
        raise ValueError(f"{name!r} is longer than 255 bytes in wire form")
    return wire


def question(name_wire: bytes, type_code: int) -> bytes:
    """The question section for ``name_wire`` (from :func:`encode_name`), ``type_code``, class IN."""
    return name_wire + struct.pack("!HH", type_code, _CLASS_IN)


def _opt_record(payload: int) -> bytes:
    """An EDNS0 OPT pseudo-record: root owner, type 41, the UDP payload size as its class, no options."""
    return b"\x00" + struct.pack("!HHIH", 41, payload, 0, 0)


def query(query_id: int, question_wire: bytes, edns_payload: int = 1232) -> bytes:
    """A recursive query (RD set) with one question; EDNS0 unless ``edns_payload`` is 0."""
    if edns_payload:
        return _HEADER.pack(query_id, _FLAG_RD, 1, 0, 0, 1) + question_wire + _opt_record(edns_payload)
    return _HEADER.pack(query_id, _FLAG_RD, 1, 0, 0, 0) + question_wire


def query_id(data: bytes) -> int:
    """The ID of a message (the caller has checked it is at least a header long)."""
    return (data[0] << 8) | data[1]


@dataclass(frozen=True, slots=True)
class Header:
    """What the prober reads from a reply before deciding whether to parse it."""

    rcode: int
    truncated: bool
    answers: int


def read_header(data: bytes) -> Header:
    """The reply's response code, TC bit and answer count (the extended rcode bits are ignored: no
    extended code is asked for)."""
    _, flags, _, answers, _, _ = _HEADER.unpack_from(data)
    return Header(flags & 0x000F, bool(flags & _FLAG_TC), answers)


def matches(data: bytes, question_wire: bytes) -> bool:
    """True when ``data`` is a standard-query response to exactly ``question_wire``.

    Name case may differ (a server may echo 0x20-mixed case); type and class
    may not. A reply that fails this is ignored, so a spoofed or stray packet
    that guessed the ID still cannot settle the query.
    """
    if len(data) < 12 + len(question_wire):
        return False
    flags = (data[2] << 8) | data[3]
    if not flags & _FLAG_QR or flags & _OPCODE_MASK or data[4:6] != b"\x00\x01":
        return False
    echoed = data[12:12 + len(question_wire)]
    if echoed == question_wire:
        return True
    # bytes.lower() only touches A-Z; length octets (<= 63) and the zero root octet are left alone.
    return echoed[-4:] == question_wire[-4:] and echoed[:-4].lower() == question_wire[:-4].lower()


def tcp_frame(message: bytes) -> bytes:
    """``message`` with the two-byte length prefix DNS over TCP needs."""
    return len(message).to_bytes(2, "big") + message


@dataclass(frozen=True, slots=True)
class Answer:
    """The answer section of one reply, as the prober keeps it.

    ``records`` are those owned by the asked name or a name in its CNAME chain
    (anything else in the section is ignored: a resolver has no business
    sending it), ``owner`` empty for the asked name. ``chain`` is the names
    followed through CNAME records, in order, the asked name not included.
    ``has_type`` tells whether any record of the asked type was there.
    """

    records: tuple[DnsRecord, ...]
    chain: tuple[str, ...]
    has_type: bool


EMPTY_ANSWER = Answer((), (), False)


def read_answer(data: bytes, name: str, type_code: int) -> Answer:
    """The records of the answer section of ``data``, a reply to ``name`` (lowercase, no trailing dot).

    Read by :func:`_answer_records` (see the module documentation); a reply it
    cannot read goes through dnspython, whose verdict stands: :class:`ValueError`
    when that cannot parse it either.
    """
    try:
        rows = _answer_records(data)
    except (IndexError, ValueError, struct.error, OSError):
        rows = _answer_records_dnspython(data)
    return _keep(rows, name, type_code)


#: One answer record as read: owner, type code, TTL, value in presentation form.
_Row = tuple[str, int, int, str]
_RECORD = struct.Struct("!HHIH")
_MX = struct.Struct("!H")
_SOA_NUMBERS = struct.Struct("!5I")
_IN = 1
_POINTER = 0xC0


def _answer_records(data: bytes) -> list[_Row]:
    """The answer section's IN records of the seven types (others skipped), read straight from the bytes."""
    _, _, questions, answers, _, _ = _HEADER.unpack_from(data)
    offset = 12
    for _ in range(questions):
        offset = _skip_name(data, offset) + 4
    rows: list[_Row] = []
    for _ in range(answers):
        owner, offset = _read_name(data, offset)
        rdtype, rdclass, ttl, length = _RECORD.unpack_from(data, offset)
        start = offset + 10
        offset = start + length
        if offset > len(data):
            raise ValueError("record runs past the message")
        if rdclass != _IN or rdtype not in TYPE_NAMES:
            continue
        rows.append((owner, rdtype, ttl, _read_value(data, rdtype, start, offset)))
    return rows


def _read_value(data: bytes, rdtype: int, start: int, end: int) -> str:
    """The presentation form of the data of one record of a known type at ``data[start:end]``."""
    if rdtype == 1:
        if end - start != 4:
            raise ValueError("A record of the wrong length")
        return socket.inet_ntop(socket.AF_INET, data[start:end])
    if rdtype == 28:
        if end - start != 16:
            raise ValueError("AAAA record of the wrong length")
        return socket.inet_ntop(socket.AF_INET6, data[start:end])
    if rdtype in (2, 5):  # NS, CNAME
        target, after = _read_name(data, start)
        _check_end(after, end)
        return target
    if rdtype == 15:  # MX
        exchange, after = _read_name(data, start + 2)
        _check_end(after, end)
        return f"{_MX.unpack_from(data, start)[0]} {exchange}"
    if rdtype == 6:  # SOA
        mname, after = _read_name(data, start)
        rname, after = _read_name(data, after)
        _check_end(after + 20, end)
        return " ".join((mname, rname, *map(str, _SOA_NUMBERS.unpack_from(data, after))))
    return _txt_text(data, start, end)


def _check_end(after: int, end: int) -> None:
    if after != end:
        raise ValueError("record data of the wrong length")


def _skip_name(data: bytes, offset: int) -> int:
    """The offset just past the (possibly compressed) name at ``offset``."""
    while True:
        length = data[offset]
        if length == 0:
            return offset + 1
        if length & _POINTER == _POINTER:
            return offset + 2
        if length & _POINTER:
            raise ValueError("unknown label type")
        offset += 1 + length


def _read_name(data: bytes, offset: int) -> tuple[str, int]:
    """The name at ``offset`` as the prober writes names (lowercase, no final dot, the root as ``.``) and the
    offset just past it. Compression pointers must point backwards, so a loop cannot spin."""
    labels: list[bytes] = []
    end = -1
    position = offset
    while True:
        length = data[position]
        if length == 0:
            break
        if length & _POINTER == _POINTER:
            target = ((length & 0x3F) << 8) | data[position + 1]
            if target >= position:
                raise ValueError("compression pointer does not point backwards")
            if end < 0:
                end = position + 2
            position = target
            continue
        if length & _POINTER:
            raise ValueError("unknown label type")
        label = data[position + 1:position + 1 + length]
        if len(label) != length:
            raise ValueError("label runs past the message")
        labels.append(label)
        position += 1 + length
    if end < 0:
        end = position + 1
    if sum(len(label) + 1 for label in labels) > 254:
        raise ValueError("name longer than 255 bytes")
    if not labels:
        return ".", end
    if _PLAIN_LABELS.fullmatch(b"".join(labels)):  # no dot inside a label, so joining with dots is exact
        return b".".join(labels).decode("ascii").lower(), end
    return ".".join(_escape_label(label) for label in labels).lower(), end


# Bytes a name label or TXT string shows as they are; anything else is escaped as dnspython does.
_PLAIN_LABELS = re.compile(rb"[A-Za-z0-9_*-]+")
_NAME_SPECIALS = frozenset(b'"().;\\@$')
_TXT_SPECIALS = frozenset(b'"\\')


def _escape_label(label: bytes) -> str:
    return "".join(
        "\\" + chr(byte) if byte in _NAME_SPECIALS else chr(byte) if 0x20 < byte < 0x7F else f"\\{byte:03d}"
        for byte in label
    )


def _txt_text(data: bytes, start: int, end: int) -> str:
    """TXT data as quoted strings separated by spaces, escaped as dnspython writes them."""
    if start == end:
        raise ValueError("TXT record without a string")  # dnspython's call
    strings = []
    position = start
    while position < end:
        length = data[position]
        text = data[position + 1:position + 1 + length]
        position += 1 + length
        if position > end:
            raise ValueError("TXT string runs past its record")
        strings.append('"' + "".join(
            "\\" + chr(byte) if byte in _TXT_SPECIALS else chr(byte) if 0x20 <= byte < 0x7F else f"\\{byte:03d}"
            for byte in text
        ) + '"')
    return " ".join(strings)


def _answer_records_dnspython(data: bytes) -> list[_Row]:
    """:func:`_answer_records` through ``dns.message.from_wire``: the reference, and the fallback."""
    try:
        message = dns.message.from_wire(data, ignore_trailing=True)
    except (dns.exception.DNSException, ValueError, struct.error) as error:
        raise ValueError(f"malformed reply: {error}") from None
    return [(_name_text(rrset.name), rrset.rdtype, rrset.ttl, _value(rdata))
            for rrset in message.answer if rrset.rdclass == _IN and rrset.rdtype in TYPE_NAMES for rdata in rrset]


def _keep(rows: list[_Row], name: str, type_code: int) -> Answer:
    """The :class:`Answer` to ``name`` in ``rows``: its CNAME chain and the records of the names on it."""
    cnames: dict[str, str] = {}
    for owner, rdtype, _, value in rows:
        if rdtype == _TYPE_CNAME:
            cnames.setdefault(owner, value)
    chain = _chain(name, cnames)
    owners = {name, *chain}
    records = []
    has_type = False
    for owner, rdtype, ttl, value in rows:
        if owner not in owners:
            continue  # unrelated data: not what was asked, and a resolver has no business sending it
        has_type = has_type or rdtype == type_code
        records.append(DnsRecord(TYPE_NAMES[rdtype], value, ttl, "" if owner == name else owner))
    return Answer(tuple(records), chain, has_type)


def _chain(name: str, cnames: dict[str, str]) -> tuple[str, ...]:
    """The names reached from ``name`` through the CNAME records ``cnames`` (owner -> target)."""
    chain: list[str] = []
    current = name
    while current in cnames and len(chain) < MAX_CHAIN:
        target = cnames[current]
        if target == name or target in chain:
            break  # a loop: the chain so far is what there is
        chain.append(target)
        current = target
    return tuple(chain)


def _name_text(name: dns.name.Name) -> str:
    """A name as the prober writes names: lowercase, no final dot (the root as ``.``)."""
    return name.to_text(omit_final_dot=True).lower()


def _value(rdata: Any) -> str:
    """A record's data in presentation form, with names lowercase and without their final dot (``rdata`` is
    a ``dns.rdata.Rdata`` of one of the seven types, whose fields differ by type)."""
    rdtype = rdata.rdtype
    if rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA):
        return str(rdata.address)
    if rdtype in (dns.rdatatype.CNAME, dns.rdatatype.NS):
        return _name_text(rdata.target)
    if rdtype == dns.rdatatype.MX:
        return f"{rdata.preference} {_name_text(rdata.exchange)}"
    if rdtype == dns.rdatatype.SOA:
        return (f"{_name_text(rdata.mname)} {_name_text(rdata.rname)} {rdata.serial} {rdata.refresh} "
                f"{rdata.retry} {rdata.expire} {rdata.minimum}")
    return str(rdata.to_text())
