"""Seeded random streams: one independent numpy Generator per (seed, purpose) pair."""

from __future__ import annotations

import uuid
import zlib

import numpy as np


def rng_for(seed: int, *labels: str) -> np.random.Generator:
    """A Generator that depends only on ``seed`` and the labels (never on the clock)."""
    if seed < 0:
        raise ValueError("seed must be a non-negative integer")
    words = [seed & 0xFFFFFFFF, (seed >> 32) & 0xFFFFFFFF]
    words += [zlib.crc32(label.encode("utf-8")) for label in labels]
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(words)))


def uuids(rng: np.random.Generator, n: int) -> list[str]:
    """``n`` version-4 UUID strings drawn from ``rng``."""
    raw = rng.integers(0, 2**63, size=(n, 2), dtype=np.int64).tolist()
    return [str(uuid.UUID(int=(hi << 64) | lo, version=4)) for hi, lo in raw]
