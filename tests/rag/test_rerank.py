"""Member versus container: the structural reordering of fused search results."""

from __future__ import annotations

import textwrap

import pytest

from deepcode_tui.rag.chunker import Chunk, chunk_source
from deepcode_tui.rag.rerank import describes_type, query_kind, rerank


def _chunk(symbol: str, kind: str, path: str = "pkg/mod.py") -> Chunk:
    return Chunk(id=f"s:{path}::{symbol}", source="s", path=path, language="python", kind=kind,  # type: ignore[arg-type]
                 symbol=symbol, start_line=1, end_line=2, text="")


def _order(chunks: list[Chunk], scores: dict[int, float], query: str) -> list[str]:
    return [chunks[i].symbol for i, _ in rerank(chunks, scores, query)]


@pytest.mark.parametrize("query", [
    "A parameter type for integers limited to a range.",
    "An object that keeps cookies and pooled connections across requests.",
    "The exception raised when the server answers with an error status.",
    "Connection pool class that hands out idle connections.",
    "Exception raised when a response body is not valid JSON.",
])
def test_type_queries(query):
    assert describes_type(query)


@pytest.mark.parametrize("query", [
    "Register a subcommand with a group under a given name.",
    "Compute the delay before the next attempt, doubling it each time.",
    "Iterate over a streamed response body one line at a time.",
    "Decide whether the Authorization header has to be dropped on a redirect.",
    "Word wrapping: return the offsets where a line must be broken.",
    "A way to parse a header value into a dictionary.",
    "A context manager that captures what is printed inside the block.",
    "Retry policy class holding the attempt limit (\"retry\" read as a verb: behaviour).",
])
def test_behaviour_queries(query):
    assert not describes_type(query)


def test_a_file_spec_is_neither_type_nor_behaviour():
    assert query_kind("Multi-head attention layer. Implements multi-head attention.") == "unknown"
    assert query_kind("Parse the header") == "behaviour" and query_kind("A header parser") == "type"
    assert query_kind("") == "unknown"


def test_kinds_agree_with_the_query():
    chunks = [_chunk("UsageError", "class"), _chunk("Context.fail", "method", path="pkg/core.py"),
              _chunk("Response", "class", path="pkg/models.py")]
    chunks[0].signature = "class UsageError(ClickException)"
    chunks[2].signature = "class Response"
    # Behaviour: a function beats an unrelated class of about the same score.
    assert _order(chunks, {0: 1.0, 1: 0.95}, "Abort the command with an error message")[0] == "Context.fail"
    # Type query about an exception: the exception class beats a plain class.
    order = _order(chunks, {0: 0.95, 2: 1.0}, "The exception raised when a command is misused")
    assert order[0] == "UsageError"


def test_behaviour_query_puts_the_member_above_its_class():
    chunks = [_chunk("Retry", "class"), _chunk("Retry.backoff", "method"), _chunk("other", "function")]
    scores = {0: 1.0, 1: 0.9, 2: 0.5}
    assert _order(chunks, scores, "Compute the delay before the next attempt")[:2] == ["Retry.backoff", "Retry"]
    # A member far behind its class does not jump it: the class is the better answer then.
    assert _order(chunks, {0: 1.0, 1: 0.5, 2: 0.4}, "Compute the delay")[0] == "Retry"


def test_type_query_puts_the_class_above_its_members():
    chunks = [_chunk("Retry", "class"), _chunk("Retry.backoff", "method")]
    assert _order(chunks, {0: 0.7, 1: 0.9}, "A retry policy object with an attempt limit")[0] == "Retry"


def test_a_dunder_method_speaks_for_its_class():
    chunks = [_chunk("Bar", "class"), _chunk("Bar.__init__", "method"), _chunk("Bar.render", "method")]
    order = _order(chunks, {0: 0.6, 1: 1.0, 2: 0.3}, "Draw a horizontal completion bar")
    assert order[:2] == ["Bar", "Bar.__init__"]


def test_a_protocol_dunder_answers_a_behaviour_query_but_a_constructor_speaks_for_its_class():
    # "Delete the value at an index ... from a sorted list" is SortedList.__delitem__; the
    # class lifted over it (as for __init__) put the container first (sortedcontainers set).
    chunks = [_chunk("SortedList", "class"), _chunk("SortedList.__delitem__", "method"),
              _chunk("SortedList.__init__", "method")]  # fmt: skip
    scores = {0: 1.0, 1: 0.97, 2: 0.5}
    assert _order(chunks, scores, "Delete the value at an index from a sorted list")[0] == "SortedList.__delitem__"
    assert _order(chunks, scores, "A list that keeps its values sorted")[0] == "SortedList"
    init_first = {0: 0.6, 1: 0.3, 2: 1.0}
    assert _order(chunks, init_first, "Build a sorted list from an iterable")[:2] == ["SortedList", "SortedList.__init__"]


def test_of_methods_of_one_name_the_one_whose_class_the_query_names_goes_first():
    chunks = [_chunk("SortedList.count", "method"), _chunk("SortedSet.count", "method"),
              _chunk("SortedSet", "class")]  # fmt: skip
    scores = {0: 1.0, 1: 0.95, 2: 0.3}
    assert _order(chunks, scores, "Count how many times a value occurs in a sorted set")[0] == "SortedSet.count"
    assert _order(chunks, scores, "Count how many times a value occurs in a sorted list")[0] == "SortedList.count"
    # A query that names neither class leaves the scores to decide.
    assert _order(chunks, scores, "Count how many times a value occurs")[0] == "SortedList.count"


def test_a_private_helper_yields_to_a_public_symbol_of_about_the_same_score():
    chunks = [_chunk("_cell_len", "function"), _chunk("cell_len", "function")]
    assert _order(chunks, {0: 1.0, 1: 0.95}, "Count the columns a string takes")[0] == "cell_len"
    assert _order(chunks, {0: 1.0, 1: 0.5}, "Count the columns a string takes")[0] == "_cell_len"


def test_a_module_header_yields_to_its_own_definition():
    chunks = [_chunk("<module>", "module"), _chunk("get_current_context", "function"),
              _chunk("helper", "function", path="pkg/other.py")]
    order = _order(chunks, {0: 1.0, 1: 0.9, 2: 0.95}, "Get the context of the running command")
    assert order[0] == "get_current_context"


def test_only_the_order_changes():
    chunks = [_chunk("Retry", "class"), _chunk("Retry.backoff", "method"), _chunk("x", "function")]
    scores = {0: 1.0, 1: 0.9, 2: 0.2}
    out = rerank(chunks, scores, "Compute the delay")
    assert sorted(i for i, _ in out) == [0, 1, 2] and scores == {0: 1.0, 1: 0.9, 2: 0.2}
    assert rerank(chunks, {}, "anything") == []


RETRY = '''\
class RetryPolicy:
    """How often and how long to wait before a request is tried again."""

    def __init__(self, max_attempts: int = 5, base_delay: float = 0.5, cap: float = 30.0) -> None:
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self.cap = cap

    def backoff_delay(self, attempt: int) -> float:
        """Seconds to wait before the given attempt: doubles each time, up to the cap."""
        return min(self.cap, self.base_delay * 2 ** attempt)

    def should_retry(self, attempt: int, status: int) -> bool:
        """True while attempts remain and the status is a server error or a rate limit."""
        return attempt < self.max_attempts and (status >= 500 or status == 429)
'''


def test_served_ranking_answers_with_the_method_not_the_class(tmp_path):
    """The failure the issue describes: the class (or its __init__) one chunk off the method."""
    from deepcode_tui.rag.index import CodeIndex
    from deepcode_tui.rag.sources import resolve_sources

    repo = tmp_path / "ref"
    repo.mkdir()
    (repo / "retry.py").write_text(textwrap.dedent(RETRY), encoding="utf-8")
    assert {c.symbol for c in chunk_source(RETRY, "retry.py")} >= {"RetryPolicy", "RetryPolicy.backoff_delay"}
    resolved, _ = resolve_sources([str(repo)])
    idx = CodeIndex(tmp_path / "idx", embedder=None)
    idx.update(resolved)
    behaviour = "Compute how many seconds to wait before the next attempt, doubling up to the cap"
    assert idx.search(behaviour, k=3)[0].chunk.symbol == "RetryPolicy.backoff_delay"
    kind = "A retry policy object: the maximum number of attempts and the delay cap"
    assert idx.search(kind, k=3)[0].chunk.symbol == "RetryPolicy"


@pytest.mark.parametrize(("query", "kind"), [
    # The head of the opening noun phrase decides, not its first word.
    ("A command group that merges the subcommands of several groups.", "type"),
    ("A helper function that splits a path.", "behaviour"),
    # A bare noun opening, without an article.
    ("Decorator that turns a function into a command.", "behaviour"),
    ("Extension that adds translation blocks to templates.", "type"),
    # A leading circumstance or a short label is skipped to reach the main clause.
    ("Given a parsed template, list the variable names it uses.", "behaviour"),
    ("Inside a for loop, return the next of the given values.", "behaviour"),
    ("Entry point of a program: parse the arguments and run the command.", "behaviour"),
    # An opening verb wins over a colon later on.
    ("Add a scheme such as http:// to a URL that has none.", "behaviour"),
])
def test_query_kind_reads_the_main_clause(query, kind):
    assert query_kind(query) == kind


def test_an_exception_query_is_not_answered_by_a_plain_class_lifted_by_its_method():
    """The class a method lifts keeps its own penalty: it is still not an exception."""
    chunks = [_chunk("Response", "class", path="pkg/models.py"),
              _chunk("Response.raise_for_status", "method", path="pkg/models.py"),
              _chunk("HTTPError", "class", path="pkg/exceptions.py")]
    chunks[0].signature, chunks[2].signature = "class Response", "class HTTPError(RequestException)"
    order = _order(chunks, {0: 0.4, 1: 0.9, 2: 0.62}, "The exception raised when the server answers 404")
    assert order[0] == "HTTPError"


def test_a_module_header_yields_in_typed_queries_but_its_definition_keeps_the_file_score():
    chunks = [_chunk("<module>", "module", path="pkg/sessions.py"),
              _chunk("Session", "class", path="pkg/sessions.py"),
              _chunk("Adapter", "class", path="pkg/adapters.py")]
    # A type query: the header is not a type, the class in it is.
    assert _order(chunks, {0: 1.0, 1: 0.5, 2: 0.95}, "An object that keeps cookies across requests")[0] == "Adapter"
    assert _order(chunks, {0: 1.0, 1: 0.9, 2: 0.95}, "An object that keeps cookies across requests")[0] == "Session"
    # A file's purpose (neither kind): the header may answer.
    assert _order(chunks, {0: 1.0, 1: 0.5, 2: 0.95}, "Session handling and cookie persistence")[0] == "<module>"


def test_a_top_level_shortcut_goes_before_the_method_of_the_same_name():
    chunks = [_chunk("Progress.track", "method", path="pkg/progress.py"),
              _chunk("track", "function", path="pkg/progress.py"),
              _chunk("Progress.advance", "method", path="pkg/progress.py")]
    query = "Loop over a sequence while a progress bar advances"
    assert _order(chunks, {0: 1.0, 1: 0.9, 2: 0.7}, query)[:2] == ["track", "Progress.track"]
    # Far behind, the function does not jump the method.
    assert _order(chunks, {0: 1.0, 1: 0.6, 2: 0.7}, query)[0] == "Progress.track"


def test_a_type_query_that_names_an_attribute_answers_with_the_attribute():
    chunks = [_chunk("Version", "class", path="pkg/version.py"),
              _chunk("Version.public", "method", path="pkg/version.py"),
              _chunk("Version.release", "method", path="pkg/version.py")]
    # "The public part ..." names the member, not the class: no class-above-member rule.
    assert _order(chunks, {0: 1.0, 1: 0.9, 2: 0.8}, "The public part of a version, without the local label")[0] \
        == "Version.public"
    # A noun phrase that names the class keeps the class first.
    assert _order(chunks, {0: 0.8, 1: 0.9, 2: 0.85}, "A version number with a public part and a release")[0] == "Version"
