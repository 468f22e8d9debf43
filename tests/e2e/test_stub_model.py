"""The stubs' capable model answers what the pipeline really sends it, retries included."""

from __future__ import annotations

from deepcode_tui.llm.correction import retry_messages
from deepcode_tui.llm.scripted import ScriptRequest
from tests.stubs.ema import ema_model
from tests.stubs.faults import identity

FIRST = [
    {"role": "system", "content": "You write one file of a repository."},
    {"role": "user", "content": "Blueprint excerpt ...\n\nWrite `emaz/data.py` now."},
]


def test_a_codegen_retry_is_answered_with_the_file_and_counts_as_the_same_logical_call():
    # A codegen retry ends with the correction, not the ask: the model still writes the
    # file asked for (it answered the summariser's line before, and the run lost the file).
    retry = retry_messages(
        FIRST, "Sure, I can help with that.", "(prose only: no code block)", "Send `emaz/data.py` whole.",
        attempt=2, attempts=3,
    )  # fmt: skip
    model = ema_model()
    first = model(ScriptRequest(model="m", messages=FIRST))
    again = model(ScriptRequest(model="m", messages=retry))
    assert "def " in str(first) and str(again) == str(first)
    assert identity(ScriptRequest(model="m", messages=retry)) == identity(ScriptRequest(model="m", messages=FIRST))


def test_a_coder_prompt_cut_to_fit_the_context_window_still_names_its_file():
    from deepcode_tui.llm.compact import compact

    # The summary comes first and the ask last: a cut keeps the head and the tail.
    body = "Blueprint summary: " + "the detector ... " * 300 + "\n\nWrite `README.md` (stage 3).\n"
    body += "Specification: " + "name every file ... " * 200 + "\nReply with the whole file in one block: ```path=README.md"
    cut = compact([FIRST[0], {"role": "user", "content": body}], 300)
    assert cut is not None and "Write `README.md`" not in cut[1]["content"]
    reply = str(ema_model()(ScriptRequest(model="m", messages=cut)))
    assert reply.startswith("```") and "# EMA-Z" in reply
