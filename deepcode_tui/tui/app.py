"""The deepcode-tui app: watches a run, resolves its gates, steers it.

``run_app(doc, loaded)`` is what the CLI calls. The run itself is the same
``pipeline.driver.drive`` the headless CLI uses, run in a Textual worker;
its events cross into the UI as :class:`EventArrived` messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path
from typing import Any

from textual import events, on, work
from textual.app import App
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import TextArea
from textual.worker import WorkerCancelled, WorkerFailed

from deepcode_tui.config.settings import user_config_path
from deepcode_tui.errors import DeepcodeError
from deepcode_tui.events.models import Event
from deepcode_tui.tui import adapters
from deepcode_tui.tui.clock import Clock
from deepcode_tui.tui.commands import DeepcodeCommands
from deepcode_tui.tui.decisions import DecisionsMixin
from deepcode_tui.tui.css_warm import warm_widget_css
from deepcode_tui.tui.gc_policy import FULL_COLLECT_EVERY_S, GcPolicy
from deepcode_tui.tui.keys import APP_BINDINGS, check_keymap
from deepcode_tui.tui.messages import (
    CoderPaused,
    GateWaiting,
    PatchAwaiting,
)
from deepcode_tui.tui.run_events import RunEventsMixin
from deepcode_tui.tui.screens.main import MainScreen
from deepcode_tui.tui.screens.start import StartScreen
from deepcode_tui.tui.session import Driver, RunSession
from deepcode_tui.tui.state import RunState
from deepcode_tui.tui.steering import Steering
from deepcode_tui.tui.stepper import PatchStepper
from deepcode_tui.tui.themes import discover_themes

DEFAULT_THEME = "deepcode-dark"
THEME_RULES_KEY = ("deepcode-theme-rules", "")
QUIT_STOP_TIMEOUT_S = 10.0
INPUT_QUIET_S = 0.15  # "a key was pressed just now": the file preview and full GC collections wait


class DeepcodeApp(RunEventsMixin, DecisionsMixin, App[int]):
    TITLE = "deepcode-tui"
    CSS_PATH = [
        "app.tcss",
        "widgets/header.tcss",
        "widgets/paper.tcss",
        "widgets/blueprint.tcss",
        "widgets/generation.tcss",
        "widgets/sandbox.tcss",
        "widgets/diff_view.tcss",
        "widgets/reference_sources.tcss",
        "screens/start.tcss",
        "screens/main.tcss",
        "screens/dialogs.tcss",
    ]
    BINDINGS: list[Binding] = APP_BINDINGS  # type: ignore[assignment]
    COMMANDS = App.COMMANDS | {DeepcodeCommands}

    def __init__(
        self,
        loaded: Any,
        doc: Path | None = None,
        *,
        driver: Driver | None = None,
        clock: Clock | None = None,
        blink: bool = True,
        cwd: Path | None = None,
        services: dict[str, Any] | None = None,
        warm_up: bool | None = None,
        batch_dir: Path | None = None,
    ) -> None:
        """``driver`` defaults to pipeline.driver.drive; tests pass a scripted one.
        ``warm_up`` imports the pipeline and litellm in a thread at start (default: with the real driver).
        ``blink`` False freezes cursors (snapshots); ``clock`` fixes time (snapshots).
        ``services`` are added to every run's services (e.g. ``{"llm_flags": {"replay": DIR}}``)."""
        super().__init__()
        # No animations: tab underlines and smooth scrolls cost frames the streaming view needs.
        self.animation_level = "none"
        self.loaded = loaded
        self.settings = loaded.settings
        self.doc = doc
        self._run_driver = driver
        self.clock = clock or Clock()
        self.blink = blink
        self.cwd = cwd
        self.extra_services = dict(services or {})
        self.batch_dir = batch_dir  # `batch watch`: the batch screen is the first screen
        self._warm_up = driver is None if warm_up is None else warm_up
        self._opening = False  # a document is being read and its run created (in a thread)
        self.state = RunState()
        self.session: RunSession | None = None
        self._open_problem = ""
        self._token_batch: list[Event] | None = None
        self.last_input = 0.0
        self._gc = GcPolicy(self.input_recent)
        self.stepper_enabled = bool(self.settings.verify.step)
        self.theme_specs, self._theme_problems = discover_themes(user_config_path().parent / "themes")

    # -- input first ----------------------------------------------------------------

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, (events.Key, events.MouseDown, events.MouseScrollDown, events.MouseScrollUp)):
            self.last_input = time.monotonic()
        await super().on_event(event)

    def input_recent(self, window_s: float = INPUT_QUIET_S) -> bool:
        """True shortly after a key or click. Work that can wait (loading a file preview,
        a full garbage collection) checks this; streamed text and logs do not: they stay live
        and cheap instead, so the screen keeps producing frames while keys are pressed."""
        return time.monotonic() - self.last_input < window_s

    # -- start-up -----------------------------------------------------------------

    async def on_mount(self) -> None:
        self._gc.start()
        self.set_interval(FULL_COLLECT_EVERY_S, self._gc.tick)
        for spec in self.theme_specs.values():
            self.register_theme(spec.theme)
        wanted = self.settings.ui.theme
        if wanted not in self.theme_specs and wanted not in self.available_themes:
            self._theme_problems.append(f"ui.theme: unknown theme {wanted!r}; using {DEFAULT_THEME}")
            wanted = DEFAULT_THEME
        self.theme = wanted
        warm_widget_css(self)  # ~30 ms now instead of 60-150 ms in the frame after a document opens
        keymap, key_problems = check_keymap(self.settings.ui.keys)
        self.set_keymap(keymap)
        for problem in (*self._theme_problems, *key_problems):
            self.notify(problem, title="Configuration", severity="warning", timeout=10)
        if self._warm_up:
            self._preload()
        if self.batch_dir is not None:
            from deepcode_tui.tui.batch_screen import BatchScreen

            await self.push_screen(BatchScreen(self.batch_dir))
            return
        if self.doc is None or not await self.open_document(self.doc):
            await self._show(StartScreen(self.loaded, cwd=self.cwd))
            if self._open_problem and isinstance(self.screen, StartScreen):
                self.screen.show_error(self._open_problem)

    @work(thread=True, exclusive=True, group="preload", exit_on_error=False)
    def _preload(self) -> None:
        """Import the pipeline and warm litellm up (seconds of imports) in a thread while the
        first screen is shown, so none of it runs on the UI loop when a run starts."""
        from pydantic import json_schema  # noqa: F401 - the tool schemas' first use imports it

        from deepcode_tui.llm.backend import warm_up
        from deepcode_tui.tui.run_events import load_run_modules

        load_run_modules()
        warm_up()

    def on_unmount(self) -> None:
        self._gc.stop()

    def watch_theme(self, name: str) -> None:
        """Swap in the active theme's own rules (its palette is registered already)."""
        self.stylesheet.source.pop(THEME_RULES_KEY, None)
        # The rules may use this theme's variables: give the stylesheet the new
        # palette now, before any screen is styled with it.
        self.stylesheet.set_variables(self.get_css_variables())
        spec = self.theme_specs.get(name)
        if spec is not None and spec.rules:
            self.stylesheet.add_source(spec.rules, read_from=THEME_RULES_KEY)
        for screen in self.screen_stack:
            for area in screen.query(TextArea):
                area.theme = self.code_theme

    @property
    def code_theme(self) -> str:
        """The TextArea theme matching the app theme: "css" follows its colours on dark themes."""
        return "css" if self.current_theme.dark else "github_light"
        # refresh_css (queued by Textual's own theme watcher) re-parses every source,
        # so a removed theme's rules disappear and the new ones use the new palette.

    # -- the screen on top --------------------------------------------------------

    @property
    def main(self) -> MainScreen | None:
        """The run screen, also while a palette, dialog or help screen is on top of it:
        events that arrive meanwhile still reach its panes, and the palette's commands act on it.
        None until it has composed its widgets (a timer can fire between its push and its compose)
        and once the app is shutting down (its screens are being taken apart): a run's events or a
        tick arriving then have nothing to be shown on."""
        if not self.is_running:
            return None
        for screen in reversed(self.screen_stack):
            if isinstance(screen, MainScreen):
                return screen if screen.is_mounted else None
        return None

    @property
    def is_running_run(self) -> bool:
        return self.session is not None and self.session.running

    @property
    def can_resume_current(self) -> bool:
        s = self.session
        if s is None or s.running or not self.state.run_id:
            return False
        return self.state.status in ("stopped", "failed", "planned") and adapters.resumable(
            s.run_dir, self.state.status
        )

    async def _show(self, screen: Screen) -> None:
        """Put ``screen`` on top: pushed over the blank start-up screen, else switched in."""
        if isinstance(self.screen, (StartScreen, MainScreen)):
            await self.switch_screen(screen)
        else:
            await self.push_screen(screen)

    async def _show_main(self) -> MainScreen:
        main = MainScreen()
        await self._show(main)
        await main.mount_hidden_panes()  # drawn first with its visible pane; the rest follow
        return main

    def action_go_start(self) -> None:
        if self.is_running_run:
            self.notify("Stop the run first (Esc); it can be resumed later.", severity="warning")
            return
        self._release_session()
        self.call_later(self._show, StartScreen(self.loaded, cwd=self.cwd))

    def result_paths(self) -> tuple[Path, Path | None] | None:
        """The run's repository and its report (None while it has not written one)."""
        if self.session is None:
            return None
        report = self.session.run_dir / "report.md"
        if self.state.final is not None and self.state.final.report_path:
            report = Path(self.state.final.report_path)
        return self.session.repo_dir, report if report.is_file() else None

    def copy_path(self, which: str) -> None:
        """Copy the repository's (or the report's) path to the clipboard (OSC 52) and say which."""
        paths = self.result_paths()
        path = None if paths is None else paths[0] if which == "repo" else paths[1]
        if path is None:
            self.notify(f"No {which} path yet.", severity="warning")
            return
        self.copy_to_clipboard(str(path))
        self.notify(f"{path}\n(copied; a terminal without OSC 52 clipboard support ignores the copy)",
                    title=f"{'Repository' if which == 'repo' else 'Report'} path", timeout=6)  # fmt: skip

    def action_help(self) -> None:
        from deepcode_tui.tui.screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            self.pop_screen()
            return
        main = self.main
        where = main.active_pane if main is not None and self.screen is main else "start"
        if isinstance(self.screen, StartScreen):
            where = "start"
        self.push_screen(HelpScreen(where))

    def action_screenshot(self) -> None:
        path = self.save_screenshot(path=str(self.cwd or Path.cwd()))
        self.notify(f"screenshot saved: {path}")

    async def action_quit(self) -> None:
        if self.is_running_run:
            self.stop_run()
            worker = self.session.worker if self.session else None
            if worker is not None:
                # The run records its own stop; quitting waits for that, but never hangs on it.
                with contextlib.suppress(asyncio.TimeoutError, WorkerFailed, WorkerCancelled):
                    await asyncio.wait_for(worker.wait(), QUIT_STOP_TIMEOUT_S)
        self._release_session()
        self.exit(0)

    # -- opening runs -------------------------------------------------------------

    async def open_document(self, path: Path) -> bool:
        """Create a run for ``path`` and start it; False (with the reason shown) when that fails."""
        from deepcode_tui.pipeline.inputs import check_input
        from deepcode_tui.store.run import RunStore

        if self.is_running_run or self._opening:
            self.notify("A run is in progress; stop it first (Esc).", severity="warning")
            return False

        def create() -> RunStore:
            doc = check_input(Path(path))
            return RunStore.create(
                self.settings.runs_dir, doc, command="run", config=self.loaded.snapshot(),
                llm_flags=self.extra_services.get("llm_flags"),
            )  # fmt: skip

        # In a thread: reading the document and the store's fsyncs (20-40 ms) would
        # otherwise hold the frame in which the run screen appears.
        self._opening = True
        try:
            store = await asyncio.to_thread(create)
        except DeepcodeError as exc:
            self._report_open_problem(exc)
            return False
        finally:
            self._opening = False
        self._new_session(store.root, store.repo_dir, store.run_id, store)
        await self._show_main()
        self._after_load()
        self._start_worker(new_run=True)
        return True

    async def on_batch_screen_open_run(self, message: Any) -> None:
        """Enter on the batch screen: the run's four panes (read-only while its worker
        drives it; the batch screen comes back with the start key)."""
        self.settings = self.settings.model_copy(update={"runs_dir": message.runs_dir})
        await self.open_run(message.run_id, resume=False)

    async def open_run(self, run_id: str, *, resume: bool, models: str | None = None) -> bool:
        """Resume ``run_id`` (takes its lock) or, when it cannot resume, view it read-only.

        A resume whose recorded models or model flags differ from today's asks first
        (:class:`ResumeChoiceDialog`); ``models`` ("recorded" or "current") is that answer.
        False when it cannot open, or while the question is being asked.
        """
        from deepcode_tui.store.run import RunStore, find_run, load_manifest
        from deepcode_tui.pipeline import resume_config

        if self.is_running_run:
            self.notify("A run is in progress; stop it first (Esc).", severity="warning")
            return False
        settings, services = None, self.extra_services
        try:
            if resume:
                manifest = load_manifest(find_run(self.settings.runs_dir, run_id))
                differences = resume_config.model_differences(manifest, self.settings, self.extra_services)
                if differences and models is None:
                    self._ask_models(run_id, differences)
                    return False
                if differences and models == "recorded":
                    settings, services = resume_config.recorded_setup(manifest, self.settings, self.extra_services)
            if resume:
                store = RunStore.open(self.settings.runs_dir, run_id)
                root, repo, rid = store.root, store.repo_dir, store.run_id
            else:
                root = find_run(self.settings.runs_dir, run_id)
                manifest = load_manifest(root)
                store, repo, rid = None, Path(manifest.repo_dir), manifest.run_id
            history = self._read_history(root)
        except DeepcodeError as exc:
            self._report_open_problem(exc)
            return False
        self._new_session(root, repo, rid, store, settings=settings, services=services)
        self.state.run_id = rid
        for ev in history:
            self.state.apply(ev)
        main = await self._show_main()
        self._after_load()
        main.sandbox.replay(history)
        if resume:
            self._start_worker(new_run=False)
        return True

    def _ask_models(self, run_id: str, differences: list[Any]) -> None:
        from deepcode_tui.tui.screens.dialogs import ResumeChoiceDialog

        def chosen(choice: str | None) -> None:
            if choice is not None:
                self.call_later(self.open_run, run_id, resume=True, models=choice)

        self.push_screen(ResumeChoiceDialog(run_id, differences), chosen)

    def _read_history(self, root: Path) -> list[Event]:
        from deepcode_tui.store.eventlog import read_log

        return read_log(root / "events.jsonl").events

    def _report_open_problem(self, exc: DeepcodeError) -> None:
        self._open_problem = exc.one_line()
        screen = self.screen
        if isinstance(screen, StartScreen):
            screen.show_error(exc.one_line())
        self.notify(exc.one_line(), title="Cannot open", severity="error", timeout=10)

    def _new_session(
        self, run_dir: Path, repo_dir: Path, run_id: str, store: Any, *, settings: Any = None,
        services: dict[str, Any] | None = None,
    ) -> None:
        self._release_session()
        self.state = RunState(run_id=run_id)
        steering = Steering(on_paused=lambda: self.post_message(CoderPaused(None)))
        stepper = PatchStepper(
            enabled=self.stepper_enabled,
            repo_dir=repo_dir,
            on_waiting=lambda p: self.post_message(PatchAwaiting(p)),
        )
        self.session = RunSession(
            run_dir, repo_dir, run_id, store=store, steering=steering, stepper=stepper,
            on_gate=lambda req: self.post_message(GateWaiting(req.gate, req.prompt, req.artifact)),
            extra_services=self.extra_services if services is None else services, settings=settings,
        )  # fmt: skip

    def _release_session(self) -> None:
        if self.session is not None and not self.session.running:
            self.session.close_store()

    def _after_load(self) -> None:
        main, session = self.main, self.session
        if main is None or session is None:
            return
        self._refresh_plan()
        main.load_run(session.run_dir, session.repo_dir)
        self._gc.freeze(collect=False)  # the run's panes and caches are long-lived: out of the full scans

    def _refresh_plan(self) -> None:
        """Add the newest blueprint's files to the list as pending."""
        if self.session is not None:
            self.state.plan_files(_newest_plan(self.session.run_dir))

    @work(thread=True, exclusive=True, group="plan", exit_on_error=False)
    def _refresh_plan_off_loop(self, run_dir: Path) -> None:
        """As _refresh_plan, parsing the YAML in a thread (a run event asked: the run goes on)."""
        paths = _newest_plan(run_dir)
        self.call_from_thread(self._plan_read, run_dir, paths)

    def _plan_read(self, run_dir: Path, paths: list[str]) -> None:
        if self.session is None or self.session.run_dir != run_dir:
            return
        known = len(self.state.files)
        self.state.plan_files(paths)
        if len(self.state.files) != known and self.main is not None:
            self.main.generation.rebuild_list()

    @on(StartScreen.OpenDocument)
    async def _open_document(self, message: StartScreen.OpenDocument) -> None:
        await self.open_document(message.path)

    @on(StartScreen.OpenRun)
    async def _open_run(self, message: StartScreen.OpenRun) -> None:
        await self.open_run(message.run_id, resume=message.resume)


def _newest_plan(run_dir: Path) -> list[str]:
    versions = adapters.list_blueprint_versions(run_dir)
    if not versions:
        return []
    try:
        return adapters.planned_files(adapters.read_text(versions[-1].path))
    except DeepcodeError:
        return []


def run_app(doc: Path | None, loaded: Any, *, services: dict[str, Any] | None = None) -> int:
    """Open the app (on ``doc`` when given); returns the exit code.

    ``services`` go to every run the app drives, e.g. ``{"llm_flags": {"replay": DIR}}``.
    """
    app = DeepcodeApp(loaded, doc=doc, services=services)
    app.run()
    return app.return_code or 0
