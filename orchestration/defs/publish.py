"""Publication: the validated panel and the analysis, copied to the analysts' read-only file."""

from dagster import AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue, asset

from orchestration.defs.analysis import ANALYSIS_TABLES
from orchestration.defs.transform import PANEL_ASSET, dbt_model_key
from orchestration.resources import ProvpanelPaths

PUBLISHED_SNAPSHOT = AssetKey(["published", "snapshot"])


@asset(
    key=PUBLISHED_SNAPSHOT,
    deps=[PANEL_ASSET, dbt_model_key("indicator_revisions"), dbt_model_key("panel_input_cells"),
          *[AssetKey(["analysis", name]) for name in ANALYSIS_TABLES]],
    group_name="publish",
    kinds={"duckdb", "parquet"},
    description="Read-only copy of raw, lookups, marts and analysis (with table and column comments) "
    "that analysts query; swapped in atomically, only after the blocking checks passed.",
    pool="warehouse",
)
def published_snapshot(context: AssetExecutionContext, paths: ProvpanelPaths) -> MaterializeResult:
    from provpanel.panel_digest import published_digest
    from provpanel.publish import publish

    summary = publish(paths.warehouse, paths.home_dir)
    digest = published_digest(summary.path)
    context.log.info(f"published {len(summary.tables)} tables to {summary.path}; panel sha256 {digest}")
    return MaterializeResult(
        metadata={
            "path": MetadataValue.path(str(summary.path)),
            "tables": MetadataValue.md("\n".join(f"- `{t}`" for t in summary.tables)),
            "parquet": MetadataValue.md("\n".join(f"- `{p}`" for p in summary.parquet)),
            "seconds": MetadataValue.float(round(summary.seconds, 2)),
            "panel_sha256": MetadataValue.text(digest or "none"),
        }
    )
