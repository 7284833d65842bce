"""Family 6: a compiled .xlsx workbook, written with fixed times so every run gives the
same bytes (openpyxl's save_workbook() would stamp the current time)."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Mapping, Sequence

from .catalog import NAME_ZH
from .provinces import Province
from .series import Series

FIXED_TIME = dt.datetime(2021, 8, 6, 6, 29, 7)
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
CREATOR = "provpanel sample generator"

# The real workbook puts the unit, in English, in the cell above the province names.
ENGLISH_UNITS = {
    "万美元": "10k USD",
    "公里": "km",
    "万户": "10k households",
    "万平方米": "10000 sq.m",
    "万吨": "10k tons",
}


def workbook_xlsx(
    sheets: Mapping[str, Sequence[Series]],
    provinces: tuple[Province, ...],
    misspell: Mapping[str, str],
    note: str,
) -> bytes:
    """English province names (with `misspell`ings), one block of years a series: one
    indicator per sheet, or several stacked, each under a title row naming it and its unit.
    `note` is the document's title and description."""
    from openpyxl import Workbook
    from openpyxl.writer.excel import ExcelWriter

    wb = Workbook()
    wb.remove(wb.active)
    for sheet_name, blocks in sheets.items():
        ws = wb.create_sheet(sheet_name)
        row = 1
        for block_no, series in enumerate(blocks):
            if block_no:
                row += 1  # one blank row between stacked blocks
            if len(blocks) > 1:
                ws.cell(row=row, column=1, value=f"{NAME_ZH[series.indicator]} ({series.unit})")
                row += 1
            ws.cell(row=row, column=1, value=ENGLISH_UNITS[series.unit])
            for j, year in enumerate(series.years):
                ws.cell(row=row, column=2 + j, value=int(year))
            row += 1
            for p in provinces:
                ws.cell(row=row, column=1, value=misspell.get(p.name_en, p.name_en))
                for j, year in enumerate(series.years):
                    text = series.cells.get((p.code, year))
                    if text is not None:
                        number = float(text)
                        ws.cell(
                            row=row,
                            column=2 + j,
                            value=int(number) if series.decimals == 0 else number,
                        )
                row += 1
    wb.properties.creator = CREATOR
    wb.properties.title = note
    wb.properties.description = note
    wb.properties.created = FIXED_TIME
    wb.properties.modified = FIXED_TIME
    wb.properties.lastModifiedBy = CREATOR
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(wb, archive).save()
    return _rezip_with_fixed_times(raw.getvalue())


def _rezip_with_fixed_times(data: bytes) -> bytes:
    """Same entries, same order, every entry dated ZIP_TIME: identical bytes each run."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for entry in source.infolist():
            info = zipfile.ZipInfo(entry.filename, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            info.create_system = 0
            target.writestr(info, source.read(entry.filename), compresslevel=6)
    return out.getvalue()
