"""The browser tests' skip check starts Playwright's driver and Chromium, and says why they fail.

A fresh Debian machine once had both files present but a driver that could not load
``libatomic.so.1``: the browser test errored instead of skipping. These start programs that
fail the same ways and check that the reason given names what failed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip(
    "playwright.sync_api", reason="Playwright is not installed (pip install playwright)"
)

from tests.callcenter.browser_support import (  # noqa: E402
    browser_unavailable,
    driver_unavailable,
)

LOADER_ERROR = (
    "node: error while loading shared libraries: libatomic.so.1: "
    "cannot open shared object file: No such file or directory"
)


def failing_program(path: Path, says: str, status: int) -> Path:
    """A program that prints ``says`` on stderr and exits with ``status``: a broken binary."""
    path.write_text(f"#!/bin/sh\necho '{says}' >&2\nexit {status}\n")
    path.chmod(0o755)
    return path


def test_a_driver_that_cannot_load_a_library_is_a_reason_to_skip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Playwright runs its driver with the Node.js this variable names instead of its own.
    node = failing_program(tmp_path / "node", LOADER_ERROR, 127)
    monkeypatch.setenv("PLAYWRIGHT_NODEJS_PATH", str(node))
    chromium = failing_program(tmp_path / "chromium", "not reached", 1)

    reason = browser_unavailable.__wrapped__(chromium)

    assert reason is not None
    assert reason.startswith("Playwright's driver does not start:")
    assert "libatomic.so.1" in reason


def test_a_browser_that_does_not_start_is_a_reason_to_skip(tmp_path: Path) -> None:
    driver_reason = driver_unavailable()
    if driver_reason:
        pytest.skip(driver_reason)
    chromium = failing_program(tmp_path / "chromium", "chromium: cannot open display", 1)

    reason = browser_unavailable.__wrapped__(chromium)

    assert reason is not None
    assert reason.startswith(f"Chromium at {chromium} does not start:")
    assert "it printed: chromium: cannot open display" in reason


def test_a_missing_browser_is_a_reason_to_skip(tmp_path: Path) -> None:
    reason = browser_unavailable.__wrapped__(tmp_path / "no-chromium")

    assert reason is not None
    assert reason.startswith(f"no Chromium at {tmp_path / 'no-chromium'}")
