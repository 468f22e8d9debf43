"""Reading JSON out of model replies: raw newlines, fences inside strings, replies cut at the token cap."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deepcode_tui.llm.jsontext import close_truncated, extract_json


def test_raw_newlines_inside_strings_are_read_and_handed_on_as_strict_json():
    # llama.cpp's JSON grammar lets a model write a raw newline inside a string.
    reply = '{"path": "a.py", "content": "import os\nprint(1)\n"}'
    out = extract_json(reply)
    assert json.loads(out) == {"path": "a.py", "content": "import os\nprint(1)\n"}


def test_a_fence_inside_a_json_string_is_not_taken_for_the_answer():
    reply = '{"rationale": "use this:\n```python\nx = {1: 2}\n```\n", "edits": []}'
    assert json.loads(extract_json(reply)) == {
        "rationale": "use this:\n```python\nx = {1: 2}\n```\n",
        "edits": [],
    }


def test_prose_and_fences_around_the_object_still_work():
    assert json.loads(extract_json('Sure!\n```json\n{"a": [1, 2]}\n```\nDone.')) == {"a": [1, 2]}
    assert json.loads(extract_json('Here: {"a": {"b": "}"}} trailing')) == {"a": {"b": "}"}}
    assert extract_json("no json at all") == "no json at all"


def test_a_cut_reply_keeps_only_finished_items():
    cut = '{"edits": [{"path": "a", "search": "x", "replace": "y"}, {"path": "b", "sea'
    assert json.loads(close_truncated(cut)) == {"edits": [{"path": "a", "search": "x", "replace": "y"}]}


def test_a_cut_reply_keeps_the_finished_keys_of_open_objects():
    cut = '{"name": "demo", "verification": {"tests": [{"n": 1}, {"n": 2, "m": [1,'
    assert json.loads(close_truncated(cut)) == {"name": "demo", "verification": {"tests": [{"n": 1}]}}
    assert json.loads(close_truncated('{"a": 1, "b": "half a str')) == {"a": 1}
    assert json.loads(close_truncated('{"a": "x\\", y')) == {}  # the comma is inside the string


def test_a_complete_or_non_object_reply_is_not_closed():
    assert close_truncated('{"a": 1}') is None
    assert close_truncated("plain prose, no object") is None


@settings(max_examples=60, deadline=None)
@given(
    st.dictionaries(
        st.text(min_size=1, max_size=6),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(max_size=8),
            lambda inner: (
                st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
            ),
            max_leaves=8,
        ),
        min_size=1,
        max_size=4,
    ),
    st.data(),
)
def test_any_prefix_of_an_object_closes_to_valid_json_made_only_of_its_parts(obj, data):
    text = json.dumps(obj)
    cut = data.draw(st.integers(min_value=1, max_value=len(text) - 1))
    closed = close_truncated(text[:cut])
    if closed is None:
        return  # nothing complete to keep before the cut (or a bracket inside a key)
    value = json.loads(closed)
    assert isinstance(value, dict)
    for key, kept in value.items():
        assert key in obj
        if not isinstance(kept, (dict, list)):
            assert kept == obj[key]  # scalars are kept whole or not at all


@pytest.mark.parametrize("bad", ["{", '{"a"', '{"a": '])
def test_nothing_finished_gives_an_empty_object(bad):
    assert close_truncated(bad) == "{}"
