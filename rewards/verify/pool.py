"""A persistent pool of worker processes that runs ``symbolic_equal`` under a hard wall-clock deadline.

Workers come from a ``forkserver`` with sympy preloaded (never ``fork()`` of a caller that may run
threads). Each item's clock starts when it is handed to an idle worker; an item past its deadline scores
a timeout, its worker is killed (with the pool: a ``ProcessPoolExecutor`` cannot lose one worker), and
the innocent items that shared the pool are re-run on a fresh one.

Workers never run the caller's ``__main__``, so a script without an ``if __name__ == "__main__":`` guard
(TRL/open-r1 training scripts often have none), ``python -`` and every rank of ``torchrun`` can call
``verify``. Mechanism: each new forkserver (and spawn) child receives ``spawn.get_preparation_data()``,
which names the caller's main module ("init_main_from_name", from ``__main__.__spec__``) or main file
("init_main_from_path", from ``__main__.__file__``); the child's ``spawn.prepare`` re-runs it as
``__mp_main__`` (``_fixup_main_from_name``/``_fixup_main_from_path``) so that objects pickled from
``__main__`` resolve. An unguarded script then calls ``verify`` again inside the worker, which may not
start processes while bootstrapping: the worker dies and the caller gets ``BrokenProcessPool`` (from
``python -`` the worker dies on the non-existent file ``<cwd>/<stdin>``). The pool only ever sends
functions of ``rewards.verify``, so ``_WorkerPopen`` launches the pool's own workers with those two keys
left out (``spawn.get_preparation_data`` is swapped for the milliseconds of each worker launch, under a
lock; a process another thread starts in that same instant would miss them too). On Windows (no
forkserver: plain ``spawn``) the caller still needs the guard.
"""

from __future__ import annotations

import atexit
import multiprocessing
import threading
import time
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from multiprocessing import context, spawn

from rewards.verify.symbolic import clear_parse_cache, symbolic_equal

TIMEOUT = object()  # result marker for an item that ran past its deadline

_POOL: ProcessPoolExecutor | None = None
_POOL_SIZE = 0
_POOL_LOCK = threading.Lock()


_HAVE_FORKSERVER = "forkserver" in multiprocessing.get_all_start_methods()
_MAIN_KEYS = ("init_main_from_name", "init_main_from_path")  # spawn.prepare re-runs __main__ from these
_PREPARATION_LOCK = threading.Lock()  # one worker launch at a time swaps spawn.get_preparation_data


def _without_main(data: dict) -> dict:
    return {key: value for key, value in data.items() if key not in _MAIN_KEYS}


if _HAVE_FORKSERVER:
    from multiprocessing import popen_forkserver

    class _WorkerPopen(popen_forkserver.Popen):
        """Starts one pool worker through the fork server without telling it the caller's ``__main__``."""

        def _launch(self, process_obj: multiprocessing.process.BaseProcess) -> None:
            # replaces popen_forkserver.Popen._launch: the same launch, whose preparation data (read from
            # spawn.get_preparation_data while it runs) leaves out _MAIN_KEYS
            with _PREPARATION_LOCK:
                full = spawn.get_preparation_data
                spawn.get_preparation_data = lambda name: _without_main(full(name))
                try:
                    super()._launch(process_obj)
                finally:
                    spawn.get_preparation_data = full

    class _WorkerProcess(context.ForkServerProcess):
        @staticmethod
        def _Popen(process_obj: multiprocessing.process.BaseProcess) -> _WorkerPopen:
            return _WorkerPopen(process_obj)

    class _WorkerContext(context.ForkServerContext):
        """The forkserver context, but its processes are started by ``_WorkerPopen``."""

        Process = _WorkerProcess


def _get_pool(workers: int) -> ProcessPoolExecutor:
    """The persistent pool, created lazily and warmed up so that startup never eats into a deadline."""
    global _POOL, _POOL_SIZE
    if _POOL is not None and _POOL_SIZE == workers:
        return _POOL
    kill_pool()
    if _HAVE_FORKSERVER:
        ctx = _WorkerContext()
        ctx.set_forkserver_preload(["rewards.verify.warmup"])
    else:
        ctx = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx)
    for future in [pool.submit(symbolic_equal, "1", "1") for _ in range(workers)]:
        future.result(timeout=300)
    _POOL, _POOL_SIZE = pool, workers
    return pool


def kill_pool() -> None:
    """Shut the pool down without waiting and terminate its workers, a stuck one included."""
    global _POOL
    pool, _POOL = _POOL, None
    if pool is None:
        return
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in processes:
        proc.terminate()
    for proc in processes:
        proc.join(timeout=2)
        if proc.is_alive():
            proc.kill()


atexit.register(kill_pool)  # stop workers before interpreter teardown (else a noisy weakref callback)


def clear_worker_caches(workers: int, max_rounds: int = 1000) -> set[int]:
    """Empty the parse cache of every worker of the ``workers``-sized pool (benchmarks: cold timings).

    A synchronous round trip, no sleep: rounds of ``workers`` clear tasks until every live worker has
    answered one with its process id (the clear is idempotent, so a worker that takes two is harmless).
    Returns the acknowledged process ids; ``RuntimeError`` if some worker never answered.
    """
    with _POOL_LOCK:
        pool = _get_pool(workers)
        expected = set(getattr(pool, "_processes", None) or {})
        acked: set[int] = set()
        for _ in range(max_rounds):
            for future in [pool.submit(clear_parse_cache) for _ in range(workers)]:
                acked.add(future.result(timeout=60))
            if acked >= expected:  # (no process table to read: one round)
                return acked
        raise RuntimeError(f"workers {sorted(expected - acked)} did not acknowledge the cache clear")


def run_symbolic(items: list[tuple[str, str | None]], timeout_s: float, workers: int) -> list[object]:
    """``symbolic_equal`` for each item, at most ``workers`` at a time; ``TIMEOUT`` where the deadline passed.

    A crashed worker (e.g. out of memory) scores its item False and the pool is rebuilt.
    """
    results: list[object] = [None] * len(items)
    queue = deque(range(len(items)))
    with _POOL_LOCK:
        while queue:
            pool = _get_pool(workers)
            running: dict[Future, tuple[int, float]] = {}
            restart = False
            while (queue or running) and not restart:
                while queue and len(running) < workers:
                    i = queue.popleft()
                    running[pool.submit(symbolic_equal, *items[i])] = (i, time.monotonic())
                first_deadline = min(start for _, start in running.values()) + timeout_s
                done, _ = wait(running, timeout=max(0.0, first_deadline - time.monotonic()),
                               return_when=FIRST_COMPLETED)
                for future in done:
                    i, _ = running.pop(future)
                    try:
                        results[i] = future.result()
                    except Exception:  # the worker died (BrokenProcessPool): wrong, and rebuild the pool
                        results[i], restart = False, True
                now = time.monotonic()
                for future, (i, start) in list(running.items()):
                    if now - start >= timeout_s and not future.done():
                        results[i], restart = TIMEOUT, True
                        del running[future]
            if restart:
                queue.extendleft(i for i, _ in running.values())  # innocent bystanders run again
                kill_pool()
    return results
