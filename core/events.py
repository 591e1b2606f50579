"""Signals one package sends and others act on, so that neither imports the other.

Each is a blinker signal (Flask's own dependency), sent with the app as sender after the
change it announces is committed; receivers must be quick and may queue background work.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

payment_recorded = _signals.signal("payment-recorded")
"""A payment was recorded (``payment_id``): full, partial or wrong amount alike."""

application_paid = _signals.signal("application-paid")
"""An application's demand is fully paid (``application_id``, ``paid_at``)."""

dues_cleared = _signals.signal("dues-cleared")
"""A consumer's bill dues are paid in full (``account_id``, ``paid_at``)."""

application_stage_changed = _signals.signal("application-stage-changed")
"""An application moved to another stage (``application_id``, ``stage``)."""
