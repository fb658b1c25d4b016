"""Text from outside (articles, file names, the user's paste) made safe to
print on a terminal: control characters become visible escapes.

A planted `ESC ] 52` (clipboard write), `ESC [ 2J` (clear screen), `ESC ] 0`
(window title) or a carriage return is then shown as text, never obeyed.
Applied to every human output, on a terminal or in a pipe (the pipe often
ends in `less -R` or a terminal anyway). Needs nothing but `re`, so the
CLI can use it before any heavy import.
"""

from __future__ import annotations

import re

#: C0 controls but tab and newline, DEL, and C1 (which includes the 8-bit CSI, U+009B).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean(text: str) -> str:
    """Control characters as visible escapes (`\\x1b`), so they print as text."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def clean_line(text: str) -> str:
    """`clean`, and whitespace (newlines, tabs) folded to single spaces: one line."""
    return " ".join(clean(text).split())
