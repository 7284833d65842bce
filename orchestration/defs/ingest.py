"""Ingest assets: one edition folder → raw.extract_values and raw.editions (one partition each).

Two Great Expectations suites run inside the step on the values just read, before anything
is written: the raw suite (the edition alone) and the indicator suite (unit slips, identities
between indicators, revisions: the edition against the stored ones). A bad edition fails its
run within seconds of the build's start, and the stored values stay as they were.
"""

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetSelection,
    AssetSpec,
    Config,
    Failure,
    MaterializeResult,
    MetadataValue,
    define_asset_job,
    multi_asset,
)

from expectations.indicator_suite import INGEST_DESCRIPTION as INGEST_INDICATOR_SUITE_DESCRIPTION
from expectations.raw_suite import DESCRIPTION as RAW_SUITE_DESCRIPTION
from orchestration.partitions import editions_partitions
from orchestration.resources import ProvpanelPaths
from orchestration.validation_metadata import outcome_metadata
from provpanel.errors import ExtractError

RAW_EXTRACT_VALUES = AssetKey(["raw", "extract_values"])
RAW_EDITIONS = AssetKey(["raw", "editions"])
RAW_SUITE_CHECK = "raw_suite"
INDICATOR_SUITE_CHECK = "indicator_suite"


class IngestConfig(Config):
    force: bool = False  # re-read the edition even when its files' checksums are unchanged
    # editions are immutable: a stored edition whose files changed fails the run, unless accepted
    # (then it is re-read and its old values kept in raw.superseded_extract_values)
    accept_changes: bool = False


def _changes_since_ingest(warehouse_path, edition: str, fingerprint):
    """What changed in a stored edition's folder since it was ingested (None: new or unchanged)."""
    from provpanel.edition_changes import changes_since_ingest
    from provpanel.warehouse import open_warehouse

    if not warehouse_path.exists():
        return None
    with open_warehouse(warehouse_path) as con:
        return changes_since_ingest(con, edition, *fingerprint)


@multi_asset(
    specs=[
        AssetSpec(
            RAW_EXTRACT_VALUES,
            description="Every value of every edition's downloads, long, in canonical units, "
            "with provenance to the source cell (edition, file, checksum, sheet, row, column).",
            group_name="ingest",
            kinds={"duckdb", "python"},
        ),
        AssetSpec(
            RAW_EDITIONS,
            description="One row per ingested edition: its manifest and checksums.",
            group_name="ingest",
            kinds={"duckdb"},
        ),
    ],
    check_specs=[
        AssetCheckSpec(
            RAW_SUITE_CHECK,
            asset=RAW_EXTRACT_VALUES,
            description=RAW_SUITE_DESCRIPTION,
            blocking=True,
        ),
        AssetCheckSpec(
            INDICATOR_SUITE_CHECK,
            asset=RAW_EXTRACT_VALUES,
            description=INGEST_INDICATOR_SUITE_DESCRIPTION,
            blocking=True,
        ),
    ],
    partitions_def=editions_partitions,
    pool="warehouse",
)
def raw_edition(context: AssetExecutionContext, paths: ProvpanelPaths, config: IngestConfig):
    """Read one edition folder; on any bad file or failed raw check, fail and store nothing."""
    from provpanel.ingest import edition_fingerprint, prepare_edition, store_edition, stored_summary

    edition = context.partition_key
    edition_dir = paths.edition_dir(edition)
    if not edition_dir.is_dir():
        raise Failure(description=f"{edition_dir}: edition folder not found", allow_retries=False)
    try:
        # checksums first: an edition stored with the same bytes is not read again
        fingerprint = edition_fingerprint(edition_dir)
        changes = _changes_since_ingest(paths.warehouse, edition, fingerprint)
        if changes is not None and not config.accept_changes:
            from provpanel.edition_changes import changed_edition_message

            raise Failure(description=changed_edition_message([changes]), allow_retries=False,
                          metadata={"changed_files": changes.files()})
        summary = None if config.force else stored_summary(paths.warehouse, edition, fingerprint[0])
        prepared = prepare_edition(edition_dir, fingerprint) if summary is None else None
    except ExtractError as err:
        raise Failure(
            description=str(err),
            metadata={"file": str(err.file), "where": str(err.where), "expected": str(err.expected),
                      "found": str(err.found)},
            allow_retries=False,
        ) from None
    if prepared is not None:
        from expectations.raw_suite import validate_raw

        outcome = validate_raw(prepared.values, prepared.stated_spans, docs_dir=paths.outputs / "data_docs")
        yield AssetCheckResult(
            check_name=RAW_SUITE_CHECK,
            asset_key=RAW_EXTRACT_VALUES,
            passed=outcome.success,
            severity=AssetCheckSeverity.ERROR,
            metadata=outcome_metadata(outcome),
        )
        if not outcome.success:
            from expectations.raw_suite import failure_lines

            raise Failure(
                description=f"edition {edition}: the raw suite failed; nothing was stored. "
                + "; ".join(failure_lines(outcome)),
                allow_retries=False,
            )
        yield from _indicator_suite(edition, prepared, paths)
        summary = store_edition(prepared, paths.warehouse, supersede=changes is not None)
        if changes is not None:
            context.log.warning(f"edition {edition} changed since it was ingested ({changes.files()}); changes "
                                "accepted: re-read, old values kept in raw.superseded_extract_values")
    else:
        for check_name in (RAW_SUITE_CHECK, INDICATOR_SUITE_CHECK):
            yield AssetCheckResult(
                check_name=check_name, asset_key=RAW_EXTRACT_VALUES, passed=True,
                metadata={"note": "edition unchanged since it was validated and stored"},
            )
    context.log.info(
        f"edition {edition}: {summary.n_values} values from {summary.n_files} files"
        + (" (unchanged: nothing rewritten)" if summary.skipped_unchanged else "")
    )
    common = {"edition": edition, "files_sha256": summary.files_sha256, "unchanged": summary.skipped_unchanged,
              "superseded": changes.files() if changes is not None else "none"}
    yield MaterializeResult(
        asset_key=RAW_EXTRACT_VALUES,
        metadata={
            **common,
            "values": MetadataValue.int(summary.n_values),
            "national_values": MetadataValue.int(summary.n_national_values),
            "non_catalog_values": MetadataValue.int(summary.n_non_catalog_values),
            "provinces": MetadataValue.int(summary.provinces),
            "years": MetadataValue.text(f"{summary.years[0]}-{summary.years[1]}" if summary.years else "none"),
            "warehouse": MetadataValue.path(str(paths.warehouse)),
        },
    )
    yield MaterializeResult(asset_key=RAW_EDITIONS, metadata={**common, "files": MetadataValue.int(summary.n_files)})


def _indicator_suite(edition: str, prepared, paths: ProvpanelPaths):
    """The indicator suite on the new edition against the stored ones; a failure stores nothing."""
    from expectations.indicator_suite import (
        failure_lines,
        prepare_new_edition_frame,
        validate_indicator_frame,
    )

    frame = prepare_new_edition_frame(prepared.values, edition, prepared.manifest.published,
                                      prepared.declared_revisions, prepared.declared_exceptions, paths.warehouse)
    outcome = validate_indicator_frame(frame, docs_dir=paths.outputs / "data_docs")
    lines = failure_lines(outcome, limit=50, first_edition=edition)
    yield AssetCheckResult(
        check_name=INDICATOR_SUITE_CHECK,
        asset_key=RAW_EXTRACT_VALUES,
        passed=outcome.success,
        severity=AssetCheckSeverity.ERROR,
        description="; ".join(lines[:5]) if lines else None,
        metadata={**outcome_metadata(outcome), "checked_rows": MetadataValue.int(len(frame)),
                  "failing_cells": MetadataValue.md("\n".join(f"- {line}" for line in lines) or "none")},
    )
    if not outcome.success:
        raise Failure(
            description=f"edition {edition}: the indicator suite failed; nothing was stored. "
            + "; ".join(lines[:12]),
            allow_retries=False,
        )


raw_assets = AssetSelection.assets(RAW_EXTRACT_VALUES, RAW_EDITIONS)

ingest_edition_job = define_asset_job(
    "ingest_edition",
    selection=raw_assets,  # partitioned by edition, like the assets it selects
    description="Read one edition folder into the raw tables (one partition per edition).",
)
