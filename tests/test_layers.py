"""The conductor side's layers: imports in ``workers/`` point down only.

Read from the source (``ast``), type-only imports included: no module of ``workers/``
imports, directly or through others, one that imports it back; the Celery app module is a
leaf; and no module of ours is imported inside a function to dodge a circle.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORKERS = ROOT / "workers"


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module(p): p for p in WORKERS.rglob("*.py")}


def _imported(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.module:
        return [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
    return []


def _edges(name: str) -> set[str]:
    tree = ast.parse(MODULES[name].read_text())
    found = {m for node in ast.walk(tree) for m in _imported(node)}
    return {m for m in found if m in MODULES and m != name}


GRAPH = {name: _edges(name) for name in MODULES}


def _reaches(start: str, goal: str) -> bool:
    seen, todo = set(), list(GRAPH[start])
    while todo:
        name = todo.pop()
        if name == goal:
            return True
        if name not in seen:
            seen.add(name)
            todo += GRAPH[name]
    return False


def test_no_import_circle_in_workers() -> None:
    circles = sorted(name for name in GRAPH if _reaches(name, name))
    assert circles == []


def test_the_celery_app_imports_nothing_of_workers() -> None:
    assert GRAPH["workers.celery_app"] == set()


def test_the_api_and_cli_reach_workers_only_to_publish_and_ask() -> None:
    allowed = {"workers", "workers.celery_app", "workers.queues", "workers.control"}
    used = set()
    for path in [*(ROOT / "app").rglob("*.py"), ROOT / "celeryconfig.py"]:
        tree = ast.parse(path.read_text())
        used |= {m for node in ast.walk(tree) for m in _imported(node) if m in MODULES}
    assert used <= allowed, sorted(used - allowed)


def test_no_import_of_ours_inside_a_function() -> None:
    hidden = []
    for name, path in MODULES.items():
        for func in ast.walk(ast.parse(path.read_text())):
            if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(func):
                ours = [m for m in _imported(node) if m.split(".")[0] in ("app", "workers")]
                if ours:
                    hidden.append(f"{name}.{func.name}: {ours[0]}")
    assert hidden == []
