"""Benchmark: which gunicorn settings keep a burst of ballots fast — workers × threads.

Run by hand:  .venv/bin/python bench/queueing.py [--seconds 10] [--connections 32]
(needs `wrk`: apt-get install -y wrk.)

The burst of the issue is a region's vote opening: many residents casting at once. This bench
builds bench/voting_cast.py's database (60 000 residents, one open vote; rate limits in Redis
DB 4 when it answers) and, for each gunicorn configuration in CONFIGS, serves the real app and
casts ballots from `--connections` wrk connections for `--seconds` (after 2 s of warm-up, each
resident once). The naive one-insert app (bench/_common.py) is timed on the same settings
first, as the reference of what the machine itself allows. Printed per configuration:
requests per second, p50 / p99 latency, errors, the app workers' CPU per request, and the
bound Little's law sets on a closed-loop client: the mean latency is connections / throughput,
so a p99 of 50 ms at 32 connections needs at least 640 answers per second.
"""

from __future__ import annotations

import os
import tempfile
import time

import _common
import voting_cast

# (workers, threads): gthread workers; on 2 CPUs.
CONFIGS = [(2, 4), (3, 4), (3, 8), (4, 2), (5, 1)]
COMMON = ["--worker-class", "gthread", "--keep-alive", "30", "--backlog", "2048",
          "--log-level", "warning"]  # fmt: skip


def options(workers: int, threads: int) -> list[str]:
    return ["--workers", str(workers), "--threads", str(threads), *COMMON]


def main() -> None:
    args = _common.wrk_setup(__doc__)
    env = voting_cast._env()
    os.environ.update(env)
    _common.recreate_database(voting_cast.DB_NAME)
    if "REDIS_URL" in env:
        from redis import Redis

        Redis.from_url(voting_cast.REDIS).flushdb()
    from participation import create_app

    app = create_app(env=env)
    campaign_id, objects, users = voting_cast._build(app)
    lines = voting_cast._credentials(app, users, objects, campaign_id)
    path = f"/voting/{campaign_id}/cast"
    share = len(lines) // len(CONFIGS)
    print(f"{len(users)} residents; {args.connections} connections, {args.seconds} s per run; "
          f"{os.cpu_count()} CPUs")  # fmt: skip
    print(f"{'configuration':<24}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}"
          f"{'app CPU ms':>12}{'mean bound ms':>15}")  # fmt: skip

    def row(name: str, result: dict, cpu: _common.Cpu) -> None:
        rate = _common.rate(result)
        errors = result["non_ok"] + result["socket_errors"]
        print(f"{name:<24}{rate:8.0f}{result['p50']:9.1f}{result['p99']:9.1f}{errors:8d}"
              f"{cpu.app_ms:12.2f}{1000 * args.connections / rate:15.1f}")  # fmt: skip

    workers, threads = CONFIGS[2]
    result, cpu = _common.wrk_naive_baseline(
        options(workers, threads), env, args.seconds, args.connections
    )
    row(f"naive {workers}×{threads}", result, cpu)
    for n, (workers, threads) in enumerate(CONFIGS):
        part = lines[n * share : (n + 1) * share]
        warm, timed = part[:1000], part[1000:]
        files = []
        for chunk in (warm, timed):
            with tempfile.NamedTemporaryFile("w", delete=False) as f:
                f.write("\n".join(chunk))
                files.append(f.name)
        with _common.Gunicorn(
            "voting_cast:product_app()", options(workers, threads), env
        ) as server:
            server.wait("/healthz")
            voting_cast._load(server.port, path, warm, files[0], 2, args.connections)
            result, cpu = _common.metered(
                server,
                lambda s=server, t=timed, f=files[1]: voting_cast._load(
                    s.port, path, t, f, args.seconds, args.connections
                ),
                voting_cast.DB_NAME,
            )
        row(f"cast gthread {workers}×{threads}", result, cpu)
        for name in files:
            os.unlink(name)
        time.sleep(1)
    print(f"load average during the runs: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
