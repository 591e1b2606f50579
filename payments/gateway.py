"""The payment gateway adapter: Razorpay Payment Links through the ``razorpay`` SDK.

Everything that knows Razorpay's names lives here: making a link, finding one by its
reference, and checking a webhook's signature. The rest of the package speaks of links,
references and paise only.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass
from typing import Any

import razorpay
import requests
from flask import current_app
from razorpay.errors import BadRequestError, ServerError
from razorpay.errors import GatewayError as RazorpayGatewayError

from payments.exceptions import PermanentGatewayError, TransientGatewayError

log = logging.getLogger("sampark.payments")

GATEWAY = "razorpay"
"""The name payments made through the gateway are recorded under."""


@dataclass(frozen=True)
class LinkReceipt:
    """A link the gateway made: its id, the short URL a consumer opens, its status."""

    id: str
    short_url: str
    status: str


def gateway_configured() -> bool:
    """Return True when the gateway's API keys are set (else no links are made)."""
    config = current_app.config
    return bool(config["RAZORPAY_KEY_ID"] and config["RAZORPAY_KEY_SECRET"])


def _client() -> razorpay.Client:
    config = current_app.config
    options: dict[str, Any] = {}
    if config["RAZORPAY_API_BASE_URL"]:
        # The SDK's own option: every request goes to base_url + "/v1/…".
        options["base_url"] = config["RAZORPAY_API_BASE_URL"].rstrip("/")
    return razorpay.Client(
        auth=(config["RAZORPAY_KEY_ID"], config["RAZORPAY_KEY_SECRET"]), **options
    )


def create_link(
    *,
    amount_paise: int,
    reference_id: str,
    expire_by: int,
    description: str,
    contact: str,
    name: str,
    notes: dict[str, str],
) -> LinkReceipt:
    """Ask the gateway for a payment link; the reference makes a second request fail.

    Raises TransientGatewayError when the gateway is unreachable, slow or failing, and
    PermanentGatewayError when it refuses the request (a reused reference among others:
    Razorpay answers it with a 400 BAD_REQUEST_ERROR).
    """
    data: dict[str, Any] = {
        "amount": amount_paise,
        "currency": "INR",
        "accept_partial": False,
        "reference_id": reference_id,
        "description": description,
        "expire_by": expire_by,
        "customer": {"contact": contact, "name": name},
        # We send the SMS ourselves, with the DISCOM's DLT template.
        "notify": {"sms": False, "email": False},
        "reminder_enable": False,
        "notes": notes,
    }
    if current_app.config["PAYMENT_LINK_UPI"]:
        data["upi_link"] = True
    answer = _call(lambda client, timeout: client.payment_link.create(data, timeout=timeout))
    return _receipt(answer)


def find_link(reference_id: str) -> LinkReceipt | None:
    """Return the gateway's link with ``reference_id``, or None."""
    answer = _call(
        lambda client, timeout: client.payment_link.all(
            {"reference_id": reference_id}, timeout=timeout
        )
    )
    links = answer.get("payment_links") if isinstance(answer, dict) else None
    for link in links or []:
        if isinstance(link, dict) and link.get("reference_id") == reference_id:
            return _receipt(link)
    return None


def _call(request: Any) -> Any:
    timeout = current_app.config["RAZORPAY_TIMEOUT_SECONDS"]
    try:
        return request(_client(), timeout)
    except BadRequestError as exc:
        raise PermanentGatewayError(f"gateway refused: {exc}") from exc
    except (ServerError, RazorpayGatewayError) as exc:
        raise TransientGatewayError(f"gateway failed: {exc}") from exc
    except (requests.RequestException, ValueError) as exc:
        # Unreachable, timed out, or an answer that is not JSON.
        raise TransientGatewayError(f"gateway unreachable: {type(exc).__name__}") from exc


def _receipt(answer: Any) -> LinkReceipt:
    try:
        return LinkReceipt(str(answer["id"]), str(answer["short_url"]), str(answer["status"]))
    except (KeyError, TypeError) as exc:
        raise TransientGatewayError(f"gateway answered without a link: {exc}") from exc


def webhook_signature(body: bytes, secret: str) -> str:
    """Return the ``X-Razorpay-Signature`` of ``body``: hex HMAC-SHA256 with the webhook secret."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_valid(body: bytes, signature: str, secret: str) -> bool:
    """Return True when ``signature`` is the gateway's signature of the raw ``body``."""
    given = signature.strip().lower().encode("utf-8", "replace")
    return hmac.compare_digest(webhook_signature(body, secret).encode(), given)
