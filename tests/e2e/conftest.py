# ema_project/ is the hand-written repository the scripted coder "writes"; its
# tests belong to that project and run inside the sandbox, not here.
collect_ignore_glob = ["ema_project/*", "todo_project/*"]
