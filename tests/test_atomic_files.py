"""atomic_write: the target holds the old content or the new, and no partial file stays."""

import os

import pytest

from provpanel import atomic_files
from provpanel.atomic_files import atomic_write


def test_writes_text_and_bytes(tmp_path):
    target = tmp_path / "state.json"
    atomic_write(target, "新 {}")
    assert target.read_text(encoding="utf-8") == "新 {}"
    atomic_write(target, b"\x00\x01")
    assert target.read_bytes() == b"\x00\x01"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json"]


def test_failure_mid_write_leaves_old_file_and_no_partial(tmp_path, monkeypatch):
    target = tmp_path / "state.json"
    target.write_text("old", encoding="utf-8")

    def failing_fsync(fd):
        raise OSError("disk full")

    monkeypatch.setattr(atomic_files.os, "fsync", failing_fsync)
    with pytest.raises(OSError, match="disk full"):
        atomic_write(target, "new content")
    assert target.read_text(encoding="utf-8") == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json"]


def test_data_is_fsynced_before_rename(tmp_path, monkeypatch):
    events = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(atomic_files.os, "fsync", lambda fd: (events.append("fsync"), real_fsync(fd)))
    monkeypatch.setattr(atomic_files.os, "replace", lambda a, b: (events.append("replace"), real_replace(a, b)))
    atomic_write(tmp_path / "f", "x")
    assert events == ["fsync", "replace"]
