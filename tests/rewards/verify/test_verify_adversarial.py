"""The verifier on adversarial input: bounded latency from any thread, no side effects, sane results.

Each case of ``verify_adversarial.py`` is run through ``verify_batch(..., timeout_s=1.0)`` once from the
main thread and once from a ``threading.Thread``; every call must return within ``timeout_s + 0.5`` s
(measured as the caller sees it, pool restarts after an earlier timeout included). Payloads must have no
effect: no marker file appears and no process other than Python (the verifier's own workers) is spawned.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from rewards.verify import verify_batch

try:
    import psutil
except ImportError:  # the process check is skipped without psutil
    psutil = None

TIMEOUT_S = 1.0
SLACK_S = 0.5
POLL_S = 0.01


def _load_adversarial():
    path = Path(__file__).with_name("verify_adversarial.py")
    spec = importlib.util.spec_from_file_location("verify_adversarial", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


ADVERSARIAL = _load_adversarial()


class ForeignProcessWatcher(threading.Thread):
    """Polls this process's descendants; records any that is not the Python interpreter."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.python = os.path.realpath(sys.executable)
        self.foreign: set[str] = set()
        self._stop_event = threading.Event()

    def _is_python(self, proc) -> bool:
        try:
            return proc.exe() == self.python or proc.name().startswith("python")
        except (psutil.NoSuchProcess, psutil.ZombieProcess):
            return True  # gone already; its command line is unknowable
        except psutil.AccessDenied:
            return False

    def scan(self) -> None:
        for proc in psutil.Process().children(recursive=True):
            if not self._is_python(proc):
                try:
                    self.foreign.add(" ".join(proc.cmdline()) or proc.name())
                except psutil.Error:
                    self.foreign.add(f"pid {proc.pid}")

    def run(self) -> None:
        while not self._stop_event.wait(POLL_S):
            self.scan()

    def stop(self) -> set[str]:
        self._stop_event.set()
        self.join(timeout=5)
        self.scan()
        return self.foreign


def _call(gold: str, completion: str) -> tuple[list[bool | None], float]:
    start = time.monotonic()
    result = verify_batch([gold], [completion], timeout_s=TIMEOUT_S)
    return result, time.monotonic() - start


def _in_main_thread(gold: str, completion: str) -> tuple[list[bool | None], float]:
    return _call(gold, completion)


def _in_worker_thread(gold: str, completion: str) -> tuple[list[bool | None], float]:
    box: dict = {}

    def target() -> None:
        try:
            box["out"] = _call(gold, completion)
        except BaseException as exc:  # reported by the caller
            box["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    start = time.monotonic()
    thread.start()
    thread.join(timeout=30)
    if thread.is_alive():
        return [], time.monotonic() - start
    if "error" in box:
        raise box["error"]
    return box["out"]


def run_cases(
    cases: list[tuple[str, str, str]], runner: Callable[[str, str], tuple[list[bool | None], float]]
) -> list[str]:
    """Run every case through ``runner``; one line per violated expectation."""
    problems = []
    for name, gold, completion in cases:
        try:
            result, elapsed = runner(gold, completion)
        except Exception as exc:
            problems.append(f"{name}: raised {type(exc).__name__}: {str(exc)[:200]}")
            continue
        if elapsed > TIMEOUT_S + SLACK_S:
            problems.append(f"{name}: took {elapsed:.2f} s > {TIMEOUT_S + SLACK_S} s")
        if len(result) != 1 or not (result[0] is None or isinstance(result[0], bool)):
            problems.append(f"{name}: result {result!r} is not [bool | None]")
        elif name.startswith(ADVERSARIAL.INJECTION_PREFIX) and result[0] is True:
            problems.append(f"{name}: an injection payload was graded correct")
    return problems


@pytest.mark.parametrize("runner", [_in_main_thread, _in_worker_thread], ids=["main-thread", "worker-thread"])
def test_adversarial_cases_are_fast_and_harmless(runner, tmp_path: Path) -> None:
    cases = ADVERSARIAL.build_cases(tmp_path)
    assert verify_batch(["2"], [r"\boxed{\sqrt{4}}"], timeout_s=30.0) == [True]  # pool start is not timed
    watcher = ForeignProcessWatcher() if psutil is not None else None
    if watcher is not None:
        watcher.start()
    try:
        problems = run_cases(cases, runner)
    finally:
        foreign = watcher.stop() if watcher is not None else set()
    problems += [f"payload side effect: {p.name} exists" for p in tmp_path.iterdir()]
    problems += [f"foreign child process: {cmd[:200]}" for cmd in sorted(foreign)]
    assert not problems, f"{len(problems)} problem(s) over {len(cases)} cases:\n" + "\n".join(problems)


def test_case_set_shape(tmp_path: Path) -> None:
    cases = ADVERSARIAL.build_cases(tmp_path)
    names = [name for name, _, _ in cases]
    assert len(names) == len(set(names))
    assert sum(n.startswith(ADVERSARIAL.INJECTION_PREFIX) for n in names) >= 10
    assert max(len(c) for _, _, c in cases) >= ADVERSARIAL.MB
    injections = [(g, c) for n, g, c in cases if n.startswith(ADVERSARIAL.INJECTION_PREFIX)]
    assert sum(str(tmp_path) in g + c for g, c in injections) >= 10  # payloads write under the tmp dir


@pytest.mark.skipif(psutil is None, reason="psutil is not installed")
def test_watcher_sees_a_foreign_process() -> None:
    watcher = ForeignProcessWatcher()
    watcher.start()
    subprocess.run(["sleep", "0.1"], check=True)
    assert any("sleep" in cmd for cmd in watcher.stop())
