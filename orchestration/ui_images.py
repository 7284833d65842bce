"""Images shown in place on an asset's page in the Dagster UI.

Dagster's UI (1.13) renders a Markdown metadata value in the asset page's metadata table only
when it is shorter than 1000 characters; a longer one (an image embedded as a data URI) sits
behind "[Show Markdown]", in a modal that cuts it off. So the image is stored once, named by
its content, in the instance's local compute-log storage, which the webserver itself serves
(its route /logs/<key>/<extension>), and the metadata value is a short Markdown image of that
address, on the UI's own origin, with no other server.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

from dagster import MetadataValue

from provpanel.atomic_files import atomic_write

# the key of the images in the compute-log storage, apart from every run's logs
IMAGE_NAMESPACE = "provpanel_images"


def image_url(instance, png: Path) -> str | None:
    """The address on the UI's origin that serves a copy of the PNG at `png` (stored once per
    content), or None when the instance keeps no local compute logs for the webserver to serve."""
    from dagster._core.storage.local_compute_log_manager import LocalComputeLogManager

    manager = instance.compute_log_manager
    if not isinstance(manager, LocalComputeLogManager):
        return None
    data = png.read_bytes()
    digest = hashlib.sha256(data).hexdigest()[:32]
    stored = Path(manager.get_captured_local_path([IMAGE_NAMESPACE, digest], "png"))
    if not stored.exists():  # same content, same name: written once, by an atomic rename
        stored.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(stored, data)
    return f"/logs/{IMAGE_NAMESPACE}/{digest}/png"


def inline_image(instance, label: str, png: Path, *, source: Path | None = None) -> MetadataValue:
    """Metadata showing the PNG at `png` in place, with the file it stands for (`source`,
    default `png`) under it; without a served copy, the image embedded (shown behind a click)."""
    source = source or png
    url = image_url(instance, png)
    if url is None:
        url = f"data:image/png;base64,{base64.b64encode(png.read_bytes()).decode()}"
    return MetadataValue.md(f"![{label}]({url})\n\n`{source}`")
