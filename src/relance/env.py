"""Strict readers for settings taken from the environment.

Each reader fails loudly on a value it does not understand, so a typo in a
deployment stops the start instead of silently falling back to a default.
`env_secret` also reads ``NAME_FILE`` (Docker/systemd secrets).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}") from None


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_path(name: str, default: Path) -> Path:
    raw = os.environ.get(name)
    return Path(raw).expanduser().resolve() if raw else default


def env_secret(name: str) -> str | None:
    """Return ``NAME``, or the content of the file named by ``NAME_FILE``."""
    value = os.environ.get(name)
    file_name = os.environ.get(f"{name}_FILE")
    if value and file_name:
        raise ImproperlyConfigured(f"Set {name} or {name}_FILE, not both")
    if file_name:
        try:
            return Path(file_name).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE: cannot read {file_name}: {exc}") from None
    return value or None


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "relance"


def persistent_secret_key(data_dir: Path) -> str:
    """Generate a secret key on first run and keep it in the data directory.

    The key is written to a private temporary file, then linked into place:
    two processes starting at once end up with the same, complete key.
    """
    from django.core.management.utils import get_random_secret_key

    path = data_dir / "secret_key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        key = get_random_secret_key()
        fd, temp_name = tempfile.mkstemp(dir=data_dir, prefix=".secret_key.")
        try:
            with os.fdopen(fd, "w") as handle:  # mkstemp creates it with mode 0600
                handle.write(key)
            os.link(temp_name, path)
        except FileExistsError:
            pass  # another process was first: use its key
        except OSError:
            _create_exclusively(path, key)  # a file system without hard links
        finally:
            os.unlink(temp_name)
    key = path.read_text().strip()
    if not key:
        raise ImproperlyConfigured(f"{path} is empty: delete it to generate a new key")
    return key


def _create_exclusively(path: Path, content: str) -> None:
    with contextlib.suppress(FileExistsError):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(content)
