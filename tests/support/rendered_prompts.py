"""Stand-ins for rendered prompts: a file and a manifest entry per item, no speech engine."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

from voice_prompts.library import MANIFEST_FILE, PromptLibrary

STAND_IN_SHA = "f" * 64


def render_stand_ins(
    directory: Path,
    lang: str,
    *,
    sha256: str = STAND_IN_SHA,
    only: Iterable[str] | None = None,
) -> None:
    """Write every item of the main catalogue in ``lang`` (or the ``only`` keys) as rendered.

    The manifest is replaced as the renderer replaces it, so a running app sees a new one.
    """
    library = PromptLibrary(directory)
    manifest = directory / MANIFEST_FILE
    items = json.loads(manifest.read_text(encoding="utf-8"))["items"] if manifest.exists() else {}
    wanted = set(only) if only is not None else None
    for item in library.items(lang).values():
        if wanted is not None and item.key not in wanted:
            continue
        path = directory / item.relative_path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"RIFF....WAVE")
        items[item.manifest_key] = {"file": item.relative_path, "text": item.text, "sha256": sha256}
    temporary = directory / f".{MANIFEST_FILE}.tmp"
    temporary.write_text(json.dumps({"items": items}), encoding="utf-8")
    os.replace(temporary, manifest)
