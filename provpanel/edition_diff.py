"""What an edition changed: the cells it adds, the cells it revises, and how the estimates moved.

Cells compare the edition with the editions published before it (catalog indicators, in
canonical units); "the panel uses" is the edition the vintage policy picked
(marts.indicator_revisions). Estimates compare the last analysis run without the edition with the first one that
had it (from analysis.estimate_history, which every analysis run appends to).
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pandas as pd

from provpanel.edition_order import edition_order_sql, ordered_editions
from provpanel.number_text import MISSING, full_number, percent, readable_number, signed_change
from provpanel.warehouse import table_exists

KEY_TERMS = ("ic", "ic2")  # the paper's coefficient of interest in every model
MAX_ROWS_IN_MARKDOWN = 30
REVISION_NUMBERS = ("year", "previous_value", "new_value", "change", "change_pct")  # right-aligned


class UnknownEditionError(LookupError):
    pass


@dataclass
class EditionDiff:
    edition: str
    earlier_editions: list[str]
    added: pd.DataFrame
    revised: pd.DataFrame
    estimates: pd.DataFrame
    max_revision_share: float = 0.5
    # checks between indicators the edition's manifest lets pass (raw.declared_exceptions)
    exceptions: pd.DataFrame | None = None

    @property
    def is_empty(self) -> bool:
        return self.added.empty and self.revised.empty

    @property
    def large_revisions(self) -> pd.DataFrame:
        """Revisions beyond the indicator suite's max_revision_share, declared in the manifest or not."""
        if self.revised.empty or "beyond_share" not in self.revised:
            return self.revised.iloc[0:0]
        return self.revised[self.revised["beyond_share"]]

    def summary_line(self) -> str:
        large = self.large_revisions
        undeclared = int((~large["declared"]).sum()) if not large.empty else 0
        flagged = (f"; {len(large)} revised beyond {self.max_revision_share:.0%} ({len(large) - undeclared} declared, "
                   f"{undeclared} undeclared)") if not large.empty else ""
        excepted = (f"; {len(self.exceptions)} declared exception(s) to the checks between indicators"
                    if self.exceptions is not None and not self.exceptions.empty else "")
        return (f"edition {self.edition}: {len(self.added)} cells added, {len(self.revised)} cells revised "
                f"against {', '.join(self.earlier_editions) or 'no earlier edition'}{flagged}{excepted}")

    def to_markdown(self) -> str:
        parts = [f"## Edition {self.edition}", "", self.summary_line(), ""]
        if not self.added.empty:
            by_indicator = (self.added.groupby("indicator").agg(cells=("year", "size"), first_year=("year", "min"),
                                                                last_year=("year", "max")).reset_index())
            parts += ["### Cells added (by indicator)", "", by_indicator.to_markdown(index=False), ""]
        large = self.large_revisions
        if not large.empty:
            flagged = large.assign(revision=large["declared"].map({True: "declared", False: "UNDECLARED"}))
            shown = flagged.head(MAX_ROWS_IN_MARKDOWN)
            title = (f"### Revisions beyond {self.max_revision_share:.0%} of the earlier value "
                     f"(first {len(shown)} of {len(flagged)}; undeclared ones block the build)")
            parts += [title, "", _readable_table(_revisions_for_reading(shown, with_revision=True), REVISION_NUMBERS), ""]
        if not self.revised.empty:
            shown = self.revised.head(MAX_ROWS_IN_MARKDOWN)
            parts += [f"### Cells revised (first {len(shown)} of {len(self.revised)})", "",
                      _readable_table(_revisions_for_reading(shown), REVISION_NUMBERS), ""]
        if self.exceptions is not None and not self.exceptions.empty:
            parts += ["### Declared exceptions to the checks between indicators (manifest `exceptions:`)", "",
                      self.exceptions.fillna({"province_code": "all"}).to_markdown(index=False), ""]
        if not self.estimates.empty:
            parts += ["### Key estimates before and after", "",
                      _readable_table(_estimates_for_reading(self.estimates),
                                      tuple(self.estimates.select_dtypes("number").columns)), ""]
        else:
            parts += ["### Key estimates", "", "no analysis run before this edition to compare with", ""]
        return "\n".join(parts)


def _revisions_for_reading(revised: pd.DataFrame, *, with_revision: bool = False) -> pd.DataFrame:
    """Revised cells as printed: both values in full (as stored, never rounded), the change and
    the percent change; a missing value is a dash."""
    shown = pd.DataFrame({
        "province_code": revised["province_code"], "year": revised["year"].astype(str),
        "indicator": revised["indicator"], "previous_edition": revised["previous_edition"],
        "previous_value": revised["previous_value"].map(full_number),
        "new_value": revised["new_value"].map(full_number),
        "change": [signed_change(new, old) for new, old in zip(revised["new_value"], revised["previous_value"],
                                                               strict=True)],
        "change_pct": revised["change_pct"].map(percent),
        "unit": revised["unit"], "panel_uses_edition": revised["panel_uses_edition"],
    })
    if with_revision:
        shown["revision"] = revised["revision"]
    return shown


def _estimates_for_reading(estimates: pd.DataFrame) -> pd.DataFrame:
    """Estimates before and after, rounded for reading (4 significant digits, never 1.2e-05)."""
    return estimates.apply(lambda column: column.map(readable_number)
                           if pd.api.types.is_float_dtype(column) else column)


def _readable_table(frame: pd.DataFrame, numbers: tuple[str, ...] = ()) -> str:
    """Markdown of text cells as given (tabulate would re-read "+100" as a number), "—" for
    missing; the `numbers` columns right-aligned, as numbers are read."""
    text = frame.astype(object).where(frame.notna(), MISSING)
    return text.to_markdown(index=False, disable_numparse=True,
                            colalign=["right" if name in numbers else "left" for name in text.columns])


def edition_diff(con: duckdb.DuckDBPyConnection, edition: str) -> EditionDiff:
    ordered = [name for name, _published, _depth in ordered_editions(con)]  # provpanel.edition_order
    if edition not in ordered:
        raise UnknownEditionError(
            f"edition {edition!r} is not stored; stored editions: {', '.join(sorted(ordered)) or 'none'}"
        )
    earlier = ordered[: ordered.index(edition)]
    # Works on the published snapshot too: raw and marts only.
    # a warehouse not built yet (raw tables only) has no panel choice to show
    panel_choice = ("marts.indicator_revisions" if table_exists(con, "marts", "indicator_revisions") else
                    "(SELECT NULL::VARCHAR AS province_code, NULL::INTEGER AS year, NULL::VARCHAR AS indicator, "
                    "NULL::VARCHAR AS panel_edition WHERE false)")
    cells = con.execute(
        f"""
        WITH per_edition AS (
            SELECT v.province_code, v.year, v.indicator, v.edition, e.published, e.supersession_depth,
                   min(v.value) AS value, min(v.unit) AS unit
            FROM raw.extract_values AS v JOIN {edition_order_sql(con)} AS e USING (edition)
            WHERE v.in_catalog
            GROUP BY ALL
        ),
        this AS (SELECT * FROM per_edition WHERE edition = ?),
        previous AS (
            SELECT *, row_number() OVER (PARTITION BY province_code, year, indicator
                                         ORDER BY published DESC, supersession_depth DESC,
                                                  edition DESC) AS recency
            FROM per_edition WHERE list_contains(?::VARCHAR[], edition)
        ),
        panel_choice AS (
            SELECT DISTINCT province_code, year, indicator, panel_edition
            FROM {panel_choice}
        )
        SELECT this.province_code, this.year, this.indicator,
               previous.edition AS previous_edition, previous.value AS previous_value,
               this.value AS new_value, this.unit, panel_choice.panel_edition AS panel_uses_edition
        FROM this
        LEFT JOIN previous ON previous.recency = 1 AND previous.province_code = this.province_code
             AND previous.year = this.year AND previous.indicator = this.indicator
        LEFT JOIN panel_choice ON panel_choice.province_code = this.province_code
             AND panel_choice.year = this.year AND panel_choice.indicator = this.indicator
        ORDER BY this.indicator, this.province_code, this.year
        """,
        [edition, earlier],
    ).df()
    added = cells[cells["previous_edition"].isna()][["province_code", "year", "indicator", "new_value", "unit"]]
    revised = cells[cells["previous_edition"].notna()
                    & ((cells["previous_value"] - cells["new_value"]).abs()
                       > 1e-9 * cells["previous_value"].abs().clip(lower=1))]
    revised = revised.assign(change=[float(signed_change(new, old)) for new, old in
                                     zip(revised["new_value"], revised["previous_value"], strict=True)],
                             change_pct=100 * (revised["new_value"] / revised["previous_value"] - 1))
    share = _max_revision_share()
    revised = revised.assign(beyond_share=(revised["change_pct"].abs() > 100 * share),
                             declared=_declared(con, edition, revised))
    exceptions = (con.execute("""SELECT check_name AS "check", indicator, province_code, first_year, last_year, reason
                                 FROM raw.declared_exceptions WHERE edition = ?
                                 ORDER BY check_name, indicator, province_code NULLS FIRST""", [edition]).df()
                  if table_exists(con, "raw", "declared_exceptions") else None)
    return EditionDiff(edition, earlier, added.reset_index(drop=True), revised.reset_index(drop=True),
                       _estimate_shifts(con, edition), share, exceptions)


def _max_revision_share() -> float:
    from expectations.thresholds import load_thresholds

    return float(load_thresholds()["indicators"]["max_revision_share"])


def _declared(con, edition: str, revised: pd.DataFrame) -> list[bool]:
    """Whether the edition's manifest declares each revised cell (raw.declared_revisions)."""
    if revised.empty or not table_exists(con, "raw", "declared_revisions"):
        return [False] * len(revised)
    spans = con.execute("SELECT indicator, first_year, last_year FROM raw.declared_revisions WHERE edition = ?",
                        [edition]).fetchall()
    return [any(i == indicator and first <= year <= last for i, first, last in spans)
            for indicator, year in zip(revised["indicator"], revised["year"], strict=True)]


def _estimate_shifts(con, edition: str) -> pd.DataFrame:
    if not table_exists(con, "analysis", "estimate_history"):
        return pd.DataFrame()
    history = con.execute(
        "SELECT run_id, built_at, editions, model_id, term, estimate, std_error FROM analysis.estimate_history"
    ).df()
    if history.empty:
        return pd.DataFrame()
    runs = history.drop_duplicates("run_id")[["run_id", "built_at", "editions"]].sort_values("built_at")
    has_edition = runs["editions"].apply(lambda names: edition in str(names).split(","))
    before_runs, after_runs = runs[~has_edition], runs[has_edition]
    if before_runs.empty or after_runs.empty:
        return pd.DataFrame()
    before_run = before_runs.iloc[-1]["run_id"]
    after_run = after_runs[after_runs["built_at"] > before_runs.iloc[-1]["built_at"]]
    if after_run.empty:
        return pd.DataFrame()
    after_run = after_run.iloc[0]["run_id"]
    before = history[history["run_id"] == before_run].set_index(["model_id", "term"])
    after = history[history["run_id"] == after_run].set_index(["model_id", "term"])
    joined = before[["estimate", "std_error"]].join(after[["estimate", "std_error"]], lsuffix="_before",
                                                    rsuffix="_after", how="inner").reset_index()
    joined = joined[joined["term"].str.lower().isin(KEY_TERMS)]
    joined["difference"] = joined["estimate_after"] - joined["estimate_before"]
    joined["difference_in_se"] = joined["difference"] / joined["std_error_before"]
    return joined.sort_values("model_id", key=lambda s: s.map(_model_sort_key)).reset_index(drop=True)


def _model_sort_key(model_id: str):
    return (0, int(model_id), "") if str(model_id).isdigit() else (1, 0, str(model_id))
