"""Loading settings with provenance, and comment-preserving writes."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import tomlkit
from pydantic import SecretStr, ValidationError

from deepcode_tui.config.settings import PROJECT_FILE, Settings, _paths, user_config_path
from deepcode_tui.errors import ConfigError
from deepcode_tui.redaction import is_secret_name
from deepcode_tui.store.atomic import write_text_atomic

REDACTED = "********"


def find_project_config(start: Path | None = None) -> Path | None:
    """The nearest ``deepcode.toml`` at or above ``start`` (default: the working directory)."""
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / PROJECT_FILE
        if candidate.is_file():
            return candidate
    return None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}", f"fix the syntax in {path}") from None
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}", "check the file's permissions") from None


def _flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping) and value and key != "keys":
            flat.update(_flatten(value, dotted + "."))
        else:
            flat[dotted] = value
    return flat


def _env_values() -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for name, value in os.environ.items():
        if name.startswith("DEEPCODE_") and name not in ("DEEPCODE_CORPUS",):
            flat[name[len("DEEPCODE_") :].lower().replace("__", ".")] = value
    return flat


class LoadedSettings:
    """Settings plus where each value came from."""

    def __init__(self, settings: Settings, provenance: dict[str, str], files: dict[str, Path | None]):
        self.settings = settings
        self.provenance = provenance
        self.files = files

    def rows(self) -> list[tuple[str, str, str]]:
        """(dotted key, display value with secrets redacted, source) for every setting."""
        rows = []
        for key, value in _flatten(self.settings.model_dump(mode="python")).items():
            rows.append((key, display_value(key, value), self.provenance.get(key, "default")))
        return rows

    def snapshot(self) -> dict[str, Any]:
        """The effective configuration with secrets redacted (safe for the run directory)."""
        return redact(self.settings.model_dump(mode="json"))


def is_secret_key(key: str) -> bool:
    """Whole-word match on the last part (``models.api_key`` yes; ``rag.budget_tokens`` and
    ``ui.keys`` no): a substring match masked token budgets as secrets."""
    return is_secret_name(key)


def display_value(key: str, value: Any) -> str:
    if isinstance(value, SecretStr) or (is_secret_key(key) and value not in (None, "")):
        return REDACTED
    return "" if value is None else str(value)


def redact(data: Any, key: str = "") -> Any:
    if isinstance(data, dict):
        return {k: redact(v, f"{key}.{k}" if key else k) for k, v in data.items()}
    if is_secret_key(key) and data not in (None, ""):
        return REDACTED
    return data


def load_settings(cli: Mapping[str, Any] | None = None, *, cwd: Path | None = None) -> LoadedSettings:
    """Build the effective settings; raises ConfigError naming the bad source and key."""
    project = find_project_config(cwd)
    user = user_config_path()
    user = user if user.is_file() else None
    cli = {k: v for k, v in (cli or {}).items() if v is not None}
    files = {"project": project, "user": user}
    layers: list[tuple[str, dict[str, Any]]] = [("cli", _flatten(cli)), ("env", _env_values())]
    if project:
        layers.append((f"project ({project})", _flatten(_read_toml(project))))
    if user:
        layers.append((f"user ({user})", _flatten(_read_toml(user))))
    provenance: dict[str, str] = {}
    for source, values in layers:
        for key in values:
            provenance.setdefault(key, source)

    token = _paths.set((project, user))
    try:
        settings = Settings(**_unflatten(cli))
    except ValidationError as exc:
        raise ConfigError(_describe(exc, provenance), "correct or remove that setting") from None
    finally:
        _paths.reset(token)
    return LoadedSettings(settings, provenance, files)


def _unflatten(flat: Mapping[str, Any]) -> dict[str, Any]:
    nested: dict[str, Any] = {}
    for key, value in flat.items():
        node = nested
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return nested


def valid_range(dotted_key: str) -> str:
    """The valid range of a numeric setting in words ("64 to 1048576", "at least 0"), or ""."""
    model: Any = Settings
    info = None
    for part in dotted_key.split("."):
        fields = getattr(model, "model_fields", {})
        info = fields.get(part)
        if info is None:
            return ""
        model = info.annotation
        for arg in getattr(model, "__args__", ()) or ():  # Optional[Section] -> Section
            if hasattr(arg, "model_fields"):
                model = arg
    if info is None:
        return ""
    low = high = None
    low_open = high_open = False
    for m in info.metadata:
        for attr, is_low, is_open in (("ge", True, False), ("gt", True, True), ("le", False, False),
                                      ("lt", False, True)):
            value = getattr(m, attr, None)
            if value is not None:
                if is_low:
                    low, low_open = value, is_open
                else:
                    high, high_open = value, is_open
    def num(v: float) -> str:
        return str(v) if isinstance(v, int) else f"{v:g}"

    if low is not None and high is not None:
        return f"{'above ' if low_open else ''}{num(low)} to {num(high)}{' (exclusive)' if high_open else ''}"
    if low is not None:
        return f"{'above' if low_open else 'at least'} {num(low)}"
    if high is not None:
        return f"{'below' if high_open else 'at most'} {num(high)}"
    return ""


def _describe(exc: ValidationError, provenance: dict[str, str]) -> str:
    err = exc.errors()[0]
    key = ".".join(str(p) for p in err["loc"])
    source = provenance.get(key, "")
    if source == "env":
        source = "env DEEPCODE_" + key.upper().replace(".", "__")
    where = f" (from {source})" if source else ""
    if err["type"] == "extra_forbidden":
        return f"unknown setting {key!r}{where}"
    value = err.get("input")
    shown = f" = {value!r}" if isinstance(value, (int, float, str)) and not is_secret_key(key) else ""
    span = valid_range(key)
    valid = f"; valid: {span}" if span else ""
    return f"invalid setting {key!r}{shown}{where}: {err['msg']}{valid}"


def set_config_value(path: Path, dotted_key: str, value: Any) -> None:
    """Set ``dotted_key`` in the TOML file at ``path``, keeping its comments and order."""
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    try:
        doc = tomlkit.parse(text)
    except Exception as exc:  # tomlkit raises several parse error types
        raise ConfigError(f"{path} is not valid TOML: {exc}", f"fix the syntax in {path}") from None
    node: Any = doc
    *parents, leaf = dotted_key.split(".")
    for part in parents:
        if part not in node:
            node[part] = tomlkit.table()
        node = node[part]
    node[leaf] = value
    candidate = tomlkit.dumps(doc)
    # Validate before writing so a bad value never lands in the file.
    try:
        Settings.model_validate(_unflatten(_flatten(tomllib.loads(candidate))))
    except ValidationError as exc:
        raise ConfigError(_describe(exc, {}), "use a valid key and value") from None
    write_text_atomic(path, candidate)
