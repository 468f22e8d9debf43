"""The hand-written judge of the example grade (no capable model is reachable here).

Each verdict was written by reading the repository the replayed example run
produces (tests/e2e/ema_project) against examples/ema-anomaly.rubric.json.
scripts/make_grade_cassette.py records them into tests/cassettes/grade-ema-anomaly.
"""

from __future__ import annotations

import json

from tests.grade.helpers import leaf_of

# leaf id -> (score, expectations, reality)
VERDICTS: dict[str, tuple[int, str, str]] = {
    "moments-init": (1, "mu_0 = x_1 and var_0 = 0 before the first update.",
                     "emaz/detector.py: EMAZDetector.update sets self.mean = x on the first point; self.var starts at 0.0."),
    "moments-mean": (1, "mu_t = mu_{t-1} + alpha * (x_t - mu_{t-1}).",
                     "emaz/detector.py: diff = x - self.mean; self.mean += self.alpha * diff."),
    "moments-var": (1, "var_t = (1 - alpha) * (var_{t-1} + alpha * diff^2) with diff taken before the mean moves.",
                    "emaz/detector.py: self.var = (1 - self.alpha) * (self.var + self.alpha * diff * diff), diff computed before the mean update."),
    "scoring-z": (1, "z_t = |x_t - mu_{t-1}| / sqrt(var_{t-1} + epsilon), before the update.",
                  "emaz/detector.py: z = abs(x - self.mean) / math.sqrt(self.var + self.epsilon) is computed before the moments change."),
    "scoring-threshold": (1, "flag only when z > tau.", "emaz/detector.py: flag = self.t > self.warmup and z > self.tau."),
    "scoring-warmup": (1, "flag only when t > w.", "emaz/detector.py: the flag requires self.t > self.warmup; tests/test_detector.py checks warm-up 5 and 6."),
    "scoring-stream": (1, "one point at a time, constant state, (t, z, flag) per point.",
                       "emaz/detector.py: EMAZDetector keeps three numbers; detect() returns (t, z, flag) for t = 1..n."),
    "data-sine": (1, "sin(2 pi t / 50) plus Gaussian noise of sd 0.1.",
                  "emaz/data.py: math.sin(2 * math.pi * t / period) + rng.gauss(0.0, noise) with period=50, noise=0.1."),
    "data-spikes": (0, "exactly 1% of the points replaced by values of magnitude 5, positions kept.",
                    "emaz/data.py draws each point as a spike with probability 0.01, so the count is only about 1%, and it adds +-5 to the sine value instead of replacing the point; positions are kept in `spikes`."),
    "data-seed": (1, "n = 2000 and seed 0.", "emaz/data.py: make_stream(n=2000, seed=0) defaults; run.py passes --n 2000 --seed 0 by default."),
    "eval-metrics": (1, "precision and recall of flagged points against the spike positions.",
                     "emaz/evaluate.py: precision_recall(flagged, truth) computes both from the intersection."),
    "eval-hyper": (1, "alpha 0.1, tau 4.0, w 20, epsilon 1e-8.",
                   "emaz/detector.py defaults alpha=0.1, tau=4.0, warmup=20, epsilon=1e-8; run.py uses the same defaults."),
    "eval-run": (1, "reproduce.sh runs the experiment and prints precision and recall.",
                 "reproduce.sh runs `python run.py --n \"$n\"`, which prints precision and recall and is saved to results/metrics.txt."),
    "results-recall": (1, "reproduce.log shows a recall of at least 0.9 on the synthetic stream.",
                       "reproduce.log (quick setting, n = 500): precision=1.000 recall=1.000 flagged=4 spikes=4; "
                       "results/metrics.txt holds the same line."),
    "results-precision": (1, "reproduce.log shows a precision of at least 0.9 on the synthetic stream.",
                          "reproduce.log (quick setting, n = 500): precision=1.000 recall=1.000; the quick run "
                          "is smaller than the paper's n = 2000, so this is a weaker check than Section 3.2's."),
    "tests-unit": (1, "unit tests of the detector's flags on a small stream.",
                   "tests/test_detector.py: test_no_flags_during_warmup checks flags on [0]*5 + [100]."),
}


def _id_of(criterion: str, rubric_leaves: dict[str, str]) -> str:
    return next(i for i, text in rubric_leaves.items() if text == criterion)


def responder(rubric_leaves: dict[str, str]):
    """The scripted judge: the verdict written for the leaf the request is about."""

    def respond(request) -> str:
        leaf_id = _id_of(leaf_of(request), rubric_leaves)
        score, expectations, reality = VERDICTS[leaf_id]
        return json.dumps({"expectations": expectations, "reality": reality, "score": score,
                           "explanation": reality if score else f"Not met: {reality}"})  # fmt: skip

    return respond
