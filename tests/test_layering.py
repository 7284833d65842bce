"""Dependencies run one way, stage by stage: a module imports only modules of its own stage or
of an earlier one. The stages, in the order the data flows through them:

  base → sources → editions → warehouse → dbt → expectations → analysis → publish → cli/orchestration

STAGE_OF puts every module of the project in exactly one stage (the core's modules are still
flat files; when they move into one folder per stage, the table's paths become those folders).
Imports are read with `ast`, at any depth: the code imports a lot inside functions."""

from __future__ import annotations

import ast
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
# The project's Python, as the stages' table covers it (bench/, scripts/ and tests/ stand outside).
PACKAGES = ("provpanel", "analysis", "expectations", "orchestration")
CHECKED_FOLDERS = (*PACKAGES, "dbt_project/models")

# Each group may import its own and earlier groups. The command line and orchestration are one
# group: the CLI runs the build through orchestration, whose build runner uses the CLI's process
# helpers (lock, fingerprint, process tree, Dagster's home, failure messages).
STAGE_ORDER: tuple[tuple[str, ...], ...] = (
    ("base",), ("sources",), ("editions",), ("warehouse",), ("dbt",), ("expectations",),
    ("analysis",), ("publish",), ("cli", "orchestration"),
)
STAGE_RANK = {stage: rank for rank, group in enumerate(STAGE_ORDER) for stage in group}

# A path ending in "/" covers every file under it; each file must be covered by exactly one entry.
STAGE_OF: dict[str, str] = {
    # base: where things live, the settings, the error type, printed numbers; read by every stage
    "provpanel/__init__.py": "base",
    "provpanel/config.py": "base",
    "provpanel/settings.py": "base",
    "provpanel/analysis_defaults.py": "base",
    "provpanel/atomic_files.py": "base",
    "provpanel/errors.py": "base",
    "provpanel/number_text.py": "base",
    # sources: what a download or the portal prints, read into values with project codes
    "provpanel/harmonise.py": "sources",
    "provpanel/extracts/": "sources",
    "provpanel/portal/__init__.py": "sources",
    "provpanel/portal/client.py": "sources",
    "provpanel/portal/lookup.py": "sources",
    "provpanel/portal/seed.py": "sources",
    # editions: an edition folder (manifest, files, checksums) read into raw rows; the portal's
    # fetch writes one
    "provpanel/editions.py": "editions",
    "provpanel/edition_manifest.py": "editions",
    "provpanel/edition_read.py": "editions",
    "provpanel/edition_read_pool.py": "editions",
    "provpanel/read_worker.py": "editions",
    "provpanel/folder_checksums.py": "editions",
    "provpanel/raw_schema.py": "editions",
    "provpanel/portal/fetch.py": "editions",
    # warehouse: the working DuckDB and what it holds of the editions (store, compare, plan,
    # remove, order), and the settings a build recorded in it
    "provpanel/warehouse.py": "warehouse",
    "provpanel/ingest.py": "warehouse",
    "provpanel/edition_changes.py": "warehouse",
    "provpanel/edition_plan.py": "warehouse",
    "provpanel/edition_status.py": "warehouse",
    "provpanel/edition_removal.py": "warehouse",
    "provpanel/edition_order.py": "warehouse",
    "provpanel/settings_record.py": "warehouse",
    # dbt: the models, and the Python measures its Python models call
    "provpanel/measures/": "dbt",
    "dbt_project/models/": "dbt",
    "expectations/": "expectations",
    "analysis/": "analysis",
    # publish: the published snapshot, and what is read from it or printed about it
    "provpanel/publish.py": "publish",
    "provpanel/panel_digest.py": "publish",
    "provpanel/export.py": "publish",
    "provpanel/read_only_sql.py": "publish",
    "provpanel/report.py": "publish",
    "provpanel/coverage.py": "publish",
    "provpanel/fetch_plan.py": "publish",
    "provpanel/edition_diff.py": "publish",
    "provpanel/user_files.py": "publish",
    # cli: the commands and running a build as a process (one at a time, only when needed,
    # children ended with it, failures in one line)
    "provpanel/cli.py": "cli",
    "provpanel/ui_process.py": "cli",
    "provpanel/dagster_env.py": "cli",
    "provpanel/process_tree.py": "cli",
    "provpanel/failures.py": "cli",
    "provpanel/build_lock.py": "cli",
    "provpanel/build_state.py": "cli",
    "orchestration/": "orchestration",
}
# Only the command line itself reaches into orchestration, not the helpers that orchestration uses.
MAY_IMPORT_ORCHESTRATION = {"provpanel/cli.py"}


def project_files(root: Path) -> list[str]:
    """Every Python file the table must cover, relative to `root`."""
    return sorted(path.relative_to(root).as_posix()
                  for folder in CHECKED_FOLDERS for path in (root / folder).rglob("*.py"))


def entries_covering(relative: str, table: dict[str, str]) -> list[str]:
    return [entry for entry in table
            if entry == relative or (entry.endswith("/") and relative.startswith(entry))]


def module_file(root: Path, module: str) -> str | None:
    """The file a dotted module name imports (a module or a package's __init__), or None."""
    base = root.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate.relative_to(root).as_posix()
    return None


def imported_files(root: Path, relative: str) -> list[tuple[int, str, str]]:
    """(line, module, file it loads) of every import of a project module in the file,
    at any depth. `from package import name` loads package/name.py when that is a module."""
    path = root / relative
    package = relative.split("/")[:-1]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            candidates = [(alias.name, [alias.name]) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            parts = package[:len(package) - node.level + 1] if node.level else []
            module = ".".join(parts + (node.module.split(".") if node.module else []))
            candidates = [(f"{module}.{alias.name}", [f"{module}.{alias.name}", module])
                          for alias in node.names]
        else:
            continue
        for written, tries in candidates:
            if written.split(".")[0] not in PACKAGES:
                continue
            loaded = next(((name, file) for name in tries if (file := module_file(root, name))), None)
            if loaded:
                found.append((node.lineno, *loaded))
    return found


def stage_of(relative: str, table: dict[str, str]) -> str | None:
    """The file's stage; None when the table does not place it once (reported on its own)."""
    entries = entries_covering(relative, table)
    return table[entries[0]] if len(entries) == 1 else None


def layering_violations(root: Path, table: dict[str, str]) -> list[str]:
    """One line per import of a later stage: the module, the line, what it imports, both stages."""
    violations = []
    for relative in project_files(root):
        stage = stage_of(relative, table)
        for line, module, target in imported_files(root, relative):
            target_stage = stage_of(target, table)
            if stage and target_stage and STAGE_RANK[target_stage] > STAGE_RANK[stage]:
                violations.append(f"{relative}:{line} ({stage}) imports {module} ({target_stage})")
    return list(dict.fromkeys(violations))  # `from m import a, b` is one import of m


def test_every_module_is_in_exactly_one_stage():
    files = project_files(REPO_ROOT)
    unplaced = [f"{file}: {entries_covering(file, STAGE_OF) or 'no stage'}" for file in files
                if len(entries_covering(file, STAGE_OF)) != 1]
    assert unplaced == [], "put each module in exactly one stage of STAGE_OF:\n" + "\n".join(unplaced)
    stale = [entry for entry in STAGE_OF if not any(entries_covering(file, {entry: ""}) for file in files)]
    assert stale == [], f"STAGE_OF names files that do not exist: {stale}"
    assert set(STAGE_OF.values()) <= set(STAGE_RANK), set(STAGE_OF.values()) - set(STAGE_RANK)


def test_no_module_imports_a_later_stage():
    violations = layering_violations(REPO_ROOT, STAGE_OF)
    assert violations == [], "modules import a later stage:\n" + "\n".join(violations)


def test_only_the_command_line_imports_orchestration():
    offenders = [f"{relative}:{line} imports {module}"
                 for relative in project_files(REPO_ROOT)
                 if not relative.startswith("orchestration/") and relative not in MAY_IMPORT_ORCHESTRATION
                 for line, module, target in imported_files(REPO_ROOT, relative)
                 if target.startswith("orchestration/")]
    assert offenders == [], "modules below the command line import orchestration:\n" + "\n".join(offenders)


def test_the_check_names_each_import_of_a_later_stage(tmp_path):
    """The check itself, on a small tree: imports inside functions count, `from package import
    module` is the module's stage, a relative import resolves, a name in a string is no import."""
    files = {
        "provpanel/__init__.py": "",
        "provpanel/settings.py": ('"""analysis.specs"""\nimport os\n\n\ndef defaults():\n'
                                  '    from analysis.specs import SE_TYPES\n    return SE_TYPES\n'),
        "provpanel/harmonise.py": "from provpanel import settings\n",
        "provpanel/portal/__init__.py": "",
        "provpanel/portal/seed.py": "from .. import harmonise\nfrom . import fetch\n",
        "provpanel/portal/fetch.py": "",
        "analysis/__init__.py": "",
        "analysis/specs.py": "from provpanel import harmonise\nimport provpanel.settings\n",
    }
    for relative, text in files.items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(text, encoding="utf-8")
    table = {"provpanel/__init__.py": "base", "provpanel/settings.py": "base",
             "provpanel/harmonise.py": "sources", "provpanel/portal/__init__.py": "sources",
             "provpanel/portal/seed.py": "sources", "provpanel/portal/fetch.py": "editions",
             "analysis/": "analysis"}
    assert layering_violations(tmp_path, table) == [
        "provpanel/portal/seed.py:2 (sources) imports provpanel.portal.fetch (editions)",
        "provpanel/settings.py:6 (base) imports analysis.specs (analysis)",
    ]
