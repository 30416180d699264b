"""Calls that wait on each other, shared by a few workers (benchmarks whose seeds share the machine's cores).

Each worker takes the first task, in the order given, whose ``needs`` are all done, so no core waits while a
call could start (fixed lanes, one per seed, left one core idle while the other seed's lane finished).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Task:
    """One call: ``run`` once every task named in ``needs`` (each listed earlier) has returned."""

    name: str
    run: Callable[[], object]
    needs: tuple[str, ...] = ()


def run_tasks(tasks: Sequence[Task], workers: int) -> dict[str, object]:
    """Every task once, at most ``workers`` at a time, each as soon as its ``needs`` are done, the ready ones
    in list order; name -> what its ``run`` returned. The first failure stops new starts and is raised.

    >>> done = []
    >>> tasks = [Task("a", lambda: done.append("a")), Task("b", lambda: len(done), needs=("a",))]
    >>> run_tasks(tasks, workers=2)["b"]
    1
    """
    _check(tasks)
    pending, results, failed = list(tasks), {}, []
    changed = threading.Condition()

    def next_ready() -> Task | None:  # under the lock: None once nothing is left or something failed
        while pending and not failed:
            task = next((t for t in pending if all(n in results for n in t.needs)), None)
            if task is not None:
                pending.remove(task)
                return task
            changed.wait()
        return None

    def work() -> None:
        while True:
            with changed:
                task = next_ready()
            if task is None:
                return
            try:
                out = task.run()
            except BaseException as error:  # noqa: BLE001 -- re-raised by run_tasks
                with changed:
                    failed.append(error)
                    changed.notify_all()
                return
            with changed:
                results[task.name] = out
                changed.notify_all()

    threads = [threading.Thread(target=work, daemon=True) for _ in range(max(1, workers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failed:
        raise failed[0]
    return results


def _check(tasks: Sequence[Task]) -> None:
    """Unique names, and every need an earlier task: no cycle, and a worker always finds one ready."""
    seen: set[str] = set()
    for task in tasks:
        if task.name in seen:
            raise ValueError(f"two tasks are named {task.name!r}")
        later = [n for n in task.needs if n not in seen]
        if later:
            raise ValueError(f"task {task.name!r} needs {later}, which are not tasks listed before it")
        seen.add(task.name)
