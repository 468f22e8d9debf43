"""Many documents at once: each one a normal run, scheduled as a Ray task.

    batch.json    the batch manifest (one entry per document, its run id and outcome)
    runs/         the run directories (an ordinary ``runs_dir``: `runs`, `resume` work on it)
    approvals/    gates waiting for a human (`deepcode-tui batch approve`)
    limiter.json  what the shared rate limiter admitted, per provider
    STOP          present while the batch is being stopped (every run checks for it)

The batch directory is the only state: a batch on a cluster needs it on a
filesystem every node sees at the same path (see docs/ARCHITECTURE.md).
"""
