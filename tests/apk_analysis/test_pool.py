"""Batches in worker processes: order, duplicates, unreadable files, timeouts, crashes and the memory cap."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from pathlib import Path

import pytest

from fraudwall.apk_analysis import ApkBudget, ApkResult, observe_files
from fraudwall.apk_analysis import pool
from fraudwall.apk_analysis.pool import observe_file
from tests.apk_analysis.apk_builders import PNG_1X1, make_dex, make_zip, manifest


def _apk(package: str) -> bytes:
    dex = make_dex([f"https://{package}.top/"])
    return make_zip([("AndroidManifest.xml", manifest(package)), ("classes.dex", dex)])


def _write(folder: Path, name: str, data: bytes) -> str:
    path = folder / name
    path.write_bytes(data)
    return str(path)


def stuck_or_crashing_work(task: int, path: str, *args: object) -> ApkResult:
    """A worker task that hangs where its own timer cannot reach it (stuck.apk) or kills its process (crash.apk)."""
    if path.endswith("stuck.apk"):
        assert pool._started is not None
        pool._started.put((task, os.getpid()))
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})  # as if stuck inside native code
        time.sleep(120)
    if path.endswith("crash.apk"):
        os._exit(3)
    return pool._work(task, path, *args)  # type: ignore[arg-type]


def test_batch_results_in_order_with_rejections(tmp_path: Path) -> None:
    """Each path gets its result in order: observations, or the reason there are none."""
    paths = [
        _write(tmp_path, "a.apk", _apk("com.a")),
        _write(tmp_path, "png.apk", PNG_1X1),
        str(tmp_path / "missing.apk"),
        str(tmp_path),
        _write(tmp_path, "b.apk", _apk("com.b")),
    ]
    results = observe_files(paths, workers=2, timeout=30)
    assert [result.path for result in results] == paths
    assert results[0].ok and results[0].observations[0].package == "com.a"
    assert results[1].rejected == "not a zip archive (starts with 89504e47)"
    assert results[2].rejected.startswith("cannot read file")
    assert results[3].rejected.startswith("cannot read file")
    assert results[4].observations[0].package == "com.b"


def test_identical_files_are_analysed_once(tmp_path: Path) -> None:
    """Copies with the same bytes share the first copy's result under their own path."""
    data = _apk("com.same")
    paths = [_write(tmp_path, f"{index}.apk", data) for index in range(3)]
    results = observe_files(paths, workers=2, timeout=30)
    assert [result.path for result in results] == paths
    assert results[0].observations == results[1].observations == results[2].observations
    assert results[0].sha256 == results[2].sha256


def test_fifo_does_not_block_the_batch(tmp_path: Path) -> None:
    """A named pipe, which would block a read forever, is rejected without being opened."""
    fifo = tmp_path / "pipe.apk"
    os.mkfifo(fifo)
    (result,) = observe_files([str(fifo)], workers=1, timeout=5)
    assert result.rejected.startswith("cannot read file")


def test_stuck_worker_is_killed_and_the_batch_goes_on(tmp_path: Path) -> None:
    """A worker that ignores its own timer is killed; its APK is rejected, the others beside it still observed."""
    names = [_write(tmp_path, "a.apk", _apk("com.a")), _write(tmp_path, "stuck.apk", _apk("com.stuck")),
             _write(tmp_path, "b.apk", _apk("com.b")), _write(tmp_path, "c.apk", _apk("com.c"))]
    batch = pool._Batch(names, 2, 1.0, 1024, ApkBudget(), 2, work=stuck_or_crashing_work, kill_grace=0.5)
    started = time.monotonic()
    results = batch.run(list(range(len(names))))
    assert time.monotonic() - started < 30
    assert results[1].rejected == "analysis ran past 1 s"
    assert [results[index].observations[0].package for index in (0, 2, 3)] == ["com.a", "com.b", "com.c"]


def test_crashing_worker_is_retried_then_rejected(tmp_path: Path) -> None:
    """An APK that kills its worker every time is rejected as such; the others are observed."""
    names = [_write(tmp_path, "crash.apk", _apk("com.crash")), _write(tmp_path, "a.apk", _apk("com.a"))]
    batch = pool._Batch(names, 2, 10.0, 1024, ApkBudget(), 2, work=stuck_or_crashing_work, kill_grace=0.5)
    results = batch.run([0, 1])
    assert results[0].rejected == "analysis crashed its worker process"
    assert results[1].observations[0].package == "com.a"


def test_worker_timer_turns_into_a_rejection(monkeypatch: pytest.MonkeyPatch) -> None:
    """Inside a worker, an analysis running past the timeout is interrupted and reported."""
    def slow(*args: object, **kwargs: object) -> ApkResult:
        time.sleep(5)
        raise AssertionError("not interrupted")

    monkeypatch.setattr(pool, "observe_file", slow)
    previous = signal.getsignal(signal.SIGALRM)
    try:
        result = pool._work(0, "slow.apk", 0.2, 1024, ApkBudget(), 2)
    finally:
        signal.signal(signal.SIGALRM, previous)  # pytest-timeout may own the alarm
    assert result.rejected == "analysis ran past 0.2 s"


def test_memory_error_turns_into_a_rejection(monkeypatch: pytest.MonkeyPatch) -> None:
    """Inside a worker, running out of the address-space cap is reported, not raised."""
    def hungry(*args: object, **kwargs: object) -> ApkResult:
        raise MemoryError

    monkeypatch.setattr(pool, "observe_file", hungry)
    assert pool._work(0, "big.apk", 5, 300, ApkBudget(), 2).rejected == "analysis ran past its memory limit (300 MB)"


def test_memory_cap_is_enforced_in_workers(tmp_path: Path) -> None:
    """With generous decompression caps, a member larger than the worker's memory cap ends in a rejection."""
    data = make_zip([("AndroidManifest.xml", manifest("com.big")), ("assets/big.txt", b"\0" * (400 << 20))])
    budget = ApkBudget(member_bytes=1 << 30, total_bytes=1 << 30, asset_bytes=1 << 30, assets_total_bytes=1 << 30)
    (result,) = observe_files([_write(tmp_path, "big.apk", data)], workers=1, timeout=60, memory_mb=300,
                              budget=budget)
    assert result.rejected == "analysis ran past its memory limit (300 MB)"


def test_single_file_in_process(tmp_path: Path) -> None:
    """observe_file is the same analysis in this process."""
    result = observe_file(_write(tmp_path, "a.apk", _apk("com.a")))
    assert result.ok and result.observations[0].hosts == ("com.a.top",)
    assert not observe_file(tmp_path / "nothing.apk").ok


def test_started_batch_streams_results_in_path_order(tmp_path: Path) -> None:
    """A batch hands the largest file out first, and still reports every file (a copy too) in path order."""
    padding = [("assets/padding.bin", os.urandom(2 << 20))]  # incompressible: the largest file by far
    paths = [_write(tmp_path, "small.apk", _apk("com.small")),
             _write(tmp_path, "large.apk", make_zip([("AndroidManifest.xml", manifest("com.large")), *padding])),
             _write(tmp_path, "copy.apk", _apk("com.small"))]
    batch = pool.ApkBatch(paths, workers=1, timeout=30)
    deadline = time.monotonic() + 20
    while not batch._results and time.monotonic() < deadline:  # step the batch until its first result
        next(batch._steps, None)
    assert list(batch._results) == [1], "the largest file goes first"
    results = list(batch)
    assert [result.path for result in results] == paths
    assert [result.observations[0].package for result in results] == ["com.small", "com.large", "com.small"]


def test_batch_closed_early_stops_its_workers(tmp_path: Path) -> None:
    """Leaving a batch after its first result ends its pool instead of leaving workers behind."""
    paths = [_write(tmp_path, f"{name}.apk", _apk(f"com.{name}")) for name in "abcd"]
    batch = pool.ApkBatch(paths, workers=2, timeout=30)
    first = next(iter(batch))
    batch.close()
    assert first.observations[0].package == "com.a"
    assert not [child for child in multiprocessing.active_children() if child.is_alive()]
