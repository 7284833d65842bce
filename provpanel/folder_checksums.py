"""Checksums of the files of a folder, and one checksum over them: how the build (its code),
the dbt manifest (its project) and an edition (its downloads) tell that a folder changed.

Each caller says which files count (suffixes, skipped folders, skipped files); the checksum
over a folder is always the same formula, the one stored in raw.editions.files_sha256, so
it must not change.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Collection, Iterator, Mapping
from pathlib import Path


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _files(root: Path, suffixes: Collection[str] | None, skipped_parts: Collection[str],
           skipped_files: Collection[str]) -> Iterator[tuple[str, Path]]:
    skipped_parts = set(skipped_parts)
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if suffixes is not None and path.suffix not in suffixes:
            continue
        if skipped_parts & set(relative.parts) or relative.as_posix() in skipped_files:
            continue
        if path.is_file():
            # NFC: the same name whether the file system stores it composed or not (macOS)
            yield unicodedata.normalize("NFC", relative.as_posix()), path


def folder_files(root: str | Path, *, suffixes: Collection[str] | None = None,
                 skipped_parts: Collection[str] = (), skipped_files: Collection[str] = ()) -> list[str]:
    """Every file under `root` (relative POSIX paths, NFC, hidden files included), in path
    order. `suffixes`: only files with one of these (None: all); `skipped_parts`: no file
    under a folder of these names; `skipped_files`: relative paths left out."""
    return [name for name, _path in _files(Path(root), suffixes, skipped_parts, skipped_files)]


def folder_checksums(root: str | Path, *, suffixes: Collection[str] | None = None,
                     skipped_parts: Collection[str] = (), skipped_files: Collection[str] = ()) -> dict[str, str]:
    """sha256 of every file folder_files lists, keyed by its relative path."""
    return {name: sha256_of(path) for name, path in _files(Path(root), suffixes, skipped_parts, skipped_files)}


def combined_checksum(checksums: Mapping[str, str]) -> str:
    """One checksum over the files' checksums (names included): changes when any file is
    changed, added, removed or renamed."""
    digest = hashlib.sha256()
    for name in sorted(checksums):
        digest.update(f"{name}\0{checksums[name]}\n".encode())
    return digest.hexdigest()


def folder_fingerprint(root: str | Path, *, suffixes: Collection[str] | None = None,
                       skipped_parts: Collection[str] = (), skipped_files: Collection[str] = ()) -> str:
    """combined_checksum of the folder's files (the filters as in folder_files)."""
    return combined_checksum(folder_checksums(root, suffixes=suffixes, skipped_parts=skipped_parts,
                                              skipped_files=skipped_files))
