"""The bundled SYNTHETIC sample editions and the scale benchmark's larger panels.

One package, small rooms: `model` is the synthetic economy (`missing` empties cells),
`series` prints an indicator in a unit, `writers` and `workbook` are the format families
(one writer each), `editions` is the table of files of each edition, `build` turns the table
into files and manifests, and `scale` makes the benchmark's units. The command is
`scripts/generate_sample.py`.
"""

from .build import Edition, EditionFile, build_editions, manifest_yaml, write_editions
from .catalog import NAME_ZH
from .missing import draw_missing_cells, longest_run
from .provinces import PROVINCES, Province
from .scale import SCALE_UNITS_PER_PROVINCE, geography_files, scale_units, write_scale

__all__ = [
    "NAME_ZH",
    "PROVINCES",
    "SCALE_UNITS_PER_PROVINCE",
    "Edition",
    "EditionFile",
    "Province",
    "build_editions",
    "draw_missing_cells",
    "geography_files",
    "longest_run",
    "manifest_yaml",
    "scale_units",
    "write_editions",
    "write_scale",
]
