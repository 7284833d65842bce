"""A corpus of broken downloads and manifests, made from the bundled sample editions.

Each `BrokenInput` takes a copy of one sample edition folder and breaks exactly one thing in
it; the pipeline must then refuse the edition with one line that names the file, the place
(line/column, sheet and cell, or manifest key) and what was expected. Nothing binary is
committed: every broken file is derived here from the sample files.

    editions = copy_sample_editions(tmp_path / "editions")
    case = CASES_BY_NAME["unknown_province"]
    case.apply(editions)           # breaks editions/<case.edition>/...
    case.expected_file(editions)   # how the message names the broken file
"""

from __future__ import annotations

import random
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

from provpanel.config import SAMPLE_EDITIONS_DIR

SAMPLE_EDITIONS = ("csy2021", "csy2022")
MANIFEST = "manifest.yml"

# Names that a shell, YAML or an f-string could mangle: spaces, both quotes, Chinese.
AWKWARD_FILE_NAME = """专利 "授权" 'data' 数据 (4).csv"""
AWKWARD_EDITIONS_ROOT = """年鉴 "editions" it's here"""


def copy_sample_editions(target: Path) -> Path:
    """A fresh copy of the sample editions folder (both editions) at `target`."""
    target.mkdir(parents=True, exist_ok=True)
    for edition in SAMPLE_EDITIONS:
        shutil.copytree(SAMPLE_EDITIONS_DIR / edition, target / edition)
    return target


# ---------------------------------------------------------------- small editing helpers


def _edit_text(path: Path, encoding: str, change: Callable[[str], str]) -> None:
    """Rewrite a text file in its own encoding (BOM and line ends kept as they are)."""
    text = path.read_bytes().decode(encoding)
    changed = change(text)
    assert changed != text, f"{path}: the change did not apply"
    path.write_bytes(changed.encode(encoding))


def _replace_once(old: str, new: str) -> Callable[[str], str]:
    def change(text: str) -> str:
        assert text.count(old) >= 1, f"{old!r} not in the sample file"
        return text.replace(old, new, 1)

    return change


def _edit_lines(change: Callable[[list[str]], None]) -> Callable[[str], str]:
    """Edit a file's lines in place, keeping each line's own ending."""

    def edit(text: str) -> str:
        lines = text.splitlines(keepends=True)
        change(lines)
        return "".join(lines)

    return edit


def _load_manifest(folder: Path) -> dict:
    return yaml.safe_load((folder / MANIFEST).read_text(encoding="utf-8"))


def _dump_manifest(folder: Path, data: dict) -> None:
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1000)
    (folder / MANIFEST).write_text(text, encoding="utf-8")


def _manifest_entry(data: dict, path: str) -> dict:
    return next(entry for entry in data["files"] if entry["path"] == path)


def _edit_manifest(change: Callable[[dict], None]) -> Callable[[Path], None]:
    def apply(folder: Path) -> None:
        data = _load_manifest(folder)
        change(data)
        _dump_manifest(folder, data)

    return apply


def _edit_manifest_text(change: Callable[[str], str]) -> Callable[[Path], None]:
    return lambda folder: _edit_text(folder / MANIFEST, "utf-8", change)


def _edit_file(name: str, encoding: str, change: Callable[[str], str]) -> Callable[[Path], None]:
    return lambda folder: _edit_text(folder / name, encoding, change)


def _rename_data_file(folder: Path, old: str, new: str) -> None:
    (folder / old).rename(folder / new)
    data = _load_manifest(folder)
    _manifest_entry(data, old)["path"] = new
    _dump_manifest(folder, data)


# ---------------------------------------------------------------- the breakages


# Most cases break csy2021: it is ingested first, so the build fails at once (fast). A few
# break csy2022, so that a failure after a good (unchanged) edition is covered too.
GDP_2021 = "分省年度数据.csv"  # classic GB18030 export: 指标 line, 全国 row, 20 years
VA_PRIMARY_2021 = "分省年度数据 (6).csv"  # classic GB18030 export
PATENTS_2021 = "分省年度数据 (3).csv"  # UTF-8 current export, no 指标 line
TRADE_2021 = "分省年度数据 (9).csv"  # transposed GB18030, quoted padded cells
TIDY_2021 = "compiled_panel_long.csv"
WORKBOOK_2021 = "provincial_indicators_2001-2020.xlsx"
GDP_2022 = "分省年度数据.csv"  # classic GB18030 export, CRLF
FDI_2022 = "分省年度数据 (9).csv"  # classic GB18030 export, one year
EDUCATION_2022 = "分省年度数据 (1).csv"  # UTF-8 cross-section, units in the headers


def _mojibake(folder: Path) -> None:
    # GB18030 bytes taken for Latin-1 and saved as UTF-8: what a wrong "Save as" produces
    path = folder / GDP_2021
    path.write_bytes(path.read_bytes().decode("latin-1").encode("utf-8"))


def _invalid_utf8(folder: Path) -> None:
    path = folder / PATENTS_2021
    data = path.read_bytes()
    line_start = data.index("天津市".encode())  # line 5: 数据库, 时间, header, 北京市, 天津市
    path.write_bytes(data[:line_start] + b"\xff\xfe" + data[line_start:])


def _binary_garbage(folder: Path) -> None:
    (folder / VA_PRIMARY_2021).write_bytes(random.Random(20211231).randbytes(4096))


def _empty(folder: Path) -> None:
    (folder / VA_PRIMARY_2021).write_bytes(b"")


def _truncated_xlsx(folder: Path) -> None:
    path = folder / WORKBOOK_2021
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _html_as_workbook(folder: Path) -> None:
    # the portal's "Excel" download is sometimes a web page saved under a workbook's name
    page = "<html><head><meta charset='utf-8'><title>分省年度数据</title></head><body><table>\n"
    page += "<tr><td>地区</td><td>2020年</td></tr><tr><td>北京市</td><td>36102.6</td></tr>\n"
    page += "</table></body></html>\n"
    (folder / WORKBOOK_2021).write_bytes(page.encode("utf-8"))


def _short_row(lines: list[str]) -> None:
    # line 7 is 天津市: drop its last field (the 2017 value), keep its line ending
    body, ending = lines[6].rstrip("\r\n"), lines[6][len(lines[6].rstrip("\r\n")) :]
    lines[6] = body.rsplit(",", 1)[0] + ending


def _broken_workbook_cell(folder: Path) -> None:
    import openpyxl

    path = folder / WORKBOOK_2021
    book = openpyxl.load_workbook(path)
    book["internet users "]["D4"] = "64.1 (est.)"  # Hebei, 2003
    book.save(path)


def _awkward_file_with_bad_cell(folder: Path) -> None:
    _rename_data_file(folder, PATENTS_2021, AWKWARD_FILE_NAME)
    _edit_text(folder / AWKWARD_FILE_NAME, "utf-8-sig", _replace_once("\t,112961\t,", "\t,112 961\t,"))


def _awkward_file_unknown_province(folder: Path) -> None:
    _rename_data_file(folder, PATENTS_2021, AWKWARD_FILE_NAME)
    _edit_text(folder / AWKWARD_FILE_NAME, "utf-8-sig", _replace_once("河北省\t,", "河北道\t,"))


def _unlisted_file(folder: Path) -> None:
    shutil.copyfile(folder / VA_PRIMARY_2021, folder / "分省年度数据 (12).csv")


def _listed_file_missing(folder: Path) -> None:
    (folder / "分省年度数据 (10).csv").unlink()


def _drop_key(key: str) -> Callable[[dict], None]:
    return lambda data: data.pop(key)


def _set_file_key(path: str, key: str, value) -> Callable[[dict], None]:
    def change(data: dict) -> None:
        _manifest_entry(data, path)[key] = value

    return change


# ---------------------------------------------------------------- the record


@dataclass(frozen=True)
class BrokenInput:
    """One broken edition and the message the pipeline must give for it.

    `file` is the broken file inside the edition folder; data files are named
    `<edition>/<file>` in messages, the manifest by its full path. The message must start
    with `<file as named>: <where>: expected ` and contain every phrase of `expected` (what
    was expected) and of `found` (what the file held instead).
    `parse_args` are the extra `provpanel parse` flags for a broken data file (the manifest's
    indicator/unit/sheet); None when the breakage is only visible with the manifest."""

    name: str
    edition: str
    file: str
    where: str
    expected: tuple[str, ...]
    apply_to_edition: Callable[[Path], None]
    parse_args: tuple[str, ...] | None = None
    editions_root: str = "editions"  # folder name of the copied editions (awkward names too)
    found: tuple[str, ...] = ()

    @property
    def is_manifest_case(self) -> bool:
        return self.file == MANIFEST

    def apply(self, editions: Path) -> None:
        self.apply_to_edition(editions / self.edition)

    def expected_file(self, editions: Path) -> str:
        """The file as the build's message must name it."""
        if self.is_manifest_case:
            return str((editions / self.edition / MANIFEST).resolve())
        return f"{self.edition}/{self.file}"

    def expected_prefix(self, editions: Path) -> str:
        return f"{self.expected_file(editions)}: {self.where}: expected "


CASES: tuple[BrokenInput, ...] = (
    # ---- encodings and file-level garbage
    BrokenInput(
        "gb18030_saved_as_latin1_mojibake", "csy2021", GDP_2021, "line 1",
        ("text in UTF-8 or GB18030", "Latin-1"), _mojibake, parse_args=(), found=("数据库",),
    ),
    BrokenInput(
        "utf8_with_invalid_bytes", "csy2021", PATENTS_2021, "line 5, character 1",
        ("UTF-8 text",), _invalid_utf8, parse_args=("--indicator", "patents_granted", "--unit", "件"),
        found=("\\xff",),
    ),
    BrokenInput(
        "binary_garbage", "csy2021", VA_PRIMARY_2021, "whole file",
        ("a text extract (CSV) or a workbook",), _binary_garbage, parse_args=(), found=("binary",),
    ),
    BrokenInput(
        "empty_file", "csy2021", VA_PRIMARY_2021, "whole file", ("a non-empty extract",), _empty,
        parse_args=(), found=("an empty file",),
    ),
    BrokenInput(
        "truncated_xlsx", "csy2021", WORKBOOK_2021, "whole file", ("a readable .xlsx workbook",),
        _truncated_xlsx, parse_args=(), found=("BadZipFile",),
    ),
    BrokenInput(
        "html_page_named_xlsx", "csy2021", WORKBOOK_2021, "whole file",
        ("a text extract (CSV) or a workbook",), _html_as_workbook, parse_args=(),
        found=("HTML",),
    ),
    BrokenInput(
        "unbalanced_quote", "csy2021", TRADE_2021, "line 5", ("well-formed CSV (balanced quotes)",),
        _edit_file(TRADE_2021, "gb18030", _replace_once('"2019年",', '"2019年,')),  # never closed
        parse_args=(),
    ),
    # ---- cells, rows and headers
    BrokenInput(
        "unknown_province", "csy2021", GDP_2021, "line 6, column 1",
        ("a province name from province_aliases.csv",),
        _edit_file(GDP_2021, "gb18030", _replace_once("\n北京市,", "\n北平府,")), parse_args=(),
        found=("'北平府'",),
    ),
    BrokenInput(
        "province_twice_with_different_values", "csy2022", FDI_2022, "line 36, column 2",
        ("one value per province, year and indicator", "line 5, column 2"),
        _edit_file(FDI_2022, "gb18030", _replace_once("新疆维吾尔自治区,4.67\n",
                                                      "新疆维吾尔自治区,4.67\n北京,190.01\n")),
        parse_args=(), found=("'190.01'",),
    ),
    BrokenInput(
        "non_numeric_cell", "csy2021", GDP_2021, "line 6, column 3",
        ("a number without thousands separators",),
        _edit_file(GDP_2021, "gb18030", _replace_once(",35552.21,", ",3.6万,")), parse_args=(),
        found=("'3.6万'",),
    ),
    BrokenInput(
        "unknown_unit_in_header", "csy2022", EDUCATION_2022, "line 3, column 2",
        ("a unit listed in unit_factors.csv",),
        _edit_file(EDUCATION_2022, "utf-8-sig", _replace_once("未上过学人口 (人)", "未上过学人口 (人头)")),
        parse_args=(), found=("'人头'",),
    ),
    BrokenInput(
        "duplicated_year_header", "csy2021", GDP_2021, "line 4, column 4",
        ("each year once in the header", "2019 is already column 3"),
        _edit_file(GDP_2021, "gb18030", _replace_once("2019年,2018年", "2019年,2019年")),
        parse_args=(), found=("'2019年' again",),
    ),
    BrokenInput(
        "unreadable_year_header", "csy2021", GDP_2021, "line 4, column 5",
        ("a year such as 2017 or 2017年",),
        _edit_file(GDP_2021, "gb18030", _replace_once(",2017年,", ",二〇一七年,")), parse_args=(),
        found=("'二〇一七年'",),
    ),
    BrokenInput(
        "short_row", "csy2021", GDP_2021, "line 7", ("21 cells as in the header",),
        _edit_file(GDP_2021, "gb18030", _edit_lines(_short_row)), parse_args=(),
        found=("20 cells (a short row)",),
    ),
    BrokenInput(
        "transposed_blank_province_header", "csy2021", TRADE_2021, "line 3, column 3",
        ("a province name from province_aliases.csv",),
        _edit_file(TRADE_2021, "gb18030", _replace_once('"天津市"', '""')), parse_args=(),
        found=("''",),
    ),
    BrokenInput(
        "tidy_unreadable_year", "csy2021", TIDY_2021, "line 4, column 2",
        ("a year such as 2017 or 2017年",),
        _edit_file(TIDY_2021, "utf-8", _replace_once("北京,2003,edu_none", "北京,2O03,edu_none")),
        parse_args=(), found=("'2O03'",),
    ),
    BrokenInput(
        "workbook_cell_not_a_number", "csy2021", WORKBOOK_2021, "sheet 'internet users ', cell D4",
        ("a number without thousands separators",), _broken_workbook_cell,
        parse_args=("--sheet", "internet users ", "--indicator", "internet_users", "--unit", "万户"),
        found=("'64.1 (est.)'",),
    ),
    # ---- the manifest
    *(
        BrokenInput(
            f"manifest_without_{key}", "csy2021", MANIFEST, f"manifest key {key}",
            ("a value (the key is required)",), _edit_manifest(_drop_key(key)), found=("no such key",),
        )
        for key in ("edition", "title", "published", "source")
    ),
    BrokenInput(
        "manifest_edition_is_not_the_folder", "csy2021", MANIFEST, "manifest key edition",
        ("the folder name 'csy2021'",), _edit_manifest(lambda data: data.update(edition="csy2023")),
        found=("'csy2023'",),
    ),
    BrokenInput(
        "manifest_misses_a_file", "csy2021", MANIFEST, "manifest key files",
        ("every data file of the folder listed",), _unlisted_file,
        found=("'分省年度数据 (12).csv' not listed",),
    ),
    BrokenInput(
        "manifest_lists_a_missing_file", "csy2022", MANIFEST, "manifest key files[4].path",
        ("a file that exists in the edition folder",), _listed_file_missing,
        found=("'分省年度数据 (10).csv' missing",),
    ),
    BrokenInput(
        "manifest_unknown_indicator_code", "csy2021", MANIFEST, "manifest key files[6].indicator",
        ("a catalog indicator code",),
        _edit_manifest(_set_file_key(PATENTS_2021, "indicator", "patents_grant")),
        found=("'patents_grant'",),
    ),
    BrokenInput(
        "manifest_invalid_date", "csy2021", MANIFEST, "manifest key published",
        ("an ISO date such as 2022-12-20",),
        _edit_manifest_text(_replace_once("published: 2021-12-31", "published: 2021-02-30")),
        found=("2021-02-30",),
    ),
    BrokenInput(
        "manifest_yaml_syntax_error", "csy2022", MANIFEST, "line 16, column 8", ("valid YAML",),
        _edit_manifest_text(_replace_once("  unit: 万美元\n  years: [2021, 2021]",
                                          "  unit: 万美元\n  years: [2021, 2021\n")),
        found=("flow sequence at line 14, column 10",),
    ),
    BrokenInput(
        "file_indicator_disagrees_with_manifest", "csy2022", GDP_2022, "line 2 (指标：)",
        ("the indicator the manifest/--indicator names ('population')",),
        _edit_manifest(_set_file_key(GDP_2022, "indicator", "population")),
        parse_args=("--indicator", "population"), found=("(catalog 'gdp')",),
    ),
    BrokenInput(
        "values_outside_the_manifest_years", "csy2022", FDI_2022, "line 5, column 2",
        ("a year within 2015-2020 (the manifest's years)",),
        _edit_manifest(_set_file_key(FDI_2022, "years", [2015, 2020])), found=("2021",),
    ),
    # ---- awkward names: they are part of the message and must come out intact
    BrokenInput(
        "awkward_file_name_bad_cell", "csy2021", AWKWARD_FILE_NAME, "line 6, column 3",
        ("a number without thousands separators",), _awkward_file_with_bad_cell,
        parse_args=("--indicator", "patents_granted", "--unit", "件"), found=("'112 961'",),
    ),
    BrokenInput(
        "awkward_file_name_unknown_province", "csy2021", AWKWARD_FILE_NAME, "line 6, column 1",
        ("a province name from province_aliases.csv",), _awkward_file_unknown_province,
        parse_args=("--indicator", "patents_granted", "--unit", "件"), found=("'河北道'",),
        editions_root=AWKWARD_EDITIONS_ROOT,
    ),
    BrokenInput(
        "awkward_editions_folder_manifest_error", "csy2021", MANIFEST, "manifest key source",
        ("a value (the key is required)",), _edit_manifest(_drop_key("source")),
        editions_root=AWKWARD_EDITIONS_ROOT, found=("no such key",),
    ),
)

CASES_BY_NAME = {case.name: case for case in CASES}
assert len(CASES_BY_NAME) == len(CASES), "case names must be unique"
