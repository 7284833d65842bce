"""Edition manifests: every rule of docs/editions.md, and a small edition read end to end."""

from __future__ import annotations

import datetime
import hashlib

import openpyxl
import pytest
import yaml

from provpanel.edition_manifest import load_manifest
from provpanel.edition_read import read_edition
from provpanel.editions import file_checksums, list_editions
from provpanel.errors import ExtractError, ManifestError
from provpanel.raw_schema import READ_VALUE_DTYPES

PORTAL_CURRENT = (
    "\ufeff数据库：分省年度数据 \n"
    "时间：2019年-2020年 \n"
    "地区\t,2020年\t,2019年\t,\n"
    "全国\t,\t,2474406\t,\n"
    "北京市\t,162824\t,131716\t,\n"
    "西藏自治区\t,1702\t,1020\t,\n"
    "数据来源：国家统计局"
)


def base_manifest() -> dict:
    return {
        "edition": "csy2021",
        "title": "China Statistical Yearbook 2021 (compiled extracts)",
        "published": datetime.date(2021, 12, 20),
        "source": "NBS data portal, downloaded 2022-01-05",
        "files": [
            {
                "path": "分省年度数据 (3).csv",
                "indicator": "patents_granted",
                "unit": "件",
                "years": [2019, 2020],
            },
            {
                "path": "workbook.xlsx",
                "sheets": {"GDP ": {"indicator": "gdp", "unit": "亿元"}},
            },
        ],
    }


def make_edition(root, manifest: dict | None = None, name: str = "csy2021"):
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "分省年度数据 (3).csv").write_text(PORTAL_CURRENT, encoding="utf-8")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "GDP "
    for row in [["hundred million CNY", 2019, 2020], ["Beijing", 35445.1, 36102.6]]:
        sheet.append(row)
    book.create_sheet("notes").append(["compiled by hand"])
    book.save(folder / "workbook.xlsx")
    (folder / "README.md").write_text("where these came from\n", encoding="utf-8")
    write_manifest(folder, base_manifest() if manifest is None else manifest)
    return folder


def write_manifest(folder, manifest: dict) -> None:
    (folder / "manifest.yml").write_text(
        yaml.safe_dump(manifest, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )


def manifest_error(folder) -> ManifestError:
    with pytest.raises(ManifestError) as caught:
        load_manifest(folder)
    err = caught.value
    assert err.file == str(folder / "manifest.yml")
    assert str(err).startswith(f"{folder / 'manifest.yml'}: ")
    return err


def test_edition_read_end_to_end(tmp_path):
    folder = make_edition(tmp_path)
    manifest = load_manifest(folder)
    assert (manifest.edition, manifest.published) == ("csy2021", datetime.date(2021, 12, 20))
    assert [f.path for f in manifest.files] == ["分省年度数据 (3).csv", "workbook.xlsx"]
    assert manifest.files[0].years == (2019, 2020)

    frame = read_edition(folder)
    assert list(frame.columns) == list(READ_VALUE_DTYPES)
    assert {name: str(dtype) for name, dtype in frame.dtypes.items()} == {
        name: ("string" if dtype == "string" else dtype) for name, dtype in READ_VALUE_DTYPES.items()
    }
    assert len(frame) == 7  # 5 patents values (national 2019 included), 2 GDP values
    patents = frame[frame["file"] == "分省年度数据 (3).csv"]
    expected_sha = hashlib.sha256((folder / "分省年度数据 (3).csv").read_bytes()).hexdigest()
    assert set(patents["file_sha256"]) == {expected_sha}
    assert set(patents["edition"]) == {"csy2021"}
    beijing = patents[(patents["province_code"] == "11") & (patents["year"] == 2020)].iloc[0]
    assert (beijing["value"], beijing["unit"], beijing["source_unit"]) == (162824, "piece", "件")
    assert (beijing["source_row"], beijing["source_col"]) == (5, 2)
    assert patents["sheet"].isna().all()
    gdp = frame[frame["indicator"] == "gdp"]
    assert set(gdp["sheet"]) == {"GDP "}
    assert gdp.set_index("year")["value"].to_dict() == {2019: 35445.1, 2020: 36102.6}
    assert frame["in_catalog"].all()
    assert (frame["province_code"] == "00").sum() == 1


def test_file_checksums_cover_every_file(tmp_path):
    folder = make_edition(tmp_path)
    checksums = file_checksums(folder)
    assert set(checksums) == {"分省年度数据 (3).csv", "workbook.xlsx", "README.md", "manifest.yml"}
    assert (
        checksums["manifest.yml"]
        == hashlib.sha256((folder / "manifest.yml").read_bytes()).hexdigest()
    )


def test_list_editions(tmp_path):
    make_edition(tmp_path, name="csy2021")
    manifest = base_manifest() | {"edition": "csy2020"}
    make_edition(tmp_path, manifest, name="csy2020")
    (tmp_path / "scratch").mkdir()  # no manifest: not an edition
    assert list_editions(tmp_path) == ["csy2020", "csy2021"]
    assert list_editions(tmp_path / "missing") == []


@pytest.mark.parametrize("key", ["edition", "title", "published", "source", "files"])
def test_missing_required_key(tmp_path, key):
    manifest = base_manifest()
    del manifest[key]
    err = manifest_error(make_edition(tmp_path, manifest))
    assert err.where == f"manifest key {key}"
    assert "required" in err.expected


def test_unknown_indicator(tmp_path):
    manifest = base_manifest()
    manifest["files"][0]["indicator"] = "patents"
    err = manifest_error(make_edition(tmp_path, manifest))
    assert err.where == "manifest key files[0].indicator"
    assert "catalog indicator code" in err.expected
    assert "'patents'" in err.found


def test_unknown_indicator_in_sheets(tmp_path):
    manifest = base_manifest()
    manifest["files"][1]["sheets"]["GDP "]["indicator"] = "GDP"
    err = manifest_error(make_edition(tmp_path, manifest))
    assert err.where == "manifest key files[1].sheets['GDP '].indicator"


def test_unlisted_file(tmp_path):
    folder = make_edition(tmp_path)
    (folder / "分省年度数据 (4).csv").write_text(PORTAL_CURRENT, encoding="utf-8")
    err = manifest_error(folder)
    assert err.where == "manifest key files"
    assert "every data file of the folder listed" in err.expected
    assert "分省年度数据 (4).csv" in err.found


def test_listed_file_missing(tmp_path):
    folder = make_edition(tmp_path)
    (folder / "workbook.xlsx").unlink()
    err = manifest_error(folder)
    assert err.where == "manifest key files[1].path"
    assert "exists" in err.expected
    assert "workbook.xlsx" in err.found


def test_edition_must_equal_folder_name(tmp_path):
    manifest = base_manifest() | {"edition": "csy2022"}
    err = manifest_error(make_edition(tmp_path, manifest))
    assert err.where == "manifest key edition"
    assert "the folder name 'csy2021'" in err.expected
    assert "csy2022" in err.found


@pytest.mark.parametrize(
    "change, where, expected",
    [
        ({"published": "20 Dec 2021"}, "manifest key published", "ISO date"),
        ({"colour": "blue"}, "manifest key colour", "one of the keys"),
        ({"files": []}, "manifest key files", "non-empty list"),
    ],
)
def test_top_level_rules(tmp_path, change, where, expected):
    err = manifest_error(make_edition(tmp_path, base_manifest() | change))
    assert err.where == where
    assert expected in err.expected


@pytest.mark.parametrize(
    "change, where, expected",
    [
        ({"unit": "gallons"}, "manifest key files[0].unit", "unit listed in unit_factors.csv"),
        ({"unit": "亿元"}, "manifest key files[0].unit", "count of items"),
        ({"years": [2020, 2019]}, "manifest key files[0].years", "[first year, last year]"),
        ({"path": "../elsewhere.csv"}, "manifest key files[0].path", "inside the edition"),
        ({"indicatr": "gdp"}, "manifest key files[0].indicatr", "one of the keys"),
    ],
)
def test_file_entry_rules(tmp_path, change, where, expected):
    manifest = base_manifest()
    manifest["files"][0].update(change)
    err = manifest_error(make_edition(tmp_path, manifest))
    assert err.where == where
    assert expected in err.expected


def test_file_listed_twice(tmp_path):
    manifest = base_manifest()
    manifest["files"].append({"path": "workbook.xlsx"})
    err = manifest_error(make_edition(tmp_path, manifest))
    assert err.where == "manifest key files[2].path"
    assert "listed once" in err.expected


def test_invalid_yaml_names_the_line(tmp_path):
    folder = make_edition(tmp_path)
    (folder / "manifest.yml").write_text("edition: csy2021\nfiles: [\n", encoding="utf-8")
    err = manifest_error(folder)
    assert err.where.startswith("line ")
    assert err.expected == "valid YAML"


def test_missing_manifest(tmp_path):
    folder = make_edition(tmp_path)
    (folder / "manifest.yml").unlink()
    err = manifest_error(folder)
    assert err.found == "no such file"


def test_file_without_indicator_fails_the_edition(tmp_path):
    manifest = base_manifest()
    del manifest["files"][0]["indicator"]
    del manifest["files"][0]["unit"]
    folder = make_edition(tmp_path, manifest)
    with pytest.raises(ExtractError) as caught:
        read_edition(folder)
    assert caught.value.file == "csy2021/分省年度数据 (3).csv"
    assert "manifest's `indicator`" in caught.value.expected


def test_years_outside_the_stated_span(tmp_path):
    manifest = base_manifest()
    manifest["files"][0]["years"] = [2020, 2021]
    folder = make_edition(tmp_path, manifest)
    with pytest.raises(ExtractError) as caught:
        read_edition(folder)
    err = caught.value
    assert err.file == "csy2021/分省年度数据 (3).csv"
    assert err.where == "line 4, column 3"  # the national 2019 value, first outside the span
    assert "2020-2021" in err.expected
    assert err.found == "2019"


def test_bad_file_fails_the_whole_edition(tmp_path):
    folder = make_edition(tmp_path)
    (folder / "workbook.xlsx").write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(ExtractError) as caught:
        read_edition(folder)
    assert caught.value.file == "csy2021/workbook.xlsx"


@pytest.mark.parametrize("original, doubled", [
    ("edition: csy2021\n", "edition: csy2021\nedition: csy2022\n"),
    ("  indicator: patents_granted\n", "  indicator: patents_granted\n  indicator: gdp\n"),
])
def test_a_key_given_twice_is_an_error_not_the_last_one_winning(tmp_path, original, doubled):
    folder = make_edition(tmp_path)
    text = (folder / "manifest.yml").read_text(encoding="utf-8")
    assert original in text
    (folder / "manifest.yml").write_text(text.replace(original, doubled, 1), encoding="utf-8")
    line = text[: text.index(original)].count("\n") + 2  # the second occurrence's line
    with pytest.raises(ManifestError) as caught:
        load_manifest(folder)
    message = str(caught.value)
    assert "manifest.yml" in message and f"line {line}," in message
    assert "a second time" in message and "first at line" in message


# ------------------------------------------------ issue 24: edition rules without holes


def test_a_publication_date_after_today_is_refused(tmp_path):
    future = datetime.date.today() + datetime.timedelta(days=3)
    err = manifest_error(make_edition(tmp_path, base_manifest() | {"published": future}))
    assert err.where == "manifest key published"
    assert "published_reason" in err.expected and err.found == future.isoformat()
    err = manifest_error(make_edition(tmp_path / "b", base_manifest() | {"published": "2099-01-01"}))
    assert err.where == "manifest key published" and err.found == "2099-01-01"


def test_a_future_date_with_its_reason_is_accepted(tmp_path):
    manifest = base_manifest() | {"published": "2099-01-01",
                                  "published_reason": "announced release date; the files are a preview"}
    loaded = load_manifest(make_edition(tmp_path, manifest))
    assert loaded.published == datetime.date(2099, 1, 1)
    assert loaded.published_reason == "announced release date; the files are a preview"
    # a reason alone, with a past date, is allowed and kept
    past = load_manifest(make_edition(tmp_path / "b", base_manifest() | {"published_reason": "as printed"}))
    assert past.published_reason == "as printed"


def _two_editions_of_one_date(tmp_path, first: dict | None = None, second: dict | None = None):
    make_edition(tmp_path, base_manifest() | {"edition": "csy2021a"} | (first or {}), name="csy2021a")
    return make_edition(tmp_path, base_manifest() | {"edition": "csy2021b"} | (second or {}), name="csy2021b")


def test_supersedes_orders_an_edition_after_another_of_its_date(tmp_path):
    folder = _two_editions_of_one_date(tmp_path, second={"supersedes": "csy2021a"})
    assert load_manifest(folder).supersedes == "csy2021a"
    assert load_manifest(tmp_path / "csy2021a").supersedes is None


@pytest.mark.parametrize("first, second, expected, found", [
    ({}, {"supersedes": "csy2021b"}, "another edition", "'csy2021b'"),
    ({}, {"supersedes": "csy1999"}, "an edition folder beside this one", "no such edition folder"),
    ({"published": "2021-12-19"}, {"supersedes": "csy2021a"}, "published the same day", "published 2021-12-19"),
    ({"supersedes": "csy2021b"}, {"supersedes": "csy2021a"}, "an order without a cycle",
     "csy2021b -> csy2021a -> csy2021b"),
])
def test_supersedes_is_validated(tmp_path, first, second, expected, found):
    err = manifest_error(_two_editions_of_one_date(tmp_path, first, second))
    assert err.where == "manifest key supersedes"
    assert expected in err.expected and found in err.found


def test_a_symbolic_link_loop_in_an_edition_is_one_line(tmp_path):
    folder = make_edition(tmp_path)
    (folder / "loop.csv").symlink_to(folder / "loop.csv")
    for read in (load_manifest, file_checksums):
        with pytest.raises(ManifestError) as caught:
            read(folder)
        assert caught.value.where == "symbolic link" and "symbolic link loop" in caught.value.found
        assert str(caught.value).startswith(f"{folder / 'loop.csv'}: ")


def test_a_named_pipe_in_an_edition_is_refused_not_skipped(tmp_path):
    import os

    manifest = base_manifest()
    manifest["files"].append({"path": "pipe.csv", "indicator": "gdp", "unit": "亿元"})
    folder = make_edition(tmp_path, manifest)
    os.mkfifo(folder / "pipe.csv")
    for read in (load_manifest, file_checksums):
        with pytest.raises(ManifestError) as caught:
            read(folder)
        assert caught.value.file == str(folder / "pipe.csv")
        assert (caught.value.where, caught.value.found) == ("whole file", "a named pipe (FIFO)")
