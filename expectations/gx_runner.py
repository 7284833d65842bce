"""Run a Great Expectations 1.x suite on a pandas DataFrame and return the failing rows.

GX through SQLAlchemy on DuckDB is unreliable (STACK.md), so every suite validates a
DataFrame read from DuckDB. One ephemeral context per process: building it costs time.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pandas as pd

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")


@dataclass
class ExpectationOutcome:
    expectation: str
    column: str | None
    success: bool
    unexpected_count: int
    # one dict per failing row: the index columns (province, year, ...) plus the value
    failing_rows: list[dict] = field(default_factory=list)
    details: dict = field(default_factory=dict)
    # the expectation's arguments other than the column: the bound a failing row broke
    arguments: dict = field(default_factory=dict)


@dataclass
class SuiteOutcome:
    suite: str
    success: bool
    expectations: list[ExpectationOutcome]
    validation_result: object | None = None
    docs_index: Path | None = None  # the Data Docs report, when one was written
    docs_page: Path | None = None  # this validation's own page in it

    @property
    def failures(self) -> list[ExpectationOutcome]:
        return [e for e in self.expectations if not e.success]


@cache
def _context():
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    ctx = gx.get_context(mode="ephemeral")
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    ctx.data_sources.add_pandas("provpanel")
    return ctx


def _jsonable(value):
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _docs_site(ctx, docs_dir: Path) -> str:
    """A Data Docs site writing HTML into `docs_dir` (one per folder, added once)."""
    site_name = "provpanel_" + hashlib.sha256(str(docs_dir).encode()).hexdigest()[:12]
    if site_name not in (ctx.get_config().data_docs_sites or {}):
        ctx.add_data_docs_site(
            site_name=site_name,
            site_config={
                "class_name": "SiteBuilder",
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
                "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir)},
            },
        )
    return site_name


def run_suite(
    name: str,
    frame: pd.DataFrame,
    build_suite: Callable[[], object],
    index_columns: list[str],
    *,
    docs_dir: Path | None = None,
) -> SuiteOutcome:
    """Validate `frame` against the suite returned by `build_suite()`; with `docs_dir`, also
    write the Data Docs HTML report (index.html) there."""
    import great_expectations as gx

    ctx = _context()
    source = ctx.data_sources.get("provpanel")
    try:
        asset = source.get_asset(name)
    except LookupError:
        asset = source.add_dataframe_asset(name)
    try:
        batch_definition = asset.get_batch_definition("whole")
    except KeyError:
        batch_definition = asset.add_batch_definition_whole_dataframe("whole")
    # a suite is rebuilt per run (thresholds and row counts depend on the data)
    for store in (ctx.checkpoints, ctx.validation_definitions, ctx.suites):
        with contextlib.suppress(Exception):
            store.delete(name)
    suite = ctx.suites.add(build_suite())
    validation = ctx.validation_definitions.add(
        gx.ValidationDefinition(name=name, data=batch_definition, suite=suite)
    )
    actions = []
    if docs_dir is not None:
        Path(docs_dir).mkdir(parents=True, exist_ok=True)
        actions.append(gx.checkpoint.UpdateDataDocsAction(name="data_docs", site_names=[_docs_site(ctx, Path(docs_dir))]))
    checkpoint = ctx.checkpoints.add(
        gx.Checkpoint(
            name=name,
            validation_definitions=[validation],
            actions=actions,
            result_format={
                "result_format": "COMPLETE",
                "unexpected_index_column_names": index_columns,
                "include_unexpected_rows": False,
            },
        )
    )
    checkpoint_result = checkpoint.run(batch_parameters={"dataframe": frame.reset_index(drop=True)})
    result = next(iter(checkpoint_result.run_results.values()))
    outcomes = []
    for r in result.results:
        config = r.expectation_config
        res = r.result or {}
        rows = [
            {k: _jsonable(v) for k, v in row.items()}
            for row in (res.get("unexpected_index_list") or [])
            if isinstance(row, dict)
        ]
        outcomes.append(
            ExpectationOutcome(
                expectation=config.type,
                column=config.kwargs.get("column"),
                success=bool(r.success),
                unexpected_count=int(res.get("unexpected_count") or 0),
                failing_rows=rows,
                details={
                    k: _jsonable(v)
                    for k, v in res.items()
                    if k in ("observed_value", "element_count", "missing_count")
                },
                arguments={k: _jsonable(v) for k, v in config.kwargs.items()
                           if k not in ("column", "batch_id") and v is not None},
            )
        )
    docs_page = None
    if docs_dir is not None:
        from expectations.data_docs_offline import make_offline, newest_validation_page

        make_offline(Path(docs_dir))  # GX's pages take their CSS and JavaScript from CDNs
        docs_page = newest_validation_page(Path(docs_dir), name)
    return SuiteOutcome(
        suite=name, success=bool(result.success), expectations=outcomes, validation_result=result,
        docs_index=Path(docs_dir) / "index.html" if docs_dir is not None else None, docs_page=docs_page,
    )
