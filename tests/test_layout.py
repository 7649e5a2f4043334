"""The layout's rules: dependencies point one way (sweeps -> fakedet, analysis -> the
torch-free part of fakedet, bench -> anything, nothing -> bench), without cycles."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("fakedet", "sweeps", "analysis", "bench")


def module_imports() -> dict[str, set[str]]:
    """{module: project modules it imports anywhere in its file} by static reading."""
    graph = {}
    for package in PACKAGES:
        for path in (REPO / package).glob("*.py"):
            name = f"{package}.{path.stem}" if path.stem != "__init__" else package
            found = set()
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    names = [f"{node.module}.{a.name}" for a in node.names] + [node.module]
                elif isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                else:
                    continue
                found |= {n for n in names if n.split(".")[0] in PACKAGES + ("ray", "torch")}
            graph[name] = found
    return graph


def _project(graph, names):
    return {n if n in graph else n.rpartition(".")[0] for n in names} & set(graph)


def test_no_import_cycles():
    graph = module_imports()
    edges = {m: _project(graph, deps) - {m} for m, deps in graph.items()}
    state: dict[str, int] = {}

    def visit(m, path):
        if state.get(m) == 1:
            pytest.fail(f"import cycle: {' -> '.join(path + [m])}")
        if state.get(m) == 2:
            return
        state[m] = 1
        for d in sorted(edges[m]):
            visit(d, path + [m])
        state[m] = 2

    for m in sorted(edges):
        visit(m, [])


def test_dependencies_point_one_way():
    for module, deps in module_imports().items():
        top = {d.split(".")[0] for d in deps}
        package = module.split(".")[0]
        if package != "bench":
            assert "bench" not in top, (module, deps)
        if package in ("fakedet", "analysis"):
            assert "ray" not in top and "sweeps" not in top, (module, deps)
        if package == "analysis":
            assert "torch" not in top, (module, deps)


def _imports_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                         text=True, check=True)  # fmt: skip
    return {m.split(".")[0] for m in out.stdout.split()}


def test_the_summary_imports_neither_torch_nor_ray():
    loaded = _imports_after("import analysis.summarize, analysis.rescore")
    assert "torch" not in loaded and "ray" not in loaded and "bench" not in loaded


def test_a_trial_imports_no_ray():
    loaded = _imports_after("import fakedet.trial, fakedet.cross, fakedet.detector")
    assert "ray" not in loaded and "bench" not in loaded and "sweeps" not in loaded


def test_only_the_trials_command_imports_trial_helpers():
    """trial.py is the run and its command line, not a library: the config, evaluation
    and record live in their own modules, which every kind of trial shares."""
    users = {m for m, deps in module_imports().items() if _project({"fakedet.trial": 0}, deps)}
    assert users - {"fakedet.__main__", "sweeps.run"} == set(), users


def test_a_trials_config_and_the_sweeps_plan_import_no_torch():
    loaded = _imports_after("import fakedet.config, sweeps.spec, sweeps.estimate")
    assert "torch" not in loaded and "ray" not in loaded, loaded & {"torch", "ray"}


ACROSS = {
    "test_compat",
    "test_help",
    "test_layout",
    "test_newcomer",
    "test_prose",
    "test_options",
    "test_study_data",
}
"""Tests of the whole project (every command, the committed study) at the top of tests/."""


def test_tests_mirror_the_packages():
    """The tests of a module sit in tests/<its package>/; only whole-project tests sit
    at the top."""
    top = {p.stem for p in (REPO / "tests").glob("test_*.py")}
    assert top == ACROSS
    folders = {p.parent.name for p in (REPO / "tests").glob("*/test_*.py")}
    assert folders <= set(PACKAGES), folders - set(PACKAGES)
