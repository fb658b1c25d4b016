"""A request's query parameters, checked as the CLI checks its options."""

from __future__ import annotations

from dataclasses import dataclass

from werkzeug.datastructures import MultiDict

from ..querying import MAX_QUERY_CHARS
from ..tags import CAUSES, PLATFORMS

DEFAULT_LIMIT = 5  # `kb search`'s
MAX_LIMIT = 1000  # `kb search -n`'s bound
#: A whole query string longer than this is refused (414) before it is parsed.
MAX_QUERY_STRING_BYTES = 1024 * 1024


class BadParameter(ValueError):
    """A parameter the server refuses (400), with the message to show."""


@dataclass(frozen=True)
class SearchParams:
    q: str | None  # None: no query given (the empty search page)
    platforms: tuple[str, ...]
    causes: tuple[str, ...]
    limit: int
    truncated: bool  # q was cut to MAX_QUERY_CHARS, as the search itself reads

    def filters(self) -> dict[str, list[str]]:
        """The filters as URL parameters (for "did you mean" and page links)."""
        return {"platform": list(self.platforms), "cause": list(self.causes)}


def tags(args: MultiDict[str, str], name: str, allowed: dict[str, str]) -> tuple[str, ...]:
    """Repeated values of one tag parameter; blank ones (a form's "any") ignored."""
    values = [v.strip().lower() for v in args.getlist(name) if v.strip()]
    for value in values:
        if value not in allowed:
            raise BadParameter(f"unknown {name} {value[:40]!r}; choose from {', '.join(sorted(allowed))}")
    return tuple(dict.fromkeys(values))


def search_params(args: MultiDict[str, str]) -> SearchParams:
    """q, platform, cause and limit from a request's arguments."""
    raw_limit = args.get("limit", "").strip()
    if not raw_limit:
        limit = DEFAULT_LIMIT
    elif raw_limit.isdigit() and 1 <= int(raw_limit) <= MAX_LIMIT:
        limit = int(raw_limit)
    else:
        raise BadParameter(f"limit must be a whole number from 1 to {MAX_LIMIT}, not {raw_limit[:20]!r}")
    q = args.get("q")
    truncated = q is not None and len(q) > MAX_QUERY_CHARS
    if q is not None:
        q = q[:MAX_QUERY_CHARS]  # what the search reads anyway; the echo is capped with it
    return SearchParams(q, tags(args, "platform", PLATFORMS), tags(args, "cause", CAUSES), limit, truncated)
