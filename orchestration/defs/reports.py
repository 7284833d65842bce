"""The edition-diff report: what the newest (or just-ingested) edition changed, in the run's metadata."""

from dagster import AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue

from orchestration.defs.analysis import ANALYSIS_TABLES
from orchestration.defs.report_asset import read_only_warehouse, report_asset, write_output
from orchestration.defs.transform import dbt_model_key
from orchestration.resources import ProvpanelPaths

EDITION_DIFF = AssetKey(["reports", "edition_diff"])


DESCRIPTION = ("Cells the edition adds, cells it revises (old, new, which one the panel uses), and how every "
               "model's key estimate moved. The edition is the one whose ingest triggered the run, else the "
               "most recently published one.")


@report_asset(EDITION_DIFF, group_name="publish", description=DESCRIPTION,
              deps=[dbt_model_key("indicator_revisions"), *[AssetKey(["analysis", n]) for n in ANALYSIS_TABLES]])
def edition_diff_report(context: AssetExecutionContext, paths: ProvpanelPaths) -> MaterializeResult:
    from provpanel.edition_diff import edition_diff
    from provpanel.edition_order import ordered_editions

    with read_only_warehouse(paths) as con:
        # the last in the order of the vintage policy (published, supersedes, key)
        edition = context.run.tags.get("provpanel/after_ingest_of") or ordered_editions(con)[-1][0]
        diff = edition_diff(con, edition)
    markdown = diff.to_markdown()
    report_file = write_output(paths, f"edition_diff_{edition}.md", markdown + "\n")
    context.log.info(diff.summary_line())
    return MaterializeResult(
        metadata={
            "edition": edition,
            "cells_added": MetadataValue.int(len(diff.added)),
            "cells_revised": MetadataValue.int(len(diff.revised)),
            "report": MetadataValue.md(markdown),
            "file": MetadataValue.path(str(report_file)),
        }
    )
