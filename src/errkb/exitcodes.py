"""The exit codes of `kb`, one table that scripts can rely on."""

from __future__ import annotations

from enum import IntEnum


class Exit(IntEnum):
    """Exit statuses (documented in the README)."""

    OK = 0  #: answered
    NO_MATCH = 1  #: no result, id not found, or `kb check` found errors
    USAGE = 2  #: bad command line (Click's own convention)
    INVALID_KB = 3  #: the knowledge base is missing or has invalid articles (`kb index`)
    INDEX = 4  #: the index folder cannot be used, or another build holds it
    NOT_CONFIDENT = 5  #: `kb search --strict`: only closest guesses, no confident answer
    OUTPUT = 74  #: the output cannot be written (a full disk, /dev/full) (EX_IOERR)
    INTERNAL = 70  #: a bug: please report it (EX_SOFTWARE)
    INTERRUPTED = 130  #: Ctrl-C
