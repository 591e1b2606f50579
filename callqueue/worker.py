"""The RQ worker behind ``flask queue worker``: it outlives Redis outages and crashed
schedulers, and runs campaign calls in its own process.

RQ's own worker quits on the first Redis error it meets outside its dequeue loop (while it
watches a job, registers itself or starts its scheduler), and once quit it stays quit. Here
the worker waits for Redis, then starts a fresh RQ worker, for as long as nobody asks it to
stop. RQ's scheduler (retries and delayed jobs) is a process of its own holding a lock in
Redis per queue; RQ looks for a dead scheduler only between two waits on the queues (every
405 s, its default) and a crashed one's lock keeps others out for 61 s. Here the worker
looks every ``MAINTENANCE_SECONDS`` and takes over, at once, a lock whose holder on this
machine is dead, so delayed jobs go out within seconds of a new worker starting.

RQ's ``Worker`` forks a work horse per job, and each horse opens its own database
connections (``callqueue.context``): about 45 ms a job here, so one worker placed some
20 campaign calls a second (9.5 on a busier machine) against a pace of 50. A campaign call
is short, waits for its due time and is safe to run twice, so it runs in the worker's own
process, as RQ's ``SimpleWorker`` runs every job; SMS, operator calls and housekeeping
keep a horse of their own, so a job that crashes or hangs there takes only its horse.
Measured by ``python -m bench --only campaign-pace`` (README, Benchmarks).
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
from collections.abc import Iterable
from types import FrameType
from typing import Any

import psutil
from redis import Redis
from redis.client import Pipeline
from redis.exceptions import RedisError
from rq import Queue
from rq import Worker as ForkingWorker
from rq.job import Job
from rq.scheduler import SCHEDULER_KEY_TEMPLATE, RQScheduler
from rq.scripts import release_lock
from rq.worker import WorkerStatus

from callqueue.queues import CAMPAIGNS_QUEUE
from core.extensions import db

log = logging.getLogger("sampark.worker")

WORKER_TTL_SECONDS = 20
"""Sets how long RQ waits on the queues at a time (this less 15 s: 5 s); only between two
such waits does it look after its scheduler, so a scheduler that died with Redis comes
back within ``MAINTENANCE_SECONDS`` plus that wait. (RQ's 420 s made it 405 s.)"""

MAINTENANCE_SECONDS = 10
"""How often the worker restarts a dead scheduler and cleans RQ's registries (RQ: 600 s)."""

REDIS_WAIT_MAX_SECONDS = 5.0
"""The longest pause between two looks at a Redis that is down: how late work resumes."""

REDIS_WAIT_FIRST_SECONDS = 0.5
"""The first pause; each next one doubles up to ``REDIS_WAIT_MAX_SECONDS``."""

IN_PROCESS_QUEUES = frozenset({CAMPAIGNS_QUEUE})
"""Queues whose jobs run in the worker's process instead of a forked work horse."""


class Worker(ForkingWorker):
    """An RQ worker that minds its scheduler often, tells a stop from a crash, and runs
    campaign calls itself while forking a work horse for other jobs."""

    max_connection_wait_time = REDIS_WAIT_MAX_SECONDS

    def __init__(self, queues: Iterable[Queue], connection: Redis, **options: Any) -> None:
        options.setdefault("worker_ttl", WORKER_TTL_SECONDS)
        options.setdefault("maintenance_interval", MAINTENANCE_SECONDS)
        super().__init__(list(queues), connection=connection, **options)
        self.stop_asked = False

    def execute_job(self, job: Job, queue: Queue) -> None:
        if queue.name not in IN_PROCESS_QUEUES:
            super().execute_job(job, queue)
            return
        # As SimpleWorker.execute_job does; the job's own timeout still applies (SIGALRM).
        execution = self.prepare_execution(job)
        try:
            self.perform_job(job, queue, execution)
        finally:
            # The worker's app context outlives the job: leave no session state behind.
            db.session.remove()
        self.set_state(WorkerStatus.IDLE)

    def heartbeat(self, timeout: int | None = None, pipeline: Pipeline | None = None) -> None:
        if pipeline is None and not self.connection.hexists(self.key, "birth"):
            # Redis came back without our registration (no dump): register again, or the
            # worker would work unseen by RQ's tools and /healthz/background.
            self.connection.delete(self.key)
            self.register_birth()
        super().heartbeat(timeout, pipeline)

    def request_stop(self, signum: int, frame: FrameType | None) -> None:
        self.stop_asked = True
        super().request_stop(signum, frame)

    def _start_scheduler(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        release_dead_schedulers_locks(self.connection, self.queue_names())
        super()._start_scheduler(*args, **kwargs)

    def run_maintenance_tasks(self) -> None:
        scheduler = self.scheduler
        if scheduler is not None and not (scheduler._process and scheduler._process.is_alive()):
            release_dead_schedulers_locks(self.connection, self.queue_names())
        super().run_maintenance_tasks()


def release_dead_schedulers_locks(connection: Redis, queue_names: Iterable[str]) -> list[str]:
    """Release scheduler locks held by a scheduler of this machine whose process is gone.

    A lock is only released when its holder's record names this host and a process id that
    no longer runs; a holder on another host is left to its lock's expiry.
    """
    released = []
    hostname = socket.gethostname()
    for name in queue_names:
        key = RQScheduler.get_locking_key(name)
        holder = connection.get(key)
        if holder is None:
            continue
        record = connection.hgetall(SCHEDULER_KEY_TEMPLATE % holder.decode())
        if record.get(b"hostname", b"").decode() != hostname:
            continue
        pid = int(record.get(b"pid", b"0") or 0)
        if pid and _process_alive(pid):
            continue
        if release_lock(connection, key, holder.decode()):
            released.append(name)
    if released:
        log.warning("released the scheduler lock of a dead scheduler for %s", ", ".join(released))
    return released


def _process_alive(pid: int) -> bool:
    # A zombie is dead: where nobody reaps orphans (pid 1 in many containers) it lingers.
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def run_worker(queues: list[Queue], connection: Redis, *, burst: bool = False) -> None:
    """Work the queues until asked to stop, waiting out Redis outages and restarting RQ's worker.

    A job running when the worker failed goes on in its work horse; the next worker starts
    once it has ended, and the job's own record in SQL says what it did.
    """
    stopping = threading.Event()
    while True:
        if not wait_for_redis(connection, stopping):
            return
        worker = Worker(queues, connection)
        try:
            worker.work(burst=burst, with_scheduler=True)
        except RedisError as exc:
            log.warning("worker lost Redis (%s: %s)", type(exc).__name__, exc)
        if burst or worker.stop_asked:
            return
        # RQ's signal handlers point at the worker that quit; from here a signal means stop.
        _stop_on_signals(stopping)
        _wait_for_work_horse(worker, stopping)
        if stopping.is_set():
            return
        log.warning("worker quit without being asked to; starting it again")


def wait_for_redis(connection: Redis, stopping: threading.Event) -> bool:
    """Return True once Redis answers, False when asked to stop first; say so while waiting."""
    pause = REDIS_WAIT_FIRST_SECONDS
    waited = False
    while not stopping.is_set():
        try:
            connection.ping()
        except RedisError as exc:
            if not waited:
                log.warning("Redis does not answer (%s); waiting for it", type(exc).__name__)
                _stop_on_signals(stopping)
            waited = True
            stopping.wait(pause)
            pause = min(pause * 2, REDIS_WAIT_MAX_SECONDS)
            continue
        if waited:
            log.warning("Redis answers again; back to work")
        return True
    return False


def _stop_on_signals(stopping: threading.Event) -> None:
    def stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)


def _wait_for_work_horse(worker: ForkingWorker, stopping: threading.Event) -> None:
    """Let a job that was running when the worker quit finish (RQ bounds it by its timeout)."""
    pid = worker.horse_pid
    while pid and not stopping.is_set():
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return
        if done:
            return
        stopping.wait(0.2)
