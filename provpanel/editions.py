"""The editions folder: which of its folders are editions, and the files of one edition with
their checksums (see docs/editions.md).

An edition is a folder of untouched downloads plus `manifest.yml`; its manifest is validated
in provpanel.edition_manifest and its files read in provpanel.edition_read.
"""

from __future__ import annotations

import os
from pathlib import Path

from provpanel.errors import ManifestError
from provpanel.folder_checksums import folder_checksums, folder_files

MANIFEST_NAME = "manifest.yml"
# Present while `provpanel fetch` is still writing the folder: not an edition yet.
FETCH_MARKER = ".fetch-unfinished"


def _check_link(link: Path, edition_dir: Path) -> None:
    """A symbolic link inside an edition may point only inside the editions folder: a link to
    a system file would otherwise be read (and a line of it printed in an error)."""
    root = Path(os.path.abspath(edition_dir)).parent.resolve()
    target = link.resolve()
    if not target.is_relative_to(root):
        raise ManifestError(link, "symbolic link",
                            f"a link to a file inside the editions folder {root} (or the file itself)",
                            f"a link to {os.readlink(link)} ({target})")


def check_links(edition_dir: Path) -> None:
    """Refuse, before anything of the edition is read, a link pointing outside the editions folder."""
    for folder, subfolders, names in os.walk(edition_dir):
        for name in sorted([*subfolders, *names]):
            path = Path(folder) / name
            if path.is_symlink():
                _check_link(path, edition_dir)


def edition_files(edition_dir: Path) -> list[str]:
    """Every file of the folder (relative POSIX paths, NFC), hidden files included: a hidden
    file is part of the edition like any other (listed, checksummed). Only the marker of an
    unfinished fetch is not (that folder is no edition yet). Links are checked first."""
    check_links(edition_dir)
    return folder_files(edition_dir, skipped_files={FETCH_MARKER})


def file_checksums(edition_dir: str | Path) -> dict[str, str]:
    """sha256 of every file of the edition folder (manifest and READMEs included), keyed by
    its relative path: a changed checksum means a changed edition."""
    edition_dir = Path(edition_dir)
    if not edition_dir.is_dir():
        raise ManifestError(edition_dir, "edition folder", "an existing folder", "no such folder")
    check_links(edition_dir)
    return folder_checksums(edition_dir, skipped_files={FETCH_MARKER})


def list_editions(editions_root: str | Path) -> list[str]:
    """Names of the folders under the editions root that hold a manifest.yml, sorted.
    A missing root has no editions (a fresh checkout). A folder `provpanel fetch` has not
    finished (FETCH_MARKER) is not an edition, manifest or not: see unfinished_editions."""
    root = Path(editions_root)
    if not root.exists():
        return []
    if not root.is_dir():
        raise ManifestError(root, "editions folder", "a folder", "a file")
    return sorted(
        child.name
        for child in root.iterdir()
        if child.is_dir() and not child.name.startswith(".") and (child / MANIFEST_NAME).is_file()
        and not (child / FETCH_MARKER).exists()
    )


def unfinished_editions(editions_root: str | Path) -> list[str]:
    """Folders under the editions root that an unfinished `provpanel fetch` left, sorted."""
    root = Path(editions_root)
    if not root.is_dir():
        return []
    return sorted(child.name for child in root.iterdir()
                  if child.is_dir() and not child.name.startswith(".") and (child / FETCH_MARKER).exists())
