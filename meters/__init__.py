"""Smart and prepaid meters: switching a consumer's supply back on through the meter head-end.

Owns the head-end adapter (``meters.head_end``: connect/disconnect commands and relay state
over HTTP), the reconnection orders and their RQ job (``meters.reconnection``: on
``core.events.dues_cleared`` for a consumer cut off for non-payment, command, poll, SMS,
retry, give up to a person), the sweep's tasks that requeue lost orders and give priority
callbacks, and what the IVR and the console read of an order (``meters.status``).
"""

from __future__ import annotations

import logging

from flask import Flask

from core import events, housekeeping

log = logging.getLogger("sampark.meters")


def init_app(app: Flask) -> None:
    """Receive ``dues_cleared`` and register the reconnection's housekeeping."""
    from meters import reconnection

    # Bad command hours stop the start, naming the setting, rather than every job later.
    app.extensions[reconnection.COMMAND_HOURS_KEY] = reconnection.read_command_hours(app.config)
    events.dues_cleared.connect(reconnection.on_dues_cleared)
    housekeeping.register(app, "reconnection_callbacks", reconnection.give_callbacks)
    housekeeping.register(app, "reconnections_recovered", reconnection.recover_lost_orders)
    housekeeping.register(
        app, "reconnections_requeued", reconnection.requeue_lost_orders, needs_redis=True
    )
    if not app.config["HEAD_END_URL"]:
        log.info(
            "HEAD_END_URL is not set: smart-meter reconnection sends no commands; orders are "
            "recorded and wait for it (python -m tests.support.head_end_standin runs a local one)"
        )
