"""An editions folder made only of the real downloads in ../shared/data/nbs_real/.

Each real file is one entry of REAL_DOWNLOADS, the one catalogue of them (the reader tests,
tests/test_extracts_real_files.py, read it too): the edition it belongs to (one edition per
source, so two vintages of one indicator never meet inside an edition), its publication date,
the years it holds and the manifest entry the file needs. The files are copied into the
(temporary) edition folders, never into the repository: a link would point outside the
editions folder, which an edition may not do. A reader added for another real file is one more
entry.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from cli_helpers import NBS_REAL_DIR


@dataclass(frozen=True)
class RealFile:
    name: str  # file name in NBS_REAL_DIR
    edition: str | None  # None: read by the reader tests only, in no edition (no catalog indicator)
    published: str | None  # ISO date: orders the editions for the vintage policy
    detected_format: str  # the format family detect_format finds (../shared/spec/EXTRACTS.md)
    years: tuple[int, int]  # first and last year holding values (README of nbs_real; not the name's)
    entry: dict = field(default_factory=dict)  # manifest keys beside `path`; the reader's arguments


# Every real download, once. Dates as the README of ../shared/data/nbs_real states them: the
# years a file holds values for (a name may say more: empty years are not values), and a
# publication date after the last of them.
REAL_DOWNLOADS: list[RealFile] = [
    RealFile("gdp_1993-2017_first-release.csv", "real_gdp_first_release", "2018-06-30", "portal_classic",
             (1993, 2017)),
    RealFile("provincial_workbook_1985-2018.xlsx", "real_compiled_workbook", "2021-08-06", "workbook",
             (1985, 2018), {
                 "sheets": {
                     "GDP": {"indicator": "gdp", "unit": "亿元"},
                     "population-total": {"indicator": "population", "unit": "万人"},
                     "employment ": {"indicator": "employment", "unit": "万人"},
                 },
             }),
    RealFile("population_en_2010-2019.csv", "real_population_en", "2020-06-30", "english", (2010, 2019),
             {"indicator": "population", "unit": "万人"}),
    # "latest vintage (after the 5th economic census)": published after the census's revision of 2024
    RealFile("gdp_by_sector_2021.csv", "real_portal_2021", "2025-06-30", "cross_section", (2021, 2021)),
    RealFile("patents_granted_2011-2025.csv", "real_portal_2025", "2025-06-30", "portal_current", (2011, 2024),
             {"indicator": "patents_granted", "unit": "件"}),
    RealFile("fiscal_expenditure_2011-2025.csv", "real_portal_2025", "2025-06-30", "portal_current", (2011, 2024),
             {"indicator": "fiscal_expenditure", "unit": "亿元"}),
    # an R data frame from the S&T yearbook: breakdown 合计/发明/..., the total read by default
    RealFile("patents_granted_sst_yearbook_2010-2023.rda", "real_sst_yearbook", "2024-12-31", "rdata", (2010, 2023),
             {"indicator": "patents_granted"}),
    # a national table: years as rows, one column per currency (CNY per 100 units)
    RealFile("exchange_rate_national_1978-2014.csv", "real_national_exchange_rate", "2015-06-30", "national_table",
             (1985, 2014)),
    # a long table a client of the portal's query interface wrote (portal codes, 千美元)
    RealFile("trade_total_portal_api_2016-2024.csv", "real_portal_api", "2025-03-31", "portal_long", (2016, 2024)),
    # urban-unit employment: not the catalog's employment, so in no edition
    RealFile("urban_unit_employment_2006-2025.csv", None, None, "portal_classic", (2008, 2024)),
]
# The files an editions folder of real downloads holds (write_real_editions).
REAL_FILES: list[RealFile] = [real for real in REAL_DOWNLOADS if real.edition is not None]


def write_real_editions(root: Path, files: list[RealFile] = REAL_FILES) -> Path:
    """One folder per edition under `root`, each file a copy of the real download, and each
    edition's manifest.yml. Returns `root`."""
    editions: dict[str, list[RealFile]] = {}
    for real in files:
        editions.setdefault(real.edition, []).append(real)
    for edition, members in editions.items():
        folder = root / edition
        folder.mkdir(parents=True)
        for real in members:
            shutil.copyfile(NBS_REAL_DIR / real.name, folder / real.name)
        manifest = {
            "edition": edition,
            "title": f"Real downloads: {', '.join(real.name for real in members)}",
            "published": members[0].published,
            "source": f"{NBS_REAL_DIR} (see its README.md)",
            "files": [{"path": real.name, **real.entry} for real in members],
        }
        (folder / "manifest.yml").write_text(yaml.safe_dump(manifest, allow_unicode=True, sort_keys=False),
                                             encoding="utf-8")
    return root
