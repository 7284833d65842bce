"""Write the bundled SYNTHETIC sample editions (csy2021, csy2022) under data/editions/.

Usage: .venv/bin/python scripts/generate_sample.py [--out DIR]
       .venv/bin/python scripts/generate_sample.py --scale prefecture|county --out DIR
         (the performance benchmark's larger panels: DIR/editions and DIR/geography)

Nothing written here is real data. The files imitate, byte for byte in style, the NBS
portal exports and compiled workbooks described in docs/editions.md, so that
ingestion is exercised on every format family while the values come from a model.
The output is deterministic: a fixed seed, fixed float formatting and, for the .xlsx
workbook, fixed document times and zip entry times, so every run writes the same bytes.

The code is the package next to this command, scripts/synthetic_sample/: the
data-generating process is described in its model.py, the files of each edition are the
table in its editions.py, one writer per format family in writers.py and workbook.py.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from synthetic_sample import SCALE_UNITS_PER_PROVINCE, build_editions, write_editions, write_scale

DEFAULT_OUT = Path(__file__).resolve().parent.parent / "data" / "editions"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="editions folder (default: data/editions)"
    )
    parser.add_argument(
        "--scale",
        choices=sorted(SCALE_UNITS_PER_PROVINCE),
        help="write the scale benchmark's editions for ~300 prefectures or ~2,800 counties "
        "under OUT/editions and their units under OUT/geography (PROVPANEL_GEOGRAPHY); "
        "--out is required",
    )
    args = parser.parse_args(argv)
    if args.scale and args.out == DEFAULT_OUT:
        parser.error("--scale needs --out: the bundled sample folder is not the place for it")
    try:
        if args.scale:
            editions = write_scale(args.scale, args.out)
            args.out = args.out / "editions"
        else:
            editions = build_editions()
            write_editions(editions, args.out)
    except OSError as error:  # e.g. --out names a file, or a read-only place
        print(
            f"generate_sample: cannot write the editions under {args.out}: {error}", file=sys.stderr
        )
        return 2
    for edition in editions:
        size = sum(len(f.content) for f in edition.files)
        print(f"{args.out / edition.key}: {len(edition.files)} files, {size:,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
