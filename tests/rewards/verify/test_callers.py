"""``verify`` works from any kind of caller, each one a real Python process started here.

The symbolic path runs in the verifier's worker pool; its workers must never run the caller's
``__main__``. Each caller below is a script WITHOUT an ``if __name__ == "__main__":`` guard: it appends
its pid to a log file, then prints the verdicts of a case that needs the worker pool (right, then
wrong). A worker that re-ran the script would add lines to the log (or crash the pool).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]

# Both pairs reach the worker pool (no plain-number or structure shortcut decides them).
HEADER = textwrap.dedent(
    r"""
    import os
    from rewards.verify import verify

    with open(os.environ["RUN_LOG"], "a") as log:
        log.write(f"{os.getpid()}\n")
    RIGHT = ("x^2+2x+1", r"The answer is \boxed{(x+1)^2}")
    WRONG = ("x^2+2x+1", r"The answer is \boxed{(x+1)^3}")
    """
)

PLAIN = HEADER + 'print("verdicts", os.getpid(), verify(*RIGHT), verify(*WRONG), flush=True)\n'

IN_THREAD = HEADER + textwrap.dedent(
    """
    import threading

    verdicts = []
    thread = threading.Thread(target=lambda: verdicts.extend([verify(*RIGHT), verify(*WRONG)]))
    thread.start()
    thread.join()
    print("verdicts", os.getpid(), *verdicts, flush=True)
    """
)

IN_ASYNCIO = HEADER + textwrap.dedent(
    """
    import asyncio

    async def check():
        direct = [verify(*RIGHT), verify(*WRONG)]  # blocking call straight inside the running loop
        loop = asyncio.get_running_loop()
        offloaded = await asyncio.gather(
            loop.run_in_executor(None, verify, *RIGHT), loop.run_in_executor(None, verify, *WRONG)
        )
        assert direct == list(offloaded), (direct, offloaded)
        return direct

    print("verdicts", os.getpid(), *asyncio.run(check()), flush=True)
    """
)


def _env(log: Path) -> dict[str, str]:
    pythonpath = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": pythonpath, "RUN_LOG": str(log)}


def _run(args: list[str], log: Path, stdin: str | None = None) -> str:
    """Run a caller in a fresh interpreter (cwd outside the repo); its stdout, after checking it exited 0."""
    proc = subprocess.run(
        args, input=stdin, cwd=log.parent, env=_env(log), capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr[-3000:]}"
    return proc.stdout


def _assert_ran_once_each(stdout: str, log: Path, processes: int = 1) -> None:
    """Each process printed True then False, and its top-level code ran exactly once (one log line)."""
    verdicts = [line.split() for line in stdout.splitlines() if line.startswith("verdicts ")]
    assert [v[2:] for v in verdicts] == [["True", "False"]] * processes, stdout
    assert sorted(log.read_text().split()) == sorted(v[1] for v in verdicts), "script ran again in a worker"


@pytest.mark.parametrize("code", [PLAIN, IN_THREAD, IN_ASYNCIO], ids=["plain", "thread", "asyncio"])
def test_script_file_without_main_guard(tmp_path: Path, code: str) -> None:
    script = tmp_path / "train.py"
    script.write_text(code)
    log = tmp_path / "ran.log"
    _assert_ran_once_each(_run([sys.executable, str(script)], log), log)


def test_script_run_as_module_without_main_guard(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text(PLAIN)  # python -m: __main__ known by its module name, not a path
    log = tmp_path / "ran.log"
    _assert_ran_once_each(_run([sys.executable, "-m", "train"], log), log)


def test_main_without_file_python_c(tmp_path: Path) -> None:
    log = tmp_path / "ran.log"
    _assert_ran_once_each(_run([sys.executable, "-c", PLAIN], log), log)


def test_main_without_file_python_stdin(tmp_path: Path) -> None:
    log = tmp_path / "ran.log"  # __main__.__file__ is "<stdin>": a path that exists nowhere
    _assert_ran_once_each(_run([sys.executable, "-"], log, stdin=PLAIN), log)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_every_process_of_a_torchrun_launch(tmp_path: Path) -> None:
    pytest.importorskip("torch.distributed.run")
    script = tmp_path / "train.py"
    script.write_text(PLAIN)
    log = tmp_path / "ran.log"
    launch = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2"]
    logs = tmp_path / "ranks"  # each rank's stdout in its own file: on one pipe their lines interleave
    launch += ["--log-dir", str(logs), "--redirects", "1"]
    launch += ["--master_addr", "127.0.0.1", "--master_port", str(_free_port()), str(script)]
    _run(launch, log)
    stdout = "".join(f.read_text() for f in sorted(logs.rglob("stdout.log")))
    _assert_ran_once_each(stdout, log, processes=2)
