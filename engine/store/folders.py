"""Result folders written all at once or not at all, and the leftovers of writes that died.

Lives here: ``clean`` / ``dump`` (stable, safe JSON: NaN as null, numpy scalars as numbers, sorted
keys); ``atomic_folder`` (the one way a run, grid, comparison or event study writes its folder:
under a hidden temporary name beside its destination, renamed at the end, removed on any error,
Ctrl-C or SIGTERM); ``sweep_partials`` (remove the temporary folders of writers that no longer
run, e.g. after ``kill -9``) and ``is_partial``. Not here: what goes into a folder
(``run_folder``, ``grid_folder``, ``compare_folder``, ``event_folder``).

A temporary folder is named ``.partial-<host>-<pid>-<random>``, so a sweep can tell whether its
writer still runs: on this host, a folder whose process is gone is removed; one whose process is
alive never is. Folders of other hosts (a shared results folder) and of the older unnamed form are
removed only when untouched for ``STALE_AFTER`` seconds.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import socket
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from engine.errors import ConfigError

PREFIX = ".partial-"
STALE_AFTER = 24 * 3600.0


def _host() -> str:
    return "".join(c if c.isalnum() else "_" for c in socket.gethostname())[:40] or "host"


def is_partial(name: str) -> bool:
    return name.startswith(PREFIX)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # exists, owned by someone else
    return True


def _dead_writer(folder: Path, now: float) -> bool:
    parts = folder.name[len(PREFIX) :].split("-")
    if len(parts) >= 3 and parts[0] == _host() and parts[1].isdigit():
        return not _alive(int(parts[1]))
    try:
        return now - folder.stat().st_mtime > STALE_AFTER
    except OSError:
        return False


def sweep_partials(root: Path) -> list[Path]:
    """Remove the temporary folders under ``root`` whose writers are gone; returns them."""
    removed: list[Path] = []
    try:
        entries = [p for p in Path(root).iterdir() if is_partial(p.name)]
    except OSError:
        return removed
    now = time.time()
    for folder in entries:
        if folder.is_dir() and not folder.is_symlink() and _dead_writer(folder, now):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def _write_error(exc: OSError, where: Path) -> ConfigError:
    path = exc.filename or where
    return ConfigError(
        f"cannot write {path} ({exc.strerror or exc}); free some space or fix its permissions, "
        "or pass another --out. Nothing was kept."
    )


def make_partial(root: Path) -> Path:
    """A new temporary folder under ``root`` (created, mode 755), named for this process."""
    root = Path(root)
    try:
        root.mkdir(parents=True, exist_ok=True)
        sweep_partials(root)
        tmp = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{_host()}-{os.getpid()}-", dir=root))
        tmp.chmod(0o755)
    except OSError as exc:
        raise ConfigError(
            f"cannot write results under {root} ({exc.strerror}); pass a writable --out."
        ) from None
    return tmp


@contextmanager
def atomic_folder(root: Path, name: str) -> Iterator[tuple[Path, list[Path]]]:
    """Yield (temporary folder, [final path]); on success the folder is renamed to
    ``root/name`` (suffixed ``-2``, ``-3``... if taken); on any error, Ctrl-C or SIGTERM it is
    removed. A write error (a full disk, a read-only file) becomes a ``ConfigError`` naming the
    path."""
    root = Path(root)
    tmp = make_partial(root)
    final: list[Path] = []
    try:
        try:
            yield tmp, final
            target, n = root / name, 1
            while target.exists():
                n += 1
                target = root / f"{name}-{n}"
            os.replace(tmp, target)
            final.append(target)
        except OSError as exc:
            raise _write_error(exc, tmp) from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def clean(value):
    """JSON-safe: NaN/inf become None, numpy scalars become Python numbers."""
    if isinstance(value, dict):
        return {k: clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def dump(path: Path, obj) -> None:
    path.write_text(json.dumps(clean(obj), indent=2, sort_keys=True) + "\n", encoding="utf-8")
