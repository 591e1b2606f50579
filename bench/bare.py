"""The baseline: a bare Flask app answering the same TwiML, with no records and no checks."""

from __future__ import annotations

from flask import Flask, Response

from telephony.twilio import REJECTION, TwimlScript


def create_app() -> Flask:
    """Return a Flask app whose one route answers what the missed-call webhook answers."""
    app = Flask(__name__)

    @app.post("/ivr/missed-call")
    def missed_call() -> Response:
        return Response(REJECTION, mimetype=TwimlScript.MIMETYPE)

    return app
