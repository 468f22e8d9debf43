"""Does the embedded model run on this machine? ``python -m deepcode_tui.llm.embedded_check``

Set-up runs this once after building llama.cpp: a build that imports can still crash in
its kernels (llama.cpp's AMX matmul segfaulted on the first token on CPUs with AMX), and
the first user to find out would otherwise be the first run, several minutes later, with
an error about the network. The model answers one token in a child process, so a crash
is reported with its signal instead of taking this process down. Exit 0 when it answers.
"""

from __future__ import annotations

import subprocess
import sys

from deepcode_tui.llm.embedded import describe_exit, find_gguf, unavailable_reason

_ONE_TOKEN = """
import sys
from llama_cpp import Llama
m = Llama(model_path=sys.argv[1], n_ctx=512, n_threads=2, verbose=False)
# A prompt of some dozens of tokens, as every real call has: the crash seen was in the
# batched prompt matmul, which a one-word prompt never reaches.
m.create_chat_completion(messages=[{"role": "system", "content": "You write Python code. " * 8},
                                   {"role": "user", "content": "Say hello."}], max_tokens=2)
print("embedded model: answered")
"""
TIMEOUT_S = 120.0


def check() -> str | None:
    """None when the model answers two tokens, else what went wrong."""
    reason = unavailable_reason()
    if reason:
        return reason
    try:
        proc = subprocess.run([sys.executable, "-c", _ONE_TOKEN, str(find_gguf())], check=False,
                              capture_output=True, text=True, timeout=TIMEOUT_S, stdin=subprocess.DEVNULL)  # fmt: skip
    except subprocess.TimeoutExpired:
        return f"the model did not answer one token within {TIMEOUT_S:g}s"
    if proc.returncode == 0:
        return None
    tail = " ".join(proc.stderr[-300:].split())
    return f"the model crashed on its first token ({describe_exit(proc.returncode)}){': ' + tail if tail else ''}"


def main() -> int:
    problem = check()
    if problem:
        print(f"embedded model check failed: {problem}", file=sys.stderr)
        return 1
    print("embedded model: answered")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
