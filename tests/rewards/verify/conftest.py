"""Shared by the verifier's tests: CPU seconds of work done by this thread, with the garbage collector paused.

A bound on work done here must not count a full collection of the whole test session's heap that the
measured code merely happened to trigger (CI once measured 0.64 s for a 0.07 s matrix read late in the suite).
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest


@contextmanager
def _measured() -> Iterator[Callable[[], float]]:
    gc.collect()
    gc.disable()
    start = time.thread_time()
    try:
        yield lambda: time.thread_time() - start
    finally:
        gc.enable()


@pytest.fixture
def cpu_seconds():
    """``with cpu_seconds() as spent: ...; assert spent() < bound``."""
    return _measured
