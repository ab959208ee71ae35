"""The layers import one way: no cycle in the import graph of app/ and ivr/, function-local imports counted."""
import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "import_cycles.py"


def _script():
    spec = importlib.util.spec_from_file_location("import_cycles", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_no_import_cycle_in_app_and_ivr():
    script = _script()
    graph = script.edges(script.modules())
    assert script.cycles(graph) == []


def test_the_check_finds_a_cycle_hidden_in_a_function():
    script = _script()
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert script.cycles(graph) == [["a", "b", "c"]]


def test_function_local_imports_are_edges(tmp_path, monkeypatch):
    script = _script()
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__init__.py").write_text("")
    (tmp_path / "app" / "one.py").write_text("def f():\n    from . import two\n")
    (tmp_path / "app" / "two.py").write_text("from .one import f\n")
    (tmp_path / "ivr").mkdir()
    (tmp_path / "ivr" / "__init__.py").write_text("")
    monkeypatch.setattr(script, "ROOT", tmp_path)
    assert script.cycles(script.edges(script.modules())) == [["app.one", "app.two"]]
