"""The `kb` command: a thin Click layer over `errkb.kb.KnowledgeBase`.

Commands import the core inside their function, so `kb --help` and
`kb --version` cost little more than importing Click. Data goes to stdout,
messages to stderr; core errors become one line and an exit code from
`exitcodes.Exit`.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from . import __version__
from .config import COLOR_CHOICES
from .exitcodes import Exit
from .safetext import clean, clean_line
from .tags import CAUSES, PLATFORMS
from .versions import JSON_SCHEMA_VERSION, VERSION_TEXT

if TYPE_CHECKING:
    from .article import Article
    from .config import Config
    from .kb import KnowledgeBase
    from .locations import Locations
    from .model import SearchResult
    from .render import Painter

F = TypeVar("F", bound=Callable[..., Any])

#: Bytes read from standard input at most (a query is analysed up to 64 KB
#: anyway; this only bounds memory for an endless pipe).
MAX_STDIN_BYTES = 8 * 1024 * 1024
#: Characters of the query echoed back (`query` in --json); the search reads
#: no more than this either (querying.MAX_QUERY_CHARS), and says `truncated`.
MAX_ECHO_CHARS = 64 * 1024

#: Options of `kb` itself that take a value, and its flags: what may come
#: before the command name.
GROUP_VALUE_OPTIONS = ("--kb-dir", "--index-dir", "--color")
GROUP_FLAGS = ("-q", "--quiet", "-V", "--version", "-h", "--help")
#: The Chinese names of the platforms, accepted by -p like the slugs and names.
PLATFORM_ALIASES = {"淘宝": "taobao", "淘宝网": "taobao", "支付宝": "alipay", "阿里巴巴": "alibaba",
                    "阿里巴巴国际站": "alibaba"}
#: Exit status of `kb search --strict` when the results are only closest guesses.
STRICT_HELP = f"Exit status {int(Exit.NOT_CONFIDENT)} when the results are only closest guesses (not confident)."


class OutputFailed(Exception):
    """Writing to stdout failed (a full disk, a closed pipe): not a bug of errkb."""

    def __init__(self, error: OSError) -> None:
        super().__init__(str(error))
        self.error = error


def out(text: str, nl: bool = True, color: bool | None = None) -> None:
    """Data on stdout; a failed write becomes `OutputFailed` (see `main`)."""
    try:
        click.echo(text, nl=nl, color=color)
    except OSError as exc:
        raise OutputFailed(exc) from exc


def _transposition_or_one_edit(word: str, name: str) -> bool:
    """`word` is `name` with two neighbours swapped, or (for names of five or
    more letters) one letter added or left out: a typed command, not a query."""
    if len(word) == len(name):
        diff = [i for i in range(len(word)) if word[i] != name[i]]
        return (len(diff) == 2 and diff[1] == diff[0] + 1
                and word[diff[0]] == name[diff[1]] and word[diff[1]] == name[diff[0]])
    if len(name) < 5 or abs(len(word) - len(name)) != 1:
        return False
    short, long = sorted((word, name), key=len)
    return any(long[:i] + long[i + 1:] == short for i in range(len(long)))


def near_miss(word: str, commands: list[str]) -> str | None:
    """The command a mistyped first word was meant to be, if it clearly was one."""
    if not word.isascii() or not word.isalpha():
        return None
    lowered = word.lower()
    for name in commands:
        if _transposition_or_one_edit(lowered, name):
            return name
    return None


class DefaultGroup(click.Group):
    """A group where anything but a command is a search: `kb "card declined"`,
    `kb -n 3 "..."`, `kb -p taobao "..."`, `kb -- "-1.00 USD charged"`.

    The config file's defaults are loaded here (Click's `default_map`: the
    command line and ERRKB_* variables beat them)."""

    default_command = "search"

    def make_context(self, info_name: str | None, args: list[str], parent: click.Context | None = None,
                     **extra: Any) -> click.Context:
        from .config import ConfigError, load

        try:
            config = load()
        except ConfigError as exc:
            fail(str(exc), Exit.USAGE)
        extra.setdefault("default_map", config_defaults(config))
        ctx = super().make_context(info_name, args, parent=parent, **extra)
        ctx.meta["errkb.config"] = config
        return ctx

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, self.route(ctx, list(args)))

    def route(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Insert `search` where the command name would be, unless one is there."""
        i = 0
        while i < len(args):
            arg = args[i]
            if arg in GROUP_VALUE_OPTIONS:
                i += 2
            elif arg in GROUP_FLAGS or arg.split("=", 1)[0] in GROUP_VALUE_OPTIONS:
                i += 1
            else:
                break
        if i >= len(args) or args[i] in self.commands:
            return args
        word = args[i]
        if not word.startswith("-") and not ctx.resilient_parsing:
            meant = near_miss(word, sorted(self.commands))
            if meant is not None:
                fail(f"no command {clean_line(word)!r}; did you mean `kb {meant}`? "
                     f"(to search for the word: kb search {clean_line(word)})", Exit.USAGE)
        return [*args[:i], self.default_command, *args[i:]]

    def resolve_command(self, ctx: click.Context, args: list[str]) -> Any:
        if args and self.get_command(ctx, args[0]) is None and not args[0].startswith("-"):
            return self.default_command, self.get_command(ctx, self.default_command), args
        return super().resolve_command(ctx, args)


def config_defaults(config: Config) -> dict[str, Any]:
    """The config file as Click defaults (`default_map`)."""
    defaults: dict[str, Any] = {}
    if config.kb_dir is not None:
        defaults["kb_dir"] = config.kb_dir
    if config.index_dir is not None:
        defaults["index_dir"] = config.index_dir
    if config.color is not None:
        defaults["color"] = config.color
    if config.limit is not None:
        defaults["search"] = {"limit": config.limit}
    return defaults


class PlatformChoice(click.Choice[str]):
    """A platform by slug, name or Chinese name, any case: `alipay`,
    `Alibaba.com`, `支付宝`, `淘宝` (each becomes its slug)."""

    def __init__(self) -> None:
        super().__init__(sorted(PLATFORMS), case_sensitive=False)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        key = str(value).strip().lower()
        names = {name.lower(): slug for slug, name in PLATFORMS.items()}
        key = PLATFORM_ALIASES.get(key, names.get(key, key))
        return super().convert(key, param, ctx)


def _source(ctx: click.Context, name: str, option: str, env: str) -> str:
    from click.core import ParameterSource

    from . import locations

    got = ctx.get_parameter_source(name)
    if got is ParameterSource.ENVIRONMENT:
        return env
    if got is ParameterSource.DEFAULT_MAP:
        return locations.FROM_CONFIG
    return option


class Env:
    """What every command needs: where things are and how to print."""

    def __init__(self, ctx: click.Context, kb_dir: str | None, index_dir: str | None, color_choice: str,
                 quiet: bool) -> None:
        from . import locations

        self.config: Config | None = ctx.meta.get("errkb.config")
        self._kb_dir = kb_dir
        self._kb_source = _source(ctx, "kb_dir", locations.FROM_OPTION, locations.FROM_ENV)
        self._index_dir = index_dir
        self._index_source = _source(ctx, "index_dir", locations.INDEX_FROM_OPTION, locations.INDEX_FROM_ENV)
        self.color_choice = color_choice
        self.quiet = quiet
        self._locations: Locations | None = None

    def override(self, name: str, value: Any) -> None:
        """A shared option given after the command name (`kb search -q ...`)."""
        from . import locations

        if name == "kb_dir":
            self._kb_dir, self._kb_source = value, locations.FROM_OPTION
        elif name == "index_dir":
            self._index_dir, self._index_source = value, locations.INDEX_FROM_OPTION
        elif name == "color":
            self.color_choice = value
        elif name == "quiet":
            self.quiet = self.quiet or bool(value)
        self._locations = None

    @property
    def locations(self) -> Locations:
        from .locations import resolve

        if self._locations is None:
            self._locations = resolve(self._kb_dir, self._kb_source, self._index_dir, self._index_source)
        return self._locations

    @property
    def kb_dir(self) -> Path:
        return self.locations.kb_dir

    @property
    def index_dir(self) -> Path:
        return self.locations.index_dir

    def color(self, err: bool = False) -> bool:
        """Colour only on a terminal that can show it; NO_COLOR, FORCE_COLOR
        and TERM=dumb are honoured, and an explicit --color always/never beats
        all of them (no-color.org)."""
        if self.color_choice in ("always", "never"):
            return self.color_choice == "always"
        if os.environ.get("NO_COLOR"):
            return False
        if os.environ.get("FORCE_COLOR"):
            return True
        if os.environ.get("TERM") == "dumb":
            return False
        stream = sys.stderr if err else sys.stdout
        return bool(getattr(stream, "isatty", lambda: False)())

    def painter(self) -> Painter:
        from .render import Painter

        return Painter(self.color())

    def kb(self) -> KnowledgeBase:
        from .kb import KnowledgeBase

        return KnowledgeBase(self.kb_dir, self.index_dir)

    def say(self, message: str) -> None:
        """A message for the person (stderr), unless --quiet."""
        if not self.quiet:
            click.echo(f"kb: {clean(message)}", err=True)

    def refuse_installed(self, command: str) -> None:
        """`kb new`/`kb edit` never write into the articles installed with errkb."""
        if self.locations.installed:
            fail(f"kb {command} writes articles, and {self.kb_dir} holds the ones installed with errkb; "
                 "give --kb-dir DIR (or work in a folder that has ./kb)", Exit.USAGE)

    def page(self, text: str, no_pager: bool) -> None:
        """Show long text through a pager, only when stdout is a terminal:
        ERRKB_PAGER, then PAGER, else `less`. When the pager is less and LESS
        is unset, LESS=FRX as git does: colour codes shown as colour (R), no
        pager for text that fits the screen (F), the screen kept (X)."""
        import shutil

        color = self.color()
        if no_pager or not sys.stdout.isatty() or text.count("\n") < shutil.get_terminal_size().lines - 1:
            out(text, nl=False, color=color)
            return
        import shlex
        import subprocess

        command = os.environ.get("ERRKB_PAGER") or os.environ.get("PAGER") or "less"
        if not color:
            text = click.unstyle(text)
        try:
            argv = shlex.split(command)
            environ = dict(os.environ)
            if argv and os.path.basename(argv[0]) == "less" and "LESS" not in environ:
                environ["LESS"] = "FRX"
            subprocess.run(argv, input=text.encode("utf-8"), check=False, env=environ)
        except (OSError, ValueError):  # no such pager: print instead
            out(text, nl=False, color=color)

    def flush_notes(self, kb: KnowledgeBase) -> None:
        for note in kb.notes:
            self.say(note)
        kb.notes.clear()


def width() -> int:
    from .terminal import terminal_width

    return terminal_width()


def list_width() -> int | None:
    """Where list views cut titles with …: the terminal's width, only on a
    terminal (a pipe gets whole lines, for grep)."""
    return width() if sys.stdout.isatty() else None


def fail(message: str, code: Exit) -> NoReturn:
    """One line on stderr (control characters escaped), then exit with `code`."""
    click.echo(f"kb: error: {clean(message)}", err=True)
    sys.exit(int(code))


def handle_errors(func: F) -> F:
    """Turn core errors into a one-line message and the documented exit code."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from .errors import (
            ArticleError,
            ArticleNotFound,
            BuildInProgress,
            ErrkbError,
            IndexProblem,
            KnowledgeBaseError,
            QueryRefused,
        )

        try:
            return func(*args, **kwargs)
        except ArticleNotFound as exc:
            fail(str(exc), Exit.NO_MATCH)
        except (KnowledgeBaseError, ArticleError) as exc:
            fail(str(exc), Exit.INVALID_KB)
        except (IndexProblem, BuildInProgress) as exc:
            fail(str(exc), Exit.INDEX)
        except QueryRefused as exc:
            fail(str(exc), Exit.USAGE)
        except ErrkbError as exc:
            fail(str(exc), Exit.USAGE)

    return wrapper  # type: ignore[return-value]


#: DEL and the C1 controls: JSON allows them raw, a terminal may obey them.
_JSON_CONTROLS = re.compile("[\x7f-\x9f]")


def json_text(data: dict[str, Any], indent: int | None = None) -> str:
    """JSON as errkb prints it: UTF-8 text, every control character escaped
    (json escapes C0 itself; DEL and C1 as \\u007f ... \\u009f), same values."""
    import json

    text = json.dumps(data, ensure_ascii=False, indent=indent)
    return _JSON_CONTROLS.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def emit_json(data: dict[str, Any]) -> None:
    out(json_text({"schema_version": JSON_SCHEMA_VERSION, **data}, indent=2))


def tag_options(func: F) -> F:
    """--platform/-p and --cause/-c, shared by search and browse."""
    func = click.option("-c", "--cause", "causes", multiple=True, metavar="CAUSE",
                        type=click.Choice(sorted(CAUSES)),
                        help="Only articles with this cause tag (repeat to widen).")(func)
    func = click.option("-p", "--platform", "platforms", multiple=True, metavar="PLATFORM",
                        type=PlatformChoice(),
                        help="Only articles for this platform (repeat to widen): taobao, alipay, alibaba "
                             "(or Taobao, 淘宝, Alipay, 支付宝, Alibaba.com, 阿里巴巴).")(func)
    return func


def _late_option(ctx: click.Context, param: click.Parameter, value: Any) -> None:
    """A shared option given after the command name: it beats the one before.
    These copies have no default, environment variable or config value, so a
    value (or a set flag) can only come from the command line."""
    env = ctx.find_object(Env)
    if env is not None and param.name and value not in (None, False):
        env.override(param.name, value)


def shared_params() -> list[click.Parameter]:
    """`--kb-dir`, `--index-dir`, `--color`, `-q` once more on every command,
    so that they work after its name too (`kb search "..." -q`). Hidden from
    each command's help: `kb --help` lists them."""
    common: dict[str, Any] = {"hidden": True, "expose_value": False, "callback": _late_option,
                              "allow_from_autoenv": False}
    return [
        click.Option(["--kb-dir"], type=click.Path(file_okay=False), **common),
        click.Option(["--index-dir"], type=click.Path(), **common),
        click.Option(["--color"], type=click.Choice(COLOR_CHOICES), **common),
        click.Option(["-q", "--quiet"], is_flag=True, **common),
    ]


class ErrkbGroup(DefaultGroup):
    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        if not any(p.name == "kb_dir" for p in cmd.params):
            cmd.params.extend(shared_params())
        super().add_command(cmd, name)


@click.group(cls=ErrkbGroup, invoke_without_command=True,
             context_settings={"help_option_names": ["-h", "--help"], "auto_envvar_prefix": "ERRKB"})
@click.option("--kb-dir", type=click.Path(file_okay=False), default=None, envvar="ERRKB_KB_DIR",
              help="Folder of articles [env: ERRKB_KB_DIR; default: ./kb when it holds articles, "
                   "else the articles installed with errkb].")
@click.option("--index-dir", type=click.Path(), default=None, envvar="ERRKB_INDEX_DIR",
              help="Folder of the search index [env: ERRKB_INDEX_DIR; default: ./index beside ./kb, "
                   "else in the user cache folder].")
@click.option("--color", "color", type=click.Choice(COLOR_CHOICES), default="auto",
              show_default=True, help="Colour output; auto means only on a terminal (NO_COLOR, TERM=dumb honoured).")
@click.option("-q", "--quiet", is_flag=True, help="No messages on stderr, only data and errors.")
@click.version_option(__version__, "-V", "--version", message=VERSION_TEXT)
@click.pass_context
def cli(ctx: click.Context, kb_dir: str | None, index_dir: str | None, color: str, quiet: bool) -> None:
    """errkb: find the fix for a Taobao, Alipay or Alibaba.com payment error.

    Paste the error (English, Chinese or both); errkb answers with the
    matching articles and their fixes, best first. Searching is the default
    command, so a quoted message or piped text is enough, and search's
    options work without its name. --kb-dir, --index-dir, --color and -q work
    before or after the command name.

    \b
    Examples:
      kb "支付宝 身份信息过期"
      kb -p taobao -n 3 "card declined at checkout"
      kb -- "-1.00 USD charged twice"
      pbpaste | kb
      kb browse -p alibaba
      kb show identity-verification-expired
    """
    ctx.obj = Env(ctx, kb_dir, index_dir, color, quiet)
    if ctx.invoked_subcommand is None:
        if sys.stdin is not None and not sys.stdin.isatty():
            ctx.invoke(search)
        else:
            out(ctx.get_help())


def decode_argv(word: str) -> str:
    """An argument as text: bytes that are not UTF-8 (kept by Python as
    surrogate escapes) become U+FFFD, as on stdin, so --json stays UTF-8."""
    return word.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def read_query(env: Env, words: tuple[str, ...]) -> str:
    """The query: the words given, or stdin for `-` or when piped."""
    if words == ("-",) or (not words and sys.stdin is not None and not sys.stdin.isatty()):
        if sys.stdin is not None and sys.stdin.isatty():
            env.say("paste the message, then press Ctrl-D on a line of its own")
        stream = click.get_binary_stream("stdin")
        raw = stream.read(MAX_STDIN_BYTES)
        return raw.decode("utf-8", errors="replace")
    if not words:
        raise click.UsageError("give a query, or pipe the error text in (kb search - < error.txt)")
    return " ".join(decode_argv(word) for word in words)


def capped(result: SearchResult) -> SearchResult:
    """The echoed query cut to what was searched; `truncated` says so."""
    if len(result.query) <= MAX_ECHO_CHARS:
        return result
    return result._replace(query=result.query[:MAX_ECHO_CHARS], truncated=True)


@cli.command()
@click.argument("query", nargs=-1)
@tag_options
@click.option("-n", "--limit", default=5, show_default=True, type=click.IntRange(1, 1000),
              help="Show at most this many articles.")
@click.option("--full", is_flag=True,
              help="Every result with its snippet and fixes (by default: the first in full when "
                   "confident, the others one line each).")
@click.option("--strict", is_flag=True, help=STRICT_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (results, confident, ...).")
@click.option("--jsonl", "as_jsonl", is_flag=True, help="Print one JSON object per result (JSON Lines).")
@click.option("--no-pager", is_flag=True, help="Never page, even on a terminal.")
@click.pass_obj
@handle_errors
def search(env: Env, query: tuple[str, ...], platforms: tuple[str, ...], causes: tuple[str, ...],
           limit: int, full: bool, strict: bool, as_json: bool, as_jsonl: bool, no_pager: bool) -> None:
    """Find the articles that answer a pasted error message.

    QUERY is the message (any text: English, Chinese, order numbers and all).
    Use `-`, or no QUERY with piped input, to read it from standard input.
    Exit status 1 when nothing matches; with --strict, 5 when the results
    are only closest guesses.

    \b
    Examples:
      kb search "实名认证已过期 请更新身份信息"
      kb search -p alibaba -n 3 "payment failed insufficient funds"
      kb search --json - < error.txt
      kb search --strict -q "card declined" > /dev/null || echo "no confident answer"
    """
    text = read_query(env, query)
    kb = env.kb()
    result = capped(kb.search(text, platforms=list(platforms), causes=list(causes), limit=limit))
    env.flush_notes(kb)
    if as_json:
        emit_json(result.as_json())
    elif as_jsonl:
        for hit in result.hits:
            out(json_text(hit.as_json()))
    elif result.hits:
        from .render import render_search

        env.page(render_search(result, env.painter(), width(), full=full), no_pager)
    if not result.hits:
        if not (as_json or as_jsonl):
            hint = f" Did you mean: {clean_line(result.suggestion)}?" if result.suggestion else ""
            click.echo(f"kb: no article matches.{hint} Try `kb browse` to list articles by platform or cause.",
                       err=True)
        sys.exit(int(Exit.NO_MATCH))
    if strict and not result.confident:
        sys.exit(int(Exit.NOT_CONFIDENT))


@cli.command()
@tag_options
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object with articles and counts.")
@click.option("--jsonl", "as_jsonl", is_flag=True, help="Print one JSON object per article (JSON Lines).")
@click.option("--no-pager", is_flag=True, help="Never page, even on a terminal.")
@click.pass_obj
@handle_errors
def browse(env: Env, platforms: tuple[str, ...], causes: tuple[str, ...], as_json: bool, as_jsonl: bool,
           no_pager: bool) -> None:
    """List the articles for a platform or cause, with counts per tag.

    Repeated --platform (or --cause) values widen the list; a platform and a
    cause together narrow it. On a terminal, titles are cut to fit with …

    \b
    Examples:
      kb browse -p alibaba
      kb browse -c phone-mismatch -c name-mismatch --json
    """
    kb = env.kb()
    result = kb.browse(platforms=list(platforms), causes=list(causes))
    env.flush_notes(kb)
    if as_jsonl:
        for article in result.listing():
            out(json_text(article))
    elif as_json:
        emit_json(result.as_json())
    else:
        from .render import render_browse

        env.page(render_browse(result, env.painter(), list_width()), no_pager)
    if not result.articles:
        if not (as_json or as_jsonl):
            click.echo("kb: no article has these tags", err=True)
        sys.exit(int(Exit.NO_MATCH))


@cli.command(name="list")
@click.option("--no-pager", is_flag=True, help="Never page, even on a terminal.")
@click.pass_obj
@handle_errors
def list_command(env: Env, no_pager: bool) -> None:
    """Every article's id and title, one a line (`kb browse --jsonl` for tools).

    \b
    Examples:
      kb list
      kb list | grep -i card
    """
    from .render import render_list

    kb = env.kb()
    cards = kb.cards()
    env.flush_notes(kb)
    env.page(render_list(cards, env.painter(), list_width()), no_pager)
    if not cards:
        sys.exit(int(Exit.NO_MATCH))


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object: every code with its article.")
@click.option("--no-pager", is_flag=True, help="Never page, even on a terminal.")
@click.pass_obj
@handle_errors
def codes(env: Env, as_json: bool, no_pager: bool) -> None:
    """Every error code the articles list, with its article (`kb show CODE` opens it).

    \b
    Examples:
      kb codes
      kb codes --json
    """
    kb = env.kb()
    listed = kb.codes()
    env.flush_notes(kb)
    if as_json:
        emit_json({"codes": [{"code": code, "id": card.id, "title": card.title} for code, card in listed]})
    else:
        from .render import render_codes

        env.page(render_codes(listed, env.painter(), list_width()), no_pager)
    if not listed:
        sys.exit(int(Exit.NO_MATCH))


def complete_ids(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
    """Article ids for shell completion: the names of kb/*.md (no index is opened or built)."""
    from click.shell_completion import CompletionItem

    root = ctx.find_root()
    env = root.obj if isinstance(root.obj, Env) else None
    try:
        kb_dir = env.kb_dir if env else Path(os.environ.get("ERRKB_KB_DIR", "kb"))
        names = sorted(p.stem for p in kb_dir.glob("*.md") if not p.name.startswith((".", "_")))
    except OSError:
        return []
    return [CompletionItem(n) for n in names if n.startswith(incomplete)]


def invalid_article(kb_dir: Path, wanted: str) -> str | None:
    """The first error of the article file `wanted` names (`ID.md`, or the
    one file whose name starts with it), when that file is invalid."""
    from datetime import date

    from .kbfiles import DEFAULT_MAX_AGE_DAYS
    from .validate import examine, read_bytes

    key = wanted.strip().lower()
    exact = kb_dir / f"{key}.md"
    try:
        candidates = [exact] if exact.is_file() else [p for p in kb_dir.glob(f"{key}*.md") if p.is_file()]
    except (OSError, ValueError):
        return None
    if len(candidates) != 1 or not key:
        return None
    raw, problems = read_bytes(candidates[0])
    if raw is not None:
        _, problems = examine(candidates[0], raw, date.today(), DEFAULT_MAX_AGE_DAYS)
    errors = [f for f in problems if f.is_error]
    return str(errors[0]) if errors else None


@cli.command()
@click.argument("article_id", metavar="ID", shell_complete=complete_ids)
@click.option("--json", "as_json", is_flag=True, help="Front matter plus sections as JSON.")
@click.option("--raw", is_flag=True, help="The Markdown file as written (control characters escaped on a terminal).")
@click.option("--html", "as_html", is_flag=True, help="The article body as HTML (for help-desk replies).")
@click.option("--no-pager", is_flag=True, help="Never page, even on a terminal.")
@click.pass_obj
@handle_errors
def show(env: Env, article_id: str, as_json: bool, raw: bool, as_html: bool, no_pager: bool) -> None:
    """Show one article: by id, a unique id prefix, or an error code.

    \b
    Examples:
      kb show identity-verification-expired
      kb show bank-reserved --json
      kb show E1001 --html
    """
    from .errors import ArticleNotFound

    kb = env.kb()
    try:
        article = kb.show(article_id)
    except ArticleNotFound:
        env.flush_notes(kb)
        finding = invalid_article(env.kb_dir, article_id)
        if finding is not None:
            fail(f"{finding} (the article is invalid, so it is not indexed; `kb check` lists every finding)",
                 Exit.NO_MATCH)
        raise
    env.flush_notes(kb)
    if raw:
        text = article.path.read_text(encoding="utf-8")
        out(clean(text) if sys.stdout.isatty() else text, nl=False)
    elif as_html:
        from .article_html import article_html

        out(article_html(article))
    elif as_json:
        emit_json(article_json(article))
    else:
        from .render import render_article

        env.page(render_article(article, env.painter(), width()), no_pager)


def article_json(article: Article) -> dict[str, Any]:
    return article.as_json()  # the core's, shared with the web API


def edit_and_check(env: Env, path: Path) -> None:
    """Open `path` in $VISUAL/$EDITOR, then report what `kb check` finds in it."""
    click.edit(filename=str(path))
    result = env.kb().check()
    mine = [f for f in result.findings if Path(f.path) == path]
    for finding in mine:
        out(clean(str(finding)))
    errors = sum(1 for f in mine if f.is_error)
    env.say(f"{clean(str(path))}: {errors} error(s), {len(mine) - errors} warning(s)")
    if errors:
        sys.exit(int(Exit.NO_MATCH))


@contextmanager
def progress_reporter(env: Env) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar on stderr for big builds, only on a terminal and without -q."""
    if env.quiet or not sys.stderr.isatty():
        yield None
        return
    state: dict[str, Any] = {}

    def update(done: int, total: int) -> None:
        if total < 200:
            return
        bar = state.get("bar")
        if bar is None:
            bar = state["bar"] = click.progressbar(length=total, label="indexing", file=sys.stderr)
            bar.__enter__()
        bar.update(done - bar.pos)

    try:
        yield update
    finally:
        if "bar" in state:
            state["bar"].__exit__(None, None, None)


@cli.command(name="index")
@click.option("--full", is_flag=True, help="Rebuild from scratch instead of updating.")
@click.option("--wait", default=10.0, show_default=True, type=click.FloatRange(0),
              help="Seconds to wait for another build to finish.")
@click.option("--json", "as_json", is_flag=True, help="Print the build report as JSON.")
@click.pass_obj
@handle_errors
def index_command(env: Env, full: bool, wait: float, as_json: bool) -> None:
    """Build or update the search index from the articles.

    Only articles added, changed or removed since the last build are
    re-indexed; invalid articles are left out and named (exit status 3).

    \b
    Examples:
      kb index
      kb index --full
    """
    kb = env.kb()
    with progress_reporter(env) as progress:
        report = kb.build(full=full, wait=wait, progress=progress)
    if as_json:
        emit_json(report.as_json())
    kind = "full build" if report.full else "update"
    env.say(f"{kind}: {len(report.added)} added, {len(report.updated)} updated, {len(report.removed)} removed, "
            f"{report.unchanged} unchanged; {report.total} articles indexed in {report.seconds:.2f}s")
    for finding in report.invalid:
        click.echo(f"kb: {clean(str(finding))}", err=True)
    if report.invalid:
        files = len({f.path for f in report.invalid})
        fail(f"{files} invalid article(s) not indexed; fix them (kb check) and run kb index again",
             Exit.INVALID_KB)


@cli.command()
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="Findings as `path:line: CODE message` lines, or JSON for editors' tools.")
@click.option("--max-age", default=365, show_default=True, type=click.IntRange(1),
              help="Warn (W106) when an article's `updated` date is older than this many days.")
@click.pass_obj
@handle_errors
def check(env: Env, fmt: str, max_age: int) -> None:
    """Validate every article; exit status 1 if any finding is an error.

    \b
    Examples:
      kb check
      kb check --format json --max-age 180
    """
    kb = env.kb()
    result = kb.check(max_age_days=max_age)
    errors = len(result.errors)
    warnings = len(result.findings) - errors
    if fmt == "json":
        emit_json({"articles": len(result.articles), "errors": errors, "warnings": warnings,
                   "findings": [f.as_dict() for f in result.findings]})
    else:
        for finding in result.findings:
            out(clean(str(finding)))
        env.say(f"{len(result.articles)} articles checked: {errors} error(s), {warnings} warning(s)")
    if errors:
        sys.exit(int(Exit.NO_MATCH))


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print the same as JSON.")
@click.pass_obj
@handle_errors
def info(env: Env, as_json: bool) -> None:
    """Where the articles and the index are, the index's age and size, versions.

    \b
    Examples:
      kb info
      ERRKB_INDEX_DIR=/tmp/ix kb info --json
    """
    info = env.kb().info()
    where = env.locations
    config = env.config
    if as_json:
        emit_json({**info.as_json(), "kb_source": where.kb_source, "index_source": where.index_source,
                   "config_file": str(config.path) if config else None,
                   "config_found": bool(config and config.exists)})
        return
    count = info.articles_on_disk
    files = f"{count} files" if count is not None else "folder not found"
    lines = [VERSION_TEXT,
             f"articles: {info.kb_dir} ({files}; from {where.kb_source})",
             f"index:    {info.index_dir} (from {where.index_source})"]
    index = info.index
    if index is not None:
        lines.append(f"          {index.articles} articles, built {index.built_at} "
                     f"({index.age_seconds}s ago), {index.generation}")
    else:
        lines.append(f"          {info.index_problem or 'not built yet (kb index, or any search, builds it)'}")
    if config is not None:
        state = "read" if config.exists else "not present; see the README for its keys"
        lines.append(f"config:   {config.path} ({state})")
    out(clean("\n".join(lines)))


@cli.command()
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
def completion(shell: str) -> None:
    """Print the shell completion script (commands, options, ids, tags).

    \b
    Examples:
      kb completion bash > ~/.local/share/bash-completion/completions/kb
      kb completion zsh > "${fpath[1]}/_kb"
      kb completion fish > ~/.config/fish/completions/kb.fish
    """
    from click.shell_completion import get_completion_class

    cls = get_completion_class(shell)
    if cls is None:  # pragma: no cover - Choice above allows only known shells
        raise click.UsageError(f"unsupported shell {shell}")
    out(cls(cli, {}, "kb", "_KB_COMPLETE").source())


@cli.command()
@click.argument("article_id", metavar="ID")
@click.option("-p", "--platform", "platforms", multiple=True, required=True,
              type=PlatformChoice(), help="A platform the problem happens on (repeatable).")
@click.option("-c", "--cause", "causes", multiple=True, required=True,
              type=click.Choice(sorted(CAUSES)), help="A cause tag (repeatable).")
@click.option("--title", help="The article's title (editable later).")
@click.option("--edit", "then_edit", is_flag=True, help="Open it in $VISUAL/$EDITOR, then check it.")
@click.pass_obj
@handle_errors
def new(env: Env, article_id: str, platforms: tuple[str, ...], causes: tuple[str, ...], title: str | None,
        then_edit: bool) -> None:
    """Start a new article from the template (never overwrites).

    \b
    Examples:
      kb new card-expired -p taobao -p alipay -c card-settings
      kb new card-stolen -p 支付宝 -c card-settings --edit
    """
    from .template import create_article

    env.refuse_installed("new")
    path = create_article(env.kb_dir, article_id, list(platforms), list(causes), title)
    out(clean(str(path)))
    if then_edit:
        edit_and_check(env, path)
    else:
        env.say("fill in the TODOs, then run `kb check` (or `kb edit ID`)")


@cli.command()
@click.argument("article_id", metavar="ID", shell_complete=complete_ids)
@click.pass_obj
@handle_errors
def edit(env: Env, article_id: str) -> None:
    """Open an article in $VISUAL/$EDITOR, then check it (as `kb check` does).

    ID is the file name without `.md`, or an id, unique prefix or error code
    of an indexed article. Exit status 1 when the edited article has errors.

    \b
    Examples:
      kb edit identity-verification-expired
      EDITOR=nano kb edit E1001
    """
    env.refuse_installed("edit")
    path = env.kb_dir / f"{article_id}.md"
    if not path.is_file():
        kb = env.kb()
        path = Path(kb.resolve(article_id).path)
        env.flush_notes(kb)
    edit_and_check(env, path)


def _stdout_to_devnull() -> None:
    """After a failed write, point stdout at /dev/null, so that Python's own
    flush at exit does not fail again (and print a second message)."""
    try:
        fd = os.open(os.devnull, os.O_WRONLY)
        os.dup2(fd, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; 0.0.0.0 answers every network the machine is on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="Port to listen on.")
@click.option("--threads", default=4, show_default=True, type=click.IntRange(1, 64),
              help="Request threads (searches take turns; the others send and receive).")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Server processes; one per core for a team (searching is CPU-bound).")
@click.option("--recheck", default=None, type=click.FloatRange(0),
              help="Seconds a check for edited articles may be reused (0: every request sees every edit; "
                   "default: check when the kernel reports a change, else reuse for ten times what the check took).")
@click.option("--access-log", is_flag=True, help="Log method, path, status and time per request (never the query).")
@click.pass_obj
@handle_errors
def serve(env: Env, host: str, port: int, threads: int, workers: int, recheck: float | None,
          access_log: bool) -> None:
    """Run the web help centre: search, articles, browse and a JSON API.

    Builds or updates the index first, then serves with waitress until
    Ctrl-C. Queries are never written to the log.

    \b
    Examples:
      kb serve
      kb serve --host 0.0.0.0 --port 8080 --workers 2 --access-log
    """
    from .web.serve import serve as run_server

    run_server(env.kb_dir, env.index_dir, host=host, port=port, threads=threads, recheck=recheck,
               access_log=access_log, workers=workers)


def main() -> None:
    """Console-script entry point: never a traceback for the user.

    Click runs with standalone_mode off so that errkb, not Click, decides
    the exit status: Ctrl-C is 130 (Click would say "Aborted!" and exit 1),
    and a write that fails (`kb ... > /dev/full`) is one line and exit 74.
    """
    import errno

    try:
        code = cli.main(prog_name="kb", standalone_mode=False)
        try:
            sys.stdout.flush()
        except OSError as exc:
            raise OutputFailed(exc) from exc
    except click.exceptions.Abort:  # Ctrl-C (or end of input at a prompt), as Click reports it
        click.echo("kb: interrupted", err=True)
        sys.exit(int(Exit.INTERRUPTED))
    except KeyboardInterrupt:
        click.echo("kb: interrupted", err=True)
        sys.exit(int(Exit.INTERRUPTED))
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except OutputFailed as exc:
        error = exc.error
        _stdout_to_devnull()
        if error.errno == errno.EPIPE:  # `kb ... | head`: the reader has what it wanted
            sys.exit(int(Exit.OK))
        click.echo(f"kb: error: cannot write the output: {error.strerror or error}", err=True)
        sys.exit(int(Exit.OUTPUT))
    except Exception as exc:  # noqa: BLE001 - the last line of defence
        _internal(exc)
    sys.exit(code if isinstance(code, int) else int(Exit.OK))


def _internal(exc: BaseException) -> NoReturn:
    if os.environ.get("ERRKB_DEBUG"):
        raise exc
    click.echo(f"kb: internal error: {exc.__class__.__name__}: {clean(str(exc))} "
               "(set ERRKB_DEBUG=1 for details)", err=True)
    sys.exit(int(Exit.INTERNAL))
