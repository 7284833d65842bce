"""Storing editions: two editions that disagree keep both values; re-ingesting replaces exactly
one edition; a bad file fails its edition and leaves every stored value as it was."""

from __future__ import annotations

import duckdb
import pytest

from provpanel.errors import ExtractError
from provpanel.ingest import prepare_edition, store_edition, stored_summary

HEADER = "数据库：分省年度数据\n指标：地区生产总值(亿元)\n时间：2019-2020\n地区,2020年,2019年\n"


def make_edition(root, name, published, rows):
    folder = root / name
    folder.mkdir()
    body = HEADER + "".join(f"{province},{v2020},{v2019}\n" for province, v2020, v2019 in rows)
    (folder / "分省年度数据.csv").write_bytes((body + "数据来源：国家统计局\n").encode("gb18030"))
    (folder / "manifest.yml").write_text(
        f"edition: {name}\ntitle: test edition {name}\npublished: {published}\nsource: hand-made for a test\n"
        "files:\n  - path: 分省年度数据.csv\n",
        encoding="utf-8",
    )
    return folder


def rows_of(warehouse, sql):
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_two_editions_that_disagree_are_both_stored(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    first = make_edition(tmp_path, "first", "2021-03-01", [("广东省", "110760.94", "107671.07"), ("北京市", "36102.6", "35371.3")])
    later = make_edition(tmp_path, "later", "2024-03-01", [("广东省", "113708.9", "107986.9"), ("北京市", "36102.6", "35371.3")])
    store_edition(prepare_edition(first), warehouse)
    store_edition(prepare_edition(later), warehouse)
    guangdong_2020 = rows_of(warehouse, """select edition, value, file, source_row, source_col
        from raw.extract_values where province_code = '44' and year = 2020 and indicator = 'gdp' order by edition""")
    assert guangdong_2020 == [("first", 110760.94, "分省年度数据.csv", 5, 2),
                              ("later", 113708.9, "分省年度数据.csv", 5, 2)]
    assert rows_of(warehouse, "select edition, published from raw.editions order by edition")[0][0] == "first"


def test_reingesting_replaces_exactly_that_edition(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    first = make_edition(tmp_path, "first", "2021-03-01", [("广东省", "1", "2")])
    later = make_edition(tmp_path, "later", "2024-03-01", [("广东省", "3", "4")])
    store_edition(prepare_edition(first), warehouse)
    store_edition(prepare_edition(later), warehouse)
    before_later = rows_of(warehouse, "select * from raw.extract_values where edition = 'later' order by year")
    # a corrected download of the first edition
    (first / "分省年度数据.csv").write_bytes((HEADER + "广东省,10,20\n").encode("gb18030"))
    prepared = prepare_edition(first)
    assert stored_summary(warehouse, "first", prepared.fingerprint) is None  # the change is seen
    store_edition(prepared, warehouse)
    assert rows_of(warehouse, "select year, value from raw.extract_values where edition = 'first' order by year") == [
        (2019, 20.0), (2020, 10.0)]
    assert rows_of(warehouse, "select * from raw.extract_values where edition = 'later' order by year") == before_later
    # unchanged bytes are recognised, so nothing needs rewriting
    assert stored_summary(warehouse, "first", prepare_edition(first).fingerprint).skipped_unchanged


def test_a_bad_file_leaves_stored_values_untouched(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    edition = make_edition(tmp_path, "first", "2021-03-01", [("广东省", "1", "2")])
    store_edition(prepare_edition(edition), warehouse)
    before = rows_of(warehouse, "select * from raw.extract_values")
    (edition / "分省年度数据.csv").write_bytes((HEADER + "广东省,1,two\n").encode("gb18030"))
    with pytest.raises(ExtractError) as raised:
        prepare_edition(edition)
    assert str(raised.value).startswith("first/分省年度数据.csv: line 5, column 3: expected a number")
    assert rows_of(warehouse, "select * from raw.extract_values") == before
