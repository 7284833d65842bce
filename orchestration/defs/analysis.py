"""Analysis assets: the paper's models on the validated panel, written back to the warehouse.

Runs only after the panel's blocking checks pass (Dagster skips it otherwise). The
`analysis` package does the econometrics; this module only reads, writes and reports.
"""

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    MaterializeResult,
    MetadataValue,
    multi_asset,
)

from orchestration.analysis_metadata import analysis_metadata
from orchestration.defs.transform import PANEL_ASSET
from orchestration.resources import ProvpanelPaths
from orchestration.settings_resource import ProvpanelSettings
from orchestration.ui_images import inline_image

ANALYSIS_TABLES = {
    "estimates": "Coefficients, standard errors, t and p values and intervals of every model.",
    "fit": "Fit of every model: N, clusters, within / inclusive / overall R², effects, absorbed terms.",
    "mediation": "Mediation paths a, b, c, c', a*b with Sobel, Aroian, Goodman and bootstrap intervals.",
    "comparison": "Our estimates beside the published ones: sign and significance agreement.",
}


def _append_estimate_history(con, estimates, run_id: str) -> None:
    """Every run's estimates, labelled with the editions behind them (for edition diffs)."""
    editions = ",".join(r[0] for r in con.execute("SELECT edition FROM raw.editions ORDER BY edition").fetchall())
    con.execute(
        """CREATE TABLE IF NOT EXISTS analysis.estimate_history (
               run_id VARCHAR, built_at TIMESTAMP, editions VARCHAR, model_id VARCHAR, term VARCHAR,
               estimate DOUBLE, std_error DOUBLE, p_value DOUBLE)"""
    )
    con.execute("DELETE FROM analysis.estimate_history WHERE run_id = ?", [run_id])
    con.register("history_frame", estimates[["model_id", "term", "estimate", "std_error", "p_value"]])
    con.execute(
        """INSERT INTO analysis.estimate_history
           SELECT ?, now()::TIMESTAMP, ?, model_id, term, estimate, std_error, p_value FROM history_frame""",
        [run_id, editions],
    )
    con.unregister("history_frame")
    con.execute("COMMENT ON TABLE analysis.estimate_history IS 'Estimates of every analysis run, "
                "with the editions behind them: what provpanel diff compares.'")


def _plot_metadata(instance, plots: dict) -> dict:
    """Each plot shown in place (its one-column copy, which fits the metadata table's value
    column) above its file; short keys keep that column wide; the tall grid of every term last."""
    from analysis.plots import narrow_path

    entries = {}
    for label, png in sorted(plots.items(), key=lambda item: item[0] == "coefficients_vs_published"):
        narrow = narrow_path(png)
        entries[f"plot_{label.removesuffix('_vs_published')}"] = inline_image(
            instance, label, narrow if narrow.exists() else png, source=png)
    return entries


def _plots_after_headline(metadata: dict, plots: dict) -> dict:
    """The plots right after the headline's numbers, before the long tables."""
    keys = list(metadata)
    at = keys.index("key_terms") if "key_terms" in keys else len(keys)
    return {**{k: metadata[k] for k in keys[:at]}, **plots, **{k: metadata[k] for k in keys[at:]}}


@multi_asset(
    specs=[
        AssetSpec(AssetKey(["analysis", name]), description=text, group_name="analysis",
                  deps=[PANEL_ASSET], kinds={"python", "duckdb"})
        for name, text in ANALYSIS_TABLES.items()
    ],
    pool="warehouse",
)
def paper_models(context: AssetExecutionContext, paths: ProvpanelPaths, settings: ProvpanelSettings):
    from analysis import run_all
    from analysis.column_docs import comment_statements
    from provpanel.report import write_analysis_outputs
    from provpanel.settings import ANALYSIS
    from provpanel.settings_record import record_settings
    from provpanel.warehouse import open_warehouse

    resolved = settings.resolve(context.run.tags)
    with open_warehouse(paths.warehouse, read_only=True) as con:
        panel = con.execute("SELECT * FROM marts.province_year_panel ORDER BY province_code, year").df()
        # why a variable is missing (a partial edition set): the reason of a model not estimable
        missing_reasons = dict(con.execute(
            "SELECT variable, reason FROM marts.variable_availability WHERE reason IS NOT NULL").fetchall())
    results = run_all(panel, missing_reasons=missing_reasons, **resolved.stage(ANALYSIS))
    from analysis.availability import grouped_reasons, model_list

    for reason, model_ids in grouped_reasons(results.not_estimable_parts):  # each reason once
        context.log.warning(f"{model_list(model_ids)} not estimable: {reason}")
    files = write_analysis_outputs(results, panel, paths.outputs, settings_line=resolved.header_line())
    with open_warehouse(paths.warehouse) as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS analysis")
        for name, description in ANALYSIS_TABLES.items():
            frame = getattr(results, name)
            con.register("analysis_frame", frame)
            con.execute(f"CREATE OR REPLACE TABLE analysis.{name} AS SELECT * FROM analysis_frame")
            con.unregister("analysis_frame")
            comment = description.replace("'", "''")
            con.execute(f"COMMENT ON TABLE analysis.{name} IS '{comment}'")
            for statement in comment_statements(name):
                con.execute(statement)
        _append_estimate_history(con, results.estimates, context.run.run_id)
        for statement in comment_statements("estimate_history"):
            con.execute(statement)
    record_settings(paths.warehouse, resolved, ANALYSIS, context.run.run_id)
    for name in ANALYSIS_TABLES:
        frame = getattr(results, name)
        # the headline (IC in Models 1-2) first: the UI shows it without a click
        metadata = analysis_metadata(name, results, settings_line=resolved.header_line())
        if name in ("estimates", "fit"):
            metadata["not_estimable"] = MetadataValue.md(
                results.not_estimable_markdown() or "Every model was estimated.")
        if name == "estimates":
            metadata["tables_markdown"] = MetadataValue.md(files.markdown_text)
            metadata["output_folder"] = MetadataValue.path(str(paths.outputs))
            metadata = _plots_after_headline(metadata, _plot_metadata(context.instance, files.plots))
        if name == "comparison":
            metadata["comparison_markdown"] = MetadataValue.md(files.comparison_markdown)
        yield MaterializeResult(asset_key=AssetKey(["analysis", name]), metadata=metadata)
