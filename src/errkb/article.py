"""Reading one article file: front matter, sections and fixes, with line numbers.

Parsing is lenient where it can be (it returns what it found, and `findings`
says what is wrong) and strict only where nothing sensible can be read: a file
that is not UTF-8, or front matter that is missing, unclosed or not YAML raises
`ArticleError` with the file and line. The checker (`validate.py`) turns the
rest of the rules into findings; the indexer indexes what parses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from .errors import ArticleError
from .model import Fix
from .tags import ALL_PLATFORMS_LABEL, PLATFORMS, platform_for_label

#: The level-2 headings every article has, in this order.
SECTIONS: tuple[str, ...] = ("What you see", "Why it happens", "Fixes", "Prevention", "Related")

FENCE = "---"
#: An article id: a lowercase slug, also its file name.
ID_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_HEADING_START = re.compile(r"##\s")
_FIX_START = re.compile(r"^(\d+)[.)]\s+(.*)$")
_FIX_LABEL = re.compile(r"^\*\*([^*]+?):\*\*\s*")
_RELATED_ID = re.compile(r"^[-*+]\s+`([^`]+)`")
_LABEL_SPLIT = re.compile(r"/|,|\+|&|\band\b")


@dataclass(frozen=True)
class Section:
    """One `##` section of the body."""

    title: str
    text: str
    line: int


@dataclass
class Article:
    """A parsed article. `meta` is the front matter as written; the typed
    attributes are the same data coerced to what search needs (empty when the
    front matter has the wrong type, which the checker reports)."""

    path: Path
    meta: dict[str, Any]
    body: str
    sections: list[Section]
    fixes: list[Fix]
    key_lines: dict[str, int]
    body_line: int
    warnings: list[tuple[int, str, str]] = field(default_factory=list)

    @property
    def id(self) -> str:
        value = self.meta.get("id")
        return value if isinstance(value, str) else ""

    @property
    def title(self) -> str:
        value = self.meta.get("title")
        return value if isinstance(value, str) else ""

    @property
    def platforms(self) -> list[str]:
        return _str_list(self.meta.get("platforms"))

    @property
    def causes(self) -> list[str]:
        return _str_list(self.meta.get("causes"))

    @property
    def codes(self) -> list[str]:
        return _str_list(self.meta.get("codes"))

    @property
    def related(self) -> list[str]:
        return _str_list(self.meta.get("related"))

    @property
    def sources(self) -> list[str]:
        return _str_list(self.meta.get("sources"))

    @property
    def messages(self) -> dict[str, list[str]]:
        """Messages by language; a plain list is read as language-unknown ("any")."""
        raw = self.meta.get("messages")
        if isinstance(raw, dict):
            return {str(lang): _str_list(items) for lang, items in raw.items()}
        if isinstance(raw, list):
            return {"any": _str_list(raw)}
        return {}

    @property
    def all_messages(self) -> list[str]:
        return [m for items in self.messages.values() for m in items]

    @property
    def updated(self) -> date | None:
        value = self.meta.get("updated")
        return value if isinstance(value, date) else None

    def section(self, title: str) -> Section | None:
        for section in self.sections:
            if section.title.lower() == title.lower():
                return section
        return None

    def line_of(self, key: str) -> int:
        """The line a front-matter key is on (the opening fence when absent)."""
        return self.key_lines.get(key, 1)

    def as_json(self) -> dict[str, Any]:
        """What `kb show --json` prints (and the web's /api/articles/<id>):
        the front matter, with dates as ISO strings, plus sections and fixes."""
        meta = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in self.meta.items()}
        return {
            **meta,
            "path": str(self.path),
            "sections": [{"title": s.title, "text": s.text} for s in self.sections],
            "fixes": [fix.as_json() for fix in self.fixes],
        }

    def drop_related(self, known_ids: set[str]) -> Article:
        """Forget related ids that name no article (W110): from `related` and
        from the Related section's bullets, so no output links to nothing."""
        if isinstance(self.meta.get("related"), list):
            self.meta["related"] = [r for r in self.meta["related"] if not isinstance(r, str) or r in known_ids]
        section = self.section("Related")
        if section is None:
            return self
        lines = self.body.split("\n")
        start = section.line - self.body_line + 1
        kept = lines[:start]
        for line in lines[start:]:
            if heading_title(line) is not None:
                start = -1
            match = _RELATED_ID.match(line.strip()) if start >= 0 else None
            if match is None or match.group(1) in known_ids:
                kept.append(line)
        if len(kept) != len(lines):
            self.body = "\n".join(kept)
            self.sections = split_sections(self.body, self.body_line)
        return self


def _str_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [str(v) for v in value if isinstance(v, (str, int, float)) and str(v).strip()]
    return []


def decode(path: Path, raw: bytes) -> tuple[str, list[tuple[int, str, str]]]:
    """Bytes to text with LF line ends; a BOM is dropped, CRLF is noted."""
    notes: list[tuple[int, str, str]] = []
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ArticleError(path, line, "E001", f"not UTF-8 (byte {exc.start})") from None
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\r\n" in text:
        line = text[: text.index("\r\n")].count("\n") + 1
        notes.append((line, "W105", "CRLF line endings"))
        text = text.replace("\r\n", "\n")
    return text, notes


def split_front_matter(path: Path, text: str) -> tuple[str, str, int]:
    """Return (front matter, body, line of the body's first line)."""
    lines = text.split("\n")
    if not lines or lines[0].rstrip() != FENCE:
        raise ArticleError(path, 1, "E002", "no front matter: the file must start with a '---' line")
    for number, line in enumerate(lines[1:], start=2):
        if line.rstrip() == FENCE:
            return "\n".join(lines[1 : number - 1]), "\n".join(lines[number:]), number + 1
    raise ArticleError(path, 1, "E003", "front matter is not closed: no second '---' line")


#: Bounds checked on the front matter's text before YAML sees it: real front
#: matter is ~1.5 KB, three levels deep, indented by at most six columns.
#: (libyaml's parser slows down quadratically with flow nesting, and the C
#: composer recurses once per level: 100,000 `[` take ~20 s, then crash it.)
MAX_FRONT_MATTER_CHARS = 64 * 1024
MAX_FLOW_DEPTH = 16
MAX_LINE_INDENT = 64
_FLOW_BRACKET = re.compile(r"[\[\]{}]")
_DEEP_INDENT = re.compile(rf"^[ \t?:-]{{{MAX_LINE_INDENT + 1}}}", re.M)


def check_front_matter_bounds(path: Path, source: str) -> None:
    """Refuse (E020) front matter too big or too deeply nested to be an
    article's, in time linear in its length and before any YAML parsing.

    The flow depth is counted over every bracket, quoted or not: a bound, not
    a parse (a title needs 16 unbalanced brackets to trip it)."""
    if len(source) > MAX_FRONT_MATTER_CHARS:
        raise ArticleError(path, 2, "E020", f"front matter is {len(source)} characters; "
                           f"the limit is {MAX_FRONT_MATTER_CHARS}")
    depth = 0
    opening = source.count("[") + source.count("{")
    for match in _FLOW_BRACKET.finditer(source) if opening > MAX_FLOW_DEPTH else ():
        if match.group() in "[{":
            depth += 1
            if depth > MAX_FLOW_DEPTH:
                line = source.count("\n", 0, match.start()) + 2
                raise ArticleError(path, line, "E020", f"front matter nests brackets more than "
                                   f"{MAX_FLOW_DEPTH} deep")
        elif depth:
            depth -= 1
    deep = _DEEP_INDENT.search(source)
    if deep is not None:
        line = source.count("\n", 0, deep.start()) + 2
        raise ArticleError(path, line, "E020", f"front matter line is indented or nested more "
                           f"than {MAX_LINE_INDENT} columns deep")


def _refuse_tags_and_anchors(path: Path, loader: Any) -> None:
    """Walk the YAML events (no composing, no recursion): a tag is E004, an
    anchor or alias E021 (an alias bomb expands a few lines into gigabytes)."""
    import yaml

    while loader.check_event():
        event = loader.get_event()
        line = event.start_mark.line + 2 if event.start_mark is not None else 2
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise ArticleError(path, line, "E021", "YAML anchors and aliases (&name, *name) are not allowed")
        tag = getattr(event, "tag", None)
        if tag is not None and not (isinstance(event, yaml.ScalarEvent) and tag == "!"):
            raise ArticleError(path, line, "E004", f"front matter is not valid YAML: tag {tag} is not allowed")


def _new_loader(source: str) -> Any:
    import yaml

    try:  # the C loader is ~10x faster; both are "safe" (no object construction)
        return yaml.CSafeLoader(source)
    except AttributeError:  # pragma: no cover - depends on how PyYAML was built
        return yaml.SafeLoader(source)


def _first_bad_scalar(loader: Any, node: Any) -> Any:
    """The first scalar under `node` that Python cannot construct (a date
    such as 2026-02-30, a 5,000-digit number), found without recursion."""
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current.value, list):
            children = [n for pair in current.value for n in (pair if isinstance(pair, tuple) else (pair,))]
            stack.extend(reversed(children))
            continue
        try:
            loader.construct_object(current)
        except Exception:  # noqa: BLE001 - any constructor failure is the answer
            return current
    return node


_STR_TAG, _SEQ_TAG, _MAP_TAG = "tag:yaml.org,2002:str", "tag:yaml.org,2002:seq", "tag:yaml.org,2002:map"


@cache
def _node_kinds() -> tuple[Any, Any, Any]:
    """PyYAML's node classes, imported on first use (a search never parses
    YAML), then without an import statement per node."""
    from yaml.nodes import MappingNode, ScalarNode, SequenceNode

    return ScalarNode, SequenceNode, MappingNode


def _construct(loader: Any, root: Any) -> Any:
    """What `loader.construct_object(root, deep=True)` makes of a node, with
    the text, lists and mappings of text keys that front matter is made of
    built here: PyYAML constructs each node through several Python calls
    (most of parsing an article). Every other node (a number, a date, a
    merge key, a mapping keyed by a list) is the loader's to construct, in
    the same document order, so its value or its error is the loader's own.
    Iterative: a node's children are taken off a stack, first child first."""
    ScalarNode, SequenceNode, MappingNode = _node_kinds()  # noqa: N806 - the classes, by their names
    kind = type(root)
    if kind is ScalarNode and root.tag == _STR_TAG:  # most values: a text, or a list of texts
        return root.value
    if kind is SequenceNode and root.tag == _SEQ_TAG:
        texts = [item.value for item in root.value if type(item) is ScalarNode and item.tag == _STR_TAG]
        if len(texts) == len(root.value):
            return texts
    top: list[Any] = []
    # (node, the list or dict it goes in, its key in that dict or None for a list)
    stack: list[tuple[Any, Any, Any]] = [(root, top, None)]
    while stack:
        node, into, key = stack.pop()
        kind, tag = type(node), node.tag
        value: Any
        if kind is ScalarNode and tag == _STR_TAG:
            value = node.value
        elif kind is SequenceNode and tag == _SEQ_TAG:
            value = []
            stack.extend((child, value, None) for child in reversed(node.value))
        elif kind is MappingNode and tag == _MAP_TAG and all(
                type(k) is ScalarNode and k.tag == _STR_TAG for k, _ in node.value):
            value = {}
            stack.extend((v, value, k.value) for k, v in reversed(node.value))
        else:
            value = loader.construct_object(node, deep=True)
        if key is None:
            into.append(value)
        else:
            into[key] = value
    return top[0]


#: The front matter every article is written in (see the template), read
#: here without PyYAML: top-level `key: value` lines, where a value is a
#: double-quoted text without escapes, a plain word, or a flow list of those
#: (`[a, "b c"]`), and a key may instead open a list (`  - item` lines) or a
#: mapping of such keys (`  en:`, then `    - item` lines or a value).
#: Anything else (comments, escapes, tabs, other indents, flow mappings,
#: blank keys...) is PyYAML's to read, errors included.
_SIMPLE_QUOTED = r'"[^"\\]*"'
_SIMPLE_PLAIN = r"[A-Za-z0-9_][A-Za-z0-9_./-]*"
_SIMPLE_ITEM = rf"{_SIMPLE_QUOTED}|{_SIMPLE_PLAIN}"
_SIMPLE_VALUE = rf"{_SIMPLE_ITEM}|\[(?:(?:{_SIMPLE_ITEM})(?:, (?:{_SIMPLE_ITEM}))*)?\]"
#: Characters YAML reads as something other than themselves or refuses
#: (tabs, controls, NEL, the Unicode line separators, a BOM): PyYAML's case.
_SIMPLE_UNSAFE = r"[^\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]"


@cache
def _simple() -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    """The simple form's patterns (a key's line, a scalar, what is unsafe, a
    date), compiled on first use (~10 ms): searching imports this module but
    never reads front matter."""
    return (re.compile(rf"([A-Za-z_][A-Za-z0-9_]{{0,127}}):(?: ({_SIMPLE_VALUE}))?"),
            re.compile(rf'"([^"\\]*)"|({_SIMPLE_PLAIN})'),
            re.compile(_SIMPLE_UNSAFE),
            re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}"))


_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"


class _NotSimple(Exception):
    """The front matter is not in the simple form: PyYAML reads it."""


@lru_cache(maxsize=4096)
def _plain_tag(text: str) -> str:
    """The tag PyYAML's resolver gives a plain scalar (`no` is a bool, `12`
    an int); kept, as keys and tags recur in every article."""
    import yaml

    resolver: Any = yaml.resolver.Resolver()  # the one CSafeLoader and SafeLoader use
    return str(resolver.resolve(yaml.ScalarNode, text, (True, False)))


def _simple_scalar(quoted: str | None, plain: str | None) -> Any:
    """A quoted text as itself, a plain one as PyYAML constructs it when it
    is text or a date; anything else is `_NotSimple`."""
    if quoted is not None:
        return quoted
    assert plain is not None
    tag = _plain_tag(plain)
    if tag == _STR_TAG:
        return plain
    if tag == _TIMESTAMP_TAG and _simple()[3].fullmatch(plain):
        try:
            return date(int(plain[:4]), int(plain[5:7]), int(plain[8:]))
        except ValueError:  # 2026-02-30: PyYAML's error message
            pass
    raise _NotSimple


def _simple_value(text: str) -> Any:
    """A value written on its key's line (already matched by `_SIMPLE_VALUE`)."""
    items = _simple()[1]
    if text.startswith("["):
        return [_simple_scalar(quoted, plain or None) for quoted, plain in
                ((m.group(1), m.group(2)) for m in items.finditer(text, 1, len(text) - 1))]
    match = items.fullmatch(text)
    assert match is not None
    return _simple_scalar(match.group(1), match.group(2))


def _simple_key(match: re.Match[str]) -> str:
    key = match.group(1)
    if _plain_tag(key) != _STR_TAG:  # `on:`, `null:`: keys PyYAML makes a bool or None
        raise _NotSimple
    return key


def _simple_items(lines: list[str], start: int, indent: str) -> tuple[list[Any], int]:
    """The `- item` lines at `indent` from `start`: (items, the next line)."""
    items: list[Any] = []
    prefix, pattern = indent + "- ", _simple()[1]
    at = start
    while at < len(lines) and lines[at].startswith(prefix):
        match = pattern.fullmatch(lines[at], len(prefix))
        if match is None:
            raise _NotSimple
        items.append(_simple_scalar(match.group(1), match.group(2)))
        at += 1
    if not items:
        raise _NotSimple  # `key:` with nothing under it is null: PyYAML's
    return items, at


def _simple_mapping(lines: list[str], start: int) -> tuple[dict[str, Any], int]:
    """The `  key:` lines from `start`, each with its value or its items."""
    mapping: dict[str, Any] = {}
    key_line = _simple()[0]
    at = start
    while at < len(lines) and lines[at].startswith("  ") and not lines[at].startswith("   "):
        match = key_line.fullmatch(lines[at], 2)
        if match is None:
            raise _NotSimple
        key = _simple_key(match)
        if match.group(2) is not None:
            mapping[key] = _simple_value(match.group(2))
            at += 1
        else:
            mapping[key], at = _simple_items(lines, at + 1, "    ")
    return mapping, at


def simple_front_matter(source: str) -> tuple[dict[str, Any], dict[str, int]] | None:
    """What `load_front_matter` returns for front matter in the simple form
    (`_simple()`), or None for any other: PyYAML builds each node
    through several Python calls, most of the time of reading an article."""
    key_line, _, unsafe, _ = _simple()
    if not source or unsafe.search(source):
        return None
    lines = source.split("\n")
    meta: dict[str, Any] = {}
    key_lines: dict[str, int] = {}
    at = 0
    try:
        while at < len(lines):
            match = key_line.fullmatch(lines[at])
            if match is None:
                return None
            key = _simple_key(match)
            key_lines[key] = at + 2  # the file's line: the front matter starts on line 2
            if match.group(2) is not None:
                meta[key] = _simple_value(match.group(2))
                at += 1
            elif lines[at + 1:at + 2] and lines[at + 1].startswith("  - "):
                meta[key], at = _simple_items(lines, at + 1, "  ")
            else:
                meta[key], at = _simple_mapping(lines, at + 1)
                if not meta[key]:
                    return None  # null, or a deeper indent
    except _NotSimple:
        return None
    return meta, key_lines


def load_front_matter(path: Path, source: str) -> tuple[dict[str, Any], dict[str, int]]:
    """Parse YAML safely and note the line of each top-level key.

    Lines are file lines: the front matter starts on line 2. Bounded first
    (`check_front_matter_bounds`); tags, anchors and aliases are refused; a
    value Python cannot construct is E004 at its own line. PyYAML is imported
    here, not at the top: searching uses this module but never parses YAML,
    and the import costs ~20 ms per process.
    """
    import yaml

    check_front_matter_bounds(path, source)
    simple = simple_front_matter(source)
    if simple is not None:
        return simple
    if "!" in source or "&" in source or "*" in source:  # only then can there be a tag, anchor or alias
        loader = _new_loader(source)
        try:
            _refuse_tags_and_anchors(path, loader)
        except yaml.YAMLError:
            pass  # reported with its line by the full parse below
        finally:
            loader.dispose()
    loader = _new_loader(source)
    try:
        node = loader.get_single_node()
        if isinstance(node, yaml.MappingNode):
            data: Any = {}
            for key_node, value_node in node.value:
                target = key_node
                try:
                    key = _construct(loader, key_node)
                    hash(key)
                    target = value_node
                    data[key] = _construct(loader, value_node)
                except yaml.MarkedYAMLError:
                    raise
                except Exception as exc:  # noqa: BLE001 - ValueError, OverflowError, ... from a scalar
                    bad = _first_bad_scalar(loader, target)
                    raise ArticleError(path, bad.start_mark.line + 2, "E004",
                                       f"front matter is not valid YAML: cannot read "
                                       f"{str(bad.value)[:40]!r}: {str(exc)[:80]}") from None
        else:
            data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = (mark.line + 2) if mark is not None else 2
        problem = exc.problem or exc.context or "invalid YAML"
        raise ArticleError(path, line, "E004", f"front matter is not valid YAML: {problem}") from None
    except (yaml.YAMLError, RecursionError, ValueError, TypeError) as exc:
        raise ArticleError(path, 2, "E004", f"front matter is not valid YAML: {str(exc)[:80]}") from None
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        kind = "empty" if data is None else type(data).__name__
        raise ArticleError(path, 2, "E005", f"front matter must be a mapping of fields, not {kind}")
    key_lines: dict[str, int] = {}
    if isinstance(node, yaml.MappingNode):
        for key_node, _ in node.value:
            key_lines[str(key_node.value)] = key_node.start_mark.line + 2
    return {str(k): v for k, v in data.items()}, key_lines


def heading_title(line: str) -> str | None:
    """The title of a `## Title ##` line, or None: what the pattern
    `^##\\s+(.+?)\\s*#*\\s*$` finds, in linear time (that pattern
    backtracks quadratically over a long run of spaces or `#`)."""
    if not _HEADING_START.match(line):
        return None
    rest = line[2:].lstrip()
    if not rest:  # "##" and spaces only: the lazy group took one space
        return "" if len(line) > 3 else None
    title = rest.rstrip().rstrip("#").rstrip()
    return (title or rest[0]).strip()


def split_sections(body: str, first_line: int) -> list[Section]:
    """Split the body at `##` headings (ignoring fenced code)."""
    sections: list[Section] = []
    title: str | None = None
    start = first_line
    buf: list[str] = []
    in_code = False
    for offset, line in enumerate(body.split("\n")):
        if "```" in line and line.lstrip().startswith("```"):
            in_code = not in_code
        # Only a line starting "##" can be a heading: most lines skip the call.
        heading = heading_title(line) if not in_code and line.startswith("##") else None
        if heading is not None:
            if title is not None:
                sections.append(Section(title, "\n".join(buf).strip(), start))
            title, start, buf = heading, first_line + offset, []
        elif title is not None:
            buf.append(line)
    if title is not None:
        sections.append(Section(title, "\n".join(buf).strip(), start))
    return sections


def parse_fixes(section: Section | None, article_platforms: list[str]) -> list[Fix]:
    """The numbered items of the Fixes section, with their platform labels."""
    if section is None:
        return []
    items: list[tuple[int, list[str]]] = []
    for offset, line in enumerate(section.text.split("\n"), start=1):
        match = _FIX_START.match(line)
        if match:
            items.append((section.line + 1 + offset, [match.group(2).strip()]))
        elif items and line.strip():
            items[-1][1].append(line.strip())
    return [_make_fix(" ".join(parts), line, article_platforms) for line, parts in items]


def _make_fix(text: str, line: int, article_platforms: list[str]) -> Fix:
    match = _FIX_LABEL.match(text)
    if not match:
        return Fix(text, tuple(article_platforms), "", line)
    label = match.group(1).strip()
    rest = text[match.end() :].strip()
    if label.lower() == ALL_PLATFORMS_LABEL.lower():
        return Fix(rest, tuple(article_platforms), label, line)
    slugs = _label_platforms(label)
    if slugs is not None:
        return Fix(rest, slugs, label, line)
    # Not a platform label (e.g. "**Tip:**"): keep the text whole.
    return Fix(text, tuple(article_platforms), "", line)


@lru_cache(maxsize=1024)
def _label_platforms(label: str) -> tuple[str, ...] | None:
    """The platforms a fix label names, or None when it is not a platform
    label; kept, as the same few labels recur in every article."""
    slugs = [platform_for_label(part.strip()) for part in _LABEL_SPLIT.split(label)]
    if slugs and all(slugs):
        return tuple(dict.fromkeys(s for s in slugs if s))
    return None


def related_ids(section: Section | None) -> list[tuple[str, int]]:
    """Ids named by the Related section's bullets, with their lines."""
    if section is None:
        return []
    found = []
    for offset, line in enumerate(section.text.split("\n"), start=1):
        match = _RELATED_ID.match(line.strip())
        if match:
            found.append((match.group(1), section.line + 1 + offset))
    return found


def parse_text(path: Path, raw: bytes) -> Article:
    """Parse an article from its bytes; raises ArticleError when unreadable."""
    text, notes = decode(path, raw)
    source, body, body_line = split_front_matter(path, text)
    meta, key_lines = load_front_matter(path, source)
    sections = split_sections(body, body_line)
    platforms = [p for p in _str_list(meta.get("platforms")) if p in PLATFORMS]
    article = Article(
        path=path,
        meta=meta,
        body=body,
        sections=sections,
        fixes=[],
        key_lines=key_lines,
        body_line=body_line,
        warnings=notes,
    )
    article.fixes = parse_fixes(article.section("Fixes"), platforms)
    return article


def parse_file(path: Path) -> Article:
    """Read and parse one article file."""
    from .kbfiles import read_article_bytes

    return parse_text(path, read_article_bytes(path))


def section_plain_text(markdown_text: str) -> str:
    """Markdown to plain text for indexing and snippets: drops emphasis, code
    ticks, link targets and list markers, keeps the words.

    Linear in the text's length: fenced code is cut out with one `split`, and
    no pattern can rescan what it passed (link text stops at the next
    bracket, a link target at the next parenthesis, a list marker's indent at
    the line's end). The old patterns took 195 s on 200 KB of `[`."""
    parts = markdown_text.split("```")
    if len(parts) % 2 == 0:  # an unclosed fence stays as text
        parts[-2:] = ["```".join(parts[-2:])]
    text = " ".join(parts[0::2])
    if "](" in text:  # every link has it; most sections have no link
        text = _LINK.sub(r"\1", text)
    text = _EMPHASIS.sub("", text)
    # Line starts are found as "\n" (a literal the regex engine skips to)
    # rather than as `^` in multi-line mode (tried at every character): the
    # text gets a leading "\n" for its first line, taken off at the end. No
    # marker spans a line break, so the two find the same markers.
    text = _LIST_MARKER.sub("\n", "\n" + text)
    return _HEADING_MARKER.sub("\n", text)[1:]


_LINK = re.compile(r"!?\[([^\[\]]*)\]\([^()]*\)")
_EMPHASIS = re.compile(r"\*\*|__|`")
#: A list marker or heading marker at a line's start, the "\n" before it included.
_LIST_MARKER = re.compile(r"\n[ \t]*(?:[-*+]|\d+[.)])[ \t]+")
_HEADING_MARKER = re.compile(r"\n#+[ \t]*")
