"""``flask users …``: console accounts from the command line."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup
from sqlalchemy import func, select

from callcenter.auth import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, hash_password
from callcenter.security import end_sessions
from connections.timeline import split_area
from core.extensions import db
from core.models import Role, User
from core.phone import normalise

users_cli = AppGroup("users", help="Manage console accounts.")


@users_cli.command("create")
@click.argument("username")
@click.option(
    "--role", type=click.Choice([role.value for role in Role]), default=Role.OPERATOR.value
)
@click.option("--name", default=None, help="Full name shown in the console (default: USERNAME).")
@click.option("--phone", default=None, help="Number the operator is rung on for calls.")
@click.option("--languages", default="hi", show_default=True, help="Codes spoken, e.g. hi,en.")
@click.option(
    "--area",
    default=None,
    help="A field engineer's area: DISTRICT or DISTRICT/SUBDIVISION (required for them).",
)
@click.option(
    "--password",
    default=None,
    help="Visible to other users in the process list; prefer the prompt or --password-stdin.",
)
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from the first line of standard input (for scripts).",
)
def create_user(
    username: str,
    role: str,
    name: str | None,
    phone: str | None,
    languages: str,
    area: str | None,
    password: str | None,
    password_stdin: bool,
) -> None:
    """Create a console account (a password is 10 to 200 characters; asked for unless given)."""
    username = username.strip()
    if not username or len(username) > 64:
        raise click.BadParameter("1 to 64 characters", param_hint="USERNAME")
    area = _area(role, area)
    password = _read_password(password, password_stdin)
    codes = [code.strip().lower() for code in languages.split(",") if code.strip()]
    if not codes or not all(code.isalpha() and len(code) <= 5 for code in codes):
        raise click.BadParameter(
            "comma-separated language codes, e.g. hi,en", param_hint="--languages"
        )
    e164 = None
    if phone:
        try:
            e164 = normalise(phone)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--phone") from exc
    taken = db.session.scalar(select(User.id).where(func.lower(User.username) == username.lower()))
    if taken is not None:
        raise click.ClickException(f"a user named {username!r} already exists")
    user = User(
        username=username,
        name=name or username,
        password_hash=hash_password(password),
        role=role,
        phone=e164,
        languages=",".join(codes),
        area=area,
        active=True,
    )
    db.session.add(user)
    db.session.commit()
    click.echo(f"Created {role} {username!r} (id {user.id}){f' for {area}' if area else ''}.")


def _area(role: str, given: str | None) -> str | None:
    """Return a field engineer's area as "District" or "District/Subdivision"."""
    if role != Role.FIELD_ENGINEER:
        if given:
            raise click.BadParameter("only a field engineer has an area", param_hint="--area")
        return None
    district, subdivision = split_area(given or "")
    if not district or "/" in subdivision or len(district) > 80 or len(subdivision) > 80:
        raise click.BadParameter(
            "a field engineer needs DISTRICT or DISTRICT/SUBDIVISION (each up to 80 characters)",
            param_hint="--area",
        )
    return f"{district}/{subdivision}" if subdivision else district


def _read_password(given: str | None, from_stdin: bool) -> str:
    """Return the new account's password: given, read from standard input, or asked for."""
    if given is not None and from_stdin:
        raise click.UsageError("give --password or --password-stdin, not both")
    if from_stdin:
        # One line; only its line ending is dropped, so a password may start or end with spaces.
        password = sys.stdin.readline().rstrip("\r\n")
        hint = "--password-stdin"
    elif given is not None:
        password, hint = given, "--password"
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        hint = "--password"
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise click.BadParameter(
            f"{MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters (got {len(password)})",
            param_hint=hint,
        )
    return password


def _user_named(username: str) -> User:
    user = db.session.scalar(
        select(User).where(func.lower(User.username) == username.strip().lower())
    )
    if user is None:
        raise click.ClickException(f"no user named {username!r}")
    return user


@users_cli.command("password")
@click.argument("username")
@click.option("--password", default=None, help="Visible to other users in the process list.")
@click.option("--password-stdin", is_flag=True, help="Read it from standard input.")
def change_password(username: str, password: str | None, password_stdin: bool) -> None:
    """Set a user's password; every session they had ends."""
    user = _user_named(username)
    user.password_hash = hash_password(_read_password(password, password_stdin))
    end_sessions(user)
    db.session.commit()
    click.echo(f"New password for {user.username!r}; their sessions have ended.")


@users_cli.command("disable")
@click.argument("username")
def disable_user(username: str) -> None:
    """Disable a user: they cannot log in, and every session they had ends."""
    user = _user_named(username)
    user.active = False
    end_sessions(user)
    db.session.commit()
    click.echo(f"Disabled {user.username!r}; their sessions have ended.")


@users_cli.command("enable")
@click.argument("username")
def enable_user(username: str) -> None:
    """Let a disabled user log in again."""
    user = _user_named(username)
    user.active = True
    db.session.commit()
    click.echo(f"Enabled {user.username!r}.")
