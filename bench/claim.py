"""Take-next under load: 50 operators claiming at once, as the queue grows to a million.

``run(args)`` seeds N pending callbacks in one statement (10,000, then 100,000, then
1,000,000 by default), then runs the same claimers, each a process with its own database
connection, twice in each round: first a baseline of trivial reads of one callback by its
primary key, then ``callcenter.queue.claim_next`` itself, the very function the console
calls. It reports claims a second, p50 and p99 against the baseline's, and checks that no
callback was claimed twice: each id is returned once, and the database holds exactly as
many claims (rows and audit events) as the claimers counted.

SQLite always (a fresh file); PostgreSQL too when ``CLAIM_BENCH_DATABASE_URL`` names a
scratch database: the bench empties its callbacks, users and audit trail first.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.server import bench_environment

DEFAULT_SIZES = (10_000, 100_000, 1_000_000)
"""Pending callbacks in each round: the target is a p99 as flat across them as it is low."""

CLAIMERS = 50
"""Operators claiming at the same time."""

OPERATIONS = 40
"""Claims (or baseline reads) each claimer makes in a measured run."""

WARMUP = 3
"""Operations each claimer makes before the measured ones (connecting, first statements)."""

_SEED_SQL = {
    # One INSERT … SELECT per round, its rows made by the database: seeding a million
    # callbacks takes seconds instead of the minutes row-by-row inserts would.
    "postgresql": """
        INSERT INTO callbacks (phone, language, status, priority, due_at, missed_call_count,
            first_missed_at, last_missed_at, attempts, created_at, required_language)
        SELECT '+91' || (6000000000 + i), 'hi', 'pending',
            CASE WHEN i % 20 = 0 THEN 1 ELSE 0 END,
            now() - (i % 86400) * interval '1 second', 1,
            now() - interval '1 day', now() - interval '1 day', 0, now(),
            CASE WHEN i % 10 = 0 THEN 'hi' END
        FROM generate_series(CAST(:first AS bigint), CAST(:last AS bigint)) AS i
    """,
    "sqlite": """
        INSERT INTO callbacks (phone, language, status, priority, due_at, missed_call_count,
            first_missed_at, last_missed_at, attempts, created_at, required_language)
        WITH RECURSIVE n(i) AS (SELECT :first UNION ALL SELECT i + 1 FROM n WHERE i < :last)
        SELECT '+91' || (6000000000 + i), 'hi', 'pending',
            CASE WHEN i % 20 = 0 THEN 1 ELSE 0 END,
            datetime('now', '-' || (i % 86400) || ' seconds'), 1,
            datetime('now', '-1 day'), datetime('now', '-1 day'), 0, datetime('now'),
            CASE WHEN i % 10 = 0 THEN 'hi' END
        FROM n
    """,
}


@dataclass
class Run:
    """What one measured run of the claimers saw."""

    operations: int
    seconds: float
    latencies_ms: list[float]
    claimed_ids: list[int]

    @property
    def per_second(self) -> float:
        return self.operations / self.seconds if self.seconds else 0.0

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _claimer(app: Any, user_id: int, action: str, top_id: int, barrier: Any, out: Any) -> None:
    """Run in a child process: warm up, wait for the others, then time each operation."""
    from sqlalchemy import select

    from callcenter.queue import claim_next
    from core.extensions import db
    from core.models import Callback, User

    rng = random.Random(user_id)
    with app.app_context():
        session = db.session
        operator = session.get(User, user_id)
        session.expunge(operator)  # claim_next rolls the session back; keep the user loaded

        def claim() -> int | None:
            return claim_next(operator)

        def read_by_key() -> int | None:
            # The baseline: the cheapest indexed read of a callback, on the same connection.
            session.execute(
                select(Callback.id, Callback.status).where(Callback.id == rng.randint(1, top_id))
            ).first()
            session.rollback()
            return None

        operation = claim if action == "claim" else read_by_key
        claimed = [operation() for _ in range(WARMUP)]
        barrier.wait()
        latencies = []
        for _ in range(OPERATIONS):
            started = time.perf_counter()
            claimed.append(operation())
            latencies.append((time.perf_counter() - started) * 1000)
        out.put((time.perf_counter(), latencies, [each for each in claimed if each is not None]))
        db.session.remove()
        db.engine.dispose()


def measure(app: Any, user_ids: list[int], action: str, top_id: int) -> Run:
    """Run one child process per claimer doing ``action`` at the same time; gather timings."""
    from core.extensions import db

    with app.app_context():
        db.engine.dispose()  # no connection of the parent's is shared with a child
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(len(user_ids) + 1)
    out = context.Queue()
    children = [
        context.Process(target=_claimer, args=(app, uid, action, top_id, barrier, out))
        for uid in user_ids
    ]
    for child in children:
        child.start()
    barrier.wait()
    started = time.perf_counter()
    results = [out.get(timeout=600) for _ in children]
    for child in children:
        child.join(timeout=60)
        if child.exitcode != 0:
            raise RuntimeError(f"a claimer exited with {child.exitcode}")
    return Run(
        operations=sum(len(latencies) for _, latencies, _ in results),
        seconds=max(ended for ended, _, _ in results) - started,
        latencies_ms=[ms for _, latencies, _ in results for ms in latencies],
        claimed_ids=[cid for _, _, ids in results for cid in ids],
    )


def _prepare(app: Any, claimers: int) -> list[int]:
    """Empty what the bench writes to and make the operators; return their user ids."""
    from sqlalchemy import text

    from core.extensions import db
    from core.models import Role, User

    with app.app_context(), db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("TRUNCATE callbacks, audit_events, users CASCADE"))
        else:
            for table in ("audit_events", "callbacks", "users"):
                connection.execute(text(f"DELETE FROM {table}"))
        connection.execute(
            User.__table__.insert(),
            [
                {
                    "username": f"bench{n}",
                    "name": f"Bench {n}",
                    "password_hash": "-",
                    "role": Role.OPERATOR,
                    "languages": "hi,en",
                    "active": True,
                }
                for n in range(claimers)
            ],
        )
        return list(connection.execute(text("SELECT id FROM users ORDER BY id")).scalars())


def _top_up(app: Any, pending: int) -> tuple[int, float]:
    """Close claimed callbacks, add pending ones up to ``pending``; return (top id, seconds)."""
    from sqlalchemy import text

    from core.extensions import db

    started = time.perf_counter()
    with app.app_context():
        engine = db.engine
        with engine.begin() as connection:
            # What the last round claimed is done now, as operators would have finished it.
            connection.execute(
                text("UPDATE callbacks SET status = 'done' WHERE status = 'claimed'")
            )
            have = connection.execute(
                text("SELECT count(*) FROM callbacks WHERE status = 'pending'")
            ).scalar_one()
            top = connection.execute(text("SELECT coalesce(max(id), 0) FROM callbacks")).scalar()
            if pending > have:
                connection.execute(
                    text(_SEED_SQL[engine.dialect.name]),
                    {"first": top + 1, "last": top + pending - have},
                )
        # Statistics as a live database's autovacuum would keep them.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            is_postgresql = connection.dialect.name == "postgresql"
            connection.execute(text("VACUUM ANALYZE callbacks" if is_postgresql else "ANALYZE"))
            top = connection.execute(text("SELECT max(id) FROM callbacks")).scalar()
        engine.dispose()
    return top, time.perf_counter() - started


def _claims_recorded(app: Any) -> tuple[int, int]:
    """Return the callbacks held as claimed and the claim events in the audit trail."""
    from sqlalchemy import text

    from core.extensions import db

    with app.app_context(), db.engine.connect() as connection:
        rows = connection.execute(
            text("SELECT count(*) FROM callbacks WHERE status = 'claimed'")
        ).scalar_one()
        events = connection.execute(
            text("SELECT count(*) FROM audit_events WHERE action = 'claim'")
        ).scalar_one()
        db.engine.dispose()
    return rows, events


def run_database(database_url: str | None, sizes: tuple[int, ...], claimers: int) -> dict:
    """Measure every size on one database; return its figures."""
    from app import create_app

    with bench_environment(database_url) as env:
        app = create_app(
            {
                "DATABASE_URL": env["DATABASE_URL"],
                "REDIS_URL": env["REDIS_URL"],
                "SECRET_KEY": "bench",
                "DATABASE_POOL_SIZE": 2,
            }
        )
        user_ids = _prepare(app, claimers)
        rounds = []
        claims_before = 0
        for size in sizes:
            top_id, seed_seconds = _top_up(app, size)
            baseline = measure(app, user_ids, "read", top_id)
            claims = measure(app, user_ids, "claim", top_id)
            rows, events = _claims_recorded(app)
            claims_before += len(claims.claimed_ids)
            distinct = len(set(claims.claimed_ids))
            double = len(claims.claimed_ids) - distinct
            figures = {
                "pending": size,
                "seed_s": round(seed_seconds, 1),
                "claims": claims.operations,
                "claims_per_s": round(claims.per_second),
                "claim_p50_ms": round(claims.percentile(0.5), 2),
                "claim_p99_ms": round(claims.percentile(0.99), 2),
                "baseline_per_s": round(baseline.per_second),
                "baseline_p50_ms": round(baseline.percentile(0.5), 2),
                "baseline_p99_ms": round(baseline.percentile(0.99), 2),
                "ratio": round(claims.per_second / baseline.per_second, 3),
                "p99_ratio": round(claims.percentile(0.99) / baseline.percentile(0.99), 2),
                "empty_claims": claims.operations + claimers * WARMUP - len(claims.claimed_ids),
                "double_claims": double,
                # Every claim the claimers counted is in the database once, and audited once.
                "claims_agree": rows == distinct and events == claims_before,
            }
            print(
                f"{env['DATABASE_URL'].split(':', 1)[0]:10} {size:>9,} pending: "
                f"{figures['claims_per_s']:5} claims/s p50 {figures['claim_p50_ms']:6.2f} ms "
                f"p99 {figures['claim_p99_ms']:6.2f} ms | baseline {figures['baseline_per_s']:5}/s "
                f"p99 {figures['baseline_p99_ms']:6.2f} ms | double claims {double}, "
                f"records agree {figures['claims_agree']} (seeded in {seed_seconds:.1f} s)",
                flush=True,
            )
            rounds.append(figures)
    return {
        "database": env["DATABASE_URL"].split(":", 1)[0],
        "claimers": claimers,
        "operations_per_claimer": OPERATIONS,
        "rounds": rounds,
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Measure on SQLite, and on PostgreSQL when CLAIM_BENCH_DATABASE_URL is set."""
    sizes = tuple(getattr(args, "claim_sizes", None) or DEFAULT_SIZES)
    claimers = getattr(args, "claimers", None) or CLAIMERS
    urls: list[str | None] = [None]
    if os.environ.get("CLAIM_BENCH_DATABASE_URL"):
        urls.append(os.environ["CLAIM_BENCH_DATABASE_URL"])
    results = [run_database(url, sizes, claimers) for url in urls]
    return {"databases": results, "ok": ok(results)}


def ok(results: list[dict[str, Any]]) -> bool:
    """Tell whether no callback was claimed twice and the records agree, in every round."""
    return all(
        each["double_claims"] == 0 and each["claims_agree"]
        for result in results
        for each in result["rounds"]
    )


def flatness(rounds: list[dict[str, Any]]) -> float:
    """Return the largest claim p99 over the smallest across the rounds (1.0 is flat)."""
    p99s = [each["claim_p99_ms"] for each in rounds]
    return round(max(p99s) / min(p99s), 2) if p99s else 0.0


README_START, README_END = "<!-- bench:claim-next:start -->", "<!-- bench:claim-next:end -->"


def write_readme(readme: Path, figures: dict[str, Any]) -> None:
    """Replace the figures between the claim-next markers in ``readme``."""
    lines = [
        README_START,
        f"Measured by `python -m bench --only claim-next` on {time.strftime('%Y-%m-%d')}: "
        f"{os.cpu_count()} cores shared by the claimers and the database server.",
    ]
    for result in figures["databases"]:
        rounds = result["rounds"]
        lines += [
            "",
            f"{result['database']}, {result['claimers']} claimers, "
            f"{result['operations_per_claimer']} claims each a round:",
            "",
            "| pending | claims/s | p50 | p99 | baseline reads/s | baseline p99 | ratio |",
            "|---:|---:|---:|---:|---:|---:|---:|",
            *(
                f"| {r['pending']:,} | {r['claims_per_s']} | {r['claim_p50_ms']} ms "
                f"| {r['claim_p99_ms']} ms | {r['baseline_per_s']} | {r['baseline_p99_ms']} ms "
                f"| {r['ratio']} |"
                for r in rounds
            ),
            "",
            f"Double claims: {sum(r['double_claims'] for r in rounds)}; claims held and "
            f"audited as counted: {'yes' if all(r['claims_agree'] for r in rounds) else 'NO'}. "
            f"Largest p99 over smallest across the sizes: {flatness(rounds)}.",
        ]
    lines.append(README_END)
    pattern = re.escape(README_START) + ".*?" + re.escape(README_END)
    text = readme.read_text()
    block = "\n".join(lines)
    if re.search(pattern, text, flags=re.S):
        text = re.sub(pattern, block.replace("\\", "\\\\"), text, flags=re.S)
    else:
        text = text.replace("<!-- bench:end -->", "<!-- bench:end -->\n\n" + block, 1)
    readme.write_text(text)


if __name__ == "__main__":
    import json

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claimers", type=int, default=CLAIMERS)
    parser.add_argument("--claim-sizes", type=int, nargs="+", default=list(DEFAULT_SIZES))
    print(json.dumps(run(parser.parse_args()), indent=2))
