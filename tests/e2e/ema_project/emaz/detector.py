"""The EMA-Z detector (Section 2, Algorithm 1)."""

import math


class EMAZDetector:
    """Scores each point against exponentially weighted moments seen before it."""

    def __init__(self, alpha: float = 0.1, tau: float = 4.0, warmup: int = 20, epsilon: float = 1e-8) -> None:
        if not 0 < alpha <= 1:
            raise ValueError("alpha must be in (0, 1]")
        self.alpha = alpha
        self.tau = tau
        self.warmup = warmup
        self.epsilon = epsilon
        self.mean: float | None = None
        self.var = 0.0
        self.t = 0

    def update(self, x: float) -> tuple[float, bool]:
        """Score ``x`` (Eq. z_t), flag it, then update the moments (Eqs. 1 and 2)."""
        self.t += 1
        if self.mean is None:
            self.mean = x
        z = abs(x - self.mean) / math.sqrt(self.var + self.epsilon)
        flag = self.t > self.warmup and z > self.tau
        diff = x - self.mean
        self.mean += self.alpha * diff
        self.var = (1 - self.alpha) * (self.var + self.alpha * diff * diff)
        return z, flag


def detect(
    stream: list[float], alpha: float = 0.1, tau: float = 4.0, warmup: int = 20, epsilon: float = 1e-8
) -> list[tuple[int, float, bool]]:
    """Run Algorithm 1 over ``stream``: (t, z_t, flag_t) for t = 1..n."""
    detector = EMAZDetector(alpha, tau, warmup, epsilon)
    out = []
    for t, x in enumerate(stream, start=1):
        z, flag = detector.update(x)
        out.append((t, z, flag))
    return out
