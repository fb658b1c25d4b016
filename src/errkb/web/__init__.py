"""errkb's web help centre: a thin Flask layer over `errkb.kb.KnowledgeBase`,
as `cli.py` is for the terminal.

`create_app()` is the WSGI application factory (`kb serve` runs it under
waitress; any WSGI server can: `waitress-serve --call errkb.web:create_app`).
"""

from __future__ import annotations

from .app import create_app

__all__ = ["create_app"]
