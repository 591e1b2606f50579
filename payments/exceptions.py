"""The errors of payments: the gateway's answers, and requests the doors refuse."""

from __future__ import annotations


class PaymentError(Exception):
    """Base of the payment errors."""


class GatewayError(PaymentError):
    """The payment gateway did not make or find a link."""


class TransientGatewayError(GatewayError):
    """The gateway was down, slow or failing: asking again later may work."""


class PermanentGatewayError(GatewayError):
    """The gateway refused the request: asking again will not help."""


class RefusedRequest(PaymentError):
    """A webhook or posting the app will not act on; ``status`` is the HTTP answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class UnknownReferenceError(PaymentError, LookupError):
    """A posting's reference names neither an application nor a consumer account."""
