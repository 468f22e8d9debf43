"""Widgets of the app's panes."""
