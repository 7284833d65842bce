"""TU's trade and the USD series on the sample build (issue 14, section 2): the observed trade
total wins over filled exports + imports, and a filled USD year is interpolated in USD and
converted at its own year's exchange rate."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

GUANGDONG = "44"


@pytest.fixture(scope="module")
def warehouse(sample_build):
    home, _ = sample_build
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    yield con
    con.close()


# The units the sample's files print USD series and the exchange rate in, read here from the
# printed text: the expected values below never come from the models that convert.
USD_PER_PRINTED_UNIT = {"千美元": 1e3, "万美元": 1e4, "10k USD": 1e4, "亿美元": 1e8}
CNY_PER_100USD_PRINTED_UNITS = {"元/100美元"}


def _printed_cells(con, indicator: str) -> pd.DataFrame:
    """Per province and year, the cell the vintage policy (latest edition) takes: its printed
    text and unit, as raw.extract_values recorded them from the file."""
    return con.execute(
        """select province_code, year, source_value, source_unit from (
               select v.province_code, v.year, v.source_value, v.source_unit,
                      row_number() over (partition by v.province_code, v.year
                                         order by e.published desc, v.edition desc, v.file, v.source_row) as pick
               from raw.extract_values v join raw.editions e using (edition)
               where v.indicator = ? and v.value is not null)
           where pick = 1 order by province_code, year""", [indicator]).df()


def _observed_usd(con, indicator: str) -> pd.DataFrame:
    """Published values of one USD series in USD, from the printed text and unit."""
    cells = _printed_cells(con, indicator)
    unknown = set(cells["source_unit"]) - set(USD_PER_PRINTED_UNIT)
    assert not unknown, f"{indicator}: printed in {unknown}, not in USD_PER_PRINTED_UNIT"
    usd = cells["source_value"].str.replace(",", "").astype(float) * cells["source_unit"].map(USD_PER_PRINTED_UNIT)
    return pd.DataFrame({"province_code": cells["province_code"], "year": cells["year"], "usd": usd})


def _published_rates(con) -> dict[int, float]:
    """CNY per 100 USD by year, from the printed national rate."""
    cells = _printed_cells(con, "exchange_rate")
    assert set(cells["province_code"]) == {"00"} and set(cells["source_unit"]) <= CNY_PER_100USD_PRINTED_UNITS
    return dict(zip(cells["year"].astype(int), cells["source_value"].astype(float), strict=True))


def _cny_100m(usd: float, cny_per_100usd: float) -> float:
    return usd * cny_per_100usd / 100 / 1e8


def test_guangdong_2001_tu_uses_the_observed_trade_total(warehouse):
    totals = _observed_usd(warehouse, "trade_total")
    published = totals[(totals.province_code == GUANGDONG) & (totals.year == 2001)]
    assert len(published) == 1, "the sample publishes Guangdong's 2001 trade total"
    row = warehouse.execute(
        "select tu, gdp, trade_cny, uses_trade_split, exports_cny, imports_cny from marts.province_year_panel "
        "where province_code = ? and year = 2001", [GUANGDONG]).df().iloc[0]
    expected_trade = _cny_100m(published["usd"].iloc[0], _published_rates(warehouse)[2001])
    assert not row["uses_trade_split"]
    assert row["trade_cny"] == pytest.approx(expected_trade, rel=1e-12)
    assert row["tu"] == pytest.approx(expected_trade / row["gdp"], rel=1e-12)
    # the filled split differs (the bug this guards against took it instead)
    assert abs((row["exports_cny"] + row["imports_cny"]) - expected_trade) > 0.05 * expected_trade


def test_no_observed_total_is_overridden_by_the_split(warehouse):
    """Every province-year with a published total uses it; where the total is not published
    and both exports and imports are, TU uses their sum."""
    chosen = warehouse.execute(
        """select chosen.province_code, chosen.year, chosen.trade_source, chosen.trade_cny,
                  pivoted.trade_total, pivoted.exports, pivoted.imports
           from intermediate.int_trade_chosen_for_tu as chosen
           inner join intermediate.int_province_years_pivoted as pivoted using (province_code, year)""").df()
    observed = {name: set(map(tuple, _observed_usd(warehouse, name)[["province_code", "year"]].to_numpy()))
                for name in ("trade_total", "exports", "imports")}
    keys = list(zip(chosen.province_code, chosen.year, strict=True))
    total_observed = np.array([key in observed["trade_total"] for key in keys])
    split_observed = np.array([key in observed["exports"] and key in observed["imports"] for key in keys])
    assert total_observed.sum() > 0
    assert (chosen.trade_source[total_observed] == "observed_total").all()
    np.testing.assert_allclose(chosen.trade_cny[total_observed], chosen.trade_total[total_observed], rtol=1e-12)
    only_split = split_observed & ~total_observed
    assert (chosen.trade_source[only_split] == "observed_split").all()
    np.testing.assert_allclose(chosen.trade_cny[only_split],
                               (chosen.exports + chosen.imports)[only_split], rtol=1e-12)


def test_filled_usd_years_are_interpolated_in_usd_and_converted_at_their_own_rate(warehouse):
    """Recomputed here: linear interpolation of the published USD values between the nearest
    published years, times the filled year's own rate; the build must agree for every filled
    interior cell of every USD series."""
    rates = _published_rates(warehouse)
    cells = warehouse.execute(
        """select province_code, year, indicator, value from intermediate.int_indicators_converted_to_cny
           where indicator in ('exports', 'imports', 'trade_total', 'fdi_actual')
             and fill_method = 'interpolated' and not rate_is_filled""").df()
    assert len(cells) > 0, "the sample has interpolated USD cells"
    checked = 0
    for indicator, group in cells.groupby("indicator"):
        published = _observed_usd(warehouse, indicator)
        for row in group.itertuples():
            series = published[published.province_code == row.province_code]
            usd = np.interp(row.year, series["year"].to_numpy(float), series["usd"].to_numpy(float))
            assert row.value == pytest.approx(_cny_100m(usd, rates[row.year]), rel=1e-9), (indicator, row)
            checked += 1
    assert checked == len(cells)
