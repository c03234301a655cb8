"""gunicorn settings for Ceping: ``gunicorn -c gunicorn.conf.py 'app:create_app()'``.

Every value can be overridden from the environment, so one file serves a
laptop and each of several app servers behind a load balancer.
"""
import os

# Loopback unless told otherwise: the public reaches the app through a reverse proxy (docs/deploy.md).
bind = os.environ.get("CEPING_BIND", "127.0.0.1:8000")
# Each request is short (a form, a ballot, a dashboard query) and holds at most one database
# connection: a process needs one per thread, within SQLAlchemy's default pool (5 + 10 overflow).
# One process with threads by default: the rate-limit counters live in that process's memory, so
# they are exact without Redis; more processes (several servers) share them through REDIS_URL.
workers = int(os.environ.get("CEPING_WORKERS", 1))
threads = int(os.environ.get("CEPING_THREADS", 8))
worker_class = "gthread" if threads > 1 else "sync"
timeout = int(os.environ.get("CEPING_TIMEOUT", 60))
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then so a slow leak can never take a server down.
max_requests = 2000
max_requests_jitter = 200
# Access log without query strings or client addresses: an old slip's rater URL /v/<code>
# carries a secret code, so the path is not logged either (see docs/security.md).
accesslog = os.environ.get("CEPING_ACCESS_LOG", "-")
access_log_format = '%(t)s "%(m)s" %(s)s %(b)s %(L)ss'
errorlog = "-"
forwarded_allow_ips = os.environ.get("CEPING_FORWARDED_ALLOW_IPS", "127.0.0.1")
