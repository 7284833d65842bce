"""Plots in place on an asset's page: a short Markdown image (the UI renders one shorter than
1000 characters in the metadata table, a longer one only behind "[Show Markdown]") of a copy
the webserver serves from the instance's compute-log storage."""

from __future__ import annotations

import pytest
from dagster import DagsterInstance

from orchestration.ui_images import IMAGE_NAMESPACE, image_url, inline_image

UI_INLINE_LIMIT = 1000  # Dagster 1.13's MetadataEntry: Markdown under this length is shown in place
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 50_000  # as long as a real plot: too long to embed inline


@pytest.fixture
def instance(tmp_path):
    (tmp_path / "dagster").mkdir()
    with DagsterInstance.local_temp(str(tmp_path / "dagster")) as local:
        yield local


def _served_path(instance, url: str):
    """The file the webserver's /logs/<key>/<extension> route answers `url` with."""
    *log_key, extension = url.removeprefix("/logs/").split("/")
    return instance.compute_log_manager.get_captured_local_path(log_key, extension)


def test_the_image_is_a_short_address_of_a_served_copy(instance, tmp_path):
    png = tmp_path / "plot.png"
    png.write_bytes(PNG)
    value = inline_image(instance, "ic_tu_by_region", png, source=tmp_path / "outputs" / "ic_tu_by_region.png")
    url = image_url(instance, png)
    assert url.startswith(f"/logs/{IMAGE_NAMESPACE}/") and url.endswith("/png")
    assert value.md_str == f"![ic_tu_by_region]({url})\n\n`{tmp_path / 'outputs' / 'ic_tu_by_region.png'}`"
    assert len(value.md_str) < UI_INLINE_LIMIT
    with open(_served_path(instance, url), "rb") as served:
        assert served.read() == PNG


def test_a_copy_is_kept_once_per_content(instance, tmp_path):
    first, again, other = (tmp_path / name for name in ("a.png", "b.png", "c.png"))
    first.write_bytes(PNG)
    again.write_bytes(PNG)
    other.write_bytes(PNG + b"\x01")
    assert image_url(instance, first) == image_url(instance, again) != image_url(instance, other)
    stored = {p.name for p in (tmp_path / "dagster" / "storage" / IMAGE_NAMESPACE).iterdir()}
    assert len(stored) == 2 and all(name.endswith(".png") for name in stored)


def test_without_local_compute_logs_the_image_is_embedded(tmp_path):
    png = tmp_path / "plot.png"
    png.write_bytes(PNG[:100])
    with DagsterInstance.ephemeral() as ephemeral:  # keeps no compute logs: nothing to serve from
        assert image_url(ephemeral, png) is None
        assert inline_image(ephemeral, "plot", png).md_str.startswith("![plot](data:image/png;base64,iVBORw0KGgo")
