"""Browser-test support: the real app served over HTTP, and headless Chromium driven by Playwright.

Chromium is Debian's ``chromium`` package at ``/usr/bin/chromium``; Playwright never downloads
a browser of its own here (``playwright install`` is not run).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask
from playwright.sync_api import Page, sync_playwright
from werkzeug.serving import BaseWSGIServer, make_server

CHROMIUM = Path("/usr/bin/chromium")
"""Debian's Chromium; the browser tests skip when it is missing."""

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
