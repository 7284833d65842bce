"""The raw tables, defined once: every column's name, DuckDB type, constraint and comment (the
pandas dtype follows from the type), one line a column, read like the table's DDL.

The warehouse's DDL and comments, the dtypes of an edition read into memory and the test
warehouses are made from these; dbt cannot import them, so tests/test_raw_schema.py checks
that the dbt sources (dbt_project/models/staging/_raw__sources.yml), the staging models and
docs/editions.md list exactly these columns (and the sources these types and comments).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import pandas as pd

# pandas dtype of a frame column holding values of each DuckDB type
_DTYPES = {
    "VARCHAR": "string",
    "INTEGER": "Int64",
    "DOUBLE": "float64",
    "BOOLEAN": "bool",
    "DATE": "object",  # datetime.date values
    "TIMESTAMP": "datetime64[ns]",
}


@dataclass(frozen=True)
class Column:
    name: str
    sql_type: str  # DuckDB type, a key of _DTYPES
    constraint: str  # NOT NULL, PRIMARY KEY or nothing
    comment: str

    @property
    def dtype(self) -> str:
        return _DTYPES[self.sql_type]

    @property
    def nullable(self) -> bool:
        return not self.constraint

    @property
    def ddl(self) -> str:
        return f"{self.name} {self.sql_type} {self.constraint}".strip()


@dataclass(frozen=True)
class Table:
    name: str  # schema-qualified: raw.<table>
    comment: str
    columns: tuple[Column, ...]

    @property
    def column_names(self) -> list[str]:
        return [column.name for column in self.columns]

    def create_sql(self) -> str:
        return f"CREATE TABLE IF NOT EXISTS {self.name} ({', '.join(column.ddl for column in self.columns)})"

    def dtypes(self, *, without: tuple[str, ...] = ()) -> dict[str, str]:
        return {column.name: column.dtype for column in self.columns if column.name not in without}


_COLUMN_LINE = re.compile(r"^(\w+)\s+([A-Z]+)\s+(NOT NULL|PRIMARY KEY|NULL)\s+(\S.*)$")


def _table(name: str, comment: str, columns: str) -> Table:
    """A table from its column lines: `name  TYPE  NOT NULL|PRIMARY KEY|NULL  comment`."""
    parsed = []
    for line in columns.strip().splitlines():
        match = _COLUMN_LINE.match(line.strip())
        if match is None or match.group(2) not in _DTYPES:
            raise ValueError(f"{name}: a column line `name TYPE NOT NULL|PRIMARY KEY|NULL comment`, found {line!r}")
        column, sql_type, constraint, column_comment = match.groups()
        parsed.append(Column(column, sql_type, "" if constraint == "NULL" else constraint, column_comment))
    return Table(name, comment, tuple(parsed))


EXTRACT_VALUES = _table(
    "raw.extract_values",
    "Every value read from every edition's downloads, long, with provenance to the source cell.", """
    edition        VARCHAR    NOT NULL  Edition key (the edition folder's name).
    file           VARCHAR    NOT NULL  Path of the source file inside the edition folder.
    file_sha256    VARCHAR    NOT NULL  SHA-256 of the source file's bytes.
    sheet          VARCHAR    NULL      Worksheet name for workbooks, else null.
    source_row     INTEGER    NOT NULL  1-based row (line) of the source cell.
    source_col     INTEGER    NOT NULL  1-based column (field) of the source cell.
    province_code  VARCHAR    NOT NULL  Two-digit GB/T 2260 code; 00 for the national total row.
    year           INTEGER    NOT NULL  Calendar year the value refers to.
    indicator      VARCHAR    NOT NULL  Catalog code, or the original label for a column outside the catalog.
    value          DOUBLE     NOT NULL  The value, in `unit`.
    unit           VARCHAR    NULL      Canonical unit code of the catalog (printed unit for non-catalog columns); trade and FDI published in CNY carry cny_100m.
    source_value   VARCHAR    NULL      The cell's text as read.
    source_unit    VARCHAR    NULL      The unit as printed in the file or given by the manifest.
    in_catalog     BOOLEAN    NOT NULL  Whether `indicator` is a catalog code.
    loaded_at      TIMESTAMP  NOT NULL  When the edition was ingested (UTC).
""")
# What reading an edition yields (provpanel.edition_read.read_edition): loaded_at is set when stored.
READ_VALUE_DTYPES = EXTRACT_VALUES.dtypes(without=("loaded_at",))

EDITIONS = _table("raw.editions", "One row per ingested edition: its manifest and the checksums of its files.", """
    edition          VARCHAR    PRIMARY KEY  Edition key (the edition folder's name).
    title            VARCHAR    NOT NULL     Title from the manifest.
    published        DATE       NOT NULL     Publication date from the manifest; orders editions for the vintage policy.
    source           VARCHAR    NOT NULL     Where the downloads come from (manifest).
    notes            VARCHAR    NULL         Free notes from the manifest.
    manifest_sha256  VARCHAR    NOT NULL     SHA-256 of manifest.yml.
    files_sha256     VARCHAR    NOT NULL     Checksum over every file's checksum: changes when any file changes.
    n_files          INTEGER    NOT NULL     Number of data files listed in the manifest.
    n_values         INTEGER    NOT NULL     Number of values stored from this edition.
    loaded_at        TIMESTAMP  NOT NULL     When the edition was ingested (UTC).
    supersedes       VARCHAR    NULL         The edition of the same publication date this one is ordered after (manifest supersedes); null: editions of one date are ordered by key.
""")

# Revisions an edition's manifest declares (`revisions:`): the indicator suite lets them pass.
DECLARED_REVISIONS = _table(
    "raw.declared_revisions",
    "Revisions of earlier editions' values that an edition's manifest declares (key revisions).", """
    edition     VARCHAR  NOT NULL  The revising edition (its manifest declares the revision).
    indicator   VARCHAR  NOT NULL  Catalog code of the revised indicator.
    first_year  INTEGER  NOT NULL  First year of the revised span.
    last_year   INTEGER  NOT NULL  Last year of the revised span.
    reason      VARCHAR  NOT NULL  Why the values were revised (manifest), e.g. an economic census.
""")

# Checks between indicators an edition's manifest lets pass (`exceptions:`).
DECLARED_EXCEPTIONS = _table(
    "raw.declared_exceptions",
    "Checks between indicators (identities, orderings, per-unit bounds) that an edition's manifest "
    "lets pass (key exceptions).", """
    edition        VARCHAR  NOT NULL  The edition whose manifest declares the exception.
    check_name     VARCHAR  NOT NULL  The check: parts_sum, ratio_pair or per_unit_ratio (expectations/indicator_suite.py).
    indicator      VARCHAR  NOT NULL  Catalog code of either indicator of the check.
    province_code  VARCHAR  NULL      The province it covers; null: every province.
    first_year     INTEGER  NOT NULL  First year covered.
    last_year      INTEGER  NOT NULL  Last year covered.
    reason         VARCHAR  NOT NULL  Why the edition's figures do not meet the check (manifest).
""")

# The checksum of every file of an ingested edition (manifest and READMEs included), so a
# changed edition can say which files changed, were added or removed (editions are immutable).
EDITION_FILES = _table(
    "raw.edition_files",
    "Every file of every ingested edition with its checksum: which files changed since ingest.", """
    edition      VARCHAR  NOT NULL  Edition key (the edition folder's name).
    file         VARCHAR  NOT NULL  Path of the file inside the edition folder (manifest.yml and READMEs included).
    file_sha256  VARCHAR  NOT NULL  SHA-256 of the file's bytes when the edition was ingested.
""")

# Values an edition held before it was re-read with `provpanel build --accept-changes`: an
# edition changed after ingest keeps its old values here (a superseded vintage), never lost:
# the columns of raw.extract_values and when they were superseded.
SUPERSEDED_VALUES = Table(
    "raw.superseded_extract_values",
    "Values an edition held before it was changed and re-read with "
    "`provpanel build --accept-changes`: the superseded vintage, kept.",
    tuple(
        replace(column, comment="When the superseded values were ingested (UTC).") if column.name == "loaded_at"
        else column for column in EXTRACT_VALUES.columns
    ) + (Column("superseded_at", "TIMESTAMP", "NOT NULL",
                "When the edition was re-read with --accept-changes and these values replaced (UTC)."),),
)

RAW_TABLES = (EXTRACT_VALUES, EDITIONS, DECLARED_REVISIONS, DECLARED_EXCEPTIONS, EDITION_FILES, SUPERSEDED_VALUES)


def empty_frame(dtypes: dict[str, str]) -> pd.DataFrame:
    """A frame with no rows and these columns, typed."""
    return pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in dtypes.items()})
