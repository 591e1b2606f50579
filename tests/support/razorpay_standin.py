"""A local stand-in of Razorpay's Payment Links REST API and of its webhooks.

It answers as Razorpay documents the API: HTTP Basic auth with the key id and secret,
``POST /v1/payment_links`` (JSON; amount in paise, at least 100; a unique
``reference_id``, a second link with the same one is refused with ``400
BAD_REQUEST_ERROR``), ``GET /v1/payment_links/:id`` and ``GET
/v1/payment_links?reference_id=…``, errors as ``{"error": {"code", "description", …}}``.
It keeps every request, can be told to fail or to be slow, and plays the gateway's other
half: a payment on a link becomes a ``payment_link.paid`` or ``partially_paid`` event,
signed as Razorpay signs webhooks (hex HMAC-SHA256 of the raw body with the webhook secret,
``X-Razorpay-Signature``, ``X-Razorpay-Event-Id``), which it posts to the app.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.support.json_standin import JsonStandin, basic_auth

Json = dict[str, Any]

LINKS_PATH = "/v1/payment_links"


@dataclass(frozen=True)
class RecordedRequest:
    """One request the stand-in received."""

    method: str
    path: str
    auth: tuple[str, str] | None
    body: Json


@dataclass(frozen=True)
class Delivery:
    """A webhook as the gateway sends it: the raw body and its headers."""

    body: bytes
    headers: dict[str, str]
    event_id: str


def _error(status: int, description: str, field: str | None = None) -> tuple[int, Json]:
    error: Json = {
        "code": "BAD_REQUEST_ERROR",
        "description": description,
        "source": "business",
        "step": "payment_initiation",
        "reason": "input_validation_failed",
        "metadata": {},
    }
    if field:
        error["field"] = field
    return status, {"error": error}


class RazorpayStandin(JsonStandin):
    """Razorpay's ``/v1/payment_links`` on a local port, and its signed webhooks."""

    def __init__(self, key_id: str, key_secret: str, webhook_secret: str) -> None:
        super().__init__()
        self.key_id = key_id
        self.key_secret = key_secret
        self.webhook_secret = webhook_secret
        self.delay_seconds = 0.0
        self._requests: list[RecordedRequest] = []
        self._links: dict[str, Json] = {}
        self._failures: list[tuple[int, str]] = []

    # ------------------------------------------------------------ what it saw

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def links(self) -> list[Json]:
        """The links made, oldest first."""
        with self._lock:
            return [dict(link) for link in self._links.values()]

    def link_for(self, reference_id: str) -> Json:
        """Return the link made with ``reference_id``."""
        return next(link for link in self.links if link["reference_id"] == reference_id)

    def reset(self) -> None:
        with self._lock:
            self._requests.clear()
            self._links.clear()
            self._failures.clear()
            self.delay_seconds = 0.0

    def fail_next(self, status: int = 500, code: str = "SERVER_ERROR", times: int = 1) -> None:
        """Answer the next ``times`` requests with an error of ``status`` and ``code``."""
        with self._lock:
            self._failures.extend([(status, code)] * times)

    # ------------------------------------------------------------ the REST API

    def answer(self, path: str, authorization: str, body: bytes) -> tuple[int, Json]:
        try:
            data = json.loads(body or b"{}")
        except ValueError:
            data = {"_raw": body.decode(errors="replace")}
        refused = self._gate("POST", path, authorization, data)
        if refused:
            return refused
        if urlsplit(path).path.rstrip("/") != LINKS_PATH:
            return _error(400, "The requested URL was not found on the server.")
        return self._create(data)

    def answer_get(self, path: str, authorization: str) -> tuple[int, Json]:
        parts = urlsplit(path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        refused = self._gate("GET", path, authorization, query)
        if refused:
            return refused
        route = parts.path.rstrip("/")
        with self._lock:
            if route == LINKS_PATH:
                found = [
                    link
                    for link in self._links.values()
                    if "reference_id" not in query or link["reference_id"] == query["reference_id"]
                ]
                return 200, {"payment_links": found}
            link_id = route.removeprefix(LINKS_PATH + "/")
            if route.startswith(LINKS_PATH + "/") and link_id in self._links:
                return 200, dict(self._links[link_id])
        return _error(400, "The id provided does not exist")

    def _gate(
        self, method: str, path: str, authorization: str, body: Json
    ) -> tuple[int, Json] | None:
        auth = basic_auth(authorization)
        with self._lock:
            self._requests.append(RecordedRequest(method, path, auth, body))
            failure = self._failures.pop(0) if self._failures else None
            delay = self.delay_seconds
        if delay:
            time.sleep(delay)
        if auth != (self.key_id, self.key_secret):
            return _error(401, "Authentication failed")
        if failure:
            status, code = failure
            return status, {"error": {"code": code, "description": "The gateway failed"}}
        return None

    def _create(self, data: Json) -> tuple[int, Json]:
        amount = data.get("amount")
        if not isinstance(amount, int) or isinstance(amount, bool) or amount < 100:
            return _error(400, "The amount must be atleast INR 1.00.", "amount")
        if data.get("currency", "INR") != "INR":
            return _error(400, "The currency is invalid.", "currency")
        reference_id = data.get("reference_id")
        if reference_id is not None and (
            not isinstance(reference_id, str) or len(reference_id) > 40
        ):
            return _error(
                400, "The reference id may not be greater than 40 characters.", "reference_id"
            )
        expire_by = data.get("expire_by")
        now = int(time.time())
        if expire_by is not None and (not isinstance(expire_by, int) or expire_by < now + 15 * 60):
            return _error(
                400,
                "The expire by date should be at least 15 minutes after current time.",
                "expire_by",
            )
        with self._lock:
            if reference_id and any(
                known["reference_id"] == reference_id for known in self._links.values()
            ):
                return _error(
                    400,
                    f"Payment Link with reference id {reference_id} already exists",
                    "reference_id",
                )
            link_id = "plink_" + secrets.token_hex(7)
            link = {
                "id": link_id,
                "entity": "payment_link",
                "accept_partial": bool(data.get("accept_partial", False)),
                "amount": amount,
                "amount_paid": 0,
                "currency": "INR",
                "description": data.get("description", ""),
                "customer": data.get("customer", {}),
                "notify": data.get("notify", {}),
                "notes": data.get("notes", {}),
                "reference_id": reference_id or "",
                "expire_by": expire_by or 0,
                "expired_at": 0,
                "cancelled_at": 0,
                "upi_link": bool(data.get("upi_link", False)),
                "reminder_enable": bool(data.get("reminder_enable", False)),
                "payments": None,
                "short_url": "https://rzp.io/i/" + secrets.token_urlsafe(6),
                "status": "created",
                "created_at": now,
                "updated_at": now,
                "user_id": "",
            }
            self._links[link_id] = link
            return 200, dict(link)

    # ------------------------------------------------------------ the webhooks

    def pay(self, link_id: str, amount: int | None = None, *, method: str = "upi") -> Delivery:
        """Take a payment on a link (the whole remainder unless ``amount``); return its event."""
        with self._lock:
            link = self._links[link_id]
            amount = link["amount"] - link["amount_paid"] if amount is None else amount
            link["amount_paid"] += amount
            link["status"] = "paid" if link["amount_paid"] >= link["amount"] else "partially_paid"
            link["updated_at"] = int(time.time())
            snapshot = dict(link)
        payment = {
            "id": "pay_" + secrets.token_hex(7),
            "entity": "payment",
            "amount": amount,
            "currency": "INR",
            "status": "captured",
            "method": method,
            "captured": True,
            "created_at": int(time.time()),
            # What the real gateway also sends; the app must not keep it.
            "vpa": "consumer@okbank" if method == "upi" else None,
            "email": "void@razorpay.com",
            "contact": snapshot["customer"].get("contact", ""),
        }
        event = (
            "payment_link.paid" if snapshot["status"] == "paid" else "payment_link.partially_paid"
        )
        return self.event(event, {"payment_link": snapshot, "payment": payment})

    def expire(self, link_id: str) -> Delivery:
        """Expire an unpaid link; return its ``payment_link.expired`` event."""
        with self._lock:
            link = self._links[link_id]
            link["status"] = "expired"
            link["expired_at"] = int(time.time())
            snapshot = dict(link)
        return self.event("payment_link.expired", {"payment_link": snapshot})

    def event(self, name: str, entities: Json, *, event_id: str | None = None) -> Delivery:
        """Return a webhook event of ``name`` carrying ``entities``, signed."""
        body = json.dumps(
            {
                "entity": "event",
                "account_id": "acc_" + self.key_id[-14:],
                "event": name,
                "contains": list(entities),
                "payload": {key: {"entity": value} for key, value in entities.items()},
                "created_at": int(time.time()),
            }
        ).encode()
        return self.sign(body, event_id=event_id)

    def sign(
        self, body: bytes, *, event_id: str | None = None, secret: str | None = None
    ) -> Delivery:
        """Return ``body`` with the headers Razorpay sends it with."""
        event_id = event_id or "evt_" + secrets.token_hex(7)
        signature = hmac.new(
            (secret or self.webhook_secret).encode(), body, hashlib.sha256
        ).hexdigest()
        headers = {
            "Content-Type": "application/json",
            "X-Razorpay-Signature": signature,
            "X-Razorpay-Event-Id": event_id,
        }
        return Delivery(body, headers, event_id)

    @staticmethod
    def deliver(client: Any, delivery: Delivery, path: str = "/payments/razorpay") -> Any:
        """POST a webhook to the app (a Flask test client) as the gateway does."""
        return client.post(path, data=delivery.body, headers=delivery.headers)
