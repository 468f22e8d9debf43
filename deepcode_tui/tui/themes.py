"""Themes as TCSS files: a palette of ``$name: value;`` declarations plus optional rules.

Built-in themes ship inside the package (``deepcode_tui/tui/themes/*.tcss``,
read with importlib.resources; the repository's top-level ``themes/`` holds
the same files for people browsing it). User themes are read from
``<user config dir>/themes/*.tcss`` and override built-ins of the same name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from textual.color import Color, ColorParseError
from textual.theme import Theme

from deepcode_tui.errors import ConfigError

_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
_DECL = re.compile(r"^[ \t]*\$([A-Za-z_][A-Za-z0-9_-]*)[ \t]*:[ \t]*([^;\n]+);[ \t]*$", re.MULTILINE)
_COLOR_FIELDS = (
    "primary", "secondary", "warning", "error", "success", "accent",
    "foreground", "background", "surface", "panel", "boost",
)  # fmt: skip

# Variables the app's own styles use; a user theme that leaves them out gets these.
DEFAULT_VARIABLES: dict[str, str] = {
    "dc-header-background": "#1b2635",
    "dc-header-foreground": "#d8dee9",
    "dc-error-line": "#5a1f2a",
}


@dataclass(frozen=True)
class ThemeSpec:
    name: str
    theme: Theme
    rules: str  # the file's TCSS rules (declarations removed), applied while active
    origin: str  # where it came from, for messages


def parse_theme(name: str, text: str, origin: str = "") -> ThemeSpec:
    """Build a theme from TCSS text; ConfigError naming the file and the bad line otherwise."""
    where = origin or name
    body = _COMMENT.sub("", text)
    values = {m.group(1): m.group(2).strip() for m in _DECL.finditer(body)}
    if "primary" not in values:
        raise ConfigError(f"theme {where} has no $primary colour", "declare at least `$primary: #rrggbb;`")
    kwargs: dict[str, object] = {}
    variables = dict(DEFAULT_VARIABLES)
    for key, value in values.items():
        field = key.replace("-", "_")
        if field in _COLOR_FIELDS:
            _check_colour(where, key, value)
            kwargs[field] = value
        elif field == "dark":
            if value.lower() not in ("true", "false"):
                raise ConfigError(
                    f"theme {where}: $dark must be true or false, not {value!r}", "fix the theme file"
                )
            kwargs["dark"] = value.lower() == "true"
        elif field in ("luminosity_spread", "text_alpha"):
            try:
                kwargs[field] = float(value)
            except ValueError:
                raise ConfigError(f"theme {where}: ${key} must be a number", "fix the theme file") from None
        else:
            variables[key] = value
    rules = _DECL.sub("", body).strip()
    theme = Theme(name=name, variables=variables, **kwargs)  # type: ignore[arg-type]
    if rules:
        _check_rules(where, theme, rules)
    return ThemeSpec(name=name, theme=theme, rules=rules, origin=where)


def _check_rules(where: str, theme: Theme, rules: str) -> None:
    # Parse now, with the theme's variables, so a bad rule is reported when the
    # theme is loaded rather than breaking the screen when it is chosen.
    from textual.css.errors import UnresolvedVariableError
    from textual.css.stylesheet import Stylesheet, StylesheetParseError
    from textual.css.tokenizer import TokenError

    sheet = Stylesheet(variables={**theme.to_color_system().generate(), **theme.variables})
    try:
        sheet.add_source(rules, read_from=(where, ""))
        sheet.parse()
    except (StylesheetParseError, UnresolvedVariableError, TokenError) as exc:
        raise ConfigError(f"theme {where} has invalid rules: {exc}", "fix or remove the rule") from None


def _check_colour(where: str, key: str, value: str) -> None:
    try:
        Color.parse(value)
    except ColorParseError:
        raise ConfigError(
            f"theme {where}: ${key} is not a colour ({value!r})", "use a value like #4fb3d9"
        ) from None


def builtin_themes() -> dict[str, ThemeSpec]:
    """The themes shipped in the package, by name."""
    specs: dict[str, ThemeSpec] = {}
    folder = resources.files("deepcode_tui.tui") / "themes"
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".tcss"):
            name = entry.name[: -len(".tcss")]
            specs[name] = parse_theme(name, entry.read_text(encoding="utf-8"), f"built-in {entry.name}")
    return specs


def discover_themes(user_dir: Path | None) -> tuple[dict[str, ThemeSpec], list[str]]:
    """Built-in themes plus the user's; returns the themes and one problem line per bad user file."""
    specs = builtin_themes()
    problems: list[str] = []
    if user_dir is not None and Path(user_dir).is_dir():
        for path in sorted(Path(user_dir).glob("*.tcss")):
            try:
                specs[path.stem] = parse_theme(path.stem, path.read_text(encoding="utf-8"), str(path))
            except (OSError, UnicodeDecodeError) as exc:
                problems.append(f"cannot read theme {path}: {exc}")
            except ConfigError as exc:
                problems.append(exc.one_line())
    return specs, problems
