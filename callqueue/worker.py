"""The RQ worker: a work horse forked for each job, except for campaign calls.

RQ's ``Worker`` forks a work horse per job, and each horse opens its own database
connections (``callqueue.context``): about 45 ms a job here, so one worker placed some
20 campaign calls a second (9.5 on a busier machine) against a pace of 50. A campaign call
is short, waits for its due time and is safe to run twice, so it runs in the worker's own
process, as RQ's ``SimpleWorker`` runs every job; SMS, operator calls and housekeeping
keep a horse of their own, so a job that crashes or hangs there takes only its horse.
Measured by ``python -m bench --only campaign-pace`` (README, Benchmarks).
"""

from __future__ import annotations

from rq import Queue
from rq import Worker as ForkingWorker
from rq.job import Job
from rq.worker import WorkerStatus

from callqueue.queues import CAMPAIGNS_QUEUE
from core.extensions import db

IN_PROCESS_QUEUES = frozenset({CAMPAIGNS_QUEUE})
"""Queues whose jobs run in the worker's process instead of a forked work horse."""


class Worker(ForkingWorker):
    """An RQ worker that runs campaign calls itself and forks a work horse for other jobs."""

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
