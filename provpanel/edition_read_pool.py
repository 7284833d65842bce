"""The worker pool of a large edition's reading: the files shared among processes
(`python -m provpanel.read_worker`), each running provpanel.edition_read.read_manifest_file.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from provpanel.edition_manifest import Manifest

# A workbook holds several times more cells per byte than a CSV (it is zipped XML).
_WORKBOOK_COST_FACTOR = 5


def read_files_in_parallel(
    manifest: Manifest, edition_dir: Path, sizes: list[int], workers: int
) -> list[pd.DataFrame]:
    """The files shared among `workers` processes (`python -m provpanel.read_worker`), largest
    first onto the least loaded; the results come back in manifest order and the first file's
    error (in that order) is raised. One process per worker, not per file: each start-up
    imports pandas and the readers (~1 s)."""
    import pickle
    import subprocess
    import sys
    import tempfile
    from concurrent.futures import ThreadPoolExecutor

    costs = [size * (_WORKBOOK_COST_FACTOR if entry.path.lower().endswith((".xlsx", ".xls")) else 1)
             for size, entry in zip(sizes, manifest.files)]
    batches: list[list[int]] = [[] for _ in range(workers)]
    loads = [0] * workers
    for index in sorted(range(len(costs)), key=lambda i: -costs[i]):
        lightest = loads.index(min(loads))
        batches[lightest].append(index)
        loads[lightest] += costs[index]

    def read(batch: list[int], output: Path) -> list[object]:
        completed = subprocess.run(
            [sys.executable, "-m", "provpanel.read_worker", str(edition_dir), str(output),
             *[str(index) for index in batch]],
            capture_output=True, text=True, check=False,
        )
        if completed.returncode != 0 or not output.exists():
            names = ", ".join(manifest.files[index].path for index in batch)
            raise RuntimeError(f"reading {manifest.edition} ({names}) in a worker process failed "
                               f"(exit {completed.returncode}):\n{completed.stderr}")
        with output.open("rb") as handle:
            return pickle.load(handle)

    results: list[object] = [None] * len(manifest.files)
    with tempfile.TemporaryDirectory(prefix="provpanel-read-") as scratch, \
            ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [(batch, pool.submit(read, batch, Path(scratch) / f"{number}.pickle"))
                   for number, batch in enumerate(batches) if batch]
        for batch, future in futures:
            for index, result in zip(batch, future.result()):
                results[index] = result
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results  # type: ignore[return-value]
