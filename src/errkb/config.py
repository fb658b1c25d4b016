"""The user's config file: defaults for `kb` (a TOML file, read with tomllib).

It lives in the user's config folder (`platformdirs`: on Linux
`~/.config/errkb/config.toml`), or wherever `ERRKB_CONFIG` names. Every key
is optional; command-line options and `ERRKB_*` variables beat it:

    kb_dir = "~/notes/payment-kb"   # relative paths are relative to this file
    index_dir = "~/.cache/my-kb-index"
    color = "never"                 # auto, always or never
    limit = 3                       # results per search
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

from .errors import ErrkbError

CONFIG_ENV = "ERRKB_CONFIG"
COLOR_CHOICES = ("auto", "always", "never")
KEYS = ("kb_dir", "index_dir", "color", "limit")
MAX_LIMIT = 1000


class ConfigError(ErrkbError):
    """The config file cannot be read or has a bad value; names the file."""

    def __init__(self, path: Path, message: str) -> None:
        super().__init__(f"config file {path}: {message}")
        self.path = path


class Config(NamedTuple):  # not a dataclass: every `kb` start would compile its methods (~1 ms)
    """What the config file says (None: not set), and where it is."""

    path: Path
    exists: bool
    kb_dir: str | None = None
    index_dir: str | None = None
    color: str | None = None
    limit: int | None = None


def config_path() -> Path:
    """`ERRKB_CONFIG`, else config.toml in the user's config folder."""
    explicit = os.environ.get(CONFIG_ENV)
    if explicit:
        return Path(explicit).expanduser()
    from .locations import user_folder

    return user_folder("config") / "config.toml"


def _folder(path: Path, value: object, key: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(path, f"{key} must be a folder name (a non-empty string)")
    folder = Path(value).expanduser()
    return str(folder if folder.is_absolute() else path.parent / folder)


def load(path: Path | None = None) -> Config:
    """Read the config file; a missing file is an empty config."""
    path = config_path() if path is None else path
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return Config(path, exists=False)
    except OSError as exc:
        raise ConfigError(path, f"cannot be read ({exc.strerror})") from None
    import tomllib

    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(path, "is not UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, f"is not valid TOML ({exc})") from None
    unknown = sorted(set(data) - set(KEYS))
    if unknown:
        raise ConfigError(path, f"unknown key {unknown[0]!r} (known: {', '.join(KEYS)})")
    color = data.get("color")
    if color is not None and color not in COLOR_CHOICES:
        raise ConfigError(path, f"color must be one of {', '.join(COLOR_CHOICES)}, not {color!r}")
    limit = data.get("limit")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int)
                              or not 1 <= limit <= MAX_LIMIT):
        raise ConfigError(path, f"limit must be a whole number from 1 to {MAX_LIMIT}, not {limit!r}")
    return Config(
        path, exists=True,
        kb_dir=_folder(path, data["kb_dir"], "kb_dir") if "kb_dir" in data else None,
        index_dir=_folder(path, data["index_dir"], "index_dir") if "index_dir" in data else None,
        color=color, limit=limit,
    )
