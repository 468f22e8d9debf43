from todo.storage import TaskError, TaskStore


def test_open_tasks_sorted_by_due_date_undated_last(tmp_path):
    store = TaskStore(tmp_path / "t.json")
    store.add("later", "2030-05-01")
    store.add("someday")
    store.add("soon", "2030-01-01")
    assert [t.title for _, t in store.open_tasks()] == ["soon", "later", "someday"]


def test_done_and_remove_by_number(tmp_path):
    store = TaskStore(tmp_path / "t.json")
    store.add("a")
    store.add("b")
    store.mark_done(1)
    assert [t.title for _, t in store.open_tasks()] == ["b"]
    store.remove(2)
    assert [t.title for t in store.load()] == ["a"]


def test_bad_date_and_unknown_number(tmp_path):
    store = TaskStore(tmp_path / "t.json")
    for call in (lambda: store.add("x", "2030-13-40"), lambda: store.mark_done(3)):
        try:
            call()
        except TaskError:
            continue
        raise AssertionError("expected TaskError")
