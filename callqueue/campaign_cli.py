"""The ``flask campaign`` commands: create an announcement campaign, see how it is going."""

from __future__ import annotations

from collections.abc import Callable

import click
from click._termui_impl import ProgressBar
from flask.cli import AppGroup
from redis.exceptions import RedisError

from callqueue.campaigns import (
    DEFAULT_DEMAND_DAYS,
    CampaignError,
    campaign_ids,
    campaign_progress,
    campaign_recorded,
    create_campaign,
    record_calls,
    schedule_calls,
)
from core.models.campaigns import CampaignKind

campaign_cli = AppGroup("campaign", help="Outbound announcement campaigns.")

PROGRESS_LABELS = (
    ("queued", "queued"),
    ("calling", "calling"),
    ("answered", "answered"),
    ("machine", "machine"),
    ("retrying", "busy/no-answer, to retry"),
    ("failed", "failed"),
    ("unknown", "may have rung (provider never answered)"),
    ("done", "done"),
    ("paused", "paused (console)"),
    ("cancelled", "cancelled (console)"),
    ("callbacks", "callbacks asked for"),
)
"""The progress counts ``status`` prints, with their labels."""


def _bar(bar: ProgressBar[int]) -> Callable[[int, int], None]:
    """Return a progress callback that sizes the bar once the consumers are chosen."""

    def recorded(count: int, total: int) -> None:
        bar.length = total
        bar.update(count)

    return recorded


def _schedule(campaign_id: int, calls: int) -> None:
    try:
        with click.progressbar(length=calls, label="Scheduling calls") as bar:
            scheduled = schedule_calls(campaign_id, progress=bar.update)
    except RedisError as exc:
        raise click.ClickException(
            f"Redis is unreachable ({type(exc).__name__}); the calls are recorded: "
            f"run `flask campaign resume {campaign_id}` once it is back."
        ) from exc
    click.echo(f"{scheduled} call(s) scheduled.")


@campaign_cli.command("create")
@click.option(
    "--kind",
    type=click.Choice([kind.value for kind in CampaignKind]),
    required=True,
    help="overdue-bills: latest bill unpaid after its due date; "
    "unpaid-demand: demand note unpaid after --days.",
)
@click.option(
    "--days",
    type=click.IntRange(min=0),
    default=DEFAULT_DEMAND_DAYS,
    show_default=True,
    help="unpaid-demand: days since the demand note was issued.",
)
@click.option(
    "--rate", type=float, default=None, help="Calls per second (CAMPAIGN_CALLS_PER_SECOND)."
)
@click.option("--name", default=None, help="Campaign name (default: kind and today's date).")
def create_command(kind: str, days: int, rate: float | None, name: str | None) -> None:
    """Select the consumers to call, record the campaign and schedule its calls."""
    with click.progressbar(length=0, label="Recording calls") as bar:
        try:
            created = create_campaign(
                CampaignKind(kind), name=name, rate=rate, days=days, progress=_bar(bar)
            )
        except CampaignError as exc:
            raise click.ClickException(str(exc)) from exc
    if not created.new:
        unfinished = (
            ""
            if campaign_recorded(created.id)
            else (f" Its calls were not all recorded: run `flask campaign resume {created.id}`.")
        )
        click.echo(
            f"Campaign {created.id} {created.name!r} exists already with {created.calls} "
            f"call(s); nothing was added.{unfinished} See `flask campaign status {created.id}`."
        )
        return
    click.echo(f"Campaign {created.id} {created.name!r}: {created.calls} number(s) to call.")
    if created.calls:
        _schedule(created.id, created.calls)


@campaign_cli.command("resume")
@click.argument("campaign_id", type=int)
def resume_command(campaign_id: int) -> None:
    """Record the calls an interrupted create left out, and schedule every waiting call."""
    try:
        if not campaign_recorded(campaign_id):
            with click.progressbar(length=0, label="Recording calls") as bar:
                calls = record_calls(campaign_id, progress=_bar(bar))
            click.echo(f"Campaign {campaign_id}: {calls} number(s) to call.")
        progress = campaign_progress(campaign_id)
    except CampaignError as exc:
        raise click.ClickException(str(exc)) from exc
    waiting = int(progress["queued"]) + int(progress["retrying"])  # type: ignore[call-overload]
    _schedule(campaign_id, waiting)


@campaign_cli.command("status")
@click.argument("campaign_id", type=int, required=False)
def status_command(campaign_id: int | None) -> None:
    """Print a campaign's progress (every campaign's, without an id)."""
    ids = [campaign_id] if campaign_id is not None else campaign_ids()
    if not ids:
        click.echo("No campaigns yet.")
        return
    for each in ids:
        try:
            progress = campaign_progress(each)
        except CampaignError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(
            f"Campaign {progress['id']} {progress['name']!r} ({progress['kind']}, "
            f"{progress['rate']:g} calls/s): {progress['finished']} of {progress['total']} finished"
        )
        for key, label in PROGRESS_LABELS:
            click.echo(f"  {label:<26} {progress[key]}")
