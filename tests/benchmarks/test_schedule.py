"""benchmarks/schedule.py: calls that wait on each other, shared by a few workers."""

import threading
import time

import pytest


@pytest.fixture
def schedule(load_bench):
    return load_bench("schedule")


def test_independent_tasks_run_side_by_side_and_a_task_waits_for_its_needs(schedule):
    both = threading.Barrier(2, timeout=20)  # passes only while two tasks run at once
    events = []

    def side(name):
        def run():
            events.append(f"start {name}")
            both.wait()
            time.sleep(0.05)
            events.append(f"end {name}")
            return name
        return run

    tasks = [schedule.Task("a", side("a")), schedule.Task("b", side("b")),
             schedule.Task("c", lambda: events.append("start c") or "c", needs=("a", "b"))]
    assert schedule.run_tasks(tasks, workers=2) == {"a": "a", "b": "b", "c": "c"}
    assert events.index("start c") > max(events.index("end a"), events.index("end b"))


def test_one_worker_runs_the_ready_tasks_in_list_order(schedule):
    order = []
    tasks = [schedule.Task(name, lambda name=name: order.append(name), needs=needs)
             for name, needs in (("x", ()), ("y", ("x",)), ("z", ()), ("w", ("y", "z")))]
    schedule.run_tasks(tasks, workers=1)
    assert order == ["x", "y", "z", "w"]


def test_a_failure_is_raised_and_starts_nothing_after_it(schedule):
    ran = []

    def fail():
        raise RuntimeError("call failed")

    tasks = [schedule.Task("bad", fail), schedule.Task("after", lambda: ran.append("after"), needs=("bad",)),
             schedule.Task("later", lambda: ran.append("later"))]
    with pytest.raises(RuntimeError, match="call failed"):
        schedule.run_tasks(tasks, workers=1)
    assert ran == []


def test_a_need_that_is_not_an_earlier_task_or_a_repeated_name_is_refused(schedule):
    with pytest.raises(ValueError, match="'b' needs \\['a'\\]"):
        schedule.run_tasks([schedule.Task("b", lambda: 0, needs=("a",)), schedule.Task("a", lambda: 0)], 2)
    with pytest.raises(ValueError, match="two tasks are named 'a'"):
        schedule.run_tasks([schedule.Task("a", lambda: 0), schedule.Task("a", lambda: 0)], 2)
