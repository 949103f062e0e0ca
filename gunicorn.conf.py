"""gunicorn's settings for production: `gunicorn wsgi:app` reads this file from the project
folder (README, «Production»). Every value can be set from the environment.

Workers × threads (WEB_WORKERS, WEB_THREADS), measured by bench/queueing.py — a burst of
ballots from 32 connections on 2 CPUs, 2026-12-06 (requests/s, p50/p99 ms): 2×4 260, 118/226;
3×4 218, 163/511; 3×8 123, 254/355; 4×2 248, 67/608; 5×1 232, 128/468. A worker is one Python
process and runs on one core at a time whatever its threads; threads only fill the time a
request waits for PostgreSQL or Redis. Hence one worker per core, four threads each:

  2 cores:  2 workers × 4 threads
  8 cores:  8 workers × 4 threads  (not measured here: the machine has 2 cores)

More workers or threads than that add requests waiting for a core or for the GIL, and the
slowest of them sets p99. At 32 connections the mean latency is 32 / throughput (Little's
law): a p99 of 50 ms needs more than 640 ballots a second, which 2 cores do not give (README,
«Benchmarks»).
"""

import multiprocessing
import os

bind = os.environ.get("WEB_BIND", "0.0.0.0:8000")
worker_class = "gthread"
workers = int(os.environ.get("WEB_WORKERS") or multiprocessing.cpu_count())
threads = int(os.environ.get("WEB_THREADS") or 4)
# A browser (or a widget's page) keeps its connection between a ballot page and its cast.
keepalive = 30
# A burst waits in the kernel's queue rather than being refused.
backlog = 2048
# Longer than any page's request (exports and protocols are jobs, not requests).
timeout = 60
graceful_timeout = 30
