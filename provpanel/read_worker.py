"""Read some files of an edition in a process of its own (the parallel path of read_edition).

    python -m provpanel.read_worker <edition_dir> <output.pickle> <file index> [<file index> ...]

reads the files of the manifest at those indices and writes, pickled, a list with each file's
raw rows (a DataFrame) or the ExtractError that stopped them. A plain subprocess rather than multiprocessing: a spawned multiprocessing
worker re-imports the caller's main script, which breaks any script without a
`__main__` guard; this worker imports nothing of the caller.
"""

from __future__ import annotations

import pickle
import sys
from pathlib import Path

from provpanel.errors import ExtractError


def main(argv: list[str]) -> int:
    from provpanel.edition_manifest import load_manifest
    from provpanel.edition_read import read_manifest_file

    edition_dir, output, indices = Path(argv[0]), Path(argv[1]), [int(arg) for arg in argv[2:]]
    manifest = load_manifest(edition_dir)
    results: list[object] = []
    for index in indices:
        try:
            results.append(read_manifest_file(manifest.edition, edition_dir, manifest.files[index]))
        except ExtractError as error:
            results.append(error)
    with output.open("wb") as handle:
        pickle.dump(results, handle, protocol=pickle.HIGHEST_PROTOCOL)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
