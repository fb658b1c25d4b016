"""What an error code looks like, in a paste and in an article's `codes`.

Codes mix letters with digits or separators (E1001, ACQ.SYSTEM_ERROR) and
match case-insensitively. A code keeps its names without namespace prefixes:
Alipay's open platform says ACQ.SYSTEM_ERROR (logged as aop.ACQ.SYSTEM_ERROR)
where its global API says SYSTEM_ERROR, so each is found by any of them.
"""

from __future__ import annotations

import re

#: Code-like tokens of a paste looked up in the `codes` field.
MAX_CODES = 16

_CODE = re.compile(r"(?<![\w.-])[A-Za-z0-9]+(?:[._-][A-Za-z0-9]+)*(?![\w-])")


def looks_like_code(token: str) -> bool:
    """Error codes mix letters with digits or separators: E1001, ACQ.SYSTEM_ERROR."""
    has_letter = any(c.isalpha() for c in token)
    has_digit = any(c.isdigit() for c in token)
    has_sep = any(c in "._-" for c in token)
    return has_letter and (has_digit or has_sep) and len(token) <= 64


def code_names(code: str) -> list[str]:
    """A code and the names it goes by without its namespace prefixes, lowercased:
    aop.ACQ.SYSTEM_ERROR is also ACQ.SYSTEM_ERROR and SYSTEM_ERROR."""
    parts = code.lower().split(".")
    return [".".join(parts[i:]) for i in range(len(parts)) if looks_like_code(".".join(parts[i:]))]


def code_candidates(text: str) -> list[str]:
    """Code-like tokens of the text, lowercased (codes match case-insensitively)."""
    found: dict[str, None] = {}
    for match in _CODE.finditer(text):
        token = match.group(0).strip("._-")
        if looks_like_code(token):
            found.update(dict.fromkeys(code_names(token)))
            if len(found) >= MAX_CODES:
                break
    return list(found)[:MAX_CODES]
