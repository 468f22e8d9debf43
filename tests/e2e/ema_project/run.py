"""Reproduce Section 3: run EMA-Z on the synthetic stream and print precision and recall."""

import argparse

from emaz.data import make_stream
from emaz.detector import detect
from emaz.evaluate import precision_recall


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=2000, help="stream length")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--alpha", type=float, default=0.1)
    parser.add_argument("--tau", type=float, default=4.0)
    parser.add_argument("--warmup", type=int, default=20)
    args = parser.parse_args(argv)
    stream, spikes = make_stream(n=args.n, seed=args.seed)
    flagged = {t for t, _, flag in detect(stream, args.alpha, args.tau, args.warmup) if flag}
    precision, recall = precision_recall(flagged, spikes)
    print(f"precision={precision:.3f} recall={recall:.3f} flagged={len(flagged)} spikes={len(spikes)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
