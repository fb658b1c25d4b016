"""Where the articles and the index are, so that `kb` works from any folder.

The knowledge base is, in this order: `--kb-dir` (or `ERRKB_KB_DIR`, or
`kb_dir` in the config file), else `./kb` when the current folder holds an
errkb knowledge base (a project clone), else the articles installed with
errkb. The index of `./kb` is `./index` beside it, as in a clone; the index
of any other knowledge base lives in the user's cache folder, one folder per
knowledge base (keyed by its absolute path), so that standing in another
folder never creates an `index/` there.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
from pathlib import Path
from typing import NamedTuple

#: How each folder was chosen, as `kb info` names it.
FROM_OPTION = "--kb-dir"
FROM_ENV = "ERRKB_KB_DIR"
FROM_CONFIG = "config file"
FROM_CWD = "./kb in the current folder"
FROM_INSTALL = "the articles installed with errkb"
INDEX_FROM_OPTION = "--index-dir"
INDEX_FROM_ENV = "ERRKB_INDEX_DIR"
INDEX_BESIDE_KB = "./index beside ./kb"
INDEX_IN_CACHE = "the user cache folder"


class Locations(NamedTuple):  # not a dataclass: every `kb` start would compile its methods (~1 ms)
    """The articles and the index folder, and why each was chosen."""

    kb_dir: Path
    kb_source: str
    index_dir: Path
    index_source: str

    @property
    def installed(self) -> bool:
        """The articles shipped inside errkb (read-only for `kb new`/`kb edit`)."""
        return self.kb_source == FROM_INSTALL


def holds_kb(folder: Path) -> bool:
    """A folder of errkb articles: at least one `*.md` starting with front matter."""
    try:
        for path in folder.glob("*.md"):
            if path.name.startswith((".", "_")) or not path.is_file():
                continue
            with path.open("rb") as handle:
                if handle.read(3) == b"---":
                    return True
    except OSError:
        return False
    return False


def installed_kb() -> Path | None:
    """The articles installed with errkb: `errkb/articles/` in a wheel (the
    top-level kb/ mapped into the package at build time), or the kb/ of the
    source checkout for an editable install."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "articles", here.parents[1] / "kb"):
        if holds_kb(candidate):
            return candidate
    return None


#: Where platformdirs puts errkb's folders on XDG systems: (variable, default under ~).
_XDG = {"config": ("XDG_CONFIG_HOME", "~/.config"), "cache": ("XDG_CACHE_HOME", "~/.cache")}


def user_folder(kind: str) -> Path:
    """errkb's user config or cache folder, as platformdirs gives it.

    On Linux and the BSDs platformdirs follows the XDG rule ($XDG_CONFIG_HOME,
    else ~/.config; likewise for the cache), which is computed here without
    importing it: its import costs ~10 ms (it loads tempfile), and every
    `kb search` looks for the config file. A test checks the two agree;
    elsewhere platformdirs answers."""
    if sys.platform.startswith(("linux", "freebsd", "openbsd", "netbsd")):
        variable, default = _XDG[kind]
        base = os.environ.get(variable, "")
        return Path(base if base.strip() else os.path.expanduser(default)) / "errkb"
    import platformdirs

    return platformdirs.user_config_path("errkb") if kind == "config" else platformdirs.user_cache_path("errkb")


def cache_index_dir(kb_dir: Path) -> Path:
    """The index folder of `kb_dir` in the user's cache: readable name, plus a
    hash of the absolute path so that two knowledge bases never share one."""
    absolute = kb_dir.expanduser().resolve()
    digest = hashlib.sha256(str(absolute).encode("utf-8", "surrogateescape")).hexdigest()[:16]
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", absolute.name or "kb").strip("-.") or "kb"
    return user_folder("cache") / "indexes" / f"{name}-{digest}"


def resolve(kb_dir: str | None, kb_source: str, index_dir: str | None, index_source: str,
            cwd: Path | None = None) -> Locations:
    """Choose the folders; `kb_dir`/`index_dir` are what the user gave (with
    where it came from), None when not given."""
    here = Path.cwd() if cwd is None else cwd
    if kb_dir is not None:
        kb, source = Path(kb_dir).expanduser(), kb_source
    elif holds_kb(here / "kb"):
        kb, source = Path("kb"), FROM_CWD
    else:
        installed = installed_kb()
        # Nothing installed (a broken install): ./kb, so the error names it.
        kb, source = (installed, FROM_INSTALL) if installed is not None else (Path("kb"), FROM_CWD)
    if index_dir is not None:
        return Locations(kb, source, Path(index_dir).expanduser(), index_source)
    if source == FROM_CWD:
        return Locations(kb, source, Path("index"), INDEX_BESIDE_KB)
    return Locations(kb, source, cache_index_dir(kb), INDEX_IN_CACHE)
