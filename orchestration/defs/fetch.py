"""Fetching a new edition from the NBS data portal, from the UI: the job `fetch_portal_edition`
with config (edition, indicators, years) runs what `provpanel fetch` runs. The new edition
folder is then discovered by the editions sensor like any other."""

from dagster import Config, Failure, OpExecutionContext, job, op

from orchestration.resources import ProvpanelPaths


class FetchConfig(Config):
    edition: str  # the new edition folder's name under PROVPANEL_EDITIONS
    indicators: str = "all"  # catalog codes separated by commas, or all
    years: str = ""  # e.g. 2001-2021, 2021 or LAST10; empty: the panel's span


# the op's name differs from the job's: Dagster refuses an op and a job (graph) of one name
@op(name="fetch_edition_from_portal", description="Fetch a new edition from the NBS data portal (PROVPANEL_PORTAL_URL) into the editions "
                "folder; a re-run with the same config resumes an unfinished fetch.")
def fetch_portal_edition(context: OpExecutionContext, config: FetchConfig, paths: ProvpanelPaths) -> str:
    from provpanel.portal.client import PortalError
    from provpanel.portal.fetch import FetchError, fetch_edition, parse_indicators, parse_years

    try:
        result = fetch_edition(config.edition, editions_root=paths.editions_dir,
                               indicators=parse_indicators(config.indicators),
                               years=parse_years(config.years or None), say=context.log.info)
    except (FetchError, PortalError) as err:
        raise Failure(description=str(err), allow_retries=False) from None
    context.add_output_metadata({"folder": str(result.folder), "files": len(result.files),
                                 "requests": result.requests,
                                 "not_fetched": "; ".join(f"{k}: {v}" for k, v in result.not_fetched.items())
                                 or "none"})
    return str(result.folder)


@job(name="fetch_portal_edition", description="Fetch a new edition from the NBS data portal (config: edition, indicators, years).")
def fetch_portal_edition_job():
    fetch_portal_edition()
