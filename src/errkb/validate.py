"""The rules an article must follow, as findings with stable codes.

Every rule has one code (table in the README, `RULES` below). Codes starting
with E are errors (`kb check` exits 1, the article is not indexed); W codes are
warnings. `check_kb` finds every problem in one pass and never raises for a bad
article: a knowledge base with broken files is exactly what it must describe.
"""

from __future__ import annotations

import hashlib
import html
import re
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

from . import kbfiles
from .analysis import is_han
from .article import ID_PATTERN, SECTIONS, Article, parse_text, related_ids
from .errors import ArticleError
from .kbfiles import DEFAULT_MAX_AGE_DAYS, Skipped, scan
from .tags import CAUSES, PLATFORMS

RULES: dict[str, str] = {
    "E001": "file is not UTF-8",
    "E002": "front matter missing (file must start with ---)",
    "E003": "front matter not closed (no second ---)",
    "E004": "front matter is not valid YAML (or uses a YAML tag)",
    "E005": "front matter is not a mapping",
    "E006": "required field missing or empty",
    "E007": "field has the wrong type",
    "E008": "unknown platform",
    "E009": "unknown cause tag",
    "E010": "id is not a slug or differs from the file name",
    "E011": "duplicate id",
    "E012": "error code used by two articles",
    "E013": "required section missing",
    "E014": "section out of order or unexpected",
    "E015": "Fixes has no numbered items",
    "E017": "messages need at least one English (en) and one Chinese (zh)",
    "E018": "file cannot be read",
    "E019": "file too large",
    "E020": "front matter too large or nested too deeply",
    "E021": "YAML anchor or alias",
    "E022": "source is neither one of the five guides nor an https URL",
    "E023": "article with error codes cites no URL source",
    "E024": "template placeholder left in the article",
    "E025": "raw HTML in the article body",
    "E026": "control character in the article",
    "W101": "same message in two articles",
    "W102": "same title in two articles",
    "W103": "tab character",
    "W104": "trailing whitespace",
    "W105": "CRLF line endings",
    "W106": "updated date older than the allowed age",
    "W107": "non-article file or folder in kb/ ignored",
    "W108": "symlink in kb/ not followed",
    "W109": "unknown front matter field",
    "W110": "related id does not exist (the link is dropped)",
    "W111": "not a regular file (FIFO, device, socket) in kb/: never read",
    "W112": "file name in kb/ is not UTF-8: skipped",
}

REQUIRED = ("id", "title", "platforms", "causes", "messages", "sources")
OPTIONAL = ("codes", "related", "updated")
LIST_FIELDS = ("platforms", "causes", "sources", "codes", "related")

#: The five source guides an article may name in `sources` (besides https URLs).
GUIDES: frozenset[str] = frozenset({
    "000_ad49c72d41dfeb65.txt",
    "001_0ab347f6b4229bd4.txt",
    "002_6dda9aa2fbb415e4.txt",
    "003_e6486ed336fc3166.txt",
    "004_8aa85f8f8634bb71.txt",
})
_TODO = re.compile(r"\bTODO\b")
#: A tag as browsers read one (`<name`, then a space, `/` or `>`), an HTML
#: comment, or a script URL. Linear: `[^<>]*` stops at the next bracket.
_HTML = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:[\s/][^<>]*)?>|<!--"
                   r"|\b(?:java|vb|live)script\s*:|\bdata\s*:\s*text/html", re.I)
_CODE_SPAN = re.compile(r"`[^`]*`")
#: A tag left open at the end of a line (browsers read it on across the break).
_TAG_OPEN_AT_END = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:[\s/][^<>]*)?$")
#: C0 controls but tab and newline, DEL, and C1 (ESC starts the terminal's
#: escape sequences, CSI U+009B its 8-bit form).
#: Lines reported per file for E026 (the rest are counted in one more finding).
MAX_FINDINGS_PER_RULE = 10
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


@dataclass(frozen=True, order=True)
class Finding:
    """One problem: where it is, its rule code and what is wrong."""

    path: str
    line: int
    code: str
    message: str

    @property
    def is_error(self) -> bool:
        return self.code.startswith("E")

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.code} {self.message}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "line": self.line,
            "code": self.code,
            "severity": "error" if self.is_error else "warning",
            "message": self.message,
        }


def _finding(path: Path, line: int, code: str, message: str) -> Finding:
    return Finding(str(path), line, code, message)


def check_fields(article: Article) -> list[Finding]:
    """Rules on one article's front matter alone."""
    found: list[Finding] = []
    meta, path = article.meta, article.path

    def add(key: str, code: str, msg: str) -> None:
        found.append(_finding(path, article.line_of(key), code, msg))

    for key in REQUIRED:
        value = meta.get(key)
        if value is None or value == "" or value == [] or value == {}:
            add(key, "E006", f"required field '{key}' is missing or empty")
    for key in meta:
        if key not in REQUIRED and key not in OPTIONAL:
            add(key, "W109", f"unknown field '{key}' (known: {', '.join(REQUIRED + OPTIONAL)})")

    for key in ("id", "title"):
        if key in meta and meta[key] is not None and not isinstance(meta[key], str):
            add(key, "E007", f"'{key}' must be text, not {type(meta[key]).__name__}")
    for key in LIST_FIELDS:
        value = meta.get(key)
        if value is None:
            continue
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            add(key, "E007", f"'{key}' must be a list of text items")
    if meta.get("updated") is not None and not isinstance(meta.get("updated"), date):
        add("updated", "E007", "'updated' must be a date (YYYY-MM-DD)")

    if isinstance(meta.get("id"), str) and meta["id"]:
        if not ID_PATTERN.match(meta["id"]):
            add("id", "E010", f"id {meta['id']!r} must be lowercase letters, digits and hyphens")
        elif meta["id"] != path.stem:
            add("id", "E010", f"id {meta['id']!r} differs from the file name {path.name!r}")
    for platform in article.platforms:
        if platform not in PLATFORMS:
            add("platforms", "E008", f"unknown platform {platform!r} (known: {', '.join(PLATFORMS)})")
    for cause in article.causes:
        if cause not in CAUSES:
            add("causes", "E009", f"unknown cause {cause!r} (see `kb browse` or the README for the list)")
    found.extend(_check_messages(article))
    return found


def _check_messages(article: Article) -> list[Finding]:
    raw = article.meta.get("messages")
    line = article.line_of("messages")
    if raw is None or raw == {} or raw == []:
        return []  # reported as E006
    if not isinstance(raw, dict) or not all(
        isinstance(items, list) and items and all(isinstance(m, str) and m.strip() for m in items)
        for items in raw.values()
    ):
        return [_finding(article.path, line, "E007", "'messages' must map en/zh to lists of text")]
    problems = []
    if not raw.get("en"):
        problems.append(_finding(article.path, line, "E017", "no English message under 'en'"))
    zh = raw.get("zh") or []
    if not zh:
        problems.append(_finding(article.path, line, "E017", "no Chinese message under 'zh'"))
    elif not any(any(map(is_han, m)) for m in zh):
        problems.append(_finding(article.path, line, "E017", "'zh' messages contain no Chinese text"))
    return problems


def check_body(article: Article) -> list[Finding]:
    """Rules on the sections and fixes."""
    found: list[Finding] = []
    path = article.path
    titles = [s.title for s in article.sections]
    position = 0
    for section in article.sections:
        if section.title not in SECTIONS:
            found.append(_finding(path, section.line, "E014", f"unexpected section '## {section.title}' (allowed: {', '.join(SECTIONS)})"))
            continue
        index = SECTIONS.index(section.title)
        if index < position:
            found.append(_finding(path, section.line, "E014", f"section '## {section.title}' is out of order (order: {' / '.join(SECTIONS)})"))
        position = max(position, index)
    for name in SECTIONS:
        if name not in titles:
            found.append(_finding(path, article.body_line, "E013", f"section '## {name}' is missing"))
    fixes = article.section("Fixes")
    if fixes is not None and not article.fixes:
        found.append(_finding(path, fixes.line, "E015", "'## Fixes' has no numbered fixes (1. ...)"))
    return found


def check_text(article: Article, raw_text: str) -> list[Finding]:
    """Whitespace warnings, one per line and kind."""
    found = [_finding(article.path, line, code, msg) for line, code, msg in article.warnings]
    if "\t" not in raw_text and "\r" not in raw_text and " \n" not in raw_text and not raw_text.endswith(" "):
        return found  # no tab, and no line ends in a space, tab or CR: the usual article, no line to walk
    for number, line in enumerate(raw_text.split("\n"), start=1):
        if "\t" in line:
            found.append(_finding(article.path, number, "W103", "tab character"))
        if line != line.rstrip(" \t\r"):
            found.append(_finding(article.path, number, "W104", "trailing whitespace"))
    return found


def _is_https_url(source: str) -> bool:
    from urllib.parse import urlsplit

    if any(c.isspace() for c in source) or _CONTROL.search(source):
        return False
    try:
        parts = urlsplit(source)
    except ValueError:
        return False
    return parts.scheme == "https" and bool(parts.hostname)


def check_sources(article: Article) -> list[Finding]:
    """Each source is one of the five guides or an https URL; an article
    with error codes cites at least one URL (where the codes are published)."""
    line = article.line_of("sources")
    sources = article.meta.get("sources")
    if not isinstance(sources, list):
        return []  # E006 / E007
    found = []
    urls = 0
    for source in (s for s in sources if isinstance(s, str)):
        if source in GUIDES:
            continue
        if _is_https_url(source):
            urls += 1
        elif "://" in source or source.lower().startswith(("http:", "https:", "www.")):
            found.append(_finding(article.path, line, "E022", f"source URL {source[:80]!r} must be https:// with a host"))
        else:
            found.append(_finding(article.path, line, "E022", f"source {source[:80]!r} is neither one of the five "
                                  f"guides ({', '.join(sorted(GUIDES))}) nor an https URL"))
    if article.codes and not urls:
        found.append(_finding(article.path, article.line_of("codes"), "E023",
                              "an article with error codes must cite at least one https URL in 'sources' "
                              "(the page that publishes the codes)"))
    return found


@cache
def _placeholders() -> tuple[str, ...]:
    """The template's sentences, casefolded once rather than for every article."""
    from .template import PLACEHOLDERS

    return tuple(p.casefold() for p in PLACEHOLDERS)


def check_placeholders(article: Article, text: str) -> list[Finding]:
    """`TODO` or a sentence of the template left in the article (E024)."""
    wanted = _placeholders()
    found: list[Finding] = []
    whole = text.casefold()
    if "todo" not in whole and not any(p in whole for p in wanted):  # the usual case: one pass, no lines
        return found
    for number, line in enumerate(text.split("\n"), start=1):
        folded = line.casefold()
        hit = "TODO" if _TODO.search(line) else next((p for p in wanted if p in folded), None)
        if hit is not None:
            found.append(_finding(article.path, number, "E024", f"template placeholder left in: {hit[:60]!r}"))
    return found


def check_html(article: Article) -> list[Finding]:
    """Raw HTML in the body (E025): tags, comments and script URLs, outside
    code. `kb show --html` hands the body to help-desk replies."""
    found: list[Finding] = []
    body = article.body
    low = body.lower()
    if "<" not in body and "&" not in body and "script" not in low and "data" not in low:
        return found  # nothing to look at line by line: the usual case
    in_code = False
    for offset, line in enumerate(body.split("\n")):
        if line.lstrip().startswith("```"):
            in_code = not in_code
            continue
        if in_code:
            continue
        text = _CODE_SPAN.sub("", line)
        match = _HTML.search(text) or _HTML.search(html.unescape(text)) or _TAG_OPEN_AT_END.search(text)
        if match:
            found.append(_finding(article.path, article.body_line + offset, "E025",
                                  f"raw HTML {match.group()[:40]!r}: write it in words, or as `code`"))
    return found


def control_findings(path: Path, text: str) -> list[Finding]:
    """Control characters in the file's text (E026), one finding per line."""
    found: list[Finding] = []
    if not _CONTROL.search(text):
        return found
    more = 0
    for number, line in enumerate(text.split("\n"), start=1):
        match = _CONTROL.search(line)
        if match and len(found) < MAX_FINDINGS_PER_RULE:
            found.append(_finding(path, number, "E026", f"control character U+{ord(match.group()):04X} "
                                  "(terminal escapes, carriage returns): remove it"))
        elif match:
            more += 1
    if more:
        found.append(_finding(path, found[-1].line, "E026", f"control characters on {more} more line(s)"))
    return found


def check_controls(article: Article, text: str) -> list[Finding]:
    """E026 in the text as written, and in front matter values written as
    YAML escapes (`"\\e[31m"`, `"\\x9b"`)."""
    found = control_findings(article.path, text)
    if not found and "\\" not in text:
        # A front matter value holds a control character only as one written
        # in the text (found above) or as a YAML escape (a backslash): the
        # usual article has neither, and its values need no walk.
        return found
    for key, value in article.meta.items():
        stack = [value]
        while stack:
            item = stack.pop()
            if isinstance(item, str):
                match = _CONTROL.search(item)
                if match:
                    found.append(_finding(article.path, article.line_of(key), "E026",
                                          f"'{key}' holds control character U+{ord(match.group()):04X}"))
                    break
            elif isinstance(item, dict):
                stack.extend(item.values())
            elif isinstance(item, list):
                stack.extend(item)
    return found


def check_age(article: Article, today: date, max_age_days: int) -> list[Finding]:
    updated = article.updated
    if updated is None or today - updated <= timedelta(days=max_age_days):
        return []
    return [_finding(article.path, article.line_of("updated"), "W106",
                     f"updated {updated.isoformat()} is more than {max_age_days} days old: review it")]


@dataclass(frozen=True)
class Summary:
    """What the rules between articles need of one article. Built from a parsed
    article, or from the index manifest so an incremental build can re-check
    the whole knowledge base without re-reading unchanged files."""

    path: str
    id: str
    id_line: int
    codes: tuple[str, ...]
    codes_line: int
    related: tuple[tuple[str, int], ...]

    @classmethod
    def of(cls, article: Article) -> Summary:
        related = [(rid, article.line_of("related")) for rid in article.related]
        related += related_ids(article.section("Related"))
        return cls(str(article.path), article.id, article.line_of("id"),
                   tuple(article.codes), article.line_of("codes"), tuple(related))

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "id_line": self.id_line, "codes": list(self.codes),
                "codes_line": self.codes_line, "related": [list(r) for r in self.related]}

    @classmethod
    def from_dict(cls, path: str, data: dict[str, Any]) -> Summary:
        return cls(path, str(data["id"]), int(data["id_line"]), tuple(data["codes"]),
                   int(data["codes_line"]), tuple((str(r), int(n)) for r, n in data["related"]))


def check_links(summaries: list[Summary]) -> list[Finding]:
    """Rules between articles that make one invalid: unique ids and codes.
    The first file (by name) keeps a contested id. (A dangling related id is
    only a warning: `check_link_warnings`.)"""
    found: list[Finding] = []
    first_of: dict[str, Summary] = {}
    for s in summaries:
        if not s.id:
            continue
        if s.id in first_of:
            found.append(Finding(s.path, s.id_line, "E011", f"id {s.id!r} is also used by {first_of[s.id].path}"))
        else:
            first_of[s.id] = s
    owners: dict[str, Summary] = {}
    for s in summaries:
        for code in dict.fromkeys(c.lower() for c in s.codes):
            owner = owners.setdefault(code, s)
            if owner is not s:
                found.append(Finding(s.path, s.codes_line, "E012", f"code {code!r} is also in {owner.path}"))
    return found


def check_link_warnings(summaries: list[Summary]) -> list[Finding]:
    """Related ids that name no article: a warning (W110), not an error, so
    deleting one article never takes the articles linking to it out of
    search; `kb show` drops such links."""
    ids = {s.id for s in summaries if s.id}
    return [Finding(s.path, line, "W110", f"related id {rid!r} does not exist: the link is dropped")
            for s in summaries for rid, line in s.related if rid not in ids]


def check_across(articles: list[Article]) -> list[Finding]:
    """Rules between articles: the linking errors, and repeated text (warnings)."""
    summaries = [Summary.of(a) for a in articles]
    found = check_links(summaries) + check_link_warnings(summaries)
    found.extend(_repeats(articles, lambda a: a.all_messages, "messages", "W101", "message"))
    found.extend(_repeats(articles, lambda a: [a.title] if a.title else [], "title", "W102", "title"))
    return found


def _repeats(articles: list[Article], values: Any, key: str, code: str, noun: str) -> list[Finding]:
    seen: dict[str, Article] = {}
    found = []
    for article in articles:
        for value in dict.fromkeys(v.strip().casefold() for v in values(article)):
            other = seen.get(value)
            if other is not None and other is not article:
                found.append(_finding(article.path, article.line_of(key), code,
                                      f"same {noun} as {other.path}: {value[:60]!r}"))
            else:
                seen[value] = article
    return found


@dataclass
class CheckResult:
    """Everything one pass over `kb/` learned: the articles that parsed, the
    ids that may be indexed, and every finding."""

    articles: list[Article]
    findings: list[Finding]

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.is_error]

    def valid_articles(self) -> list[Article]:
        """Articles with no error of their own; a duplicate id keeps its first holder."""
        bad = {f.path for f in self.errors}
        return [a for a in self.articles if str(a.path) not in bad]


def read_bytes(path: Path) -> tuple[bytes | None, list[Finding]]:
    """An article's bytes: regular files only, refusing (and never reading
    past) files too big to be an article."""
    try:
        return kbfiles.read_article_bytes(path), []
    except ArticleError as exc:
        return None, [_finding(path, exc.line, exc.code, exc.message)]


def examine(path: Path, raw: bytes, today: date, max_age_days: int) -> tuple[Article | None, list[Finding]]:
    """Parse one article and apply every single-article rule."""
    try:
        article = parse_text(path, raw)
    except ArticleError as exc:
        text = raw.decode("utf-8", "replace").lstrip("\ufeff").replace("\r\n", "\n")
        return None, [_finding(path, exc.line, exc.code, exc.message), *control_findings(path, text)]
    text = raw.decode("utf-8", "replace").lstrip("\ufeff").replace("\r\n", "\n")
    return article, check_article(article, text, today, max_age_days)


class Examined(NamedTuple):
    """What checking one file found, for the index manifest."""

    sha1: str  # "" when the file cannot be read
    summary: Summary | None  # None when it does not parse (or was not parsed)
    errors: list[Finding]  # its own errors (not the ones between articles)


def examine_file(path: Path, today: date, max_age_days: int,
                 known_sha1: str = "") -> tuple[Examined, Article | None]:
    """Read, hash, parse and check one article file; only read and hash it
    when its content is still `known_sha1` (touched, not changed)."""
    raw, problems = read_bytes(path)
    if raw is None:
        return Examined("", None, problems), None
    sha1 = hashlib.sha1(raw).hexdigest()
    if sha1 == known_sha1:
        return Examined(sha1, None, []), None
    article, findings = examine(path, raw, today, max_age_days)
    summary = Summary.of(article) if article is not None else None
    return Examined(sha1, summary, [f for f in findings if f.is_error]), article


def check_article(article: Article, text: str, today: date, max_age_days: int) -> list[Finding]:
    """Every rule that looks at one article alone."""
    return (check_fields(article) + check_body(article) + check_text(article, text)
            + check_age(article, today, max_age_days) + check_sources(article)
            + check_placeholders(article, text) + check_html(article) + check_controls(article, text))


def skipped_findings(skipped: list[Skipped]) -> list[Finding]:
    return [_finding(s.path, 1, s.code, s.reason) for s in skipped]


def check_kb(kb_dir: Path, *, today: date | None = None,
             max_age_days: int = DEFAULT_MAX_AGE_DAYS) -> CheckResult:
    """Read and check every article of `kb_dir`; never raises for a bad article."""
    files, skipped = scan(kb_dir)
    today = today or date.today()
    articles: list[Article] = []
    findings = skipped_findings(skipped)
    for state in files:
        path = Path(kb_dir, state.name)
        raw, problems = read_bytes(path)
        if raw is not None:
            article, problems = examine(path, raw, today, max_age_days)
            if article is not None:
                articles.append(article)
        findings.extend(problems)
    findings.extend(check_across(articles))
    return CheckResult(articles, sorted(set(findings), key=lambda f: (f.path, f.line, f.code, f.message)))
