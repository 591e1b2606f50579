"""What the IVR and the console read of reconnection orders."""

from __future__ import annotations

from sqlalchemy import select

from core.extensions import db
from core.models.meters import OPEN_ORDER_STATUSES, ReconnectionOrder


def awaiting_reconnection(account_id: int) -> bool:
    """Tell whether a reconnection of this account's meter is under way."""
    return (
        db.session.scalar(
            select(ReconnectionOrder.id)
            .where(
                ReconnectionOrder.account_id == account_id,
                ReconnectionOrder.status.in_(OPEN_ORDER_STATUSES),
            )
            .limit(1)
        )
        is not None
    )


def latest_orders(account_ids: list[int]) -> dict[int, ReconnectionOrder]:
    """Return each account's latest reconnection order, for those that have one."""
    if not account_ids:
        return {}
    orders = db.session.scalars(
        select(ReconnectionOrder)
        .where(ReconnectionOrder.account_id.in_(account_ids))
        .order_by(ReconnectionOrder.account_id, ReconnectionOrder.created_at.desc())
    )
    latest: dict[int, ReconnectionOrder] = {}
    for order in orders:
        latest.setdefault(order.account_id, order)
    return latest
