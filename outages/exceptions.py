"""What can go wrong with an outage that a supervisor should be told about."""

from __future__ import annotations


class OutageError(Exception):
    """An outage cannot be recorded or changed; the message says why, for the supervisor."""

    status = 400


class NoConsumersThere(OutageError):
    """No consumer is on that feeder or in that area, so no notice would reach anyone."""


class OutageNotFound(OutageError):
    """No such outage."""

    status = 404


class OutageClosed(OutageError):
    """The outage is restored or cancelled already."""

    status = 409


class AlreadyAnnounced(OutageError):
    """An announced outage on the same place overlaps this one."""

    status = 409
