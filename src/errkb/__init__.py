"""errkb: an error-code knowledge base for paying on Taobao, Alipay and Alibaba.com.

The package root stays import-light (the CLI's `--help` and `--version` must
not pay for Whoosh); the public API is loaded on first use.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "KnowledgeBase",
    "SearchResult",
    "ErrkbError",
]

_LAZY = {
    "KnowledgeBase": ("errkb.kb", "KnowledgeBase"),
    "SearchResult": ("errkb.model", "SearchResult"),
    "ErrkbError": ("errkb.errors", "ErrkbError"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'errkb' has no attribute {name!r}")
