"""Bad input found by the security review: each gets one line naming the cause and
the fix, a non-zero exit, in bounded time, no traceback and nothing half-written.
(Tests through the real command line, as a user meets it.)"""

from __future__ import annotations

import fcntl
import os
import stat
import threading
from pathlib import Path

import pytest

from deepcode_tui.blueprint.checks import check_blueprint
from deepcode_tui.codegen.writer import PathRejected, confine_path
from deepcode_tui.config.loader import display_value, load_settings
from deepcode_tui.errors import ConfigError, InputError
from deepcode_tui.ingest.latex import expand_inputs
from deepcode_tui.llm.errors import classify
from deepcode_tui.redaction import is_secret_name, scrub_secrets
from deepcode_tui.repo_paths import path_problem
from deepcode_tui.store.atomic import write_text_atomic
from deepcode_tui.store.run import RunStore
from deepcode_tui.verify.patches import Edit, apply_edits
from tests.foundation.test_cli import assert_clean_error, cli


# -- devices, FIFOs, sockets ---------------------------------------------------------------------


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
@pytest.mark.parametrize("command", ["index", "run"])
def test_device_files_are_refused_before_any_read(device, command, tmp_path):
    args = [command, device] + (["--yes", "--out", str(tmp_path / "out")] if command == "run" else [])
    proc = cli(*args, env={"DEEPCODE_RUNS_DIR": str(tmp_path / "runs")})
    assert_clean_error(proc, "character device")
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


@pytest.mark.parametrize("command", ["index", "run", "plan"])
def test_a_fifo_named_like_a_document_does_not_hang(command, tmp_path):
    fifo = tmp_path / "x.md"
    os.mkfifo(fifo)
    proc = cli(command, str(fifo), env={"DEEPCODE_RUNS_DIR": str(tmp_path / "runs")})  # cli() times out at 120 s
    assert_clean_error(proc, "FIFO")


def test_a_socket_is_refused(tmp_path):
    import socket

    path = tmp_path / "paper.md"
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(path))
    try:
        assert_clean_error(cli("index", str(path)), "socket")
    finally:
        s.close()


# -- LaTeX includes ---------------------------------------------------------------------------------


@pytest.mark.parametrize("include", ["\\input{/etc/passwd}", "\\input{../../../../root/.bashrc}",
                                     "\\include{../outside}", "\\input{link}"])
def test_latex_includes_are_confined_to_the_documents_folder(include, tmp_path):
    doc_dir = tmp_path / "paper"
    doc_dir.mkdir()
    (tmp_path / "outside.tex").write_text("OUTSIDE TEXT\n")
    (doc_dir / "link.tex").symlink_to(tmp_path / "outside.tex")
    main = doc_dir / "main.tex"
    main.write_text("\\documentclass{article}\n\\begin{document}\n\\section{Intro}\nHello.\n" + include +
                    "\n\\end{document}\n")
    with pytest.raises(InputError) as e:
        expand_inputs(main, [])
    assert "main.tex:5" in e.value.message and "the document's folder" in e.value.message
    proc = cli("index", str(main))
    assert_clean_error(proc, "main.tex:5")
    assert "root:" not in proc.stdout and "OUTSIDE TEXT" not in proc.stdout


def test_latex_includes_below_the_folder_still_work(tmp_path):
    (tmp_path / "sec").mkdir()
    (tmp_path / "sec" / "intro.tex").write_text("\\section{Intro}\nInside text.\n")
    main = tmp_path / "main.tex"
    main.write_text("\\begin{document}\n\\input{sec/intro}\n\\end{document}\n")
    assert "Inside text." in expand_inputs(main, [])


# -- settings ranges ------------------------------------------------------------------------------------


@pytest.mark.parametrize("key,value,valid", [
    ("sandbox.memory_mb", "-5", "64 to 1048576"),
    ("sandbox.timeout_s", "-1", "1 to 86400"),
    ("verify.max_iterations", "-3", "1 to 100"),
    ("sandbox.disk_mb", "0", "16 to 1048576"),
])
def test_out_of_range_settings_are_refused_up_front(key, value, valid, tmp_path):
    env = {"DEEPCODE_" + key.upper().replace(".", "__"): value, "DEEPCODE_RUNS_DIR": str(tmp_path / "runs")}
    for args in (["config", "show"], ["run", "examples/ema-anomaly.md", "--yes"]):
        proc = cli(*args, env=env)
        assert_clean_error(proc, key, value, valid, "DEEPCODE_")
        assert proc.returncode == 2
    assert not (tmp_path / "runs").exists(), "run paid for phases before refusing the setting"
    toml = tmp_path / "deepcode.toml"
    toml.write_text(f"[{key.split('.')[0]}]\n{key.split('.')[1]} = {value}\n")
    with pytest.raises(ConfigError) as e:
        load_settings(cwd=tmp_path)
    assert str(toml) in e.value.message and valid in e.value.message


def test_config_set_refuses_an_out_of_range_value_and_keeps_the_file(tmp_path):
    toml = tmp_path / "deepcode.toml"
    toml.write_text("# mine\n[sandbox]\nmemory_mb = 512\n")
    proc = cli("config", "set", "--", "sandbox.memory_mb", "-5", cwd=tmp_path)
    assert_clean_error(proc, "sandbox.memory_mb")
    assert toml.read_text() == "# mine\n[sandbox]\nmemory_mb = 512\n"


def test_token_budgets_are_not_masked_but_keys_are():
    assert display_value("codegen.context_budget_tokens", 12000) == "12000"
    assert display_value("rag.budget_tokens", 1500) == "1500"
    assert display_value("models.api_key", "abc") != "abc"
    assert is_secret_name("OPENAI_API_KEY") and is_secret_name("GITHUB_TOKEN") and is_secret_name("apiKey")
    assert not is_secret_name("max_tokens") and not is_secret_name("ui.keys") and not is_secret_name("PATH")


def test_scrub_replaces_secret_values_and_key_shapes(monkeypatch):
    monkeypatch.setenv("MY_SERVICE_TOKEN", "tok-1234567890")
    text = "token tok-1234567890 and sk-abcdefghijklmnop and Bearer abcdefghijkl"
    out = scrub_secrets(text)
    assert "tok-1234567890" not in out and "sk-abcdefghijklmnop" not in out and "abcdefghijkl" not in out


# -- model-proposed paths ---------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["a" * 300 + ".py", "pkg/" + "b" * 250 + ".py", "x\ny.py", "tab\there.py",
                                 "/".join(["d"] * 30) + "/f.py", "ok/\u2028.py"])
def test_one_path_rule_for_planner_coder_and_repairer(bad, tmp_path):
    assert path_problem(bad)
    with pytest.raises(PathRejected):
        confine_path(tmp_path, bad)  # the coder's writer
    res = apply_edits(tmp_path, [Edit(path=bad, search="", replace="x = 1\n")])  # the repairer
    assert not res.results[0].applied and res.results[0].reason
    assert list(tmp_path.iterdir()) == [], "a refused path created something"


def test_planner_paths_breaking_the_rule_are_blueprint_errors():
    from deepcode_tui.blueprint.models import Blueprint

    bp = Blueprint.model_validate({
        "title": "p", "summary": "s",
        "file_hierarchy": [{"path": "a" * 300 + ".py", "purpose": "x"}, {"path": "x\ny.py", "purpose": "y"}],
    })
    codes = [i.code for i in check_blueprint(bp) if i.severity == "error"]
    assert codes.count("refused_path") == 2


# -- files and directories ---------------------------------------------------------------------------------


def test_atomic_writes_never_keep_setuid_bits(tmp_path):
    p = tmp_path / "x"
    p.write_text("a")
    os.chmod(p, 0o4755)
    write_text_atomic(p, "b")
    assert stat.S_IMODE(p.stat().st_mode) == 0o755


def test_run_directories_are_private(tmp_path):
    doc = tmp_path / "d.md"
    doc.write_text("# T\nbody\n")
    store = RunStore.create(tmp_path / "runs", doc)
    try:
        for d in (tmp_path / "runs", store.root, store.root / "llm", store.root / "iterations"):
            assert stat.S_IMODE(d.stat().st_mode) == 0o700, d
    finally:
        store.close()


def test_concurrent_resume_names_the_process_driving_the_run(tmp_path):
    doc = tmp_path / "d.md"
    doc.write_text("# T\nbody\n")
    store = RunStore.create(tmp_path / "runs", doc)
    try:
        proc = cli("resume", store.run_id, env={"DEEPCODE_RUNS_DIR": str(tmp_path / "runs")})
        assert_clean_error(proc, "being driven by another", f"pid {os.getpid()}")
        assert "already finished" not in proc.stderr
    finally:
        store.close()


def test_truncated_json_is_not_reported_as_a_500():
    import litellm

    exc = litellm.InternalServerError("Expecting value: line 1 column 1 (char 0)", llm_provider="openai",
                                      model="gpt-4o-mini")
    failure = classify(exc)
    assert failure.kind == "html" and failure.status is None and "not valid JSON" in failure.detail
