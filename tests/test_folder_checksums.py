"""The one folder hasher: which files count, and that the checksum over them moves with any change."""

from __future__ import annotations

import hashlib

from provpanel.folder_checksums import (
    combined_checksum,
    folder_checksums,
    folder_files,
    folder_fingerprint,
)


def _tree(root):
    (root / "models" / "target").mkdir(parents=True)
    (root / "models" / "a.sql").write_text("select 1")
    (root / "models" / "target" / "compiled.sql").write_text("select 2")
    (root / "notes.txt").write_text("not code")
    (root / ".hidden.sql").write_text("select 3")
    return root


def test_filters_choose_the_files(tmp_path):
    root = _tree(tmp_path)
    assert folder_files(root) == [".hidden.sql", "models/a.sql", "models/target/compiled.sql", "notes.txt"]
    assert folder_files(root, suffixes={".sql"}, skipped_parts={"target"}) == [".hidden.sql", "models/a.sql"]
    assert folder_files(root, skipped_files={"notes.txt"}) == [".hidden.sql", "models/a.sql",
                                                                "models/target/compiled.sql"]
    assert folder_checksums(root, suffixes={".txt"}) == {"notes.txt": hashlib.sha256(b"not code").hexdigest()}


def test_fingerprint_moves_with_a_change_a_rename_and_nothing_else(tmp_path):
    root = _tree(tmp_path)
    code = {"suffixes": {".sql"}, "skipped_parts": {"target"}}
    before = folder_fingerprint(root, **code)
    assert before == combined_checksum(folder_checksums(root, **code))
    (root / "models" / "target" / "compiled.sql").write_text("select 99")  # skipped folder
    (root / "notes.txt").write_text("other")  # other suffix
    assert folder_fingerprint(root, **code) == before
    (root / "models" / "a.sql").rename(root / "models" / "b.sql")
    renamed = folder_fingerprint(root, **code)
    assert renamed != before
    (root / "models" / "b.sql").write_text("select 1 ")
    assert folder_fingerprint(root, **code) not in (before, renamed)


def test_combined_checksum_is_the_stored_formula():
    # raw.editions.files_sha256 holds this value for every ingested edition: it must not change
    expected = hashlib.sha256(b"a.csv\x00" + b"1" * 64 + b"\nmanifest.yml\x00" + b"2" * 64 + b"\n").hexdigest()
    assert combined_checksum({"manifest.yml": "2" * 64, "a.csv": "1" * 64}) == expected
