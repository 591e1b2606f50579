"""Payments: the demand note's payment link, and the payments that come back.

This package owns the way money comes in. ``gateway`` is the adapter to Razorpay Payment
Links (the ``razorpay`` SDK; nothing else knows Razorpay's names); ``links`` records a
link with each demand note and has a job make it and send the demand SMS with it; the
``webhooks`` blueprint is the two doors, ``POST /payments/razorpay`` (the gateway, signed)
and ``POST /payments/posting`` (BBPS billers, cash counters, kiosks; HMAC); ``ledger``'s
``mark_paid`` is the one idempotent way a payment is recorded and applied, to an
application's demand or to a consumer's bill, and ``announce`` sends ``core.events``'
``payment_recorded``, ``application_paid`` and ``dues_cleared`` after the commit.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the payment webhooks and the sweep's task that hands links to RQ."""
    from core import housekeeping
    from core.extensions import csrf
    from core.sessions import without_sessions
    from payments.links import relay_links
    from payments.webhooks import payments_bp

    # The gateway and billers cannot send a CSRF token, nor keep a cookie: they sign.
    csrf.exempt(payments_bp)
    app.register_blueprint(payments_bp)
    without_sessions(app, f"{payments_bp.url_prefix}/")
    housekeeping.register(app, "payment_links_relayed", relay_links, needs_redis=True)
