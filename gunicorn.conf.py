"""gunicorn settings for Ceping: ``gunicorn -c gunicorn.conf.py 'app:create_app()'``.

Every value can be overridden from the environment, so one file serves a
laptop and each of several app servers behind a load balancer.
"""
import multiprocessing
import os

bind = os.environ.get("CEPING_BIND", "0.0.0.0:8000")
# Sync workers: each request is short (a form, a ballot, a dashboard query) and
# holds at most one database connection, which keeps the pool arithmetic simple.
workers = int(os.environ.get("CEPING_WORKERS", multiprocessing.cpu_count() * 2 + 1))
worker_class = "sync"
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
