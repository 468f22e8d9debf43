"""Optional marker-pdf engine: run in a subprocess with a hard timeout, only when usable.

marker needs torch and several GB of model weights that it downloads on first
use; this project may run offline. So the engine is used only when the
package is importable and its weights are already on disk; otherwise the
caller gets one line saying why, and falls back to the default engine.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tempfile
from pathlib import Path

_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pth", ".pt", ".gguf", ".onnx")
INSTALL_HINT = "pip install 'deepcode-tui[marker]'"


def _cache_dirs() -> list[Path]:
    dirs = []
    if os.environ.get("MODEL_CACHE_DIR"):
        dirs.append(Path(os.environ["MODEL_CACHE_DIR"]))
    try:
        from platformdirs import user_cache_dir

        dirs.append(Path(user_cache_dir("datalab")) / "models")
    except ImportError:  # platformdirs is a project dependency; be tolerant anyway
        pass
    dirs.append(Path.home() / ".cache" / "datalab" / "models")
    hf = Path(os.environ.get("HF_HOME", Path.home() / ".cache" / "huggingface")) / "hub"
    dirs.append(hf)
    return dirs


def _has_weights(d: Path, *, hf_hub: bool) -> bool:
    if not d.is_dir():
        return False
    roots = [p for p in d.iterdir() if p.is_dir()]
    if hf_hub:  # older marker/surya releases pulled "vikp/surya_*" / "datalab-to/*" from the HF hub
        roots = [p for p in roots if "surya" in p.name.lower() or "texify" in p.name.lower()]
    for root in roots:
        for _dirpath, _dirs, files in os.walk(root):
            if any(f.endswith(_WEIGHT_SUFFIXES) for f in files):
                return True
    return False


def marker_unavailable_reason() -> str | None:
    """None when marker can run offline here; otherwise why not, in one line."""
    if importlib.util.find_spec("marker") is None or importlib.util.find_spec("marker.converters") is None:
        return f"marker-pdf is not installed ({INSTALL_HINT} to enable it)"
    dirs = _cache_dirs()
    for d in dirs:
        if _has_weights(d, hf_hub=d.name == "hub"):
            return None
    where = ", ".join(str(d) for d in dirs[:2])
    return (
        f"marker-pdf is installed but its model weights are not downloaded (looked in {where}); "
        "run marker once with network access to fetch them"
    )


_RUNNER = r"""
import sys
from marker.converters.pdf import PdfConverter
from marker.models import create_model_dict
from marker.output import text_from_rendered
conv = PdfConverter(artifact_dict=create_model_dict(), config={"paginate_output": True})
text, _, _ = text_from_rendered(conv(sys.argv[1]))
tmp = sys.argv[2] + ".part"
with open(tmp, "w", encoding="utf-8") as f:
    f.write(text)
import os
os.replace(tmp, sys.argv[2])
"""


class MarkerFailed(Exception):
    """marker ran but did not produce Markdown; the message says why."""


def run_marker(pdf: Path, *, timeout_s: float) -> str:
    """Markdown from marker (pages separated by ``{N}----`` lines). Raises MarkerFailed."""
    with tempfile.TemporaryDirectory(prefix="deepcode-marker-") as tmp:
        out = Path(tmp) / "out.md"
        env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", PYTHONUNBUFFERED="1")
        try:
            proc = subprocess.run(
                [sys.executable, "-c", _RUNNER, str(pdf), str(out)],
                capture_output=True,
                text=True,
                timeout=timeout_s,
                env=env,
                stdin=subprocess.DEVNULL,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise MarkerFailed(f"marker did not finish within {timeout_s:g} s") from None
        except OSError as e:
            raise MarkerFailed(f"could not start marker: {e}") from None
        if proc.returncode != 0 or not out.exists():
            tail = (proc.stderr or "").strip().splitlines()[-1:] or ["no output"]
            raise MarkerFailed(f"marker exited with code {proc.returncode}: {tail[0][:200]}")
        return out.read_text(encoding="utf-8", errors="replace")
