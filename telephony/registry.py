"""What each provider's module tells the boundary about itself, in one record.

``telephony.init_app`` and the rest read these records instead of asking "which provider
is this?" in several places: a new provider is its module and its ``Registration``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from telephony.inbound import WebhookDialect
from telephony.outbound import Provider
from telephony.script import CallerSide

Config = Mapping[str, Any]
Wsgi = Callable[..., Any]


def _no_path(config: Config) -> str:
    return ""


def _unwrapped(app: Wsgi, config: Config) -> Wsgi:
    return app


@dataclass(frozen=True)
class Registration:
    """One provider: its settings, and how to make each of its parts from them."""

    name: str
    """As ``TELEPHONY_PROVIDER`` spells it."""

    credentials: tuple[str, ...]
    """Settings its REST API needs; the app refuses to start without them."""

    webhook_secret: str
    """The setting that secures its webhooks (a signing key, or a secret path)."""

    takes_dlt_entity_id: bool
    """Whether each Indian SMS carries the DLT entity id (``DLT_ENTITY_ID`` required)."""

    outgoing: Callable[[Config], Provider]
    webhooks: Callable[[Config], WebhookDialect]
    caller: Callable[[Config], CallerSide]

    secret_required: bool = False
    """Whether the app refuses to start without ``webhook_secret`` (a secret path cannot be
    left empty; a missing signing key only means every webhook gets 403)."""

    webhook_path: Callable[[Config], str] = _no_path
    """The path its webhooks come under, before the app's own (Exotel's secret path)."""

    wrap_app: Callable[[Wsgi, Config], Wsgi] = _unwrapped
    """WSGI middleware its webhooks need before the app sees them."""
