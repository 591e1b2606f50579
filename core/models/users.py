"""People who use the console: operators, supervisors, admins, and field engineers."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from flask_login import UserMixin
from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.models.types import PHONE, UTCDateTime, utcnow


class Role(StrEnum):
    """What a console user may do.

    Operators, supervisors and admins form a ladder: each may do what the ones before it
    may. A field engineer (junior engineer) stands outside it: they record the stages of
    the connections in their area (``User.area``) and open nothing of the call centre's.
    """

    OPERATOR = "operator"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"
    FIELD_ENGINEER = "field_engineer"


LADDER: tuple[Role, ...] = (Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN)
"""The call centre's roles, lowest first."""


class User(UserMixin, db.Model):
    """A console account. Operators are rung on ``phone`` and bridged to consumers."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16), default=Role.OPERATOR)
    phone: Mapped[str | None] = mapped_column(PHONE)
    # Languages the person speaks, comma-separated codes ("hi,en").
    languages: Mapped[str] = mapped_column(String(40), default="hi")
    # The console's language this user chose ("hi" or "en"); None: not chosen yet.
    language: Mapped[str | None] = mapped_column(String(5))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # A field engineer's area: "District" or "District/Subdivision" (connections.areas).
    area: Mapped[str | None] = mapped_column(String(120))
    # Raised to end every console session of the user (logout, new password, disabled).
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts
        return self.active

    def get_id(self) -> str:
        """Return what a session keeps of the user: the id and the session version."""
        return f"{self.id}:{self.session_version}"

    def may(self, role: Role) -> bool:
        """Tell whether this user has ``role`` or one above it on the ladder."""
        mine = Role(self.role)
        if Role.FIELD_ENGINEER in (mine, role):
            return mine == role
        return LADDER.index(mine) >= LADDER.index(role)
