"""`flask jobs …`: the RQ worker and the periodic sweep loop; `flask files …`: stored files."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from participation.core import files, jobs

jobs_cli = AppGroup("jobs", help="Фоновые задачи и периодические проверки")
files_cli = AppGroup("files", help="Хранилище файлов")


@jobs_cli.command("worker")
@click.option("--burst", is_flag=True, help="Выполнить очередь и выйти")
def worker_command(burst: bool) -> None:
    """Start an RQ worker for the default and reports queues (needs REDIS_URL)."""
    if not current_app.config["REDIS_URL"]:
        raise click.ClickException(
            "REDIS_URL не задан: без Redis задачи выполняются в процессе приложения, "
            "воркер не нужен"
        )
    jobs.run_worker(current_app._get_current_object(), current_app.config["RQ_QUEUES"], burst)


@jobs_cli.command("sweep")
@click.option("--once", is_flag=True, help="Один проход и выход")
def sweep_command(once: bool) -> None:
    """Run the periodic sweeps (deadlines, outbox catch-up) every SWEEP_INTERVAL_SECONDS."""
    if once:
        for name, result in jobs.run_sweeps().items():
            click.echo(f"{name}: {result}")
        return
    jobs.sweep_forever(current_app.config["SWEEP_INTERVAL_SECONDS"])


@files_cli.command("strip-metadata")
def strip_metadata_command() -> None:
    """Strip EXIF (GPS) from photos stored before it was stripped at upload (once, after update)."""
    click.echo(f"Очищено фотографий: {files.strip_stored_metadata()}")
