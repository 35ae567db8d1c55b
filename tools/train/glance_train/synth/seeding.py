"""Named, order-independent random streams derived from one session seed."""

from __future__ import annotations

import zlib

import numpy as np


def child_rng(seed: int, *keys: str | int) -> np.random.Generator:
    """A generator that depends only on ``seed`` and ``keys``.

    Streams are keyed rather than split off one parent generator so that adding a consumer, changing how many
    draws another consumer makes, or rendering frames in another order (or process) never changes them.
    """
    words: list[int] = [seed & 0xFFFFFFFF, (seed >> 32) & 0xFFFFFFFF]
    for key in keys:
        words.append(zlib.crc32(key.encode()) if isinstance(key, str) else int(key) & 0xFFFFFFFF)
    return np.random.default_rng(np.random.SeedSequence(words))
