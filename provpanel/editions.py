"""The editions folder: which of its folders are editions, and the files of one edition with
their checksums (see docs/editions.md).

An edition is a folder of untouched downloads plus `manifest.yml`; its manifest is validated
in provpanel.edition_manifest and its files read in provpanel.edition_read.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from provpanel.errors import ManifestError
from provpanel.folder_checksums import folder_checksums, folder_files

MANIFEST_NAME = "manifest.yml"
# Present while `provpanel fetch` is still writing the folder: not an edition yet.
FETCH_MARKER = ".fetch-unfinished"


def _check_link(link: Path, edition_dir: Path) -> None:
    """A symbolic link inside an edition may point only inside the editions folder: a link to
    a system file would otherwise be read (and a line of it printed in an error). A link that
    leads back to itself resolves nowhere."""
    root = Path(os.path.abspath(edition_dir)).parent.resolve()
    try:
        target = link.resolve()
        os.stat(link)
    except FileNotFoundError:
        target = Path(os.path.realpath(link))  # a dangling link: judged by where it points
    except (RuntimeError, OSError) as err:
        if isinstance(err, RuntimeError) or err.errno == errno.ELOOP:
            raise ManifestError(link, "symbolic link", "a link to a file inside the editions folder",
                                f"a symbolic link loop ({link.name} -> {os.readlink(link)} leads back to itself)"
                                ) from None
        raise
    if not target.is_relative_to(root):
        raise ManifestError(link, "symbolic link",
                            f"a link to a file inside the editions folder {root} (or the file itself)",
                            f"a link to {os.readlink(link)} ({target})")


_NOT_REGULAR = ((stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISSOCK, "a socket"),
                (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"))


def _check_regular(path: Path) -> None:
    """An edition holds files and folders: a named pipe, a socket or a device would be
    skipped by the checksums and hang a reader."""
    mode = os.stat(path).st_mode  # through a link (already checked to stay in the folder)
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return
    kind = next((name for test, name in _NOT_REGULAR if test(mode)), "not a regular file")
    raise ManifestError(path, "whole file", "a regular file (a download saved on disk) or a folder", kind)


def check_links(edition_dir: Path) -> None:
    """Refuse, before anything of the edition is read, a link pointing outside the editions
    folder (or in a loop), and anything that is neither a file nor a folder."""
    for folder, subfolders, names in os.walk(edition_dir):
        for name in sorted([*subfolders, *names]):
            path = Path(folder) / name
            if path.is_symlink():
                _check_link(path, edition_dir)
            if not (path.is_symlink() and not os.path.exists(path)):
                _check_regular(path)


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
