"""The audit trail: who changed what on a callback or an application, and when."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models.console import AuditEvent


def record_audit(
    session: Session,
    *,
    actor_id: int | None,
    entity: str,
    entity_id: int,
    action: str,
    changes: dict[str, Any],
) -> AuditEvent:
    """Add an audit event to ``session`` (committed with the change it records).

    ``changes`` maps each field to ``(old, new)``; dates, decimals and enums are stored as text.
    """
    event = AuditEvent(
        actor_id=actor_id,
        entity=entity,
        entity_id=entity_id,
        action=action,
        changes={
            field: [_json_safe(old), _json_safe(new)] for field, (old, new) in changes.items()
        },
    )
    session.add(event)
    return event


def audit_trail(session: Session, entity: str, entity_id: int) -> list[AuditEvent]:
    """Return the events of one record, oldest first."""
    return list(
        session.scalars(
            select(AuditEvent)
            .where(AuditEvent.entity == entity, AuditEvent.entity_id == entity_id)
            .order_by(AuditEvent.at, AuditEvent.id)
        )
    )


def _json_safe(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value
