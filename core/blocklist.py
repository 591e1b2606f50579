"""``flask blocklist …``: numbers whose missed calls are recorded but never called back."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import select

from core.extensions import db
from core.models import BlockedNumber
from core.phone import mask, normalise

blocklist_cli = AppGroup("blocklist", help="Numbers whose missed calls are never called back.")


def _number(raw: str) -> str:
    try:
        return normalise(raw, current_app.config["DEFAULT_REGION"])
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc


@blocklist_cli.command("add")
@click.argument("number")
@click.option("--reason", default="", help="Why, for whoever reads the list later.")
def add_command(number: str, reason: str) -> None:
    """Block a number."""
    phone = _number(number)
    if db.session.get(BlockedNumber, phone) is None:
        db.session.add(BlockedNumber(phone=phone, reason=reason))
        db.session.commit()
    click.echo(f"blocked {mask(phone)}")


@blocklist_cli.command("remove")
@click.argument("number")
def remove_command(number: str) -> None:
    """Unblock a number."""
    phone = _number(number)
    entry = db.session.get(BlockedNumber, phone)
    if entry is None:
        raise click.ClickException(f"{mask(phone)} is not blocked")
    db.session.delete(entry)
    db.session.commit()
    click.echo(f"unblocked {mask(phone)}")


@blocklist_cli.command("list")
def list_command() -> None:
    """List blocked numbers (masked), newest first."""
    entries = db.session.scalars(select(BlockedNumber).order_by(BlockedNumber.created_at.desc()))
    for entry in entries:
        click.echo(f"{mask(entry.phone)}  {entry.created_at:%Y-%m-%d}  {entry.reason}")


def init_app(app: Flask) -> None:
    """Register ``flask blocklist``."""
    app.cli.add_command(blocklist_cli)
