"""Text that fits a terminal: display width, wrapping, cutting, and escaping
control characters. Part of the CLI layer; the core never prints.

Widths are display columns, not characters: CJK and full-width characters
take two (`wcwidth`), combining marks none, and the colour codes errkb adds
(SGR, `ESC [ ... m`) none. Every piece of text that came from an article,
a file name or the user's paste goes through `safetext.clean` before it is styled.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator

from wcwidth import wcwidth

from .safetext import clean, clean_line

__all__ = ["clean", "clean_line", "display_width", "terminal_width", "truncate", "wrap"]

#: The widest text errkb lays out (longer prose lines are hard to read).
MAX_WIDTH = 120
MIN_WIDTH = 40
ELLIPSIS = "…"

#: The colour codes errkb itself writes (click.style): zero width, never split.
_SGR = re.compile(r"\x1b\[[0-9;]*m")
_RESET = "\x1b[0m"
#: Where a line may break: whitespace, a colour code, one wide character,
#: or a run of anything else (a word).
_TOKEN = re.compile(r"(\s+)|(\x1b\[[0-9;]*m)|([^\s\x1b])")
#: Closing punctuation that stays with the character before it (no line starts with "，").
_CLOSING = set("，。、；：！？）」』】》〉,.;:!?)]}”’")
#: Opening punctuation that stays with the character after it.
_OPENING = set("（「『【《〈([{“‘")


def char_width(ch: str) -> int:
    return max(wcwidth(ch), 0)


def display_width(text: str) -> int:
    """Columns `text` takes on a terminal (colour codes take none)."""
    return sum(char_width(ch) for ch in _SGR.sub("", text))


def terminal_width() -> int:
    """The terminal's columns (COLUMNS, else the terminal, else 80), kept readable."""
    return max(MIN_WIDTH, min(shutil.get_terminal_size((80, 24)).columns, MAX_WIDTH))


def truncate(text: str, width: int) -> str:
    """Plain `text` cut to `width` columns with `…` when anything was cut:
    at a word boundary when one is near the end, else between characters."""
    if display_width(text) <= width:
        return text
    out, used = [], 0
    for ch in text:
        w = char_width(ch)
        if used + w > width - 1:
            break
        out.append(ch)
        used += w
    kept = "".join(out)
    space = kept.rfind(" ")
    tail = kept[space + 1:]
    if space > 0 and display_width(tail) <= 12 and not any(_is_wide(ch) for ch in tail):
        kept = kept[:space]  # not mid-word when the word is short
    return kept.rstrip(" ,;:·-") + ELLIPSIS


def _is_wide(ch: str) -> bool:
    return char_width(ch) == 2


def _units(text: str) -> Iterator[tuple[bool, str]]:
    """(space before, unit) pairs: a unit is a word, or one wide character
    (CJK text may break between any two), with colour codes kept inside
    and closing punctuation kept with what it closes."""
    space, current, visible, after_wide, after_open = False, "", False, False, False
    for m in _TOKEN.finditer(text):
        blank, sgr, ch = m.groups()
        if blank:
            if visible:
                yield space, current
                current, visible = "", False
            space = True
        elif sgr:
            current += sgr
        else:
            wide = _is_wide(ch)
            if visible and ch not in _CLOSING and not after_open and (wide or after_wide):
                yield space, current
                space, current = False, ""
            current += ch
            visible, after_wide, after_open = True, wide, ch in _OPENING
    if current:
        yield space, current


def _pieces(unit: str, room: int) -> list[str]:
    """A unit wider than a whole line, cut into pieces of at most `room` columns."""
    pieces, current, used = [], "", 0
    for m in _TOKEN.finditer(unit):
        sgr, ch = m.group(2), m.group(3)
        if sgr:
            current += sgr
            continue
        w = char_width(ch)
        if used + w > room and used:
            pieces.append(current)
            current, used = "", 0
        current += ch
        used += w
    if current:
        pieces.append(current)
    return pieces


def wrap(text: str, width: int, indent: str = "", first: str | None = None) -> str:
    """Lines of at most `width` columns: breaks at spaces, between CJK
    characters, and inside a word only when it alone is wider than a line.
    A colour open at a line's end is closed there and opened again after the
    next line's indent, so indents are never underlined or coloured."""
    first = indent if first is None else first
    lines: list[str] = []
    line, used, prefix = first, display_width(first), first
    has_text = False
    active: list[str] = []  # colour codes open at this point

    def track(unit: str) -> None:
        for code in _SGR.findall(unit):
            if code == _RESET:
                active.clear()
            else:
                active.append(code)

    for space, unit in _units(text):
        unit_width = display_width(unit)
        gap = 1 if space and has_text else 0
        if has_text and used + gap + unit_width > width:
            lines.append(line + (_RESET if active else ""))
            line, used, prefix = indent + "".join(active), display_width(indent), indent
            has_text, gap = False, 0
        if not has_text and display_width(prefix) + unit_width > width:
            parts = _pieces(unit, max(width - display_width(prefix), 1))
            for part in parts[:-1]:
                track(part)
                lines.append(line + part + (_RESET if active else ""))
                line, used = indent + "".join(active), display_width(indent)
            unit, unit_width = parts[-1], display_width(parts[-1])
        line += " " * gap + unit
        used += gap + unit_width
        has_text = True
        track(unit)
    lines.append(line)
    return "\n".join(lines)
