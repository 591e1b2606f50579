"""``GET /metrics`` for Prometheus: webhook answers as they happen, and the work as it stands.

Two kinds of figures, each made where it is right with several web and worker processes:

- **Webhook latency and answers** (``sampark_webhook_request_duration_seconds``,
  ``sampark_webhook_responses_total``) are counted by the web process that answers. Under
  gunicorn each worker writes them to files in ``PROMETHEUS_MULTIPROC_DIR``
  (prometheus-client's multiprocess mode, which ``gunicorn.conf.py`` sets up), and a
  scrape, whichever worker takes it, adds every worker's up.
- **The work** (callbacks waiting, SMS and call attempts by state, campaign progress, RQ's
  queues) is read from SQL and Redis at scrape time by collectors that packages register
  (``register_collector``). The records are the truth, the same from every process, and the
  work itself happens in RQ work horses (a process per job) that multiprocess mode would
  leave a file each for.

Without ``METRICS_TOKEN`` the endpoint is not there (404); with it, a scrape must carry
``Authorization: Bearer <token>``. The timing hooks sit on the webhook blueprints only.
"""

from __future__ import annotations

import hmac
import logging
import os
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta
from time import perf_counter
from typing import Any

from flask import Blueprint, Flask, Response, abort, current_app, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import case, func, select

from core.config import settings
from core.extensions import db
from core.models import Callback, CallbackStatus, MessageStatus, OutboundMessage, utcnow
from core.models.attempts import CallAttempt
from core.models.campaigns import Campaign, CampaignCall
from core.sessions import without_sessions

log = logging.getLogger("sampark.metrics")

MULTIPROC_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
"""Where each process writes its counts when several processes serve the app."""

WEBHOOK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0)
"""Seconds; the provider gives up on a webhook after about 15."""

CAMPAIGN_DAYS = 30
"""Campaigns created within this many days are reported (their names are label values)."""

RECENT = timedelta(hours=24)
"""SMS and call attempts are counted over this window: a year's would be read each scrape."""

WAITING_SMS = (MessageStatus.QUEUED, MessageStatus.SENDING)
"""SMS statuses counted whatever their age (few rows, found by status)."""

COLLECTORS_KEY = "sampark.metrics.collectors"
"""Where in ``app.extensions`` the registered collectors are kept."""

WEBHOOK_SECONDS = Histogram(
    "sampark_webhook_request_duration_seconds",
    "Time a webhook took from its view's start to its answer, by endpoint.",
    ["endpoint"],
    buckets=WEBHOOK_BUCKETS,
    registry=None,
)
WEBHOOK_ANSWERS = Counter(
    "sampark_webhook_responses",
    "Webhook answers by endpoint and HTTP status.",
    ["endpoint", "status"],
    registry=None,
)

_STARTED = "sampark.metrics.started"
_timers: dict[str | None, Any] = {}
_answers: dict[tuple[str | None, int], Any] = {}

metrics_bp = Blueprint("metrics", __name__)

ScrapeCollector = Callable[[], Iterable[Metric]]
"""Yields metric families read at scrape time (inside the app context)."""


def init_app(app: Flask, webhooks: Iterable[str]) -> None:
    """Serve ``/metrics``; time the requests of the ``webhooks`` blueprints (by name)."""
    app.register_blueprint(metrics_bp)
    without_sessions(app, "/metrics")
    # Hooks keyed by blueprint name: the console and the rest do not pay for them.
    for name in webhooks:
        app.before_request_funcs.setdefault(name, []).insert(0, _start_timer)
        app.after_request_funcs.setdefault(name, []).append(_count_answer)
    register_collector(app, _record_metrics)


def register_collector(app: Flask, collector: ScrapeCollector) -> None:
    """Have ``collector`` read its figures at each scrape."""
    app.extensions.setdefault(COLLECTORS_KEY, []).append(collector)


def _start_timer() -> None:
    request.environ[_STARTED] = perf_counter()


def _count_answer(response: Response) -> Response:
    current = request._get_current_object()  # type: ignore[attr-defined]  # one proxy lookup
    started = current.environ.get(_STARTED)
    endpoint = current.endpoint
    if started is not None:
        # Labelled children are looked up once per endpoint: labels() takes a lock.
        timer = _timers.get(endpoint)
        if timer is None:
            timer = _timers.setdefault(endpoint, WEBHOOK_SECONDS.labels(str(endpoint)))
        timer.observe(perf_counter() - started)
    key = (endpoint, response.status_code)
    answers = _answers.get(key)
    if answers is None:
        answers = _answers.setdefault(key, WEBHOOK_ANSWERS.labels(str(endpoint), str(key[1])))
    answers.inc()
    return response


@metrics_bp.get("/metrics")
def metrics() -> Response:
    """Answer Prometheus's scrape, if it carries the token."""
    token = settings().METRICS_TOKEN
    if not token:
        abort(404)
    offered = request.headers.get("Authorization", "")
    if not hmac.compare_digest(offered.encode(), f"Bearer {token}".encode()):
        return Response("a bearer token is needed\n", 401, {"WWW-Authenticate": "Bearer"})
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get(MULTIPROC_DIR_VARIABLE):
        MultiProcessCollector(registry)
    else:
        registry.register(WEBHOOK_SECONDS)
        registry.register(WEBHOOK_ANSWERS)
    registry.register(_AtScrape(current_app.extensions.get(COLLECTORS_KEY, [])))
    return Response(generate_latest(registry), headers={"Content-Type": CONTENT_TYPE_LATEST})


class _AtScrape(Collector):
    """Runs the registered collectors; one that fails is reported down, the others still count."""

    def __init__(self, collectors: list[ScrapeCollector]) -> None:
        self.collectors = collectors

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "sampark_metrics_collector_up",
            "Whether a scrape-time collector could read its source (1) or not (0).",
            labels=["collector"],
        )
        for collector in self.collectors:
            name = getattr(collector, "__name__", type(collector).__name__).lstrip("_")
            try:
                families = list(collector())
            except Exception as exc:  # noqa: BLE001 - a scrape must still answer
                log.warning("metrics: %s failed (%s)", name, type(exc).__name__)
                db.session.rollback()
                up.add_metric([name], 0)
                continue
            up.add_metric([name], 1)
            yield from families
        yield up


def gauge(name: str, documentation: str, labels: list[str], rows: Iterable[Any]) -> Metric:
    """Return a gauge family from rows of (label values…, value)."""
    family = GaugeMetricFamily(name, documentation, labels=labels)
    for *values, value in rows:
        family.add_metric([str(each) for each in values], float(value or 0))
    return family


def _record_metrics() -> Iterator[Metric]:
    """Read the callbacks, SMS, call attempts and campaigns as they stand."""
    session = db.session
    now = utcnow()
    since = now - RECENT
    try:
        pending, due, oldest_due = session.execute(
            select(
                func.count(),
                func.coalesce(func.sum(case((Callback.due_at <= now, 1), else_=0)), 0),
                func.min(Callback.due_at),
            ).where(Callback.status == CallbackStatus.PENDING)
        ).one()
        waiting = session.execute(
            select(OutboundMessage.template, OutboundMessage.status, func.count())
            .where(OutboundMessage.status.in_(WAITING_SMS))
            .group_by(OutboundMessage.template, OutboundMessage.status)
        ).all()
        first_sms = first_id_since(OutboundMessage, since)
        sms = session.execute(
            select(OutboundMessage.template, OutboundMessage.status, func.count())
            .where(OutboundMessage.id >= first_sms)
            .group_by(OutboundMessage.template, OutboundMessage.status)
        ).all()
        first_attempt = first_id_since(CallAttempt, since)
        attempts = session.execute(
            select(func.coalesce(CallAttempt.outcome, "unsettled"), func.count())
            .where(CallAttempt.id >= first_attempt)
            .group_by(CallAttempt.outcome)
        ).all()
        campaigns = session.execute(
            select(Campaign.name, CampaignCall.status, func.count())
            .join(CampaignCall, CampaignCall.campaign_id == Campaign.id)
            .where(Campaign.created_at >= now - timedelta(days=CAMPAIGN_DAYS))
            .group_by(Campaign.name, CampaignCall.status)
        ).all()
    finally:
        session.rollback()
    waited = (now - oldest_due).total_seconds() if oldest_due and oldest_due <= now else 0.0
    yield gauge("sampark_callbacks_pending", "Callbacks waiting for an operator.", [], [(pending,)])
    yield gauge("sampark_callbacks_due", "Pending callbacks due now.", [], [(due,)])
    yield gauge(
        "sampark_callbacks_oldest_due_wait_seconds",
        "How long the longest-waiting due callback has been due.",
        [],
        [(waited,)],
    )
    yield gauge(
        "sampark_sms_waiting",
        "SMS not sent yet, however old: queued (for a worker or a retry) or sending.",
        ["template", "status"],
        waiting,
    )
    yield gauge(
        "sampark_sms_messages_last_day",
        "SMS recorded in the last 24 hours, by template and status (queued, sent, failed…).",
        ["template", "status"],
        sms,
    )
    yield gauge(
        "sampark_call_attempts_last_day",
        "Calls placed for operators in the last 24 hours, by outcome (unsettled: under way).",
        ["outcome"],
        attempts,
    )
    yield gauge(
        "sampark_campaign_calls",
        f"Calls of the campaigns of the last {CAMPAIGN_DAYS} days, by status.",
        ["campaign", "status"],
        campaigns,
    )


def first_id_since(model: Any, since: datetime) -> int:
    """Return the lowest id of ``model``'s rows created since ``since`` (past the last if none).

    Ids grow with ``created_at``, which has no index (the intake would write it on every
    missed call): a binary search over the primary key, a score of one-row reads, finds
    where the window starts, so a scrape reads the last day's rows and not a year's.
    """
    session = db.session
    low, high = session.execute(select(func.min(model.id), func.max(model.id))).one()
    if high is None:
        return 0
    high += 1  # "past the last": no row in the window
    while low < high:
        middle = (low + high) // 2
        row = session.execute(
            select(model.id, model.created_at).where(model.id >= middle).order_by(model.id).limit(1)
        ).one()
        if row.created_at >= since:
            high = middle
        else:
            low = row.id + 1  # no row between middle and this one
    return low
