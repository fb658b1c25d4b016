"""errkb's exception hierarchy: plain exceptions that carry the data a message needs.

The core raises these; the CLI turns them into one-line errors and exit codes.
"""

from __future__ import annotations

from pathlib import Path


class ErrkbError(Exception):
    """Base class: anything errkb reports to a user as a one-line error."""


class KnowledgeBaseError(ErrkbError):
    """The knowledge base folder is missing or unusable."""


class ArticleError(ErrkbError):
    """One article cannot be read; carries the file and line for `path:line:` output."""

    def __init__(self, path: Path | str, line: int, code: str, message: str) -> None:
        super().__init__(f"{path}:{line}: {code} {message}")
        self.path = Path(path)
        self.line = line
        self.code = code
        self.message = message


class IndexProblem(ErrkbError):
    """The index folder cannot be used (not writable, foreign, corrupted)."""

    def __init__(self, path: Path | str, message: str) -> None:
        super().__init__(f"{message}: {path}")
        self.path = Path(path)


class BuildInProgress(ErrkbError):
    """Another process holds the build lock for longer than we may wait."""

    def __init__(self, path: Path | str, waited: float) -> None:
        super().__init__(
            f"another `kb index` is building {path} (waited {waited:g}s); try again when it finishes"
        )
        self.path = Path(path)
        self.waited = waited


class QueryRefused(ErrkbError):
    """A query errkb will not run (for example, one that is not text)."""


class ArticleNotFound(ErrkbError):
    """`kb show` asked for an id that no article has; carries the closest ids."""

    def __init__(self, wanted: str, closest: list[str]) -> None:
        hint = f"; closest: {', '.join(closest)}" if closest else ""
        super().__init__(f"no article with id {wanted!r}{hint}")
        self.wanted = wanted
        self.closest = closest
