"""The one plan of what each edition folder needs (provpanel/edition_plan.py), which the CLI
build, the editions sensor and the build fingerprint follow."""

from __future__ import annotations

from test_editions_lifecycle import DATA, change_a_value, make_edition

from provpanel.edition_plan import (
    CHANGED,
    NEW,
    REFUSED,
    UNCHANGED,
    UNREADABLE,
    plan_editions,
    read_edition_folders,
)
from provpanel.errors import ExtractError
from provpanel.ingest import edition_fingerprint, prepare_edition, store_edition


def test_each_edition_gets_its_status_and_what_to_do(tmp_path, monkeypatch):
    editions, warehouse = tmp_path / "editions", tmp_path / "warehouse.duckdb"
    editions.mkdir()
    for name in ("kept", "changed", "linked_stored"):
        store_edition(prepare_edition(make_edition(editions, name)), warehouse)
    change_a_value(editions / "changed")
    make_edition(editions, "new")
    for name in ("linked_new",):
        make_edition(editions, name)
    for name in ("linked_new", "linked_stored"):  # refused before reading: a link out of the folder
        (editions / name / DATA).unlink()
        (editions / name / DATA).symlink_to("/etc/passwd")
    make_edition(editions, "unreadable")  # a folder being copied in: reading it fails
    import provpanel.ingest

    def fingerprint_or_fail(folder):
        if folder.name == "unreadable":
            raise PermissionError(13, "Permission denied", str(folder / DATA))
        return edition_fingerprint(folder)

    monkeypatch.setattr(provpanel.ingest, "edition_fingerprint", fingerprint_or_fail)

    folders = read_edition_folders(editions)
    plan = plan_editions(folders, warehouse)
    status = {planned.edition: planned.status for planned in plan.editions}
    assert status == {"changed": CHANGED, "kept": UNCHANGED, "linked_new": REFUSED, "linked_stored": REFUSED,
                      "new": NEW, "unreadable": UNREADABLE}
    assert [c.edition for c in plan.changed] == ["changed"] and plan.changed[0].changed == (DATA,)
    # new editions and refused ones never stored ask for a run (the refused one's run says why)
    assert [planned.edition for planned in plan.to_ingest()] == ["linked_new", "new"]
    assert plan.to_register(["kept", "changed"]) == ["linked_new", "linked_stored", "new", "unreadable"]
    folder = {f.edition: f for f in folders}
    assert folder["kept"].state == edition_fingerprint(editions / "kept")[0]
    assert isinstance(folder["linked_new"].error, ExtractError) and folder["linked_new"].state.startswith("refused-")
    assert folder["unreadable"].state.startswith("unreadable: ")


def test_without_a_warehouse_every_readable_edition_is_new(tmp_path):
    editions = tmp_path / "editions"
    make_edition(editions, "first")
    plan = plan_editions(read_edition_folders(editions), tmp_path / "no-warehouse.duckdb")
    assert [(p.edition, p.status, p.stored) for p in plan.editions] == [("first", NEW, False)]
