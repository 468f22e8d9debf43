"""EMA-Z: streaming anomaly detection with exponentially weighted moments."""

from emaz.detector import EMAZDetector, detect

__all__ = ["EMAZDetector", "detect"]
