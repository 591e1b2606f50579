"""Background work on RQ and Redis: queues, jobs, the retry and calling-hours policy, the worker.

Work is recorded in SQL first and reaches Redis second, so a Redis outage delays work but
never loses it: ``callqueue.sweep`` finds recorded work that never reached a queue.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the ``flask queue`` commands, the queues' metrics and their housekeeping."""
    from callqueue import metrics, sweep
    from callqueue.campaign_cli import campaign_cli
    from callqueue.cli import queue_cli
    from callqueue.sms_batch import read_rate_limit

    # A limit that is not a number fails here, at start, not in every send job.
    app.config["SMS_PER_SECOND_LIMIT"] = read_rate_limit(app.config["SMS_PER_SECOND_LIMIT"])
    app.cli.add_command(queue_cli)
    app.cli.add_command(campaign_cli)
    metrics.init_app(app)
    sweep.init_app(app)
