"""gunicorn settings for the web processes (``gunicorn -c gunicorn.conf.py 'app:create_app()'``)."""

import faulthandler
import os
import shutil
import signal
import tempfile

# This machine only unless HOST says otherwise (0.0.0.0, or an address a load balancer reaches).
bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '5000')}"
# Threads suit webhooks: each waits mostly on the database and Redis, not the CPU. A
# missed call's thread waits for its group commit: more threads a process, larger groups
# and fewer commits (DATABASE_POOL_SIZE keeps a connection for each).
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("WEB_THREADS", "8"))
# Twilio gives up on a webhook after about 15 seconds.
timeout = 15
# What a stopping worker may take to finish its requests before the master kills it; flask
# dev (core/devserver.py) waits a little longer than this.
graceful_timeout = 15
keepalive = 5
accesslog = os.environ.get("ACCESS_LOG", "-") or None
# No gunicornc control socket: its default path is one per user, which several servers on
# a machine (make run, the tests, benchmarks) would take from one another.
control_socket_disable = True


def on_starting(server):  # noqa: ANN001 - gunicorn's hook signature
    # Each worker counts its webhook answers into files in this folder, and a scrape of
    # /metrics, whichever worker takes it, adds them all up (core/metrics.py). Set before
    # the workers start, so prometheus-client sees it when they import it. A folder given
    # is emptied (counts of an earlier run would be added in); else the server makes one.
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        os.makedirs(folder, exist_ok=True)
        for name in os.listdir(folder):
            if name.endswith(".db"):
                os.remove(os.path.join(folder, name))
    else:
        folder = tempfile.mkdtemp(prefix="sampark-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder
        _made_folders.append(folder)


_made_folders: list[str] = []


def child_exit(server, worker):  # noqa: ANN001 - gunicorn's hook signature
    # A worker that ended keeps its counts (they are summed still); only live gauges go.
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):  # noqa: ANN001 - gunicorn's hook signature
    for folder in _made_folders:
        shutil.rmtree(folder, ignore_errors=True)


def post_worker_init(worker):  # noqa: ANN001 - gunicorn's hook signature
    # Everything loaded so far (Flask, SQLAlchemy, the app) lives as long as the worker;
    # freezing it keeps the garbage collector from walking it on every full collection,
    # which otherwise shows up as latency spikes under load.
    import gc

    gc.freeze()
    # `kill -USR2 <worker pid>` prints where each of its threads is, to the error log: how
    # to see what a worker that will not stop or answer is waiting on. (The master takes
    # USR2 to re-execute itself; a worker has no use for it.)
    faulthandler.register(signal.SIGUSR2, all_threads=True)
    # gthread's own SIGINT/SIGQUIT handler shuts its thread pool down from inside the
    # handler. A signal that lands while the main thread is handing a connection to the
    # pool (which holds the pool's lock while a new thread starts) waits for that lock
    # forever: the worker never exits and keeps the port. Ctrl-C in a terminal sends the
    # worker SIGINT and the master then sends SIGQUIT, so it happened. Treated as SIGTERM
    # instead, the handler only sets a flag, and the worker stops through its normal path
    # (tests/test_gunicorn_conf.py); the master kills it after graceful_timeout regardless.
    signal.signal(signal.SIGINT, worker.handle_exit)
    signal.signal(signal.SIGQUIT, worker.handle_exit)
