"""Outage notices: supply outages on a feeder or in an area, and who hears of them.

Owns the outage records (``records``: recording, moving the expected restoration,
closing), the SMS notices to every consumer there (``notices``: recorded in batches, one
per outage and number, at once for an unplanned outage and from the opening of calling
hours for a planned one; the relay sends them), and what the IVR says to a caller on a
feeder with a current outage (``spoken``). The supervisors' page is the console's
(``callcenter/outages_views.py``); the IVR speaks what ``spoken`` chooses.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Let the sweeper queue again notices whose recording was cut short or never started."""
    from core import housekeeping
    from outages.notices import requeue_pending_notices

    housekeeping.register(app, "outage_notices", requeue_pending_notices, needs_redis=True)
