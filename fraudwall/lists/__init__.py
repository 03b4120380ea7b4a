"""Read blocklists and threat feeds, whatever their format, into listed names and URLs.

Core, not a stage: ``fraudwall crawl`` takes list and feed files as seeds
(:mod:`fraudwall.crawler.seeds`) and ``fraudwall export --input`` compiles them
(:mod:`fraudwall.list_compiler`), both through this package, so a file reads
the same, with the same rejections, wherever it is given. It imports no stage.

Each file's format is recognised by its content, never by its name: plain
names, hosts files, ABP and AdGuard rules, URL lists (OpenPhish), URLhaus CSV,
PhishTank JSON and CSV, JPCERT/CC CSV, any of them gzip, bzip2 or xz
compressed. One concept a module:

=====================  ==========================================================
module                 concept
=====================  ==========================================================
``reading``            reading files: open, recognise, read, summarise; where
                       exceptions may count
``input``              bounded, decompressing input: byte caps, the bomb check,
                       text decoding, lines none of which is held whole past a limit
``compressed``         gzip, bzip2 and xz whose damage ends the data without
                       losing any of it
``detect``             the format, by content
``lines``              line syntaxes: plain, hosts, ABP/AdGuard, URLs
``csv_feeds``          CSV feeds, row by row
``json_feeds``         JSON feeds, record by record
``feed_records``       the known feeds by their columns, and the metadata kept
``validate``           names as A-labels and URLs as URL-level items
``tally``              what reading one file counts, and the limits that end it
``items``              what reading gives: items, per-file summaries, rejections
=====================  ==========================================================

Bad input is normal input: a line or record that is not a usable name or URL
is rejected with a stable reason (``line-too-long``, ``nul-byte``,
``invalid-utf8``, ``csv-column-count``, ``bad-json``, ``untrusted-exception``,
the reasons of :func:`~fraudwall.names.normalize_name`...), counted in
:class:`~fraudwall.rejections.Rejections` with a sample ``file:line: text``, and
reading goes on. A damaged compressed file is one ``corrupt-file`` rejection
after every whole line decompressed before the damage. Reading a file also
stops, keeping the whole lines read before, past :data:`MAX_LIST_BYTES` after
decompression (``input-too-large``), when a compressed file expands more than
:data:`MAX_COMPRESSION_RATIO` times (``compression-bomb``), and after
:data:`MAX_REJECTED_LINES` rejections in a file that gave fewer items
(``mostly-rejected``): a hostile file costs bounded time and memory. Only a
file that cannot be opened raises.

An ``@@`` exception counts only in an ABP/AdGuard list that the caller trusts
for allowing (``trusted_exceptions``); anywhere else it is an
``untrusted-exception`` rejection, so one feed can never unblock what another
blocks.

Reading streams: :func:`iter_lists` yields items as it reads, and
:func:`iter_list_items` gives a run of plain names as one :class:`PlainNames`,
so a 2-million-line list reads in about a second.
"""

from fraudwall.lists.input import MAX_COMPRESSION_RATIO, MAX_LINE_CHARS, MAX_LIST_BYTES, utf8_fault
from fraudwall.lists.items import FileRead, Item, ListedName, ListRead, PlainNames
from fraudwall.lists.reading import iter_list_items, iter_lists, read_lists
from fraudwall.lists.tally import MAX_REJECTED_LINES

__all__ = [
    "MAX_COMPRESSION_RATIO",
    "MAX_LINE_CHARS",
    "MAX_LIST_BYTES",
    "MAX_REJECTED_LINES",
    "FileRead",
    "Item",
    "ListRead",
    "ListedName",
    "PlainNames",
    "iter_list_items",
    "iter_lists",
    "read_lists",
    "utf8_fault",
]
