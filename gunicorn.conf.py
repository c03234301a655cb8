"""gunicorn settings for Ceping: ``gunicorn -c gunicorn.conf.py 'app:create_app()'``.

Every value can be overridden from the environment, so one file serves a
laptop and each of several app servers behind a load balancer.

Abuse limits (sign-in waits, wrong codes, request rates) count in Redis when
``REDIS_URL`` is set, else in the memory of one process. So without Redis the
default is one worker process serving several threads, whose counters are
exact; more than one worker without Redis would let each count on its own
(four workers: four times the limits), so that refuses to start in production
(``CEPING_ENV=production``) and warns elsewhere.
"""
import multiprocessing
import os

_shared_counters = bool(os.environ.get("REDIS_URL"))

# Loopback unless told otherwise: the public reaches the app through a reverse proxy (docs/deploy.md).
bind = os.environ.get("CEPING_BIND", "127.0.0.1:8000")
# Each request is short (a form, a ballot, a dashboard query) and holds at most one
# database connection; threads share one process's counters and its memo.
workers = int(os.environ.get("CEPING_WORKERS", multiprocessing.cpu_count() * 2 + 1 if _shared_counters else 1))
worker_class = "gthread"
# One process: eight threads. Several (with Redis): one thread each, so each holds one
# database connection, as docs/deploy.md's connection arithmetic assumes.
threads = int(os.environ.get("CEPING_THREADS", 8 if workers == 1 else 1))
timeout = int(os.environ.get("CEPING_TIMEOUT", 60))
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then so a slow leak can never take a server down.
max_requests = 2000
max_requests_jitter = 200
# The app is built once, in the master, and each worker is a fork of it. A worker that starts
# (or replaces a recycled one) is ready at once instead of spending ~1.9 s of CPU importing
# and building the app while its requests wait; workers serving about equally many requests
# reach max_requests together, so without this a two-worker server stalled for seconds
# (bench/README.md, section 2). Nothing opens a connection while the app is built; post_fork
# drops any pooled one all the same, so no two processes share one.
preload_app = True
# Access log without query strings or client addresses: an old slip's rater URL /v/<code>
# carries a secret code, so the path is not logged either (see docs/security.md).
accesslog = os.environ.get("CEPING_ACCESS_LOG", "-")
access_log_format = '%(t)s "%(m)s" %(s)s %(b)s %(L)ss'
errorlog = "-"
forwarded_allow_ips = os.environ.get("CEPING_FORWARDED_ALLOW_IPS", "127.0.0.1")

COUNTERS_NOT_SHARED = ("{workers} worker processes without REDIS_URL: each would count sign-in failures and "
                       "wrong codes on its own, so every limit would be {workers} times too large. Set REDIS_URL, "
                       "or run one worker with threads (CEPING_WORKERS=1, the default without Redis).")


def on_starting(server) -> None:
    """One thread per worker when there are several; refuse (production) or warn when their limits are not shared."""
    count = server.cfg.workers  # after the command line's -w, which overrides this file
    if count > 1 and not os.environ.get("CEPING_THREADS"):
        server.cfg.set("threads", 1)
    if count > 1 and not os.environ.get("REDIS_URL"):
        message = COUNTERS_NOT_SHARED.format(workers=count)
        if os.environ.get("CEPING_ENV") == "production":
            raise RuntimeError(message)  # gunicorn prints it and exits with status 1
        server.log.warning("WARNING: " + message)


def post_fork(server, worker) -> None:  # noqa: ARG001 - gunicorn's hook signature
    """A new worker starts with empty database pools: connections must never cross a fork."""
    from extensions import db

    app = worker.app.wsgi()
    with app.app_context():
        for engine in db.engines.values():
            engine.dispose(close=False)  # leave the parent's sockets alone, forget them here
