"""The order of the editions, one rule for every reader: by `published`; editions of one date by
the manifests' `supersedes:` (an edition comes after the one it supersedes), then by key.

The vintage policy (dbt: int_indicators_resolved_to_edition, through the supersession_depth of
int_indicator_values_collapsed_per_edition), `provpanel diff` and the edition-diff report follow
it. Two editions of one date that disagree on a value with no `supersedes:` between them are
ordered by key alone: every build says so (`tie_warnings`), naming both editions, the rule and
how many cells disagree, so that a choice made by a folder's name is never silent.
"""

from __future__ import annotations

import duckdb

from provpanel.warehouse import table_exists

# (edition, published, supersession_depth) of raw.editions, in a recursive CTE bounded by the
# number of editions (a cycle, refused in manifests, cannot run away); {editions} is a relation
# with the columns edition, published, supersedes.
_DEPTHS = """
WITH RECURSIVE editions AS (SELECT edition, published, supersedes FROM {editions}),
supersessions AS (
    SELECT editions.edition, editions.supersedes FROM editions
    JOIN editions AS superseded
      ON superseded.edition = editions.supersedes AND superseded.published = editions.published
),
depths (edition, depth) AS (
    SELECT edition, 0 FROM editions
    UNION ALL
    SELECT supersessions.edition, depths.depth + 1 FROM supersessions
    JOIN depths ON supersessions.supersedes = depths.edition
    WHERE depths.depth < (SELECT count(*) FROM editions)
)
SELECT editions.edition, editions.published, editions.supersedes, max(depths.depth) AS supersession_depth
FROM editions JOIN depths USING (edition)
GROUP BY ALL
"""


def _editions_relation(con: duckdb.DuckDBPyConnection) -> str:
    """raw.editions with a supersedes column (null in a snapshot made before it existed)."""
    has_column = con.execute(
        """SELECT count(*) FROM duckdb_columns() WHERE database_name = current_database()
           AND schema_name = 'raw' AND table_name = 'editions' AND column_name = 'supersedes'""").fetchone()[0]
    return "raw.editions" if has_column else "(SELECT *, NULL::VARCHAR AS supersedes FROM raw.editions)"


def ordered_editions(con: duckdb.DuckDBPyConnection) -> list[tuple[str, object, int]]:
    """(edition, published, supersession_depth) of every stored edition, earliest first."""
    if not table_exists(con, "raw", "editions"):
        return []
    rows = con.execute(f"SELECT edition, published, supersession_depth FROM ({_DEPTHS.format(editions=_editions_relation(con))}) "
                       "ORDER BY published, supersession_depth, edition").fetchall()
    return [(edition, published, int(depth)) for edition, published, depth in rows]


def edition_order_sql(con: duckdb.DuckDBPyConnection) -> str:
    """A relation (edition, published, supersedes, supersession_depth) to order editions by
    (published, supersession_depth, edition)."""
    return f"({_DEPTHS.format(editions=_editions_relation(con))})"


def _vintage_policy(con: duckdb.DuckDBPyConnection) -> str | None:
    """The vintage policy the panel was last built with (analysis.settings), None if unknown."""
    if not table_exists(con, "analysis", "settings"):
        return None
    row = con.execute("SELECT value FROM analysis.settings WHERE setting = 'vintage_policy' AND stage = 'panel'"
                      ).fetchone()
    return row[0] if row else None


def tie_warnings(con: duckdb.DuckDBPyConnection) -> list[str]:
    """One line per pair of editions with the same `published` date that disagree on at least
    one value (catalog indicators, the first cell of each edition as dbt collapses them) and
    that no `supersedes:` orders: which one the panel takes, by what rule, and how many cells
    disagree."""
    if not (table_exists(con, "raw", "editions") and table_exists(con, "raw", "extract_values")):
        return []
    editions = _editions_relation(con)
    pairs = con.execute(f"""
        WITH RECURSIVE ordered AS ({_DEPTHS.format(editions=editions)}),
        -- which editions one comes after through `supersedes:`, directly or down a chain
        reach (edition, ancestor) AS (
            SELECT edition, supersedes FROM ordered WHERE supersedes IS NOT NULL
            UNION
            SELECT reach.edition, ordered.supersedes FROM reach
            JOIN ordered ON ordered.edition = reach.ancestor AND ordered.supersedes IS NOT NULL
        ),
        -- pairs of one date whose order no `supersedes:` gives, earlier first in the order used
        ties AS (
            SELECT earlier.edition AS earlier, later.edition AS later, earlier.published,
                   earlier.supersession_depth = later.supersession_depth AS by_key
            FROM ordered AS earlier JOIN ordered AS later
              ON earlier.published = later.published
             AND (earlier.supersession_depth, earlier.edition) < (later.supersession_depth, later.edition)
            WHERE NOT EXISTS (SELECT 1 FROM reach WHERE (reach.edition, reach.ancestor) IN
                              ((later.edition, earlier.edition), (earlier.edition, later.edition)))
        ),
        cells AS (
            SELECT edition, province_code, year, indicator,
                   arg_min(value, {{'file': file, 'sheet': coalesce(sheet, ''), 'row': source_row,
                                    'col': source_col}}) AS value
            FROM raw.extract_values
            WHERE in_catalog AND value IS NOT NULL
              AND edition IN (SELECT earlier FROM ties UNION SELECT later FROM ties)
            GROUP BY ALL
        )
        SELECT ties.earlier, ties.later, ties.published, ties.by_key, count(*) AS disagreeing
        FROM ties
        JOIN cells AS a ON a.edition = ties.earlier
        JOIN cells AS b ON b.edition = ties.later AND a.province_code = b.province_code
             AND a.year = b.year AND a.indicator = b.indicator
        WHERE a.value IS DISTINCT FROM b.value
        GROUP BY ALL
        ORDER BY ties.published, ties.earlier, ties.later""").fetchall()
    policy = _vintage_policy(con)
    lines = []
    for earlier, later, published, by_key, disagreeing in pairs:
        if policy in ("latest", "first_release"):
            winner = later if policy == "latest" else earlier
            taken = f"the panel takes {winner}'s values (vintage_policy {policy})"
        else:
            taken = f"{later}'s values win under vintage_policy latest, {earlier}'s under first_release"
        rule = "by key" if by_key else "by how far down a supersedes chain each stands, then by key"
        lines.append(
            f"editions {earlier} and {later} are both published {published} and disagree on {disagreeing} "
            f"cell{'s' if disagreeing != 1 else ''}; no `supersedes:` orders them, so they are ordered {rule} "
            f"({later} after {earlier}): {taken}; to choose, give the one that should come later "
            "`supersedes: <the other>` in its manifest")
    return lines
