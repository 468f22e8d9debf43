"""Precision and recall of flagged points against the injected spikes (Section 3.2)."""


def precision_recall(flagged: set[int], truth: set[int]) -> tuple[float, float]:
    """(precision, recall); 1.0 for an empty denominator."""
    hits = len(flagged & truth)
    precision = hits / len(flagged) if flagged else 1.0
    recall = hits / len(truth) if truth else 1.0
    return precision, recall
