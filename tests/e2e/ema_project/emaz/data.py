"""Synthetic streams of Section 3.1: a noisy sine wave with injected spikes."""

import math
import random


def make_stream(
    n: int = 2000,
    period: int = 50,
    noise: float = 0.1,
    spike_rate: float = 0.01,
    spike_magnitude: float = 5.0,
    seed: int = 0,
) -> tuple[list[float], set[int]]:
    """The stream and the 1-based positions of its spikes."""
    rng = random.Random(seed)
    stream: list[float] = []
    spikes: set[int] = set()
    for t in range(1, n + 1):
        value = math.sin(2 * math.pi * t / period) + rng.gauss(0.0, noise)
        if t > 1 and rng.random() < spike_rate:
            value += spike_magnitude if rng.random() < 0.5 else -spike_magnitude
            spikes.add(t)
        stream.append(value)
    return stream, spikes
