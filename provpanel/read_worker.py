"""Read one file of an edition in a process of its own (the parallel path of read_edition).

    python -m provpanel.read_worker <edition_dir> <file index in the manifest> <output.pickle>

writes the file's raw rows (a DataFrame) or the ExtractError that stopped them to the output
path, pickled. A plain subprocess rather than multiprocessing: a spawned multiprocessing
worker re-imports the caller's main script, which breaks any script without a
`__main__` guard; this worker imports nothing of the caller.
"""

from __future__ import annotations

import pickle
import sys
from pathlib import Path

from provpanel.errors import ExtractError


def main(argv: list[str]) -> int:
    from provpanel.editions import _read_manifest_file, load_manifest

    edition_dir, index, output = Path(argv[0]), int(argv[1]), Path(argv[2])
    try:
        manifest = load_manifest(edition_dir)
        result: object = _read_manifest_file(manifest.edition, edition_dir, manifest.files[index])
    except ExtractError as error:
        result = error
    with output.open("wb") as handle:
        pickle.dump(result, handle, protocol=pickle.HIGHEST_PROTOCOL)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
