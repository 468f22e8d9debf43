"""Parse the run screen's widget CSS at start-up, not when a document is opened.

Textual adds a widget class's DEFAULT_CSS to the stylesheet the first time an instance
is mounted, and the next style pass re-parses the stylesheet. The run screen brings
three dozen new classes at once, so opening the first document paid for that parse in
the frame the user waits for: 270-360 ms from Enter to the first frame of the run
screen on a quiet 2-core machine, against 190-220 ms with the CSS parsed before
(`scripts/bench_tui.py`, "longest frame gap"). Parsing it once at start-up costs about
30 ms there.

The classes are every widget class the app's own widget and screen modules use
(found from their globals, so a new widget is covered without a list) plus the Textual
classes those widgets create inside themselves. A test checks that opening a document
adds no CSS source after this ran (``tests/tui/test_css_warm.py``).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from typing import Any

from textual.dom import DOMNode
from textual.widget import Widget


def _inner_classes() -> list[type[Widget]]:
    """Widgets Textual mounts inside the ones we use (tabs, markdown blocks, containers)."""
    from textual.containers import Container
    from textual.widgets import ContentSwitcher, Tab, Tabs
    from textual.widgets._markdown import MarkdownBlock, MarkdownH2, MarkdownHeader, MarkdownParagraph
    from textual.widgets._tabs import Underline

    return [Container, ContentSwitcher, Tab, Tabs, Underline, MarkdownBlock, MarkdownHeader, MarkdownH2,
            MarkdownParagraph]  # fmt: skip


def widget_classes() -> set[type[Widget]]:
    import deepcode_tui.tui.screens as screens
    import deepcode_tui.tui.widgets as widgets

    found: set[type[Widget]] = set(_inner_classes())
    for package in (widgets, screens):
        for info in pkgutil.iter_modules(package.__path__):
            module = importlib.import_module(f"{package.__name__}.{info.name}")
            found |= {c for _, c in inspect.getmembers(module, inspect.isclass) if issubclass(c, Widget)}
    return found


def warm_widget_css(app: Any) -> int:
    """Add every widget class's default CSS to ``app``'s stylesheet and parse it once;
    the number of classes. What Textual does per class at first mount (``_post_register``),
    done for all of them up front."""
    classes = widget_classes()
    for cls in classes:
        probe = _Probe(DOMNode._css_bases(cls))
        for read_from, css, tie_breaker, scope in DOMNode._get_default_css(probe):  # type: ignore[arg-type]
            app.stylesheet.add_source(css, read_from=read_from, is_default_css=True, tie_breaker=tie_breaker,
                                      scope=scope)  # fmt: skip
    app.stylesheet.parse()
    return len(classes)


class _Probe:
    """What ``DOMNode._get_default_css`` reads of an instance: its class's CSS bases."""

    def __init__(self, bases: Any) -> None:
        self._node_bases = bases
