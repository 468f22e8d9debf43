"""The Textual app: start screen, the four run panes, palette, themes.

The app observes run events and resolves gates; it holds no pipeline logic.
Entry point for the CLI: :func:`deepcode_tui.tui.app.run_app`.
"""
