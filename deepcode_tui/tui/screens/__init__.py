"""Screens: the start screen, the main run screen and small dialogs."""
