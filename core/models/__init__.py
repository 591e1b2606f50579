"""The shared SQL records, one module per area; import them from here.

- ``types``: UTC timestamps and phone-number columns used by every record.
- ``calls``: missed calls, callbacks, outgoing and incoming SMS, the block list.
- ``users``: operators, supervisors and admins of the console.
- ``consumers``: consumer accounts, linked numbers, bills (the IVR's bill status).
- ``console``: callback claims and the audit trail.
- ``attempts``: outbound calls placed to bridge operators and consumers.
- ``applications``: applications filled for consumers, and their demand notes.
- ``meters``: reconnection orders of smart and prepaid meters.
- ``payments``: payment links, payments received, gateway webhook events handled.
- ``connections``: the connection clock of a paid application, and its stages.
- ``outages``: outages on a feeder or in an area, and the SMS notices about them.
- ``floor``: operators' states between calls (after-call work, away).
"""

# Every module is imported so that its tables are in the metadata migrations compare with.
from core.models import (  # noqa: F401
    applications,
    attempts,
    campaigns,
    connections,
    console,
    consumers,
    meters,
    outages,
    payments,
)
from core.models.calls import (
    OPEN_CALLBACK_SQL,
    OPEN_CALLBACK_STATUSES,
    BlockedNumber,
    Callback,
    CallbackStatus,
    InboundMessage,
    MessageStatus,
    MissedCall,
    MissedCallOutcome,
    OutboundMessage,
)
from core.models.floor import OperatorState, OperatorStatus
from core.models.types import PHONE, UTCDateTime, utcnow
from core.models.users import Role, User

__all__ = [
    "OPEN_CALLBACK_SQL",
    "OPEN_CALLBACK_STATUSES",
    "PHONE",
    "BlockedNumber",
    "Callback",
    "CallbackStatus",
    "InboundMessage",
    "MessageStatus",
    "MissedCall",
    "MissedCallOutcome",
    "OperatorState",
    "OperatorStatus",
    "OutboundMessage",
    "Role",
    "User",
    "UTCDateTime",
    "utcnow",
]
