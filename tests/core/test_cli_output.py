"""What a person sees when they type the README's commands: no library chatter."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_db_upgrade_prints_no_alembic_plugin_lines(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "PARTICIPATION_ENV": "development",
        "SECRET_KEY": "k" * 40,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'participation.sqlite3'}",
        "MAIL_DIR": str(tmp_path / "mail"),
        "STORAGE_DIR": str(tmp_path / "storage"),
        "ESIA_EMULATOR_KEY_PATH": str(tmp_path / "esia" / "emulator_key.pem"),
    }
    for name in ("REDIS_URL", "FLASK_APP"):
        env.pop(name, None)
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "setup plugin" not in output
    assert "Running upgrade" in output  # what the person needs: the migrations applied
