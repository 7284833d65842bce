"""Dependencies run one way: the core (readers, harmonisation, measures, warehouse, publication,
settings: provpanel/, analysis/, expectations/) ← orchestration (assets, jobs, sensors,
resources) ← the command line. No core module imports orchestration."""

from __future__ import annotations

import ast
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
CORE_PACKAGES = ("provpanel", "analysis", "expectations")
# The command line sits above orchestration: it runs the build through it.
COMMAND_LINE_MODULES = {"provpanel/cli.py"}


def _imported_modules(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every import statement in the file, at any depth (inside functions too)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def _imports_orchestration(module: str) -> bool:
    return module == "orchestration" or module.startswith("orchestration.")


def test_no_core_module_imports_orchestration():
    offenders = []
    for package in CORE_PACKAGES:
        for path in sorted((REPO_ROOT / package).rglob("*.py")):
            relative = path.relative_to(REPO_ROOT).as_posix()
            if relative in COMMAND_LINE_MODULES:
                continue
            offenders += [f"{relative}:{line} imports {module}"
                          for line, module in _imported_modules(path) if _imports_orchestration(module)]
    assert offenders == [], "core modules import orchestration:\n" + "\n".join(offenders)


def test_the_check_sees_imports_inside_functions(tmp_path):
    """The check itself: an import nested in a function counts; a mention in a string does not."""
    sample = tmp_path / "sample.py"
    sample.write_text('def run():\n    from orchestration.definitions import defs\n    import orchestration\n'
                      'NAME = "orchestration.definitions"\nimport orchestrationx\n', encoding="utf-8")
    flagged = [module for _, module in _imported_modules(sample) if _imports_orchestration(module)]
    assert flagged == ["orchestration.definitions", "orchestration"]
