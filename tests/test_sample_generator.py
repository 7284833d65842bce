"""The synthetic sample generator: deterministic bytes, complete manifests, realistic gaps,
and two editions that disagree on history exactly where a census revision would.

The files are read here with plain Python and openpyxl (not with provpanel's readers), so
these tests say what the files contain, independently of the code that ingests them.
"""

from __future__ import annotations

import csv
import hashlib
import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import openpyxl
import pytest
import yaml

from provpanel.config import REPO_ROOT, SAMPLE_EDITIONS_DIR

SCRIPT = REPO_ROOT / "scripts" / "generate_sample.py"
EDITIONS = ("csy2021", "csy2022")

sys.path.insert(0, str(SCRIPT.parent))
import synthetic_sample as generator

ZH_FULL = {p.name_zh: p.code for p in generator.PROVINCES}
ZH_SHORT = {p.short_zh: p.code for p in generator.PROVINCES}
EN = {p.name_en: p.code for p in generator.PROVINCES} | {"Yunan": "53"}
PROVINCE_NAMES = ZH_FULL | ZH_SHORT | EN


def tree_digest(root: Path) -> dict[str, str]:
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("editions")
    completed = subprocess.run(
        [sys.executable, str(SCRIPT), "--out", str(out)],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 0, completed.stderr
    return out


# --- reading the files back, plainly ----------------------------------------------------


def decode(path: Path) -> str:
    data = path.read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("gb18030")


def text_grid(path: Path) -> list[list[str]]:
    """CSV rows with the portal's tab padding and quoting removed."""
    rows = csv.reader(io.StringIO(decode(path)))
    return [[cell.strip("\t ").strip() for cell in row] for row in rows]


def province_year_cells(path: Path) -> dict[tuple[str, int], str]:
    """(province code, year) -> cell text of a one-indicator province-by-year text file.

    Handles provinces in rows (years in the header) and the transposed layout. The
    national row is left out.
    """
    grid = text_grid(path)
    header = next(row for row in grid if row and row[0] in ("地区", "Region", "时间"))
    cells: dict[tuple[str, int], str] = {}
    if header[0] == "时间":  # transposed: years in rows
        codes = [PROVINCE_NAMES[name] for name in header[1:]]
        for row in grid:
            if row and row[0].endswith("年") and row[0][:4].isdigit():
                for code, text in zip(codes, row[1:]):
                    cells[(code, int(row[0][:4]))] = text
        return cells
    years = [int(label.rstrip("年")) for label in header[1:] if label]
    for row in grid:
        if row and row[0] in PROVINCE_NAMES:
            for year, text in zip(years, row[1:]):
                cells[(PROVINCE_NAMES[row[0]], year)] = text
    return cells


def national_row(path: Path) -> dict[int, str]:
    grid = text_grid(path)
    header = next(row for row in grid if row and row[0] == "地区")
    row = next(row for row in grid if row and row[0] == "全国")
    return {int(label.rstrip("年")): text for label, text in zip(header[1:], row[1:]) if label}


def tidy_cells(path: Path) -> dict[tuple[str, str, int], str]:
    """(indicator, province code or '00', year) -> value text."""
    rows = list(csv.DictReader(io.StringIO(decode(path))))
    assert rows and list(rows[0]) == ["province", "year", "indicator", "value", "unit"]
    return {
        (
            r["indicator"],
            ZH_SHORT.get(r["province"], "00" if r["province"] == "全国" else "?"),
            int(r["year"]),
        ): r["value"]
        for r in rows
    }


def cross_section_cells(path: Path) -> dict[str, dict[str, str]]:
    """column header -> province code -> cell text."""
    grid = text_grid(path)
    header = next(row for row in grid if row and row[0] == "地区")
    out: dict[str, dict[str, str]] = {h: {} for h in header[1:] if h}
    for row in grid:
        if row and row[0] in ZH_FULL:
            for label, text in zip(header[1:], row[1:]):
                if label:
                    out[label][ZH_FULL[row[0]]] = text
    return out


def is_cross_section(path: Path) -> bool:
    header = next((row for row in text_grid(path) if row and row[0] == "地区"), None)
    return header is not None and " (" in header[1]


def workbook_blocks(path: Path) -> dict[str, list[dict[tuple[str, int], object]]]:
    """sheet -> blocks; each block maps (province code, year) -> cell value."""
    wb = openpyxl.load_workbook(path)
    result = {}
    for ws in wb.worksheets:
        blocks, current, years = [], None, None
        for row in ws.iter_rows(values_only=True):
            first = row[0]
            if first in EN:
                for year, value in zip(years, row[1:]):
                    current[(EN[first], year)] = value
            elif row[1:] and isinstance(row[1], int):  # a header row: unit, then years
                years = list(row[1:])
                current = {}
                blocks.append(current)
        result[ws.title] = blocks
    return result


def edition_cells(folder: Path) -> list[str]:
    """Every province-year cell of the model inputs in one edition, as text ('' = empty).

    Columns that are empty for every province (a year shown but not yet published) are not
    cells of the data and are left out; so are national rows and the exchange rate.
    """
    manifest = yaml.safe_load((folder / "manifest.yml").read_text(encoding="utf-8"))
    texts: list[str] = []

    def keep_published(cells: dict) -> None:
        by_year: dict[int, list[str]] = {}
        for (_, year), text in cells.items():
            by_year.setdefault(year, []).append("" if text is None else str(text))
        for values in by_year.values():
            if any(values):
                texts.extend(values)

    for entry in manifest["files"]:
        path = folder / entry["path"]
        if path.suffix == ".xlsx":
            for blocks in workbook_blocks(path).values():
                for block in blocks:
                    keep_published(block)
        elif "province,year,indicator" in decode(path)[:40]:
            per_indicator: dict[str, dict] = {}
            for (indicator, code, year), text in tidy_cells(path).items():
                if indicator != "exchange_rate":
                    per_indicator.setdefault(indicator, {})[(code, year)] = text
            for cells in per_indicator.values():
                keep_published(cells)
        elif is_cross_section(path):
            for column in cross_section_cells(path).values():
                keep_published({(code, 0): text for code, text in column.items()})
        else:
            keep_published(province_year_cells(path))
    return texts


# --- tests -----------------------------------------------------------------------------


def test_generator_is_deterministic_and_matches_the_committed_sample(generated, tmp_path):
    second = tmp_path / "second"
    completed = subprocess.run(
        [sys.executable, str(SCRIPT), "--out", str(second)],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 0, completed.stderr
    first_tree = tree_digest(generated)
    assert first_tree == tree_digest(second)
    committed = {
        name: digest
        for name, digest in tree_digest(SAMPLE_EDITIONS_DIR).items()
        if name.split("/")[0] in EDITIONS
    }
    assert committed == first_tree, (
        "data/editions/ differs from the generator's output: run scripts/generate_sample.py"
    )


def test_rerun_replaces_stale_files_in_an_edition_folder(tmp_path):
    out = tmp_path / "editions"
    generator.write_editions(generator.build_editions(), out)
    (out / "csy2021" / "stale.csv").write_text("old download\n")
    (out / "keep.txt").write_text("not ours\n")
    generator.write_editions(generator.build_editions(), out)
    assert not (out / "csy2021" / "stale.csv").exists()
    assert (out / "keep.txt").exists()


def test_unwritable_output_is_a_message_not_a_traceback(tmp_path):
    not_a_folder = tmp_path / "editions"
    not_a_folder.write_text("a file where the folder should be\n")
    completed = subprocess.run(
        [sys.executable, str(SCRIPT), "--out", str(not_a_folder)],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 2
    assert str(not_a_folder) in completed.stderr and "Traceback" not in completed.stderr


@pytest.mark.parametrize("edition", EDITIONS)
def test_manifest_lists_exactly_the_files_of_its_folder(generated, edition):
    folder = generated / edition
    manifest = yaml.safe_load((folder / "manifest.yml").read_text(encoding="utf-8"))
    listed = [entry["path"] for entry in manifest["files"]]
    on_disk = sorted(p.name for p in folder.iterdir() if p.name != "manifest.yml")
    assert sorted(listed) == on_disk
    assert len(set(listed)) == len(listed)
    assert manifest["edition"] == edition
    assert {"title", "published", "source", "notes"} <= set(manifest)
    assert "SYNTHETIC" in manifest["title"] and "SYNTHETIC" in manifest["notes"]
    catalog = {
        line.split(",")[0]
        for line in (REPO_ROOT / "dbt_project/seeds/indicator_catalog.csv")
        .read_text()
        .splitlines()[1:]
    }
    for entry in manifest["files"]:
        assert entry.get("indicator", "gdp") in catalog
        for sheet in entry.get("sheets", {}).values():
            assert sheet.get("indicator", "gdp") in catalog


def test_manifest_dates_order_the_editions(generated):
    published = [
        yaml.safe_load((generated / e / "manifest.yml").read_text(encoding="utf-8"))["published"]
        for e in EDITIONS
    ]
    assert str(published[0]) == "2021-12-31" and str(published[1]) == "2022-12-31"


@pytest.mark.parametrize("edition", EDITIONS)
def test_share_of_empty_cells_is_at_least_three_percent(generated, edition):
    texts = edition_cells(generated / edition)
    empty = sum(1 for t in texts if t == "")
    assert len(texts) > 500
    assert empty / len(texts) >= 0.03, f"{edition}: {empty}/{len(texts)} empty"
    assert empty / len(texts) < 0.08


def test_missing_cells_come_in_short_runs_and_never_empty_a_series():
    rng = np.random.default_rng(1)
    mask = generator.draw_missing_cells(2000, 21, rng, 0.04)
    assert 0.03 < mask.mean() < 0.05
    for row in mask:
        assert not row.all()
        assert generator.longest_run(row) <= 3
    assert mask[:, 0].any() and mask[:, -1].any()  # edges, not only the interior
    assert mask[:, 1:-1].any()


def test_classic_export_bytes_follow_the_portal_style(generated):
    raw = (generated / "csy2021" / "分省年度数据.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    text = raw.decode("gb18030")
    lines = text.split("\n")
    assert lines[:3] == ["数据库：分省年度数据", "指标：地区生产总值(亿元)", "时间：2001-2020"]
    assert lines[3].startswith("地区,2020年,2019年,") and lines[3].endswith(",2001年")
    assert lines[4].startswith("全国,") and lines[5].startswith("北京市,")
    assert '"注：' in text and "合成样本" in text and text.endswith("数据来源：国家统计局\n")
    assert b"\r\n" in (generated / "csy2021" / "分省年度数据 (1).csv").read_bytes()


def test_current_export_bytes_follow_the_portal_style(generated):
    raw = (generated / "csy2021" / "分省年度数据 (3).csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw[3:].decode("utf-8")
    lines = text.split("\n")
    assert lines[0] == "数据库：分省年度数据 " and lines[1] == "时间：2001年-2021年 "
    assert not any(line.startswith("指标") for line in lines)
    assert lines[2].startswith("地区\t,2021年\t,2020年\t,") and lines[2].endswith("\t,")
    assert lines[3].startswith("北京市\t,\t,")  # 2021 not yet published
    assert text.endswith("数据来源：国家统计局")


def test_workbook_has_english_names_a_typo_and_stacked_blocks(generated):
    path = generated / "csy2021" / "provincial_indicators_2001-2020.xlsx"
    wb = openpyxl.load_workbook(path)
    assert "internet users " in wb.sheetnames
    names = [row[0].value for row in wb["FDI"].iter_rows(min_row=2, max_col=1)]
    assert "Yunan" in names and "Inner Mongolia" in names and "Yunnan" not in names
    blocks = workbook_blocks(path)
    assert len(blocks["freight"]) == 2 and all(len(b) == 31 * 20 for b in blocks["freight"])
    titles = [
        c.value for c in wb["freight"]["A"] if isinstance(c.value, str) and "(万吨)" in c.value
    ]
    assert titles == ["公路货运量 (万吨)", "水运货运量 (万吨)"]
    assert "SYNTHETIC" in wb.properties.title


def test_national_rows_are_within_one_percent_of_the_province_sum(generated):
    checked = 0
    for edition, name in [
        ("csy2021", "分省年度数据.csv"),
        ("csy2021", "分省年度数据 (1).csv"),
        ("csy2021", "分省年度数据 (2).csv"),
        ("csy2022", "分省年度数据.csv"),
    ]:
        path = generated / edition / name
        cells = province_year_cells(path)
        for year, total in national_row(path).items():
            column = [cells[(p.code, year)] for p in generator.PROVINCES]
            if all(column):
                ratio = float(total) / sum(float(v) for v in column)
                assert abs(ratio - 1) < 0.01, (path, year, ratio)
                checked += 1
    assert checked >= 5


def test_education_counts_are_per_mille_sample_counts(generated):
    cells = tidy_cells(generated / "csy2021" / "compiled_panel_long.csv")
    totals: dict[tuple[str, int], float] = {}
    for (indicator, code, year), text in cells.items():
        if indicator.startswith("edu_") and text:
            totals[(code, year)] = totals.get((code, year), 0) + float(text)
    guangdong_2020 = totals[("44", 2020)]
    tibet_2020 = totals[("54", 2020)]
    assert 60_000 < guangdong_2020 < 160_000  # 1 per mille of about 110 million
    assert 1_000 < tibet_2020 < 6_000
    assert np.median(list(totals.values())) > 10_000


def test_editions_disagree_on_history_where_a_census_revises_it(generated):
    first = province_year_cells(generated / "csy2021" / "分省年度数据.csv")
    later = province_year_cells(generated / "csy2022" / "分省年度数据.csv")
    changes = [
        float(later[key]) / float(first[key]) - 1
        for key in later
        if key in first and first[key] and later[key]
    ]
    assert len(changes) >= 100
    assert all(0.004 <= c <= 0.041 for c in changes)  # +0.5 % to +4 %, after rounding

    revised_va = tidy_cells(generated / "csy2022" / "provincial_panel_long.csv")
    va_tertiary_first = province_year_cells(generated / "csy2021" / "分省年度数据 (8).csv")
    differing_va = sum(
        1
        for (indicator, code, year), text in revised_va.items()
        if indicator == "va_tertiary"
        and year <= 2020
        and text
        and va_tertiary_first[(code, year)]
        and float(text) != float(va_tertiary_first[(code, year)])
    )
    assert differing_va >= 100

    population_2021 = province_year_cells(generated / "csy2021" / "分省年度数据 (2).csv")
    population_2022 = province_year_cells(generated / "csy2022" / "分省年度数据 (3).csv")
    differing_population = sum(
        1
        for p in generator.PROVINCES
        if population_2021[(p.code, 2020)]
        and population_2022[(p.code, 2020)]
        and population_2021[(p.code, 2020)] != population_2022[(p.code, 2020)]
    )
    assert differing_population >= 15
    assert len(changes) + differing_va + differing_population >= 200


def test_trade_repeated_in_another_unit_is_unchanged(generated):
    thousand_usd = province_year_cells(generated / "csy2021" / "分省年度数据 (9).csv")
    ten_thousand_usd = province_year_cells(generated / "csy2022" / "分省年度数据 (8).csv")
    compared = 0
    for (code, year), text in ten_thousand_usd.items():
        if year <= 2020 and text and thousand_usd[(code, year)]:
            assert float(text) * 10 == pytest.approx(float(thousand_usd[(code, year)]), abs=1e-6)
            compared += 1
    assert compared >= 50


def test_every_indicator_appears_once_per_edition(generated):
    catalog = [
        line.split(",")[0]
        for line in (REPO_ROOT / "dbt_project/seeds/indicator_catalog.csv")
        .read_text()
        .splitlines()[1:]
    ]
    for edition in EDITIONS:
        seen = generator_indicator_files(generated / edition)
        assert sorted(seen) == sorted(catalog), edition
        assert all(len(files) == 1 for files in seen.values()), edition


def generator_indicator_files(folder: Path) -> dict[str, list[str]]:
    """indicator -> files holding it, from what each file or its manifest entry says."""
    manifest = yaml.safe_load((folder / "manifest.yml").read_text(encoding="utf-8"))
    name_to_code = {name: code for code, name in generator.NAME_ZH.items()}
    seen: dict[str, list[str]] = {}
    for entry in manifest["files"]:
        path = folder / entry["path"]
        codes: set[str] = set()
        if "indicator" in entry:
            codes.add(entry["indicator"])
        for sheet in entry.get("sheets", {}).values():
            if "indicator" in sheet:
                codes.add(sheet["indicator"])
        if path.suffix == ".xlsx":
            wb = openpyxl.load_workbook(path)
            for cell in wb["freight"]["A"]:
                if isinstance(cell.value, str) and " (" in cell.value:
                    codes.add(name_to_code[cell.value.split(" (")[0]])
        else:
            text = decode(path)
            for line in text.splitlines():
                line = line.strip('"')
                if line.startswith("指标："):
                    codes.add(name_to_code[line[3:].rsplit("(", 1)[0]])
            if text.startswith("province,year,indicator"):
                codes |= {key[0] for key in tidy_cells(path)}
            if is_cross_section(path):
                codes |= {name_to_code[h.split(" (")[0]] for h in cross_section_cells(path)}
        for code in codes:
            seen.setdefault(code, []).append(entry["path"])
    return seen


def test_an_editions_row_that_does_not_fit_its_format_family_is_refused():
    from synthetic_sample.editions import Column, SampleFile, Sheet

    gdp = Column("gdp", "亿元", 2, (2020,))
    with pytest.raises(ValueError, match="x.csv: a classic export holds exactly one indicator"):
        SampleFile("x.csv", "classic", (gdp, gdp))
    with pytest.raises(ValueError, match="x.csv: unknown format family 'xls'"):
        SampleFile("x.csv", "xls", (gdp,))
    with pytest.raises(ValueError, match="x.xlsx: a workbook has sheets"):
        SampleFile("x.xlsx", "workbook", (gdp,))
    with pytest.raises(ValueError, match="sheet 'freight': stacked blocks need notes"):
        Sheet("freight", (gdp, gdp))
