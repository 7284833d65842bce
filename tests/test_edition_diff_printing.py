"""`provpanel diff` prints values as stored: in full, with the change and the percent change,
a dash for a missing value, never scientific notation for ordinary magnitudes."""

from __future__ import annotations

import pandas as pd

from provpanel.edition_diff import EditionDiff


def _revised(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    frame["change_pct"] = 100 * (frame["new_value"] / frame["previous_value"] - 1)
    frame["beyond_share"] = frame["change_pct"].abs() > 50
    frame["declared"] = False
    return frame


def _diff(revised: pd.DataFrame, estimates: pd.DataFrame | None = None) -> EditionDiff:
    added = pd.DataFrame(columns=["province_code", "year", "indicator", "new_value", "unit"])
    return EditionDiff("csy2023", ["csy2022"], added, revised,
                       estimates if estimates is not None else pd.DataFrame())


def _row_of(markdown: str, marker: str, after: str = "") -> list[str]:
    """The cells of the first table row holding `marker` (below the line `after`, if given)."""
    lines = markdown.splitlines()
    line = next(line for line in lines[lines.index(after) if after else 0:] if marker in line)
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _header_of(markdown: str, title: str) -> list[str]:
    lines = markdown.splitlines()
    return [cell.strip() for cell in lines[lines.index(title) + 2].strip().strip("|").split("|")]


def test_a_revision_shows_both_values_in_full_with_change_and_percent():
    revised = _revised([
        {"province_code": "44", "year": 2020, "indicator": "gdp", "previous_edition": "csy2022",
         "previous_value": 113289.8, "new_value": 113389.8, "unit": "CNY 100m", "panel_uses_edition": "csy2023"},
        {"province_code": "11", "year": 2019, "indicator": "population", "previous_edition": "csy2022",
         "previous_value": 1000000.0, "new_value": 1008830.0, "unit": "10k persons", "panel_uses_edition": None},
        {"province_code": "54", "year": 2003, "indicator": "fdi_actual", "previous_edition": "csy2022",
         "previous_value": 0.0, "new_value": 25.5, "unit": "USD 10k", "panel_uses_edition": "csy2023"},
    ])
    markdown = _diff(revised).to_markdown()
    title = next(line for line in markdown.splitlines() if line.startswith("### Cells revised"))
    header = _header_of(markdown, title)
    guangdong = dict(zip(header, _row_of(markdown, "| 44 ", title), strict=True))
    assert guangdong["previous_value"] == "113289.8"
    assert guangdong["new_value"] == "113389.8"
    assert guangdong["change"] == "+100"
    assert guangdong["change_pct"] == "+0.0883 %"
    beijing = dict(zip(header, _row_of(markdown, "| 11 ", title), strict=True))
    assert beijing["new_value"] == "1008830"
    assert beijing["change"] == "+8830"
    assert beijing["panel_uses_edition"] == "—"  # no panel choice stored: a dash, not "nan" or blank
    tibet = dict(zip(header, _row_of(markdown, "| 54 ", title), strict=True))
    assert (tibet["change"], tibet["change_pct"]) == ("+25.5", "—")  # no percent of a previous 0
    assert "e+0" not in markdown and "nan" not in markdown.lower() and "inf" not in markdown


def test_large_revisions_print_the_same_way_and_small_estimates_without_exponents():
    revised = _revised([
        {"province_code": "44", "year": 2020, "indicator": "fdi_actual", "previous_edition": "csy2022",
         "previous_value": 1234.5, "new_value": 12345.0, "unit": "USD 10k", "panel_uses_edition": "csy2023"},
    ])
    estimates = pd.DataFrame({"model_id": ["1"], "term": ["ic"], "estimate_before": [0.0000123456],
                              "std_error_before": [float("nan")], "estimate_after": [0.0000234567],
                              "std_error_after": [0.00001], "difference": [0.0000111111],
                              "difference_in_se": [float("nan")]})
    markdown = _diff(revised, estimates).to_markdown()
    large_title = next(line for line in markdown.splitlines() if line.startswith("### Revisions beyond"))
    large = dict(zip(_header_of(markdown, large_title), _row_of(markdown, "UNDECLARED"), strict=True))
    assert (large["previous_value"], large["new_value"], large["change"], large["change_pct"]) == \
        ("1234.5", "12345", "+11110.5", "+900 %")
    key = dict(zip(_header_of(markdown, "### Key estimates before and after"), _row_of(markdown, "| ic "),
                   strict=True))
    assert key["estimate_before"] == "0.00001235"
    assert key["std_error_before"] == "—"
    assert "e-0" not in markdown and "nan" not in markdown.lower()
