"""Ingest assets: one edition folder → raw.extract_values and raw.editions (one partition each)."""

from __future__ import annotations

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    Config,
    Failure,
    MaterializeResult,
    MetadataValue,
    multi_asset,
)

from orchestration.partitions import editions_partitions
from orchestration.resources import ProvpanelPaths
from provpanel.errors import ExtractError

RAW_EXTRACT_VALUES = AssetKey(["raw", "extract_values"])
RAW_EDITIONS = AssetKey(["raw", "editions"])


class IngestConfig(Config):
    force: bool = False  # re-read the edition even when its files' checksums are unchanged


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
    partitions_def=editions_partitions,
    pool="warehouse",
)
def raw_edition(context: AssetExecutionContext, paths: ProvpanelPaths, config: IngestConfig):
    """Read one edition folder; on any bad file fail with its message and store nothing."""
    from provpanel.ingest import ingest_edition

    edition = context.partition_key
    edition_dir = paths.edition_dir(edition)
    if not edition_dir.is_dir():
        raise Failure(description=f"{edition_dir}: edition folder not found", allow_retries=False)
    try:
        summary = ingest_edition(edition_dir, paths.warehouse, force=config.force)
    except ExtractError as err:
        raise Failure(
            description=str(err),
            metadata={"file": str(err.file), "where": str(err.where), "expected": str(err.expected)},
            allow_retries=False,
        ) from None
    context.log.info(
        f"edition {edition}: {summary.n_values} values from {summary.n_files} files"
        + (" (unchanged, nothing rewritten)" if summary.skipped_unchanged else "")
    )
    common = {"edition": edition, "files_sha256": summary.files_sha256,
              "unchanged": summary.skipped_unchanged}
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
        data_version=None,
    )
    yield MaterializeResult(asset_key=RAW_EDITIONS, metadata={**common, "files": MetadataValue.int(summary.n_files)})
