"""Rendering work spread over worker processes, shared by every synthetic data set."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from multiprocessing import get_context
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def parallel_map(fn: Callable[[T], R], items: Sequence[T], jobs: int, chunksize: int = 1) -> list[R]:
    """``[fn(x) for x in items]``, in order, on ``jobs`` processes when that is worth it.

    fork: workers inherit the imported renderer and its caches instead of re-importing torch. ``fn`` must be a
    module-level function (the pool pickles it by name).
    """
    if jobs > 1 and len(items) > 1:
        with get_context("fork").Pool(jobs) as pool:
            return pool.map(fn, items, chunksize=chunksize)
    return [fn(x) for x in items]
