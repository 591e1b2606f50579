"""Browser-test support: the real app served over HTTP, and headless Chromium driven by Playwright.

Chromium is Debian's ``chromium`` package at ``/usr/bin/chromium``; Playwright never downloads
a browser of its own here (``playwright install`` is not run). A browser test module imports
the fixtures ``browser_starts`` (which skips its tests, saying why, where the browser does not
start), ``live`` and ``page`` from here.
"""

from __future__ import annotations

import functools
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Page, sync_playwright
from werkzeug.serving import BaseWSGIServer, make_server

CHROMIUM = Path("/usr/bin/chromium")
"""Debian's Chromium; the browser tests skip when it is missing or does not start."""

START_TIMEOUT_S = 60
"""How long Playwright's driver and Chromium may take to start before the tests skip."""

SETUP_HINT = "`make setup` installs system-packages.txt as root"

CHROMIUM_ARGS = [
    "--headless",
    # Tests run as root in a container, where Chromium's sandbox cannot start.
    "--no-sandbox",
    "--disable-gpu",
    # Keep the browser off the network: only the local server is ever opened.
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

PAGE_TIMEOUT_MS = 15_000
"""How long a browser step may wait for the page before the test fails."""

SERVER_HOST = "127.0.0.1"

TWO_FRAMES = "() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))"
"""A script that resolves once the page has drawn two more frames."""


@dataclass(frozen=True)
class LiveApp:
    """The app served over HTTP, and the URL the browser and Twilio's webhooks reach it at."""

    app: Flask
    url: str


def _not_ready(_environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
    return [b"the app is not mounted yet"]


@contextmanager
def serve(make_app: Callable[..., Flask], **overrides: Any) -> Iterator[LiveApp]:
    """Serve an app from ``make_app`` on a free local port, in a background thread.

    The port is chosen first, so the app is built with ``PUBLIC_BASE_URL`` set to the server's
    own URL: the webhook signatures and the callback URLs it hands Twilio then line up.
    """
    server: BaseWSGIServer = make_server(SERVER_HOST, 0, _not_ready, threaded=True)
    url = f"http://{SERVER_HOST}:{server.server_port}"
    app = make_app(PUBLIC_BASE_URL=url, **overrides)
    # The request handler reads ``server.app`` on every request.
    server.app = app
    thread = threading.Thread(target=server.serve_forever, name="live-app", daemon=True)
    thread.start()
    try:
        yield LiveApp(app=app, url=url)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@functools.cache
def browser_unavailable(chromium: Path = CHROMIUM) -> str | None:
    """Why the browser tests cannot run here, or None: tries to start the driver, then Chromium.

    Files being present is not enough: Playwright's driver is a Node.js binary that fails to
    load without ``libatomic1``, and Chromium may lack a library of its own. So both are
    started once per test session, and the reason a start failed becomes the skip reason.
    """
    if not chromium.exists():
        return f"no Chromium at {chromium} (apt-get install chromium; {SETUP_HINT})"
    driver_reason = driver_unavailable()
    if driver_reason:
        return driver_reason
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(chromium),
                headless=True,
                args=CHROMIUM_ARGS,
                timeout=START_TIMEOUT_S * 1000,
            )
            browser.close()
    except Exception as error:  # any failure to start is a reason to skip, said in full
        said = _launch_failure(str(error))
        return f"Chromium at {chromium} does not start: {said} ({SETUP_HINT})"
    return None


def driver_unavailable() -> str | None:
    """Why Playwright's driver does not start, or None.

    It is started in a process of its own so that what it prints on failing is seen: under
    ``sync_playwright()`` a driver that cannot start only says the connection closed.
    """
    try:
        driver = subprocess.run(
            [sys.executable, "-m", "playwright", "--version"],
            capture_output=True,
            text=True,
            timeout=START_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return f"Playwright's driver did not answer within {START_TIMEOUT_S} s"
    if driver.returncode != 0:
        said = _last_line(driver.stderr or driver.stdout) or f"exit status {driver.returncode}"
        return f"Playwright's driver does not start: {said} ({SETUP_HINT})"
    return None


def _launch_failure(message: str) -> str:
    """Playwright's launch error in one line: its first line and what the browser last printed.

    The message goes on with the whole command line and a call log; the browser's own words
    (``[pid=…][err] …``, a library it cannot load, say) are what tells why.
    """
    before_call_log = message.split("\nCall log:", 1)[0]
    said = [
        line.split("[err]", 1)[1].strip()
        for line in before_call_log.splitlines()
        if "[err]" in line and line.split("[err]", 1)[1].strip()
    ]
    first = _first_line(message)
    return f"{first}; it printed: {said[-1][:300]}" if said else first


def _first_line(text: str) -> str:
    """The first non-blank line of ``text``."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[0][:300] if lines else ""


def _last_line(text: str) -> str:
    """The last non-blank line of ``text``, where a failing program usually says why."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""


@contextmanager
def chromium_page(profile_dir: Path) -> Iterator[Page]:
    """Open a page in a fresh headless Chromium whose profile lives in ``profile_dir``."""
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile_dir),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
        )
        try:
            context.set_default_timeout(PAGE_TIMEOUT_MS)
            page = context.pages[0] if context.pages else context.new_page()
            yield page
        finally:
            context.close()


def resize(page: Page, width: int, height: int) -> None:
    """Make the page ``width`` × ``height`` px and wait until it has been laid out again.

    tables.js measures the tables again (and turns those that do not fit into cards) in the
    frame after the window resizes; two frames later that is done.
    """
    page.set_viewport_size({"width": width, "height": height})
    page.evaluate(TWO_FRAMES)


def fill_form(page: Page, form_selector: str, values: Mapping[str, str]) -> None:
    """Answer a form's fields by name as a user would: type, pick from a list, tick a radio."""
    form = page.locator(form_selector)
    for name, value in values.items():
        field = form.locator(f'[name="{name}"]')
        kind = field.first.evaluate("el => el.tagName === 'SELECT' ? 'select' : el.type")
        if kind == "select":
            field.select_option(value)
        elif kind in ("radio", "checkbox"):
            form.locator(f'[name="{name}"][value="{value}"]').check()
        else:
            field.fill(value)


@pytest.fixture(autouse=True)
def browser_starts() -> None:
    """Skip, saying why, unless Playwright's driver and Chromium both start here."""
    reason = browser_unavailable()
    if reason:
        pytest.skip(reason)


@pytest.fixture()
def live(make_app: Callable[..., Flask]) -> Iterator[LiveApp]:
    """The test's app served over HTTP."""
    with serve(make_app) as served:
        yield served


@pytest.fixture()
def page(tmp_path: Path) -> Iterator[Page]:
    """A page in a fresh headless Chromium."""
    with chromium_page(tmp_path / "chromium-profile") as opened:
        yield opened
