"""Figures that answer the question: integer years, one panel per key term in the paper's
order, every term on its own scale, the mediation paths; each written as PNG and SVG."""

from __future__ import annotations

import math

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
