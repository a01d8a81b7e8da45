"""The dependency direction, read from the code's imports: notifications → plans → indicators,
never back, and the shared spreadsheet toolkit (dtiplan/spreadsheets/) imports no domain app.

Every import counts, including one inside a function (an import at call time is still a
dependency) and relative imports. ``dtiplan``'s settings, urls and Celery wiring are the one
place allowed to name every app; they are not checked here.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Each checked package, with the apps it must never import.
FORBIDDEN: dict[str, set[str]] = {
    "indicators": {"plans", "notifications"},
    "plans": {"notifications"},
    "notifications": set(),
    "dtiplan/spreadsheets": {"indicators", "plans", "notifications"},
}


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(path: Path, root: Path = ROOT) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in the file, wherever it stands."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = _module_name(path, root).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from the file's package upwards
                base = package[: len(package) - (node.level - 1)]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            if module:
                found.append((node.lineno, module))
            # ``from plans import models`` imports plans.models.
            found.extend(
                (node.lineno, f"{module}.{alias.name}" if module else alias.name)
                for alias in node.names
            )
    return found


def violations(package: str, forbidden: set[str], root: Path = ROOT) -> list[str]:
    found = []
    for path in sorted((root / package).rglob("*.py")):
        for line, module in imported_modules(path, root):
            if module.split(".")[0] in forbidden:
                found.append(f"{path.relative_to(root)}:{line} imports {module}")
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_import_runs_against_the_dependency_direction(package: str) -> None:
    assert violations(package, FORBIDDEN[package]) == []


def test_the_check_sees_imports_inside_functions_and_relative_ones(tmp_path: Path) -> None:
    # The kind of import that once hid in indicators: made at call time, inside a method.
    (tmp_path / "indicators" / "sub").mkdir(parents=True)
    (tmp_path / "indicators" / "resources.py").write_text(
        "import csv\n\n\ndef export():\n    from plans.coverage import with_open_tasks\n"
    )
    (tmp_path / "indicators" / "sub" / "probe.py").write_text("from ... import plans\n")
    assert violations("indicators", FORBIDDEN["indicators"], root=tmp_path) == [
        "indicators/resources.py:5 imports plans.coverage",
        "indicators/resources.py:5 imports plans.coverage.with_open_tasks",
        "indicators/sub/probe.py:1 imports plans",
    ]
