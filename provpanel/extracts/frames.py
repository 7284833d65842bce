"""Data frames researchers share compiled panels in: Stata `.dta` (pyreadstat), R `.rds` /
`.rda` / `.RData` (pyreadr) and Parquet (duckdb). Recognised by their first bytes and loaded
here; each chosen frame is then read by `provpanel.extracts.frame_values` (long or wide,
through the same rules as a tidy file). An R file that holds several frames is read one
object at a time, chosen by name like the sheets of a workbook.
"""

from __future__ import annotations

import bz2
import lzma
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from provpanel.errors import ExtractError
from provpanel.extracts.frame_values import read_frame
from provpanel.extracts.sheets import given_for, requested_sheets
from provpanel.extracts.values import ExtractValue, ValueCollector

CONTAINER_NAMES = {
    "dta": "Stata .dta file",
    "rds": "R .rds file",
    "rdata": "R data file (.rda, .RData)",
    "parquet": "Parquet file",
}
_COMPRESSED = {b"\x1f\x8b": "gzip", b"BZh": "bzip2", b"\xfd7zXZ\x00": "xz"}

# Stata formats 104-115 begin with their version byte, the byte order (1 or 2) and 1;
# formats 117 and later with the text `<stata_dta>`.
_OLD_DTA_VERSIONS = frozenset({104, 105, 108, 110, 111, 112, 113, 114, 115})
_RDATA_STARTS = (b"RDX2\n", b"RDX3\n", b"RDA2\n", b"RDA3\n", b"RDB2\n", b"RDB3\n")
_RDS_STARTS = (b"X\n\x00\x00\x00\x02", b"X\n\x00\x00\x00\x03", b"A\n2\n", b"A\n3\n",
               b"B\n\x02\x00\x00\x00", b"B\n\x03\x00\x00\x00")


def _decompressed_start(data: bytes, size: int = 16) -> bytes:
    """The first bytes of a gzip, bzip2 or xz stream (how R compresses its files), else the
    bytes themselves. A broken stream gives what could be read (then no container matches)."""
    if data.startswith(b"\x1f\x8b"):
        decompressor: Any = zlib.decompressobj(16 + zlib.MAX_WBITS)
    elif data.startswith(b"BZh"):
        decompressor = bz2.BZ2Decompressor()
    elif data.startswith(b"\xfd7zXZ\x00"):
        decompressor = lzma.LZMADecompressor()
    else:
        return data[:size]
    out = b""
    try:
        for start in range(0, len(data), 1 << 16):  # bzip2 yields only whole blocks
            out += decompressor.decompress(data[start : start + (1 << 16)])
            if len(out) >= size:
                break
    except (OSError, EOFError, ValueError, zlib.error, lzma.LZMAError):
        pass
    return out[:size]


def container_kind(data: bytes) -> str | None:
    """'dta', 'rds', 'rdata' or 'parquet' from a file's first bytes, None for anything else."""
    if data.startswith(b"PAR1"):
        return "parquet"
    if data.startswith(b"<stata_dta>"):
        return "dta"
    if len(data) >= 4 and data[0] in _OLD_DTA_VERSIONS and data[1] in (1, 2) and data[2] == 1:
        return "dta"
    start = _decompressed_start(data)
    if start.startswith(_RDATA_STARTS):
        return "rdata"
    if start.startswith(_RDS_STARTS):
        return "rds"
    return None


def check_not_compressed(data: bytes, file: str) -> None:
    """A compressed stream that is no container (a truncated .rda, a zipped CSV) is an error
    that says so, not `binary content`."""
    for magic, name in _COMPRESSED.items():
        if data.startswith(magic):
            raise ExtractError(
                file,
                "whole file",
                "an R data file (.rda, .rds), a Stata or Parquet file, a workbook or a text extract",
                f"a {name} stream that does not start like an R data file (truncated, or "
                "another compressed content)",
            )


def _load(path: Path, kind: str, file: str) -> list[tuple[str | None, Any, dict[str, str]]]:
    """(object name, data frame, column labels) for every data frame of the file."""
    try:
        if kind == "dta":
            import pyreadstat

            frame, meta = pyreadstat.read_dta(str(path))
            labels = {name: label for name, label in zip(meta.column_names, meta.column_labels)
                      if label}
            return [(None, frame, labels)]
        if kind in ("rds", "rdata"):
            import pyreadr

            result = pyreadr.read_r(str(path))
            return [(name, frame, {}) for name, frame in result.items()]
        import duckdb

        with duckdb.connect() as con:
            frame = con.execute("SELECT * FROM read_parquet(?)", [str(path)]).df()
        return [(None, frame, {})]
    except Exception as exc:  # any library error on a broken container is bad input
        raise ExtractError(
            file, "whole file", f"a readable {CONTAINER_NAMES[kind]}", f"{type(exc).__name__}: {exc}"
        ) from exc


def read_container(
    path: Path,
    kind: str,
    *,
    file: str,
    indicator: str | None,
    unit: str | None,
    sheet: str | None = None,
    sheets: Mapping[str, Any] | None = None,
    columns: Mapping[str, str] | None = None,
    breakdown: Mapping[str, str] | None = None,
) -> list[ExtractValue]:
    """Every value of a container file. `sheet`/`sheets` choose R objects by name (like the
    sheets of a workbook); a file with several frames and no choice is an error."""
    frames = _load(path, kind, file)
    if not frames:
        raise ExtractError(
            file, "whole file", "a data frame (other R objects are not read)", "no data frame"
        )
    names = [name for name, _frame, _labels in frames]
    selection = requested_sheets(sheet, sheets)
    if selection is None and len(frames) == 1:
        selection = {names[0]: None}
    elif selection is None:
        raise ExtractError(
            file,
            "whole file",
            "one data frame, or the object to read named with --sheet or the manifest's `sheets`",
            f"{len(frames)} data frames ({', '.join(repr(n) for n in names)})",
        )
    by_name = {name: (frame, labels) for name, frame, labels in frames}
    collector = ValueCollector(file)
    for name, spec in selection.items():
        if name not in by_name:
            raise ExtractError(
                file,
                f"object '{name}'",
                f"a data frame of the file ({', '.join(repr(n) for n in names)})",
                "no such object",
            )
        frame, labels = by_name[name]
        frame_indicator, frame_unit = given_for(spec, indicator, unit)
        read_frame(frame, collector, sheet=name, labels=labels, indicator=frame_indicator,
                   unit=frame_unit, columns=columns, breakdown=breakdown)
    return collector.values
