"""What the console adds to callbacks: claims by operators, and the audit trail."""

from __future__ import annotations
