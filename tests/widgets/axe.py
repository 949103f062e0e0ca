"""axe-core for the browser tests, from the npm registry (nothing third-party is committed).

`npm pack axe-core@VERSION` into test-artifacts/vendor/ (gitignored), the package's SHA-512
checked against the one pinned here, axe.min.js taken out of it. .ci/run warms this up with
`python -m tests.widgets.axe`; the browser tests call `fetch_axe()` themselves.
"""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

VERSION = "4.14.1"
INTEGRITY = (
    "sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76"
    "ASyFNNtuFooJpZe37OgudVGtQ=="
)
VENDOR = Path(__file__).resolve().parents[2] / "test-artifacts" / "vendor"


class AxeUnavailable(RuntimeError):
    """axe-core could not be had; the message says why."""


def fetch_axe() -> str:
    """The source of axe.min.js of the pinned version (packed from npm on first use)."""
    script = VENDOR / f"axe-core-{VERSION}.min.js"
    if script.exists():
        return script.read_text(encoding="utf-8")
    tarball = VENDOR / f"axe-core-{VERSION}.tgz"
    if not tarball.exists():
        npm = shutil.which("npm")
        if npm is None:
            raise AxeUnavailable("npm не установлен: axe-core взять неоткуда")
        VENDOR.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            [npm, "pack", f"axe-core@{VERSION}", "--pack-destination", str(VENDOR)],
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        if done.returncode != 0 or not tarball.exists():
            raise AxeUnavailable(f"npm pack axe-core@{VERSION}: {done.stderr.strip()[:300]}")
    digest = base64.b64encode(hashlib.sha512(tarball.read_bytes()).digest()).decode()
    if f"sha512-{digest}" != INTEGRITY:
        tarball.unlink()
        raise AxeUnavailable(f"axe-core@{VERSION}: контрольная сумма пакета не совпала")
    with tarfile.open(tarball) as archive:
        member = archive.extractfile("package/axe.min.js")
        if member is None:
            raise AxeUnavailable(f"axe-core@{VERSION}: в пакете нет axe.min.js")
        source = member.read().decode("utf-8")
    script.write_text(source, encoding="utf-8")
    return source


if __name__ == "__main__":
    try:
        fetch_axe()
    except AxeUnavailable as exc:
        print(f"axe-core: {exc}", file=sys.stderr)
        sys.exit(1)
    print(f"axe-core {VERSION}: {VENDOR}")
