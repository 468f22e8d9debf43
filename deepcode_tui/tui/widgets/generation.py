"""Pane 3, generation: file list with status, the file streaming in, its memory entry, context meter."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Label, OptionList, Static, TextArea
from textual.widgets.option_list import Option, OptionDoesNotExist

from deepcode_tui.tui import adapters
from deepcode_tui.tui.state import FileState, RunState
from deepcode_tui.tui.widgets.code_view import CodeView
from deepcode_tui.tui.widgets.context_meter import meter_content
from deepcode_tui.tui.widgets.fixed_text_area import FixedTextArea

# Streamed text reaches the screen at most 20 times a second. An append costs ~1.5 ms
# plus one ~8 ms frame (CodeView highlights and redraws only what changed), so this
# costs the CPU that 10 a second did before, and the view keeps up with keys pressed.
FLUSH_INTERVAL_S = 1 / 20
PREVIEW_DELAY_S = 0.15  # moving through the list shows a file once the keys rest this long
# While a file streams in, the view holds only its last lines: highlighting and
# layout then cost the same for a 50-line file and a 5,000-line one.
TAIL_LINES = 120

STATUS_MARK = {
    "pending": ("·", "$text-muted"),
    "writing": ("✎", "bold $accent"),
    "done": ("✓", "$success"),
    "failed": ("✗", "bold $error"),
    "edited": ("✋", "bold $warning"),
}
STATUS_WORD = {
    "pending": "pending",
    "writing": "writing",
    "done": "done",
    "failed": "failed",
    "edited": "edited by you",
}

_LANGUAGES = {
    ".py": "python", ".js": "javascript", ".mjs": "javascript", ".cjs": "javascript", ".jsx": "javascript",
    ".json": "json", ".md": "markdown", ".toml": "toml", ".yaml": "yaml", ".yml": "yaml", ".sh": "bash",
    ".css": "css", ".html": "html", ".rs": "rust", ".go": "go", ".java": "java", ".sql": "sql",
}  # fmt: skip


def file_prompt(f: FileState) -> Content:
    mark, style = STATUS_MARK.get(f.status, ("?", ""))
    return Content.assemble((mark, style), " ", (f.path, "" if f.status != "pending" else "$text-muted"))


class GenerationPane(Vertical):
    """Follows the file being written unless the human picks another one."""

    def __init__(self, state: RunState, *, budget_tokens: int = 12000, id: str | None = None) -> None:
        super().__init__(id=id)
        self.state = state
        self.budget_tokens = budget_tokens
        self.run_dir: Path | None = None
        self.repo_dir: Path | None = None
        self.selected: str | None = None
        self.follow = True
        self._shown_source: tuple[str, str] | None = None  # (kind, path or role) now in the view
        self._shown_len = 0
        self._preview_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        with Horizontal(id="gen-body"):
            yield OptionList(id="gen-files")
            with Vertical(id="gen-main"):
                yield Label("No file yet.", id="gen-title")
                yield CodeView(id="gen-code", read_only=True, soft_wrap=False, show_line_numbers=True)
                with Horizontal(id="gen-side"):
                    yield Static("", id="gen-meter")
                    # A read-only TextArea: new text never triggers a screen layout, and long
                    # signatures scroll sideways instead of wrapping.
                    yield FixedTextArea(id="gen-memory", read_only=True, soft_wrap=False, show_cursor=False)

    def on_mount(self) -> None:
        code = self.query_one("#gen-code", TextArea)
        code.cursor_blink = getattr(self.app, "blink", True)
        code.show_cursor = False
        code.theme = getattr(self.app, "code_theme", "css")
        self.query_one("#gen-memory", TextArea).theme = code.theme
        self.set_interval(FLUSH_INTERVAL_S, self.flush)

    def load(self, run_dir: Path, repo_dir: Path) -> None:
        self.run_dir, self.repo_dir = run_dir, repo_dir
        self.rebuild_list()

    # -- the file list ------------------------------------------------------------

    def rebuild_list(self) -> None:
        files = self.query_one("#gen-files", OptionList)
        highlighted = self.selected
        files.clear_options()
        files.add_options(Option(file_prompt(f), id=f.path) for f in self.state.files.values())
        if highlighted in self.state.files:
            files.highlighted = files.get_option_index(highlighted)
        self._update_title()

    def _update_file(self, path: str) -> None:
        files = self.query_one("#gen-files", OptionList)
        f = self.state.files.get(path)
        if f is None:
            return
        try:
            files.replace_option_prompt(path, file_prompt(f))
        except OptionDoesNotExist:  # not listed yet: add it in order
            self.rebuild_list()

    @on(OptionList.OptionHighlighted, "#gen-files")
    def _picked(self, event: OptionList.OptionHighlighted) -> None:
        path = event.option.id
        if event.option_index != event.option_list.highlighted:
            return  # stale: the highlight moved again before this message was handled
        if path is None or path == self.selected:
            return
        self.selected = path
        # Picking the file being written keeps following the coder; any other stops it.
        self.follow = path == self.state.current_file
        # The highlight moves at once; the file itself loads when the highlight rests,
        # so holding an arrow key does not load every file on the way.
        if self._preview_timer is not None:
            self._preview_timer.stop()
        self._preview_timer = self.set_timer(PREVIEW_DELAY_S, self._preview_when_quiet)

    def _preview_when_quiet(self) -> None:
        input_recent = getattr(self.app, "input_recent", None)
        if input_recent is not None and input_recent(PREVIEW_DELAY_S):
            self._preview_timer = self.set_timer(PREVIEW_DELAY_S, self._preview_when_quiet)
            return
        self._show_selected()

    def select(self, path: str) -> None:
        """Show ``path`` (also moves the list's highlight)."""
        files = self.query_one("#gen-files", OptionList)
        if path in self.state.files:
            self.selected = path
            files.highlighted = files.get_option_index(path)
            self._show_selected()

    # -- the code view ------------------------------------------------------------

    def _show_selected(self) -> None:
        code = self.query_one("#gen-code", TextArea)
        path = self.selected
        f = self.state.files.get(path) if path else None
        if f is None:
            return
        language = _LANGUAGES.get(Path(f.path).suffix.lower())
        language = language if language in code.available_languages else None
        if code.language != language:  # assigning rebuilds the highlight query, even to the same value
            code.language = language
        if f.status == "writing":
            self._shown_source = ("file", f.path)
            self._load_tail(f.text)
        else:
            on_disk = adapters.read_repo_file(self.repo_dir, f.path) if self.repo_dir else None
            text = on_disk if on_disk is not None else f.text
            self._shown_source, self._shown_len = ("static", f.path), len(text)
            code.line_number_start = 1
            self._set_code(text)
        self._update_title()
        self._show_context(f)
        self._load_memory(f.path)

    def _visible(self) -> bool:
        node = self
        while node is not None and not isinstance(node, Screen):
            if not node.display:
                return False
            node = node.parent
        return True

    def flush(self) -> None:
        """Append newly streamed text to the view (called on a timer, not per token).

        Skipped while the pane is hidden: highlighting text nobody sees would only
        slow down the pane that is on screen. The view catches up when shown.
        Not skipped while keys are pressed: the stream stays live, and the frames it
        costs are small enough to sit between key presses.
        """
        if not self._visible():
            return
        code = self.query_one("#gen-code", TextArea)
        if self._shown_source is None:
            if self.follow and self.state.live_text and self.state.current_file is None:
                self._show_live()
            return
        kind, key = self._shown_source
        if kind == "file":
            f = self.state.files.get(key)
            text = f.text if f is not None else ""
        elif kind == "live":
            if self.state.current_file is not None and self.follow:
                return  # a file started; on_run_event switches to it
            text = self.state.live_text
        else:
            return
        if len(text) < self._shown_len:  # restarted (a resumed file or a new call)
            self._load_tail(text)
        elif len(text) > self._shown_len:
            delta = text[self._shown_len :]
            if code.document.line_count + delta.count("\n") > 2 * TAIL_LINES:
                self._load_tail(text)
            else:
                code.insert(delta, code.document.end, maintain_selection_offset=False)
                self._shown_len = len(text)
                # At once, not after the next refresh: a deferred scroll draws every chunk twice.
                code.scroll_end(animate=False, immediate=True)
        else:
            return
        self._update_title()

    def _set_code(self, text: str) -> None:
        """Replace the view's text by an edit: load_text would recompile the highlight query (~40 ms)."""
        code = self.query_one("#gen-code", TextArea)
        code.replace(text, (0, 0), code.document.end, maintain_selection_offset=False)
        code.history.clear()  # a read-only view needs no undo, and it would keep every version
        code.move_cursor((0, 0))

    def _load_tail(self, text: str) -> None:
        """Show the last TAIL_LINES lines of ``text``, numbered as in the whole file."""
        code = self.query_one("#gen-code", TextArea)
        cut = len(text)
        for _ in range(TAIL_LINES):
            cut = text.rfind("\n", 0, cut)
            if cut < 0:
                break
        start = 0 if cut < 0 else cut + 1
        # Begin at an unindented line when one is near, so the window rarely opens
        # inside a string or block and its highlighting stays right.
        probe = start
        for _ in range(TAIL_LINES // 2):
            if probe == 0 or (probe < len(text) and not text[probe].isspace()):
                start = probe
                break
            probe = text.rfind("\n", 0, probe - 1) + 1
        code.line_number_start = text.count("\n", 0, start) + 1
        self._set_code(text[start:])
        code.scroll_end(animate=False, immediate=True)
        self._shown_len = len(text)

    def _show_live(self) -> None:
        code = self.query_one("#gen-code", TextArea)
        if code.language is not None:
            code.language = None
        self._shown_source = ("live", self.state.live_role)
        self._load_tail(self.state.live_text)
        self.query_one("#gen-title", Label).update(
            f"{self.state.live_role or 'model'} is writing…", layout=False
        )

    def _update_title(self) -> None:
        title = self.query_one("#gen-title", Label)
        f = self.state.files.get(self.selected) if self.selected else None
        if f is None:
            done = sum(1 for x in self.state.files.values() if x.status in ("done", "edited"))
            title.update(f"{done}/{len(self.state.files)} files written" if self.state.files else "No file yet.",
                         layout=False)  # fmt: skip
            return
        detail = (
            f"{self._shown_len:,} chars"
            if f.status == "writing"
            else (f"{f.bytes:,} bytes" if f.bytes else "")
        )
        writing = self.state.current_file
        follow = (
            "" if self.follow or writing is None or writing == f.path else f"  (the coder is on {writing})"
        )
        reason = f": {f.reason}" if f.reason else ""
        # layout=False: a one-line title never changes size, and streaming updates it often.
        title.update(
            f"{f.path} — {STATUS_WORD.get(f.status, f.status)}{reason} {detail}{follow}".rstrip(),
            layout=False,
        )

    # -- memory and context -------------------------------------------------------

    def _show_context(self, f: FileState) -> None:
        retrieval = self.state.retrieval.get(f.path, "")
        self.query_one("#gen-meter", Static).update(
            meter_content(f.context, self.budget_tokens, retrieval), layout=False
        )

    def _load_memory(self, path: str) -> None:
        if self.run_dir is not None:
            self._read_memory(self.run_dir, path)

    @work(thread=True, exclusive=True, group="gen-memory")
    def _read_memory(self, run_dir: Path, path: str) -> None:
        text = adapters.memory_text(run_dir, path)
        self.app.call_from_thread(self._show_memory, path, text)

    def _show_memory(self, path: str, text: str | None) -> None:
        if path != self.selected:
            return
        f = self.state.files.get(path)
        if text is None and f is not None and (f.purpose or f.symbols):
            text = f"## {path} — {f.purpose}\n  symbols: {', '.join(f.symbols)}"
        memory = self.query_one("#gen-memory", TextArea)
        memory.replace(text or "No memory entry yet (written after the file).", (0, 0), memory.document.end)
        memory.history.clear()
        memory.scroll_home(animate=False)

    # -- events -------------------------------------------------------------------

    def on_run_event(self, ev: Any) -> None:
        t = ev.type
        if t in ("file_started", "file_written", "file_failed", "human_edit", "memory_entry_added"):
            path = ev.path
            if len(self.state.files) != self.query_one("#gen-files", OptionList).option_count:
                self.rebuild_list()
            else:
                self._update_file(path)
            if t == "file_started" and self.follow:
                self.select(path)
            elif path == self.selected and t != "memory_entry_added":
                self.flush()
                self._show_selected()
            elif path == self.selected:
                self._load_memory(path)
        elif t == "retrieval_decision" and ev.path == self.selected:
            f = self.state.files.get(ev.path)
            if f is not None:
                self._show_context(f)
        elif t in ("run_finished", "blueprint_saved", "phase_completed"):
            if len(self.state.files) != self.query_one("#gen-files", OptionList).option_count:
                self.rebuild_list()
            self._update_title()
