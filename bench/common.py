"""Helpers shared by the benchmarks: database URLs, the app, gunicorn, timing and machine facts.

The benchmarks are run by hand (``python -m bench.<name>`` from the repository
root), never by pytest or CI; bench/README.md has the commands and the figures.
"""
from __future__ import annotations

import os
import platform
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Optional

import requests

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python bench/x.py` as well as `python -m bench.x`
    sys.path.insert(0, str(ROOT))

from config import _normalise_database_url  # noqa: E402

BENCH_SECRET = "bench-secret-key-not-for-production"
BENCH_BALLOT_KEY = "bench-ballot-key-not-for-production"
BENCH_USER, BENCH_PASSWORD = "bench", "bench-password"
CAMPAIGN_NAME = "基准测试活动"
TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def normalise(url: str) -> str:
    """``postgresql://…`` → the psycopg 3 driver URL the app uses; SQLite URLs pass through."""
    return _normalise_database_url(url)


def engine_name(url: str) -> str:
    """'postgresql' or 'sqlite'."""
    return "postgresql" if url.startswith("postgresql") else "sqlite"


def make_app(url: str, **overrides):
    """A Ceping app on ``url`` with the test settings (CSRF off, limits off) for in-process work."""
    from app import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": normalise(url), "SECRET_KEY": BENCH_SECRET,
                       "BALLOT_KEY": BENCH_BALLOT_KEY, **overrides})


def machine_facts() -> dict:
    """nproc, memory, load and the busiest other processes: the context every figure needs."""
    facts = {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()}
    try:
        facts["memory"] = subprocess.run(["free", "-h"], capture_output=True, text=True).stdout.splitlines()[1]
    except (OSError, IndexError):
        pass
    facts["loadavg"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    try:
        busy = subprocess.run(["ps", "-eo", "pcpu,comm", "--sort=-pcpu", "--no-headers"],
                              capture_output=True, text=True).stdout.splitlines()[:6]
        facts["busiest"] = "; ".join(" ".join(line.split()) for line in busy)
    except OSError:
        pass
    return facts


def print_facts(title: str) -> None:
    """Print the machine facts under a heading (figures are meaningless without them)."""
    print(f"== {title} ==")
    for key, value in machine_facts().items():
        print(f"  {key}: {value}")


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (0–100) by nearest rank; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, int(round(p / 100 * len(ordered) + 0.5)) - 1))
    return ordered[k]


def timed(fn: Callable, repeat: int = 5, warmup: int = 1) -> dict:
    """Run ``fn`` ``warmup`` + ``repeat`` times: median, min and max wall time, and median CPU time, in ms.

    CPU time is this process's, all threads included (DuckDB's too), so it is the
    figure least disturbed by other work on a shared machine; a database server's
    own CPU is not in it.
    """
    for _ in range(warmup):
        fn()
    times, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        times.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return {"median_ms": statistics.median(times), "min_ms": min(times), "max_ms": max(times),
            "cpu_ms": statistics.median(cpu)}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A gunicorn process with ``gunicorn.conf.py`` on a free port, limits off, log to a temp file.

    ``args`` go to gunicorn's command line after the file (``--max-requests 0`` keeps one worker
    for a whole measurement instead of replacing it every ~2,000 requests).
    """

    def __init__(self, url: str, workers: int = 2, extra_env: Optional[dict] = None, timeout: int = 60,
                 args: tuple[str, ...] = ()):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ, DATABASE_URL=normalise(url), SECRET_KEY=BENCH_SECRET, CEPING_RATELIMIT="0",
                   CEPING_BALLOT_KEY=BENCH_BALLOT_KEY,
                   CEPING_BIND=f"127.0.0.1:{self.port}", CEPING_WORKERS=str(workers),
                   CEPING_TIMEOUT=str(timeout), CEPING_ACCESS_LOG="/dev/null")
        env.update(extra_env or {})
        env.pop("TEST_DATABASE_URL", None)
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), "--no-control-socket",
             *args, "app:create_app()"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=self.log)
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("gunicorn exited: " + self.read_log()[-2000:])
            try:
                requests.get(self.base + "/thanks", timeout=2)
                break
            except (requests.ConnectionError, requests.Timeout):
                time.sleep(0.2)
        else:
            self.stop()
            raise RuntimeError("gunicorn did not start in 60 s")
        # Touch every worker once so none is still importing when timing starts.
        for _ in range(4 * workers):
            requests.get(self.base + "/thanks", timeout=30)

    def worker_pids(self) -> list[int]:
        """Process ids of the gunicorn workers (children of the master)."""
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(self.proc.pid)], capture_output=True, text=True)
        return [int(p) for p in out.stdout.split()]

    def read_log(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()

    def __enter__(self) -> "Server":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def sign_in(base: str, username: str = BENCH_USER, password: str = BENCH_PASSWORD) -> requests.Session:
    """A requests session signed in as an organiser on a live server (CSRF on, as in production)."""
    session = requests.Session()
    page = session.get(f"{base}/login", timeout=30)
    token = TOKEN.search(page.text)
    data = {"username": username, "password": password}
    if token:
        data["csrf_token"] = token.group(1)
    response = session.post(f"{base}/login", data=data, allow_redirects=False, timeout=30)
    if response.status_code != 302:
        raise RuntimeError(f"sign-in failed: HTTP {response.status_code}")
    return session


def proc_status(pid: int, field: str) -> int:
    """A kB field of /proc/<pid>/status (VmRSS, VmHWM = peak RSS), in kB; 0 if the process is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def fmt_ms(value: float) -> str:
    return f"{value:,.1f}" if value < 100 else f"{value:,.0f}"
