"""The connection clock: what happens between payment and a lit connection.

Owns the stages field engineers record after payment (site inspected, meter allotted,
meter installed, energised; rejected with a reason) and their allowed order
(``stages``), the time allowed per area class and the compensation for delay
(``timeline``), reading a clock at a moment for people and the IVR (``reading``), and the
alert an overdue connection raises (``alerts``). The clock starts when the payments side
sends ``core.events.application_paid``. Console pages live in ``callcenter``; this
package imports no screen.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Check the timeline settings, start clocks on payment, register the overdue sweep."""
    from connections import timeline
    from connections.alerts import alert_overdue
    from connections.stages import on_application_paid
    from core import events, housekeeping

    timeline.init_app(app)
    # Connected weakly by default; the function lives as long as its module.
    events.application_paid.connect(on_application_paid)
    housekeeping.register(app, "connections_overdue_alerted", alert_overdue)
