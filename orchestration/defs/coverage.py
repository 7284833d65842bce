"""The coverage report: what the edition set covers and lacks (`provpanel coverage` in the UI).

Table and heat map from provpanel.coverage; warnings for years left out rather than carried.
"""

from dagster import AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue

from orchestration.defs.report_asset import read_only_warehouse, report_asset, write_output
from orchestration.defs.transform import dbt_model_key
from orchestration.resources import ProvpanelPaths
from orchestration.ui_images import inline_image

INDICATOR_COVERAGE_REPORT = AssetKey(["reports", "coverage"])


DESCRIPTION = ("How many models are estimable, what to fetch next (ranked by the models each indicator helps "
               "unlock, where it comes from), why the others are not; indicator x year: provinces observed / "
               "filled / missing (heat map). The same report as `provpanel coverage`.")


@report_asset(INDICATOR_COVERAGE_REPORT, group_name="panel", description=DESCRIPTION,
              deps=[dbt_model_key("indicator_coverage"), dbt_model_key("variable_availability")])
def indicator_coverage_report(context: AssetExecutionContext, paths: ProvpanelPaths) -> MaterializeResult:
    from provpanel.coverage import coverage_markdown, load_coverage, plot_coverage_heatmap

    with read_only_warehouse(paths) as con:
        report = load_coverage(con)
    for warning in report.warnings():
        context.log.warning(warning)
    from provpanel.edition_status import build_notices

    # stored editions whose folder is gone, folders without manifest.yml: said in every build's run
    edition_notices = build_notices(paths.as_paths())
    for notice in edition_notices:
        context.log.warning(notice)
    markdown = coverage_markdown(report)
    write_output(paths, "coverage.md", markdown)
    heatmap = plot_coverage_heatmap(report.indicators, paths.outputs / "coverage_heatmap.png")
    # the UI's metadata column is about 480 pixels wide: a narrow copy is what it shows in place
    narrow = plot_coverage_heatmap(report.indicators, paths.outputs / "coverage_heatmap.narrow.png", narrow=True)
    return MaterializeResult(
        metadata={
            "summary": MetadataValue.text(report.headline()),  # first: "N of 18 models estimable; ..."
            "heatmap": inline_image(context.instance, "coverage heat map", narrow, source=heatmap),
            "heatmap_file": MetadataValue.path(str(heatmap)),
            "report": MetadataValue.md(markdown),
            "models_estimable": MetadataValue.int(int(report.models["estimable"].sum())),
            "models_not_estimable": MetadataValue.int(int((~report.models["estimable"]).sum())),
            "variables_incomplete": MetadataValue.int(int((~report.variables["is_complete"].astype(bool)).sum())),
            "indicator_years_left_out": MetadataValue.int(int(report.indicators["is_left_out"].sum())),
            "edition_notices": MetadataValue.md("\n".join(f"- {n}" for n in edition_notices) or "none"),
        }
    )
