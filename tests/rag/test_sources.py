"""Reference sources: parsing, resolving, and skipping unusable ones with a clear message."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from deepcode_tui.errors import ConfigError
from deepcode_tui.rag import sources as sources_mod
from deepcode_tui.rag.events import SourceSkipped
from deepcode_tui.rag.sources import (
    parse_source,
    resolve_source,
    resolve_sources,
    resolve_sources_async,
    select_sources,
)


@pytest.mark.parametrize(
    ("spec", "kind", "location"),
    [
        ("pkg:rich", "package", "rich"),
        ("https://github.com/tensorflow/tensor2tensor", "git", "https://github.com/tensorflow/tensor2tensor"),
        ("github.com/ajyl/dpo_toxic", "git", "https://github.com/ajyl/dpo_toxic"),
        ("git@github.com:owner/repo.git", "git", "git@github.com:owner/repo.git"),
        ("git+file:///srv/repo.git", "git", "file:///srv/repo.git"),
        ("./some/dir", "local", "some/dir"),
    ],
)
def test_parse_source_kinds(spec, kind, location):
    src = parse_source(spec)
    assert src.kind == kind
    assert src.location == location
    assert src.name


@pytest.mark.parametrize("spec", ["", "   ", "pkg:", "pkg:not a name"])
def test_parse_source_rejects_malformed(spec):
    with pytest.raises(ConfigError) as exc:
        parse_source(spec)
    assert exc.value.fix


def test_missing_local_path_is_skipped_with_reason(ref_repo, tmp_path):
    missing = tmp_path / "nope"
    resolved, skipped = resolve_sources([str(missing), str(ref_repo)])
    assert [r.root for r in resolved] == [ref_repo.resolve()]
    assert len(skipped) == 1
    assert skipped[0].spec == str(missing)
    assert "does not exist" in skipped[0].reason and str(missing) in skipped[0].reason
    assert skipped[0].fix


def test_installed_package_resolves_to_its_source():
    (src,), skipped = resolve_sources(["pkg:rich"])
    assert not skipped
    assert (src.root / "console.py").is_file()
    assert src.revision  # the installed version


def test_single_module_package_and_distribution_name():
    src = resolve_source("pkg:typing_extensions")
    assert src.root.suffix == ".py" and src.root.is_file()
    # pydantic-core: a distribution name that is not an import name still finds its package.
    core = resolve_source("pkg:pydantic-core")
    assert core.root.name == "pydantic_core" and (core.root / "__init__.py").is_file()
    _, skipped = resolve_sources(["pkg:definitely-not-installed-xyz", "pkg:math"])
    reasons = " | ".join(s.reason for s in skipped)
    assert "not installed" in reasons and "no Python source" in reasons


def _make_git_repo(path: Path) -> Path:
    path.mkdir(parents=True)
    (path / "lib.py").write_text('def hello():\n    """Say hello."""\n    return "hi"\n')
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", "-c", "init.defaultBranch=main"]
    subprocess.run([*git, "init", "-q"], cwd=path, check=True)
    subprocess.run([*git, "add", "lib.py"], cwd=path, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "init"], cwd=path, check=True)
    return path


def test_git_url_is_cloned_into_the_cache(tmp_path):
    upstream = _make_git_repo(tmp_path / "upstream")
    cache = tmp_path / "cache"
    (src,), skipped = resolve_sources([f"git+file://{upstream}"], cache_dir=cache)
    assert not skipped
    assert (src.root / "lib.py").is_file()
    assert src.root.is_relative_to(cache)
    assert src.revision and len(src.revision) == 40
    # A second resolve reuses the clone (no network needed).
    (again,), _ = resolve_sources([f"git+file://{upstream}"], cache_dir=cache)
    assert again.root == src.root
    assert not list((cache / "repos").glob(".clone-*"))


def test_unreachable_git_url_is_skipped_and_run_continues(ref_repo, tmp_path):
    t = time.monotonic()
    resolved, skipped = resolve_sources(
        ["https://git.nonexistent.invalid/owner/repo.git", str(ref_repo)], cache_dir=tmp_path, clone_timeout=30
    )
    assert time.monotonic() - t < 30
    assert [r.source.kind for r in resolved] == ["local"]
    (s,) = skipped
    assert s.reason.startswith("cannot clone https://git.nonexistent.invalid/owner/repo.git")
    assert "clone it yourself" in s.fix
    assert not list((tmp_path / "repos").iterdir())  # no half-written clone left behind


def test_clone_timeout_gives_clear_message(monkeypatch, tmp_path):
    def slow(args, timeout, cwd=None):
        raise subprocess.TimeoutExpired(args, timeout)

    monkeypatch.setattr(sources_mod, "_run_git", slow)
    _, (s,) = resolve_sources(["https://github.com/owner/repo"], cache_dir=tmp_path, clone_timeout=5)
    assert "no answer within 5 s" in s.reason


async def test_async_resolve_emits_source_skipped(ref_repo, tmp_path):
    events = []

    async def emit(e):
        events.append(e)

    resolved, skipped = await resolve_sources_async([str(tmp_path / "missing"), str(ref_repo)], emit=emit)
    assert len(resolved) == 1 and len(skipped) == 1
    assert [type(e) for e in events] == [SourceSkipped]
    assert events[0].kind == "rag.source_skipped" and "does not exist" in events[0].reason


def test_duplicates_resolve_once_and_names_stay_distinct(tmp_path):
    a = tmp_path / "a" / "lib"
    b = tmp_path / "b" / "lib"
    a.mkdir(parents=True)
    b.mkdir(parents=True)
    resolved, _ = resolve_sources([str(a), str(a), str(b)])
    assert len(resolved) == 2
    assert len({r.name for r in resolved}) == 2


def test_select_sources_applies_user_additions_and_removals():
    mined = ["https://github.com/tensorflow/tensor2tensor", "pkg:torch", "pkg:numpy"]
    out = select_sources(mined, add=["./my/ref", "pkg:numpy"], remove=["github.com/tensorflow/tensor2tensor"])
    assert out == ["pkg:torch", "pkg:numpy", "./my/ref"]
