"""``python -m bench``: the missed-call webhook against a bare Flask endpoint.

Both run under gunicorn with the project's ``gunicorn.conf.py`` and the same settings; the
load is N unique, correctly signed calls over keep-alive connections. After the run every
call must be recorded in SQL and queued in Redis, and every answer must be the rejection.
Then the IVR's bill step (``bench/ivr.py``), take-next under 50 claimers
(``bench/claim.py``) and the pace one worker places a campaign's calls at
(``bench/campaign.py``) and how fast one worker sends bulk SMS (``bench/bulk_sms.py``);
``--only PART`` runs one part alone.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from typing import Any

from bench.bulk_sms import DEFAULT_MESSAGES as DEFAULT_SMS_MESSAGES
from bench.bulk_sms import DEFAULT_ROUNDS as DEFAULT_SMS_ROUNDS
from bench.bulk_sms import DEFAULT_SLOW_MESSAGES as DEFAULT_SMS_SLOW_MESSAGES
from bench.campaign import DEFAULT_CALLS as DEFAULT_CAMPAIGN_CALLS
from bench.campaign import DEFAULT_RATE as DEFAULT_CAMPAIGN_RATE
from bench.claim import CLAIMERS
from bench.claim import DEFAULT_SIZES as DEFAULT_CLAIM_SIZES
from bench.ivr import DEFAULT_CONSUMERS
from bench.load import signed_post
from bench.server import (
    LOG_FILE,
    PUBLIC_BASE_URL,
    ROOT,
    TOKEN,
    bench_environment,
    comparison,
    measure_rounds,
)

PATH = "/ivr/missed-call"
TARGETS = (
    ("bare Flask", "bench.bare:create_app()"),
    ("missed-call webhook", "app:create_app()"),
)
README_START, README_END = "<!-- bench:start -->", "<!-- bench:end -->"
PARTS = ("webhooks", "ivr", "claim-next", "campaign-pace", "bulk-sms")
"""The benchmark's parts, in the order they run."""


def signed_requests(start: int, count: int, host: str) -> list[bytes]:
    """Prepare ``count`` unique missed calls from unique numbers, signed as Twilio signs them."""
    return [
        signed_post(
            PATH,
            {
                "AccountSid": "AC" + "b" * 32,
                "CallSid": f"CA{n:032x}",
                "From": f"+9198{n:08d}",
                "To": "+911800180000",
                "CallStatus": "ringing",
                "Direction": "inbound",
            },
            host=host,
            public_url=PUBLIC_BASE_URL,
            token=TOKEN,
        )
        for n in range(start, start + count)
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5000, help="measured calls per round")
    parser.add_argument("--warmup", type=int, default=500)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=5, help="rounds, each measuring both")
    parser.add_argument("--write-readme", action="store_true", help="put the figures in README.md")
    parser.add_argument("--only", choices=PARTS, help="run this part alone")
    parser.add_argument(
        "--claim-sizes",
        type=int,
        nargs="+",
        default=list(DEFAULT_CLAIM_SIZES),
        help="pending callbacks in each round of the claim-next bench",
    )
    parser.add_argument("--claimers", type=int, default=CLAIMERS, help="concurrent claimers")
    parser.add_argument(
        "--ivr-consumers",
        type=int,
        default=DEFAULT_CONSUMERS,
        help="consumers seeded for the IVR bill-status bench (0 skips it)",
    )
    parser.add_argument(
        "--campaign-rate",
        type=float,
        default=DEFAULT_CAMPAIGN_RATE,
        help="the pace set for the campaign-pace bench, calls a second",
    )
    parser.add_argument(
        "--campaign-calls",
        type=int,
        default=DEFAULT_CAMPAIGN_CALLS,
        help="calls in the campaign-pace bench's campaign",
    )
    parser.add_argument(
        "--sms-messages",
        type=int,
        default=DEFAULT_SMS_MESSAGES,
        help="messages (and no-op jobs) per round of the bulk-sms bench",
    )
    parser.add_argument(
        "--sms-rounds", type=int, default=DEFAULT_SMS_ROUNDS, help="rounds of the bulk-sms bench"
    )
    parser.add_argument(
        "--sms-slow-messages",
        type=int,
        default=DEFAULT_SMS_SLOW_MESSAGES,
        help="messages sent through the 200 ms provider stand-in",
    )
    args = parser.parse_args()
    parts = (args.only,) if args.only else PARTS
    results = ROOT / "bench" / "results"
    results.mkdir(exist_ok=True)
    ok = True
    if "webhooks" in parts:
        ok = run_webhooks(args, with_ivr="ivr" in parts)
    elif "ivr" in parts:
        from bench import ivr

        figures = ivr.run(args)
        print(json.dumps(figures, indent=2))
        (results / "ivr.json").write_text(json.dumps(figures, indent=2))
        latest = results / "latest.json"
        if args.write_readme and latest.exists():
            # The README shows both parts: the webhook's last figures with these.
            write_readme({**json.loads(latest.read_text()), "ivr": figures})
    if "claim-next" in parts:
        from bench import claim

        failure = "a callback was claimed twice, or the records disagree"
        ok = run_part("claim-next", claim, args, failure) and ok
    if "campaign-pace" in parts:
        from bench import campaign

        failure = "one worker placed the calls slower than the set pace"
        ok = run_part("campaign-pace", campaign, args, failure) and ok
    if "bulk-sms" in parts:
        from bench import bulk_sms

        failure = "one worker sent bulk SMS slower than the targets, or over the rate limit"
        ok = run_part("bulk-sms", bulk_sms, args, failure) and ok
    return 0 if ok else 1


def run_part(name: str, part: Any, args: argparse.Namespace, failure: str) -> bool:
    """Run a part whose module has ``run(args)`` and ``write_readme``; tell whether it passed."""
    figures = part.run(args)
    print(json.dumps(figures, indent=2))
    (ROOT / "bench" / "results" / f"{name}.json").write_text(json.dumps(figures, indent=2))
    if args.write_readme:
        part.write_readme(ROOT / "README.md", figures)
    if not figures["ok"]:
        print(f"FAILED: {failure}", file=sys.stderr)
    return bool(figures["ok"])


def run_webhooks(args: argparse.Namespace, *, with_ivr: bool) -> bool:
    """Measure the missed-call webhook (and the IVR's bill step); tell whether all went right."""
    LOG_FILE.parent.mkdir(exist_ok=True)
    LOG_FILE.unlink(missing_ok=True)
    with bench_environment(
        os.environ.get("DATABASE_URL"), MISSED_CALLS_PER_HOUR_LIMIT="1000000"
    ) as env:
        host = "127.0.0.1"
        per_round = args.warmup + args.requests
        total_calls = args.rounds * per_round

        def make_load(round_number: int, name: str) -> tuple[list[bytes], list[bytes]]:
            # Every run, bare ones included, gets calls no run has made before.
            index = [target for target, _ in TARGETS].index(name)
            first = ((round_number - 1) * len(TARGETS) + index) * per_round
            return (
                signed_requests(first, args.warmup, host),
                signed_requests(first + args.warmup, args.requests, host),
            )

        rounds = measure_rounds(args.rounds, TARGETS, env, make_load, args.connections)
        counts = verify(env)

    figures = {
        "connections": args.connections,
        "requests_per_round": args.requests,
        "rounds": args.rounds,
        **comparison(rounds, "bare Flask", "missed-call webhook", "webhook"),
        "calls_sent": total_calls,
        **counts,
        "database": env["DATABASE_URL"].split(":", 1)[0],
        "redis": "embedded" if env["REDIS_URL"].startswith("unix://") else "server",
    }
    if with_ivr and args.ivr_consumers:
        from bench import ivr

        figures["ivr"] = ivr.run(args)
        (results_dir := ROOT / "bench" / "results").mkdir(exist_ok=True)
        (results_dir / "ivr.json").write_text(json.dumps(figures["ivr"], indent=2))
    print(json.dumps(figures, indent=2))
    results = ROOT / "bench" / "results"
    results.mkdir(exist_ok=True)
    (results / "latest.json").write_text(json.dumps(figures, indent=2))
    if args.write_readme:
        ivr_figures = results / "ivr.json"
        if "ivr" not in figures and ivr_figures.exists():
            # The IVR part was not run: the README keeps its last figures.
            figures = {**figures, "ivr": json.loads(ivr_figures.read_text())}
        write_readme(figures)
    ok = figures["error_answers"] == 0 and all(
        counts[key] == total_calls
        for key in ("calls_recorded", "callbacks_opened", "sms_recorded", "sms_jobs_queued")
    )
    if not ok:
        print("FAILED: some calls were not answered, recorded or queued", file=sys.stderr)
    return ok


def verify(env: dict[str, str]) -> dict[str, int]:
    """Count what the runs left behind, then relay the SMS to RQ as the sweeper would."""
    from sqlalchemy import func, select

    from app import create_app
    from callqueue.queues import get_queue
    from callqueue.relay import relay_messages
    from core.extensions import db
    from core.models import Callback, MissedCall, OutboundMessage

    app = create_app(
        {
            "DATABASE_URL": env["DATABASE_URL"],
            "REDIS_URL": env["REDIS_URL"],
            "SECRET_KEY": "bench",
            "TWILIO_AUTH_TOKEN": TOKEN,
        }
    )
    with app.app_context():

        def count(model: type) -> int:
            return db.session.scalar(select(func.count()).select_from(model)) or 0

        counts = {
            "calls_recorded": count(MissedCall),
            "callbacks_opened": count(Callback),
            "sms_recorded": count(OutboundMessage),
        }
        db.session.rollback()
        started = time.perf_counter()
        relay_messages(limit=10**9)
        counts["relay_ms"] = round((time.perf_counter() - started) * 1000)
        # Each message is handed to RQ in a send job of up to SMS_BATCH_SIZE messages.
        counts["sms_jobs_queued"] = (
            db.session.scalar(
                select(func.count()).where(OutboundMessage.job_queued_at.is_not(None))
            )
            or 0
        )
        counts["sms_send_jobs"] = get_queue("sms").count
    return counts


def write_readme(figures: dict[str, object]) -> None:
    """Replace the figures between the bench markers in README.md."""
    readme = ROOT / "README.md"
    f = figures
    lines = [
        README_START,
        f"Measured by `make bench` on {time.strftime('%Y-%m-%d')}: {os.cpu_count()} cores, "
        f"{f['database']}, {f['redis']} Redis, gunicorn with `gunicorn.conf.py` for both, "
        f"{f['connections']} concurrent clients, {f['rounds']} rounds of "
        f"{f['requests_per_round']} unique signed calls, each round measuring both endpoints "
        "one after the other. Throughputs, latencies and CPU are each endpoint's best round; "
        "the ratio is the median of the rounds' own ratios.",
        "",
        "| endpoint | requests/s | p50 | p99 | server CPU per request |",
        "|---|---:|---:|---:|---:|",
        f"| bare Flask, same TwiML | {f['bare_rps']} | {f['bare_p50_ms']} ms "
        f"| {f['bare_p99_ms']} ms | {f['bare_cpu_us']} µs |",
        f"| `POST /ivr/missed-call` | {f['webhook_rps']} | {f['webhook_p50_ms']} ms "
        f"| {f['webhook_p99_ms']} ms | {f['webhook_cpu_us']} µs |",
        "",
        f"Ratio to bare Flask: **{f['ratio']}** (median of the rounds: "
        f"{', '.join(map(str, f['round_ratios']))}). Error answers: {f['error_answers']}. "
        f"Calls sent {f['calls_sent']}; recorded {f['calls_recorded']}, callbacks "
        f"{f['callbacks_opened']}, SMS recorded {f['sms_recorded']} and queued "
        f"{f['sms_jobs_queued']} by the relay in {f.get('sms_send_jobs', '?')} send jobs "
        f"(in {f['relay_ms']} ms).",
    ]
    if "ivr" in f:
        i = f["ivr"]
        lines += [
            "",
            f"IVR bill status (`bench/ivr.py`) with {i['consumers']:,} consumers seeded:",
            "",
            "| endpoint | requests/s | p50 | p99 | server CPU per request |",
            "|---|---:|---:|---:|---:|",
            f"| bare Flask, same TwiML | {i['bare_rps']} | {i['bare_p50_ms']} ms "
            f"| {i['bare_p99_ms']} ms | {i['bare_cpu_us']} µs |",
            f"| IVR bill-status step | {i['ivr_bill_rps']} | {i['ivr_bill_p50_ms']} ms "
            f"| {i['ivr_bill_p99_ms']} ms | {i['ivr_bill_cpu_us']} µs |",
            "",
            f"Ratio to bare Flask: **{i['ratio']}** (median of the rounds: "
            f"{', '.join(map(str, i['round_ratios']))}). Error answers: {i['error_answers']}; "
            f"answers without speech: {i['answers_without_speech']}; distinct answers falling "
            f"back to text-to-speech for a missing clip: {i['answers_with_text_to_speech']}.",
        ]
    lines.append(README_END)
    pattern = re.escape(README_START) + ".*?" + re.escape(README_END)
    text = re.sub(pattern, "\n".join(lines).replace("\\", "\\\\"), readme.read_text(), flags=re.S)
    readme.write_text(text)


if __name__ == "__main__":
    sys.exit(main())
