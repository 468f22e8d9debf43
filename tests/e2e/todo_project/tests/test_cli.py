from todo.cli import main
from todo.storage import TaskStore


def test_add_list_done(tmp_path, capsys):
    store = TaskStore(tmp_path / "t.json")
    assert main(["add", "write report", "--due", "2030-02-03"], store) == 0
    assert main(["list"], store) == 0
    assert "1. write report (due 2030-02-03)" in capsys.readouterr().out
    assert main(["done", "1"], store) == 0


def test_errors_exit_1(tmp_path, capsys):
    store = TaskStore(tmp_path / "t.json")
    assert main(["add", "x", "--due", "tomorrow"], store) == 1
    assert main(["rm", "7"], store) == 1
    assert "error:" in capsys.readouterr().err
