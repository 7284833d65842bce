"""Figures that answer the question: integer years, one panel per key term in the paper's
order, every term on its own scale, the mediation paths; each written as PNG and SVG."""

from __future__ import annotations

import math

import numpy as np
import pytest

from analysis.plots import (
    KEY_TERMS,
    all_terms_figure,
    key_terms_figure,
    mediation_figure,
    paper_order,
    trends_by_region_figure,
)
from analysis.run import run_all
from analysis.simulate import simulate_panel


@pytest.fixture(scope="module")
def panel():
    return simulate_panel(seed=4)


@pytest.fixture(scope="module")
def outputs(panel):
    return run_all(panel, bootstrap_reps=19, seed=9)


def _tick_texts(axes, axis="x"):
    axes.figure.canvas.draw()
    ticks = axes.get_xticklabels() if axis == "x" else axes.get_yticklabels()
    return [t.get_text().replace("\u2212", "-") for t in ticks if t.get_text()]


def test_year_ticks_are_integers(panel):
    figure = trends_by_region_figure(panel)
    for axes in figure.axes:
        labels = _tick_texts(axes)
        assert labels, "no year ticks drawn"
        assert all(label.isdigit() and len(label) == 4 for label in labels), labels


def test_key_terms_one_panel_per_term_in_paper_order(outputs):
    figure = key_terms_figure(outputs.comparison, our_ci=outputs.estimates)
    terms_present = [t for t in KEY_TERMS if (outputs.comparison["term"] == t).any()]
    assert len(figure.axes) == len(terms_present) == 2
    for axes, term in zip(figure.axes, terms_present):
        display = outputs.comparison.loc[outputs.comparison["term"] == term, "term_display"].iloc[0]
        assert axes.get_title().startswith(display)
        models = list(outputs.comparison.loc[outputs.comparison["term"] == term, "model_id"].astype(str))
        labels = _tick_texts(axes, "y")  # as set: top-down, the paper's order
        expected = [f"Model {m}" if m.isdigit() else m for m in paper_order(models)]
        assert labels == expected
        # two series per panel: the published estimates and ours
        assert len(axes.containers) == 2


def test_every_term_has_its_own_axis(outputs):
    figure = all_terms_figure(outputs.comparison, our_ci=outputs.estimates)
    visible = [axes for axes in figure.axes if axes.get_visible()]
    terms = set(outputs.comparison.query("term != 'const'")["term"])
    assert len(visible) == len(terms)
    assert visible[0].get_title() == "IC"  # the key terms come first


def test_mediation_paths_per_mediator(outputs):
    figure = mediation_figure(outputs.mediation)
    assert len(figure.axes) == len(outputs.mediation)
    for axes, mediator in zip(figure.axes, outputs.mediation["mediator"]):
        assert axes.get_title().startswith(f"M = {mediator.upper()}")
        assert _tick_texts(axes, "y")[0].startswith("a:")


def test_paper_order_sorts_numbers_numerically():
    assert paper_order(["10", "2", "protectionism", "1", "6tv", "11"]) == ["1", "2", "10", "11", "protectionism",
                                                                          "6tv"]


def test_outputs_written_as_png_and_svg(outputs, tmp_path):
    written = {path.name for path in outputs.write_outputs(tmp_path)}
    for stem in ("key_terms_vs_published", "coefficients_vs_published", "mediation_paths"):
        assert f"{stem}.png" in written
        assert (tmp_path / f"{stem}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert (tmp_path / f"{stem}.svg").read_text(encoding="utf-8").lstrip().startswith("<?xml")


# Where each marker sits: a figure that drew ours at the published value (or the reverse) looks
# the same to a count of artists, so these read the drawn points back.

def _series(axes, label):
    """The (x, y) points of the errorbar series called `label`, and its x-interval ends by y."""
    found = [c for c in axes.containers if c.get_label() == label]
    assert len(found) == 1, [c.get_label() for c in axes.containers]
    data_line, _, bar_lines = found[0].lines
    points = np.column_stack(data_line.get_data()).astype(float)
    segments = [segment for segment in bar_lines[0].get_segments() if len(segment)] if bar_lines else []
    return points, {round(float(segment[0][1]), 9): (float(segment[0][0]), float(segment[1][0]))
                    for segment in segments}


def _row_label(axes, y):
    """The y tick label nearest a point (ours and the published sit either side of it)."""
    ticks = axes.get_yticks()
    labels = [t.get_text() for t in axes.get_yticklabels()]
    return labels[int(abs(ticks - y).argmin())]


def _assert_terms_at_their_values(figure, comparison):
    checked = 0
    for axes in figure.axes:
        if not axes.get_visible():
            continue
        display = axes.get_title().split(":")[0]
        rows = comparison[comparison["term_display"] == display]
        by_model = {f"Model {m}" if str(m).isdigit() else str(m): row for m, row in
                    zip(rows["model_id"].astype(str), rows.to_dict("records"))}
        for label, column, offset in (("ours", "estimate", -0.15), ("published", "published_coef", 0.15)):
            points, _ = _series(axes, label)
            for x, y in points:
                row = by_model[_row_label(axes, y)]
                assert y - round(y) == pytest.approx(offset)  # on its side of the model's row
                if np.isnan(row[column]):
                    assert np.isnan(x)
                else:
                    assert x == pytest.approx(row[column]), (display, label, row["model_id"])
                    checked += 1
    assert checked >= 2 * len(figure.axes)


def test_key_terms_markers_sit_at_ours_and_the_published(outputs):
    figure = key_terms_figure(outputs.comparison, our_ci=outputs.estimates)
    _assert_terms_at_their_values(figure, outputs.comparison)


def test_every_terms_markers_sit_at_ours_and_the_published(outputs):
    figure = all_terms_figure(outputs.comparison, our_ci=outputs.estimates)
    _assert_terms_at_their_values(figure, outputs.comparison)


def test_our_interval_is_the_estimates_interval(outputs):
    figure = key_terms_figure(outputs.comparison, our_ci=outputs.estimates)
    ic = outputs.estimates.query("term == 'ic'").set_index("model_id")
    points, ends = _series(figure.axes[0], "ours")
    for x, y in points[~np.isnan(points[:, 0])]:  # Model 6's IC: static FMA, nothing to fit
        model = _row_label(figure.axes[0], y).removeprefix("Model ")
        assert (x, *ends[round(y, 9)]) == pytest.approx(tuple(ic.loc[model, ["estimate", "ci_low", "ci_high"]]))


def test_mediation_markers_sit_at_ours_and_the_papers(outputs):
    """Ours (a, b, c, c′ and a×b with its bootstrap interval) at analysis.mediation's numbers;
    the paper's at Table 4's a, b, c′ and the product of its a and b."""
    from analysis.compare import load_published

    published = load_published().coefficients.set_index(["model_id", "term"])["coef"]
    paper = {"te": {"a: IC → M": published["8", "ic"], "b: M → TU": published["9", "te"],
                    "c′: IC → TU (direct)": published["9", "ic"],
                    "a×b: indirect": published["8", "ic"] * published["9", "te"]}}
    figure = mediation_figure(outputs.mediation)
    rows = outputs.mediation.set_index("mediator")
    te_axes = next(axes for axes in figure.axes if axes.get_title().startswith("M = TE"))
    te = rows.loc["te"]
    ours = {"a: IC → M": te["a"], "b: M → TU": te["b"], "c: IC → TU (total)": te["c"],
            "c′: IC → TU (direct)": te["c_prime"], "a×b: indirect": te["indirect_ab"]}
    points, ends = _series(te_axes, "ours")
    seen = {_row_label(te_axes, y): (x, *ends[round(y, 9)]) for x, y in points}
    assert set(seen) == set(ours)
    for label, value in ours.items():
        assert seen[label][0] == pytest.approx(value), label
    assert seen["a×b: indirect"][1:] == pytest.approx(
        (te["boot_ci_low_percentile"], te["boot_ci_high_percentile"]))
    paper_points, _ = _series(te_axes, "paper")
    drawn = {_row_label(te_axes, y): x for x, y in paper_points}
    assert drawn == pytest.approx(paper["te"])  # the paper prints no c
    assert "partial mediation" in te_axes.get_title() or te["verdict"].split(" (")[0] in te_axes.get_title()
    assert "paper: mediation" in te_axes.get_title()


def test_mediation_panel_says_when_a_is_not_identified(outputs):
    figure = mediation_figure(outputs.mediation)
    fma_axes = next(axes for axes in figure.axes if axes.get_title().startswith("M = FMA ("))
    assert "not identified" in fma_axes.get_title()
    points, _ = _series(fma_axes, "ours")
    assert [_row_label(fma_axes, y) for _, y in points] == ["c: IC → TU (total)"]  # c needs no FMA


def test_mediation_panel_says_when_a_mediator_is_not_estimable(outputs):
    """A partial edition: one mediator's equations lack an input; its panel says so, not
    'not identified', and the others are drawn as usual."""
    mediation = outputs.mediation.copy()
    ks = mediation.index[mediation["mediator"] == "ks"][0]
    mediation.loc[ks, mediation.columns.drop(["mediator", "verdict"])] = np.nan
    mediation.loc[ks, "verdict"] = "not estimable: FDI: fdi_actual has no observations for 2001-2009"
    figure = mediation_figure(mediation)
    ks_axes = next(axes for axes in figure.axes if axes.get_title().startswith("M = KS"))
    assert "not estimable" in ks_axes.get_title() and "not identified" not in ks_axes.get_title()
    assert [c.get_label() for c in ks_axes.containers] == ["paper"]  # the paper's figures only


def _texts(axes) -> list[str]:
    return [text.get_text() for text in axes.texts]


def _partial(panel):
    """What a partial edition set gives (tests/real_editions.py): TU null everywhere, IC only
    in the last year."""
    partial = panel.copy()
    partial["tu"] = float("nan")
    partial.loc[partial["year"] < partial["year"].max(), "ic"] = float("nan")
    return partial


def test_trends_on_a_partial_panel_stay_on_its_years_and_say_no_data(panel):
    first, last = int(panel["year"].min()), int(panel["year"].max())
    figure = trends_by_region_figure(_partial(panel))
    ic_axes, tu_axes = figure.axes
    for axes in (ic_axes, tu_axes):
        low, high = axes.get_xlim()
        assert first <= low < high <= last, (axes.get_title(), low, high)  # never 1925-2125
        shown = [tick for tick in axes.get_xticks() if low <= tick <= high]  # the years drawn
        assert shown and all(float(tick).is_integer() for tick in shown), shown
    assert _texts(tu_axes) == [f"no data: TU has no value in {first}-{last}"]
    assert tu_axes.get_legend() is None  # no legend of lines that are not there
    # one year of IC: drawn, but said to be no trend
    assert _texts(ic_axes) == [f"no data for a trend: IC has values in {last} only"]
    drawn = {int(x) for line in ic_axes.get_lines() for x, y in zip(line.get_xdata(), line.get_ydata())
             if not math.isnan(y)}  # a NaN is not drawn
    assert drawn == {last}


def test_trend_lines_are_the_regions_means_by_year(panel):
    """Each region's line is the mean over its provinces, year by year, of the variable its
    panel names, read back from the drawn lines (a line of another variable or region, or a
    sum instead of a mean, would fail)."""
    figure = trends_by_region_figure(panel)
    for axes, variable in zip(figure.axes, ("ic", "tu")):
        assert axes.get_title().startswith(f"{variable.upper()} by region")
        drawn = {line.get_label(): dict(zip(line.get_xdata(), line.get_ydata())) for line in axes.get_lines()}
        regions = sorted(panel["region"].unique())
        assert sorted(drawn) == regions
        for region in regions:
            rows = panel[panel["region"] == region]
            means = {year: rows.loc[rows["year"] == year, variable].sum() / (rows["year"] == year).sum()
                     for year in sorted(rows["year"].unique())}
            assert list(drawn[region]) == list(means), region
            assert list(drawn[region].values()) == pytest.approx(list(means.values()), rel=1e-12), region


def test_trends_with_values_say_nothing_is_missing(panel):
    figure = trends_by_region_figure(panel)
    assert all(not _texts(axes) for axes in figure.axes)
    assert all(axes.get_xlim() == (panel["year"].min(), panel["year"].max()) for axes in figure.axes)


def test_trends_of_an_empty_panel_say_no_data(panel):
    figure = trends_by_region_figure(panel.iloc[0:0])
    assert [_texts(axes) for axes in figure.axes] == [["no data: IC has no value in the panel"],
                                                       ["no data: TU has no value in the panel"]]


def test_each_plot_has_a_one_column_copy_as_wide_as_the_ui_column(outputs, panel, tmp_path):
    from ui_helpers import png_size

    from analysis.plots import NARROW_WIDTH_PX, _one_column, narrow_path, plot_trends_by_region

    written = [path for path in outputs.write_outputs(tmp_path) if path.suffix == ".png"]
    written.append(plot_trends_by_region(_partial(panel), tmp_path / "ic_tu_by_region.png"))
    for png in written:
        assert png_size(narrow_path(png))[0] == NARROW_WIDTH_PX, png.name
    # side by side panels are stacked: one left edge, one below the other, each its own width
    figure = key_terms_figure(outputs.comparison, our_ci=outputs.estimates)
    width = figure.get_figwidth() / 2
    assert _one_column(figure) == width and figure.get_figwidth() == width
    boxes = [axes.get_position() for axes in figure.axes]
    assert len({round(box.x0, 6) for box in boxes}) == 1 and boxes[0].y0 > boxes[1].y1
