"""The IVR's bill-status step against a bare Flask endpoint, at many consumers.

``run(args)`` renders the voice prompts (``flask prompts build``) and seeds N demo
consumers (``flask seed-demo``), then serves the app and a bare Flask app answering the
same path with a fixed TwiML of the same shape (one bill's clips) under the same gunicorn
settings, and sends each the same signed ``POST /ivr/voice/bill`` requests for random
consumers (the number calling is one linked to the account, as in a real call). Every
answer of the app must be a 200 announcing an amount or "no dues"; the figures come back
as a dict.
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
from typing import Any

from flask import Flask, Response

from bench.load import signed_post
from bench.server import (
    PUBLIC_BASE_URL,
    TOKEN,
    bench_environment,
    comparison,
    flask_command,
    measure_rounds,
)
from telephony.twilio import TwimlScript

BILL_PATH = "/ivr/voice/bill"
DEFAULT_CONSUMERS = 1_000_000
TARGETS = (
    ("bare Flask", "bench.ivr:create_bare_app()"),
    ("IVR bill status", "app:create_app()"),
)

# One bill as the app announces it with its prompts rendered: an unpaid bill in Hindi, the
# clips of its four prompts, then the redirect to the options.
_ANNOUNCED_CLIPS = (
    "bill_amount_due.1 num/3 word/thousand num/5 word/hundred num/23 word/rupees num/77 "
    "word/paise bill_amount_due.2 bill_due_date.1 num/5 month/12 num/2 word/thousand num/26 "
    "bill_due_date.2 bill_amount_after_due_date.1 num/3 word/thousand num/5 word/hundred "
    "num/94 word/rupees num/25 word/paise bill_amount_after_due_date.2 bill_last_payment.1 "
    "num/1 word/thousand num/9 word/hundred num/38 word/rupees num/87 word/paise "
    "bill_last_payment.2 num/24 month/10 num/2 word/thousand num/26 bill_last_payment.3"
).split()


def _bare_twiml() -> bytes:
    script = TwimlScript()
    script.play_all(
        f"{PUBLIC_BASE_URL}/ivr/audio/hi/{clip}.wav?v=0123456789ab" for clip in _ANNOUNCED_CLIPS
    )
    script.redirect("/ivr/voice/bill/options?lang=hi&account=1")
    return script.render()


def create_bare_app() -> Flask:
    """Return a Flask app whose one route answers the bill step's path with fixed TwiML."""
    app = Flask(__name__)
    body = _bare_twiml()

    @app.post(BILL_PATH)
    def bill() -> Response:
        return Response(body, mimetype="text/xml")

    return app


def bill_requests(count: int, consumers: int, host: str, seed: int) -> list[bytes]:
    """Prepare ``count`` signed bill-status requests for random demo consumers."""
    from ivr.demo import demo_phone

    rng = random.Random(seed)
    prepared = []
    for n in range(count):
        consumer = rng.randrange(consumers)
        # Demo ids run from 1 in seeding order, so consumer n is account n + 1.
        path = f"{BILL_PATH}?lang={rng.choice(('hi', 'en'))}&account={consumer + 1}"
        params = {
            "AccountSid": "AC" + "b" * 32,
            "CallSid": f"CA{seed:08x}{n:024x}",
            "From": demo_phone(consumer),
            "To": "+911800180001",
            "CallStatus": "in-progress",
            "Direction": "inbound",
        }
        prepared.append(
            signed_post(path, params, host=host, public_url=PUBLIC_BASE_URL, token=TOKEN)
        )
    return prepared


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Seed consumers, measure both endpoints ``rounds`` times and return the figures."""
    requests = getattr(args, "requests", 5000)
    warmup = getattr(args, "warmup", 500)
    connections = getattr(args, "connections", 16)
    rounds = getattr(args, "rounds", 5)
    consumers = getattr(args, "ivr_consumers", None) or DEFAULT_CONSUMERS

    database_url = os.environ.get("IVR_BENCH_DATABASE_URL")
    with (
        tempfile.TemporaryDirectory(prefix="sampark-bench-prompts-") as prompts,
        bench_environment(database_url, VOICE_PROMPTS_DIR=prompts) as env,
    ):
        # The answers a deployment gives: its prompts rendered (espeak-ng), played as clips.
        flask_command("prompts", "build", env=env)
        flask_command("seed-demo", "--consumers", str(consumers), env=env)

        def make_load(round_number: int, name: str) -> tuple[list[bytes], list[bytes]]:
            seed = round_number * 2 + (name != "bare Flask")
            return (
                bill_requests(warmup, consumers, "127.0.0.1", seed * 1000),
                bill_requests(requests, consumers, "127.0.0.1", seed),
            )

        measured = measure_rounds(rounds, TARGETS, env, make_load, connections)

    # A right answer announces an amount (played or said) or the absence of dues.
    answers = [body for each in measured.results for body in each["IVR bill status"].bodies]
    wrong = sum(1 for body in answers if b"<Play>" not in body and b"<Say" not in body)
    said = sum(1 for body in answers if b"<Say" in body)
    return {
        "consumers": consumers,
        "connections": connections,
        "requests_per_round": requests,
        "rounds": rounds,
        **comparison(measured, "bare Flask", "IVR bill status", "ivr_bill"),
        "answers_without_speech": wrong,
        "answers_with_text_to_speech": said,  # a clip missing: 0 with every prompt rendered
        "database": env["DATABASE_URL"].split(":", 1)[0],
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--warmup", type=int, default=500)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--ivr-consumers", type=int, default=DEFAULT_CONSUMERS)
    import json

    print(json.dumps(run(parser.parse_args()), indent=2))
