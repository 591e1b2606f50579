"""gunicorn settings for the web processes (``gunicorn -c gunicorn.conf.py 'app:create_app()'``)."""

import os

bind = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '5000')}"
# Threads suit webhooks: each waits mostly on the database and Redis, not the CPU. A
# missed call's thread waits for its group commit: more threads a process, larger groups
# and fewer commits (DATABASE_POOL_SIZE keeps a connection for each).
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("WEB_THREADS", "8"))
# Twilio gives up on a webhook after about 15 seconds.
timeout = 15
keepalive = 5
accesslog = os.environ.get("ACCESS_LOG", "-") or None


def post_worker_init(worker):  # noqa: ANN001 - gunicorn's hook signature
    # Everything loaded so far (Flask, SQLAlchemy, the app) lives as long as the worker;
    # freezing it keeps the garbage collector from walking it on every full collection,
    # which otherwise shows up as latency spikes under load.
    import gc

    gc.freeze()
