"""The deepcode-tui app: watches a run, resolves its gates, steers it.

``run_app(doc, loaded)`` is what the CLI calls. The run itself is the same
``pipeline.driver.drive`` the headless CLI uses, run in a Textual worker;
its events cross into the UI as :class:`EventArrived` messages.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any, Literal

from textual import events, on, work
from textual.app import App
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import TextArea

from deepcode_tui.config.settings import user_config_path
from deepcode_tui.errors import DeepcodeError
from deepcode_tui.events.models import Event
from deepcode_tui.pipeline.gate import GateDecision
from deepcode_tui.tui import adapters, proposals
from deepcode_tui.tui.clock import Clock
from deepcode_tui.tui.commands import DeepcodeCommands
from deepcode_tui.tui.keys import APP_BINDINGS, check_keymap
from deepcode_tui.tui.messages import CoderPaused, EventArrived, PatchAwaiting, RunEnded, TokensArrived
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
INPUT_QUIET_S = 0.15  # after a key, streamed text and log lines wait this long before redrawing


class DeepcodeApp(App[int]):
    TITLE = "deepcode-tui"
    CSS_PATH = [
        "app.tcss",
        "widgets/header.tcss",
        "widgets/paper.tcss",
        "widgets/blueprint.tcss",
        "widgets/generation.tcss",
        "widgets/sandbox.tcss",
        "widgets/diff_view.tcss",
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
    ) -> None:
        """``driver`` defaults to pipeline.driver.drive; tests pass a scripted one.
        ``blink`` False freezes cursors (snapshots); ``clock`` fixes time (snapshots)."""
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
        self.state = RunState()
        self.session: RunSession | None = None
        self._open_problem = ""
        self._token_batch: list[Event] | None = None
        self.last_input = 0.0
        self.stepper_enabled = bool(self.settings.verify.step)
        self.theme_specs, self._theme_problems = discover_themes(user_config_path().parent / "themes")

    # -- input first ----------------------------------------------------------------

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, (events.Key, events.MouseDown, events.MouseScrollDown, events.MouseScrollUp)):
            self.last_input = time.monotonic()
        await super().on_event(event)

    def input_recent(self, window_s: float = INPUT_QUIET_S) -> bool:
        """True shortly after a key or click: background redraws (streams, logs) wait, keys come first."""
        return time.monotonic() - self.last_input < window_s

    # -- start-up -----------------------------------------------------------------

    async def on_mount(self) -> None:
        for spec in self.theme_specs.values():
            self.register_theme(spec.theme)
        wanted = self.settings.ui.theme
        if wanted not in self.theme_specs and wanted not in self.available_themes:
            self._theme_problems.append(f"ui.theme: unknown theme {wanted!r}; using {DEFAULT_THEME}")
            wanted = DEFAULT_THEME
        self.theme = wanted
        keymap, key_problems = check_keymap(self.settings.ui.keys)
        self.set_keymap(keymap)
        for problem in (*self._theme_problems, *key_problems):
            self.notify(problem, title="Configuration", severity="warning", timeout=10)
        if self.doc is None or not await self.open_document(self.doc):
            await self._show(StartScreen(self.loaded, cwd=self.cwd))
            if self._open_problem and isinstance(self.screen, StartScreen):
                self.screen.show_error(self._open_problem)

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
        screen = self.screen
        return screen if isinstance(screen, MainScreen) else None

    @property
    def is_running_run(self) -> bool:
        return self.session is not None and self.session.running

    @property
    def can_resume_current(self) -> bool:
        s = self.session
        if s is None or s.running or not self.state.run_id:
            return False
        return self.state.status in ("stopped", "failed", "planned") and adapters.resumable(s.run_dir, self.state.status)

    async def _show(self, screen: Screen) -> None:
        """Put ``screen`` on top: pushed over the blank start-up screen, else switched in."""
        if isinstance(self.screen, (StartScreen, MainScreen)):
            await self.switch_screen(screen)
        else:
            await self.push_screen(screen)

    async def _show_main(self) -> MainScreen:
        main = MainScreen()
        await self._show(main)
        return main

    def action_go_start(self) -> None:
        if self.is_running_run:
            self.notify("Stop the run first (Esc); it can be resumed later.", severity="warning")
            return
        self._release_session()
        self.call_later(self._show, StartScreen(self.loaded, cwd=self.cwd))

    def action_screenshot(self) -> None:
        path = self.save_screenshot(path=str(self.cwd or Path.cwd()))
        self.notify(f"screenshot saved: {path}")

    async def action_quit(self) -> None:
        if self.is_running_run:
            self.stop_run()
            worker = self.session.worker if self.session else None
            if worker is not None:
                try:
                    await asyncio.wait_for(worker.wait(), QUIT_STOP_TIMEOUT_S)
                except Exception:  # the run records its stop itself; quitting must not hang on it
                    pass
        self._release_session()
        self.exit(0)

    # -- opening runs -------------------------------------------------------------

    async def open_document(self, path: Path) -> bool:
        """Create a run for ``path`` and start it; False (with the reason shown) when that fails."""
        from deepcode_tui.pipeline.inputs import check_input
        from deepcode_tui.store.run import RunStore

        if self.is_running_run:
            self.notify("A run is in progress; stop it first (Esc).", severity="warning")
            return False
        try:
            doc = check_input(Path(path))
            store = RunStore.create(self.settings.runs_dir, doc, command="run", config=self.loaded.snapshot())
        except DeepcodeError as exc:
            self._report_open_problem(exc)
            return False
        self._new_session(store.root, store.repo_dir, store.run_id, store)
        await self._show_main()
        self._after_load()
        self._start_worker(new_run=True)
        return True

    async def open_run(self, run_id: str, *, resume: bool) -> bool:
        """Resume ``run_id`` (takes its lock) or, when it cannot resume, view it read-only."""
        from deepcode_tui.store.run import RunStore, find_run, load_manifest

        if self.is_running_run:
            self.notify("A run is in progress; stop it first (Esc).", severity="warning")
            return False
        try:
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
        self._new_session(root, repo, rid, store)
        self.state.run_id = rid
        for ev in history:
            self.state.apply(ev)
        main = await self._show_main()
        self._after_load()
        main.sandbox.replay(history)
        if resume:
            self._start_worker(new_run=False)
        return True

    def _read_history(self, root: Path) -> list[Event]:
        from deepcode_tui.store.eventlog import read_log

        return read_log(root / "events.jsonl").events

    def _report_open_problem(self, exc: DeepcodeError) -> None:
        self._open_problem = exc.one_line()
        screen = self.screen
        if isinstance(screen, StartScreen):
            screen.show_error(exc.one_line())
        self.notify(exc.one_line(), title="Cannot open", severity="error", timeout=10)

    def _new_session(self, run_dir: Path, repo_dir: Path, run_id: str, store: Any) -> None:
        self._release_session()
        self.state = RunState(run_id=run_id)
        steering = Steering(on_paused=lambda: self.post_message(CoderPaused(None)))
        stepper = PatchStepper(
            enabled=self.stepper_enabled, repo_dir=repo_dir, on_waiting=lambda p: self.post_message(PatchAwaiting(p))
        )
        self.session = RunSession(run_dir, repo_dir, run_id, store=store, steering=steering, stepper=stepper)

    def _release_session(self) -> None:
        if self.session is not None and not self.session.running:
            self.session.close_store()

    def _after_load(self) -> None:
        main, session = self.main, self.session
        if main is None or session is None:
            return
        self._refresh_plan()
        main.load_run(session.run_dir, session.repo_dir)

    def _refresh_plan(self) -> None:
        """Add the newest blueprint's files to the list as pending."""
        if self.session is None:
            return
        versions = adapters.list_blueprint_versions(self.session.run_dir)
        if versions:
            try:
                self.state.plan_files(adapters.planned_files(adapters.read_text(versions[-1].path)))
            except DeepcodeError:
                pass

    # -- driving ------------------------------------------------------------------

    def _start_worker(self, *, new_run: bool) -> None:
        assert self.session is not None and self.session.store is not None
        self.session.worker = self._drive(self.session, new_run)

    @work(exclusive=True, group="run", exit_on_error=False)
    async def _drive(self, session: RunSession, new_run: bool) -> None:
        driver = self._run_driver
        if driver is None:
            from deepcode_tui.pipeline.driver import drive as driver
        status, message = "error", ""
        try:
            outcome = await driver(
                session.store,
                self.settings,
                session.gate,
                observers=[self._observe],
                stop_after=None,
                services=session.services(),
                new_run=new_run,
            )
            status, message = outcome.status, outcome.message
        except DeepcodeError as exc:
            message = exc.one_line()
        except Exception as exc:  # an internal error ends the run, never the app
            message = f"internal error: {type(exc).__name__}: {exc}"
        finally:
            session.close_store()
        self.post_message(RunEnded(status, message))

    def _observe(self, ev: Event) -> None:
        """Bus observer: events cross into the UI through its message queue, in order.

        Consecutive tokens share one TokensArrived message (its list keeps growing
        until the message is handled or another event arrives), so order is kept.
        """
        if ev.type == "token_streamed":
            if self._token_batch is None:
                self._token_batch = [ev]
                self.post_message(TokensArrived(self._token_batch))
            else:
                self._token_batch.append(ev)
            return
        self._token_batch = None
        self.post_message(EventArrived(ev))

    @on(TokensArrived)
    def _tokens(self, message: TokensArrived) -> None:
        if self._token_batch is message.batch:
            self._token_batch = None  # later tokens start a new message
        for ev in message.batch:
            self.state.apply(ev)

    @on(EventArrived)
    def _event(self, message: EventArrived) -> None:
        ev = message.event
        self.state.apply(ev)
        main = self.main
        if ev.type in ("blueprint_saved", "gate_resolved"):
            self._refresh_plan()
        if main is not None:
            if ev.type == "file_started":
                main.header.paused = False
            main.route(ev)
        self._notify_for(ev, main)

    def _notify_for(self, ev: Event, main: MainScreen | None) -> None:
        t = ev.type
        if t == "gate_opened":
            self.bell()
            first = next((line for line in ev.prompt.splitlines() if line.strip()), "")
            self.notify(first or f"The {ev.gate} waits for your decision.", title="Your turn", timeout=15)
            if main is not None and ev.gate in ("blueprint", "approval"):
                main.show("blueprint")
        elif t == "phase_failed":
            self.notify(f"{ev.phase}: {ev.error}" + (f"\nfix: {ev.fix}" if ev.fix else ""), severity="error", timeout=15)
        elif t == "budget_stop":
            self.notify(f"budget reached: {ev.kind} {ev.used:g} of {ev.limit:g}", severity="warning", timeout=15)
        elif t == "log" and ev.level in ("warning", "error"):
            self.notify(ev.message, severity="warning" if ev.level == "warning" else "error")

    @on(RunEnded)
    def _run_ended(self, message: RunEnded) -> None:
        if self.state.status in ("idle", "running", "waiting"):
            # The driver ended without recording an outcome (an internal error).
            self.state.status, self.state.failure, self.state.gate = "failed", message.message, None
        if self.main is not None:
            self.main.update_bindings()
            self.main.header.paused = False
            self.main.header.refresh()
        severity = {"passed": "information", "planned": "information", "stopped": "warning"}.get(
            message.status, "error"
        )
        text = message.message or message.status
        if message.status == "stopped":
            text = "Run stopped; everything up to the last checkpoint is kept. ctrl+r resumes."
        self.notify(text, title=f"Run {message.status}", severity=severity, timeout=10)  # type: ignore[arg-type]

    @on(CoderPaused)
    def _coder_paused(self, message: CoderPaused) -> None:
        if self.main is not None:
            self.main.header.paused = True
            self.main.header.refresh()
        where = f" before {message.next_path}" if message.next_path else ""
        self.notify(f"The coder is paused{where}.", title="Paused")

    @on(PatchAwaiting)
    def _patch_awaiting(self, message: PatchAwaiting) -> None:
        self.bell()
        if self.main is not None:
            self.main.sandbox.set_pending(message.pending.iteration, message.pending.diff)
            self.main.show("sandbox")
            self.main.update_bindings()
        self.notify(
            f"The patch of iteration {message.pending.iteration} waits: apply (y), skip (n) or edit (x).",
            title="Your turn",
            timeout=15,
        )

    @on(StartScreen.OpenDocument)
    async def _open_document(self, message: StartScreen.OpenDocument) -> None:
        await self.open_document(message.path)

    @on(StartScreen.OpenRun)
    async def _open_run(self, message: StartScreen.OpenRun) -> None:
        await self.open_run(message.run_id, resume=message.resume)

    # -- the human's decisions ----------------------------------------------------

    def stop_run(self) -> None:
        """Stop the run (the driver records it as stopped; resume continues it)."""
        if self.session is not None and self.session.worker is not None and self.session.running:
            self.session.worker.cancel()

    def resume_current(self) -> None:
        from deepcode_tui.store.run import RunStore

        if not self.can_resume_current or self.session is None:
            self.notify("Nothing to resume.", severity="warning")
            return
        try:
            store = RunStore.open(self.settings.runs_dir, self.session.run_id)
        except DeepcodeError as exc:
            self.notify(exc.one_line(), severity="error")
            return
        self.session.store = store
        self._start_worker(new_run=False)

    def toggle_pause(self) -> None:
        s = self.session
        if s is None or not s.running:
            return
        if "manual" in s.pause_reasons:
            s.unpause("manual")
            if self.main is not None:
                self.main.header.paused = False
            self.notify("The coder continues.")
        else:
            s.pause("manual")
            self.notify("The coder will pause at the next file boundary.")

    def answer_gate(self, decision: Literal["approve", "edit", "reject"], text: str | None, feedback: str) -> bool:
        if self.session is None or self.state.gate is None:
            self.notify("Nothing is waiting for approval.", severity="warning")
            return False
        answer = GateDecision(decision=decision, edited_text=text, feedback=feedback)
        if not self.session.gate.resolve(answer):
            self.notify("Nothing is waiting for approval.", severity="warning")
            return False
        return True

    def blueprint_editing(self, editing: bool) -> None:
        s = self.session
        if s is None or not s.running or self.state.phase != "codegen":
            return
        if editing:
            s.pause("edit")
            self.notify("The coder will pause at the next file while you edit the blueprint.")
        else:
            s.unpause("edit")

    def submit_amendment(self, text: str, based_on: str) -> bool:
        """Validate, save and approve the edited blueprint (off the UI loop), then hand it to the coder."""
        s = self.session
        if s is None or not s.running:
            self.notify("No run is generating code; nothing to amend.", severity="warning")
            return False
        written = [p for p, f in self.state.files.items() if f.status in ("done", "edited")]
        self._approve_amendment(s, text, written)
        return True

    @work(thread=True, exclusive=True, group="amendment")
    def _approve_amendment(self, session: RunSession, text: str, written: list[str]) -> None:
        try:
            amendment = adapters.approve_amendment(session.run_dir, text, written)
        except DeepcodeError as exc:
            self.call_from_thread(self.notify, exc.one_line(), title="Amendment refused", severity="error", timeout=15)
            return
        self.call_from_thread(self._amendment_approved, session, text, amendment)

    def _amendment_approved(self, session: RunSession, text: str, amendment: Any) -> None:
        session.steering.submit(amendment)
        session.unpause("edit")
        self.state.plan_files(adapters.planned_files(text))
        if self.main is not None:
            self.main.blueprint.load(session.run_dir)
            self.main.generation.rebuild_list()
        self.notify(amendment.render(), title=f"Amendment {amendment.version} approved", timeout=10)

    def answer_patch(self, decision: Literal["apply", "skip", "edit"]) -> bool:
        s = self.session
        pending = s.stepper.pending if s is not None else None
        if s is None or pending is None:
            self.notify("No patch is waiting.", severity="warning")
            return False
        if decision != "edit":
            if self.main is not None:
                self.main.sandbox.set_pending(None)
            return s.stepper.decide(decision)
        if self.main is not None:

            def check(text: str) -> str | None:
                try:
                    proposals.from_text(text, pending.proposal)
                except ValueError as exc:
                    return str(exc)
                return None

            def done(edited: str | None) -> None:
                if edited is not None and s.stepper.pending is pending:
                    s.stepper.decide("edit", edited)
                    if self.main is not None:
                        self.main.sandbox.set_pending(None)

            self.main.edit_patch(pending.iteration, proposals.to_text(pending.proposal), check, done)
        return True

    def set_stepping(self, enabled: bool) -> None:
        self.stepper_enabled = enabled
        if self.session is not None:
            self.session.stepper.enabled = enabled


def run_app(doc: Path | None, loaded: Any) -> int:
    """Open the app (on ``doc`` when given); returns the exit code."""
    app = DeepcodeApp(loaded, doc=doc)
    app.run()
    return app.return_code or 0
