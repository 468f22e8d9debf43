"""Checks from the verification protocol."""

from emaz.data import make_stream
from emaz.detector import EMAZDetector, detect
from emaz.evaluate import precision_recall


def test_first_point_initialises_the_mean():
    d = EMAZDetector(alpha=0.5)
    z, flag = d.update(3.0)
    assert d.mean == 3.0 + 0.5 * 0.0 and z == 0.0 and not flag


def test_moments_follow_equations_1_and_2():
    d = EMAZDetector(alpha=0.5, warmup=0)
    d.update(0.0)
    d.update(2.0)
    assert d.mean == 1.0
    assert abs(d.var - 0.5 * (0.0 + 0.5 * 4.0)) < 1e-12


def test_no_flags_during_warmup():
    stream = [0.0] * 5 + [100.0]
    assert not any(flag for _, _, flag in detect(stream, warmup=6))
    assert detect(stream, warmup=5)[-1][2]


def test_detects_spikes_on_the_synthetic_stream():
    stream, spikes = make_stream(n=2000, seed=0)
    flagged = {t for t, _, flag in detect(stream) if flag}
    precision, recall = precision_recall(flagged, spikes)
    assert recall >= 0.9 and precision >= 0.9
