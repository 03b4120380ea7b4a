"""The full analysis, only on request: which sensitive framework methods the app's code really calls.

The fast path (``observe.py``) reads the DEX string tables: a method's name
there says the app *references* it, not that its code calls it. Asked for
(``observe_apk(..., full=True)``, ``ApkBatch(..., full=True)``, ``fraudwall
analyze apk --full``), the DEX files also go through androguard's own
analysis: one :class:`androguard.core.dex.DEX` per file, one
:class:`androguard.core.analysis.analysis.Analysis` across them, its
cross-references built. The external methods the app's own methods call
(``invoke-*`` instructions) that ``data/sensitive_apis.toml`` lists are the
result, as sorted ``Lclass;->method`` strings: the observation's ``api_calls``.

How a call is read:

* a call through an app class that inherits the method (``this.dispatchGesture()``
  in the app's own ``AccessibilityService`` subclass) is credited to the
  framework class that defines it: the app's superclasses are walked up to
  the first class the app does not define;
* calls made from ubiquitous libraries (AndroidX, Google Play services...,
  ``[libraries]`` in the data file) are the library's, not the app's;
* a few calls count only with a constant in the calling class
  (``WindowManager.addView`` with an overlay window type; see ``[needs]``).

``androguard.misc.AnalyzeAPK`` is not used: it opens the zip with
androguard's own reader, which the tampered zips of fraud apps break, and
hands it every DEX without a cap. Here the DEX bytes come from this
package's tolerant :class:`~.archive.Archive`, within the budget.

Cost and bounds. androguard builds an object for every class, method and
instruction and reads every instruction twice (basic blocks, then
cross-references): about 0.75 s and 65 MB of memory per MB of DEX with
androguard 4.1 (a 3.6 MB DEX: 2.6 s, 236 MB). A huge DEX takes minutes. So:

* ``ApkBudget.full_dex_bytes`` caps the DEX bytes given to it per call (the
  APK with the APKs nested in it); a DEX that would go over is left out;
* its own deadline (``ApkBudget.full_seconds`` from when it starts, for the
  APK and the APKs inside it together; the fast path has ``ApkBudget.seconds``)
  is checked between DEX files and between classes; androguard's parsing of
  one DEX cannot be stopped that way, and a hostile DEX can make it endless
  (androguard 4.1 reads a string up to its NUL, for ever when the file ends
  first: such DEX files are left out before androguard sees them);
* in a batch (``pool.py``) it runs inside the APK's worker process, under
  that worker's timeout and address-space cap. Both are caught here: when
  the worker's timer (:class:`~.budget.AnalysisTimeout`) or the memory cap
  (``MemoryError``) stops the full analysis, only its result is dropped;
  the observation the fast path made is kept, with a note and
  ``fully_analysed`` false. For the full analysis to have its
  ``full_seconds``, the worker's timeout must leave them after the fast path;
* in-process (:func:`~.observe.observe_apk`, ``observe_file``), in the main
  thread and with no interval timer already running, this module sets one of
  its own at that deadline (plus :data:`TIMER_GRACE`) around
  androguard, to the same effect. In another thread nothing can interrupt
  androguard: untrusted input belongs in the batch.

Never raises on a hostile APK: a DEX androguard cannot read is skipped, a
failure while reading the calls gives none; each is a note (``tamper``
messages starting ``full analysis:``, which the detectors do not count as
tamper signs) and ``fully_analysed`` stays false.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import gc
import signal
import struct
import threading
import time
import tomllib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from fraudwall.apk_analysis.archive import Archive
from fraudwall.apk_analysis.budget import MIB, AnalysisTimeout, ApkBudget, Meter
from fraudwall.apk_analysis.dex_strings import dex_sources, is_dex
from fraudwall.apk_analysis.errors import ApkRejected
from fraudwall.apk_analysis.notes import Notes

DATA_FILE = Path(__file__).resolve().parent / "data" / "sensitive_apis.toml"
#: The notes' kind; every message starts with :data:`PREFIX`.
NOTE = "full analysis"
PREFIX = "full analysis: "
#: Superclasses walked from an app class to the framework class that defines what it inherits.
MAX_SUPERCLASSES = 32
#: Seconds past the budget's deadline at which this module's own timer stops androguard (in-process only).
TIMER_GRACE = 1.0
#: The DEX map list item type of the string data section.
_STRING_DATA_ITEM = 0x2002
#: Opcodes that load an int (const/4, const/16, const) or a string (const-string, const-string/jumbo).
_CONST_INT = frozenset({0x12, 0x13, 0x14})
_CONST_STRING = frozenset({0x1A, 0x1B})


@dataclass(frozen=True, slots=True)
class ApiRules:
    """``data/sensitive_apis.toml`` read: the calls, the constants some need, and the library packages."""

    #: ``Lclass;->method`` -> capability name, in the order of the file.
    calls: Mapping[str, str]
    #: ``Lclass;->method`` -> constants the calling class must load for the call to count.
    needs: Mapping[str, frozenset[int | str]] = field(default_factory=dict)
    #: Type-descriptor prefixes of library packages (``Landroidx/``): their calls are left out.
    libraries: tuple[str, ...] = ()


@functools.cache
def api_rules() -> ApiRules:
    """The bundled rules (``data/sensitive_apis.toml``)."""
    data = tomllib.loads(DATA_FILE.read_text(encoding="utf-8"))
    return ApiRules(
        calls=dict(data.get("calls", {})),
        needs={call: frozenset(values) for call, values in data.get("needs", {}).items()},
        libraries=tuple("L" + prefix for prefix in data.get("libraries", {}).get("prefixes", ())),
    )


def capabilities(calls: Iterable[str], rules: ApiRules | None = None) -> dict[str, tuple[str, ...]]:
    """The capabilities ``calls`` (an observation's ``api_calls``) show, each with its calls; unlisted ones left out."""
    rules = rules or api_rules()
    found: dict[str, list[str]] = {}
    for call in calls:
        if capability := rules.calls.get(call):
            found.setdefault(capability, []).append(call)
    return {capability: tuple(found[capability]) for capability in dict.fromkeys(rules.calls.values())
            if capability in found}


@dataclass(slots=True)
class CodeAllowance:
    """DEX bytes the full analysis may still take in one call, shared by the APK and the APKs inside it."""

    bytes: int
    #: What it started at (``ApkBudget.full_dex_bytes``).
    total: int

    @classmethod
    def of(cls, budget: ApkBudget) -> CodeAllowance:
        """The whole allowance of ``budget``."""
        return cls(budget.full_dex_bytes, budget.full_dex_bytes)


@dataclass(slots=True)
class DexCode:
    """The DEX files of one APK kept for its full analysis, and those left out with the reason."""

    allowance: CodeAllowance
    files: list[tuple[str, bytes]] = field(default_factory=list)
    left_out: list[tuple[str, str]] = field(default_factory=list)

    def offer(self, name: str, dex: bytes) -> None:
        """Keep ``dex`` if the allowance takes it.

        A Janus DEX before the zip is offered as the whole file: its header's
        size, checksum and signature cover the zip after it, as the runtime reads it.
        """
        if len(dex) > self.allowance.bytes:
            total = self.allowance.total / MIB
            self.left_out.append((name, f"over the budget of {total:g} MiB of DEX for the full analysis"))
            return
        self.allowance.bytes -= len(dex)
        self.files.append((name, dex))

    def skip(self, name: str, reason: str) -> None:
        """Record that ``name`` was not read at all."""
        self.left_out.append((name, reason))


@dataclass(frozen=True, slots=True)
class CallScan:
    """What the analysis of one APK's DEX files found."""

    calls: tuple[str, ...] = ()
    #: Every DEX file analysed and every class's cross-references built.
    complete: bool = False
    #: The worker's time or memory limit ended it: no further full analysis should start.
    stopped: bool = False


def sensitive_calls(data: bytes, *, budget: ApkBudget, notes: Notes | None = None,
                    rules: ApiRules | None = None) -> tuple[str, ...]:
    """The sensitive framework methods the code in ``data`` calls, sorted ``Lclass;->method`` strings.

    ``data`` is an APK (every DEX in it, a Janus prefix included; not the
    APKs nested in it) or a bare DEX file. Bounded by ``budget`` (see the
    module's docstring); never raises: what is not an APK or DEX, or breaks
    the analysis, gives ``()`` and a message in ``notes``. ``rules``
    replaces the bundled list (``data/sensitive_apis.toml``).
    """
    notes = Notes() if notes is None else notes
    meter = Meter(budget)
    code = DexCode(CodeAllowance.of(budget))
    try:
        archive = Archive.open(data, meter, notes)
    except ApkRejected as rejection:
        if not is_dex(data):
            notes.add(NOTE, f"{PREFIX}nothing to analyse ({rejection.reason})")
            return ()
        code.offer("the DEX", data)
    else:
        for name, member in dex_sources(archive):
            code.offer(name, archive.data if member is None else archive.read(member))
    for name, reason in code.left_out:
        notes.add(NOTE, f"{PREFIX}{name} not analysed ({reason})")
    return scan(code.files, full_meter(budget), notes, rules).calls


def full_meter(budget: ApkBudget) -> Meter:
    """The meter of a full analysis starting now: ``budget`` with ``full_seconds`` as its time."""
    return Meter(dataclasses.replace(budget, seconds=budget.full_seconds))


def scan(files: Sequence[tuple[str, bytes]], meter: Meter, notes: Notes, rules: ApiRules | None = None) -> CallScan:
    """androguard's analysis of ``files`` (name, DEX bytes) as one app, and the sensitive calls it shows."""
    rules = rules or api_rules()
    # Loaded on first use: the fast path never needs androguard's DEX and analysis modules.
    from androguard.core.analysis.analysis import Analysis
    from androguard.core.dex import DEX

    analysis: Any = Analysis()
    try:
        with _hard_deadline(meter):
            calls, complete = _analyse(analysis, files, meter, notes, rules, DEX)
    except AnalysisTimeout:
        notes.add(NOTE, f"{PREFIX}stopped by the time limit (analysis budget); its results are dropped")
        return CallScan(stopped=True)
    except MemoryError:
        notes.add(NOTE, f"{PREFIX}stopped by the memory limit (analysis budget); its results are dropped")
        return CallScan(stopped=True)
    except Exception as error:  # reading the cross-references of hostile code
        notes.add(NOTE, f"{PREFIX}failed ({_describe(error)})")
        return CallScan()
    finally:
        del analysis
        if files:
            gc.collect()  # androguard's objects are cyclic: free them before the next APK in this worker
    return CallScan(calls, complete)


def _analyse(analysis: Any, files: Sequence[tuple[str, bytes]], meter: Meter, notes: Notes, rules: ApiRules,
             dex_class: Any) -> tuple[tuple[str, ...], bool]:
    """Add ``files`` to ``analysis``, cross-reference them, read the calls; (calls, every file and class analysed)."""
    complete = True
    for name, data in files:
        if meter.expired():
            notes.add(NOTE, f"{PREFIX}{name} not analysed (analysis budget spent)")
            complete = False
            continue
        if problem := _unreadable(data):
            notes.add(NOTE, f"{PREFIX}{name} not analysed ({problem})")
            complete = False
            continue
        vm = None
        try:
            vm = dex_class(data)
            analysis.add(vm)
        except (AnalysisTimeout, MemoryError):
            raise
        except Exception as error:  # androguard's reading of a hostile DEX can fail in any way
            if vm is not None and vm in analysis.vms:
                analysis.vms.remove(vm)  # half added: its classes get no cross-references
            notes.add(NOTE, f"{PREFIX}{name} could not be analysed ({_describe(error)})")
            complete = False
    complete = _cross_reference(analysis, meter, notes) and complete
    return _sensitive(analysis, rules), complete


@contextlib.contextmanager
def _hard_deadline(meter: Meter) -> Iterator[None]:
    """A timer that raises :class:`AnalysisTimeout` at the budget's deadline, where this process may set one.

    Only in the main thread (signals go there) and when no interval timer
    runs already: in a batch worker, the worker's own timer does this.
    """
    if threading.current_thread() is not threading.main_thread() or signal.getitimer(signal.ITIMER_REAL)[0] > 0:
        yield
        return
    previous = signal.signal(signal.SIGALRM, _on_deadline)
    signal.setitimer(signal.ITIMER_REAL, max(0.0, meter.deadline - time.monotonic()) + TIMER_GRACE)
    try:
        yield
    finally:
        try:
            signal.setitimer(signal.ITIMER_REAL, 0)
        finally:  # the timer may fire just before it is stopped: the handler is put back all the same
            signal.signal(signal.SIGALRM, previous)


def _on_deadline(signum: int, frame: FrameType | None) -> None:
    raise AnalysisTimeout


def _unreadable(dex: bytes) -> str:
    """Why androguard must not be given ``dex`` ("" when it may).

    androguard 4.1 reads the string data section (as the map list places it)
    string by string, each up to its NUL, and loops for ever when the file
    ends before one: that is checked here, in one pass over the section.
    """
    if len(dex) < 0x70:
        return "shorter than a DEX header"
    (map_off,) = struct.unpack_from("<I", dex, 0x34)
    if map_off + 4 > len(dex):
        return "its map list lies past the end of the file"
    (count,) = struct.unpack_from("<I", dex, map_off)
    for index in range(min(count, (len(dex) - map_off - 4) // 12)):
        kind, _, size, offset = struct.unpack_from("<HHII", dex, map_off + 4 + 12 * index)
        if kind != _STRING_DATA_ITEM:
            continue
        position = offset
        for _ in range(size):  # each string moves on by one byte at least: at most len(dex) turns
            while position < len(dex) and dex[position] & 0x80:  # its uleb128 UTF-16 length
                position += 1
            end = dex.find(b"\0", position + 1)
            if end < 0:
                return "its string data runs past the end of the file"
            position = end + 1
    return ""


def _cross_reference(analysis: Any, meter: Meter, notes: Notes) -> bool:
    """Build the cross-references class by class; False when the deadline or a broken class cut it short.

    ``Analysis.create_xref`` is a loop of ``_create_xref`` over every class of
    every DEX; looping here checks the deadline between classes and keeps one
    broken class from losing the others. Without that method (another
    androguard), ``create_xref`` runs whole.
    """
    per_class = getattr(analysis, "_create_xref", None)
    if per_class is None:
        analysis.create_xref()
        return True
    broken = 0
    for vm in analysis.vms:
        for item in vm.get_classes():
            if meter.expired():
                notes.add(NOTE, f"{PREFIX}cross-references cut short (analysis budget spent); calls are partial")
                return False
            try:
                per_class(item)
            except (AnalysisTimeout, MemoryError):
                raise
            except Exception as error:
                broken += 1
                if broken == 1:
                    notes.add(NOTE, f"{PREFIX}class {_class_name(item)} could not be analysed ({_describe(error)})")
    if broken > 1:
        notes.add(NOTE, f"{PREFIX}{broken} classes could not be analysed")
    return not broken


def _sensitive(analysis: Any, rules: ApiRules) -> tuple[str, ...]:
    """The listed calls the app's own (non-library) code makes, credited to the classes that define them."""
    found: set[str] = set()
    constants: dict[tuple[str, frozenset[int | str]], bool] = {}
    for method in list(analysis.methods.values()):
        if not method.is_external():
            continue
        owner = _defining_class(analysis, method.class_name, method.name, method.descriptor)
        call = f"{owner}->{method.name}"
        if not owner or call not in rules.calls or call in found:
            continue
        callers = {caller.name for caller, _, _ in method.get_xref_from()}
        callers = {name for name in callers if not name.startswith(rules.libraries)}
        wanted = rules.needs.get(call)
        if wanted is not None:
            for name in callers:
                if (name, wanted) not in constants:
                    constants[(name, wanted)] = _loads_constant(analysis, name, wanted)
            callers = {name for name in callers if constants[(name, wanted)]}
        if callers:
            found.add(call)
    return tuple(sorted(found))


def _defining_class(analysis: Any, name: str, method: str, descriptor: str) -> str:
    """The class whose ``method`` a call on ``name`` reaches: ``name`` itself when the app does not define it, else
    the first superclass the app does not define (where an inherited method lives); "" when an app class on the
    way defines ``method`` (an override of the app's own: the call is the app's code, not the framework's)."""
    descriptor = descriptor.replace(" ", "")
    for depth in range(MAX_SUPERCLASSES):
        item = analysis.classes.get(name)
        if item is None or item.is_external():
            return name
        try:
            if depth and any(m.name == method and not m.is_external() and m.descriptor.replace(" ", "") == descriptor
                             for m in item.get_methods()):
                return ""
            parent = item.extends
        except Exception:  # a class def whose superclass index is broken
            return name
        if not parent or parent == name:
            return name
        name = parent
    return name


def _loads_constant(analysis: Any, name: str, wanted: frozenset[int | str]) -> bool:
    """True when a method of the app class ``name`` loads one of ``wanted`` (ints, strings) as a constant."""
    item = analysis.classes.get(name)
    if item is None or item.is_external():
        return False
    try:
        for method in item.get_methods():
            if method.is_external():
                continue
            for instruction in method.get_method().get_instructions():
                op = instruction.get_op_value()
                if op in _CONST_INT and any(value in wanted for value in instruction.get_literals()):
                    return True
                if op in _CONST_STRING and instruction.cm.vm.get_cm_string(instruction.get_ref_kind()) in wanted:
                    return True
    except (AnalysisTimeout, MemoryError):
        raise
    except Exception:  # undecodable code: no constant seen
        return False
    return False


def _class_name(item: Any) -> str:
    try:
        return str(item.get_name())
    except Exception:
        return "?"


def _describe(error: BaseException) -> str:
    text = str(error).splitlines()[0][:120] if str(error) else ""
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
