"""The `kb` command: a thin Click layer over `errkb.kb.KnowledgeBase`.

Commands import the core inside their function, so `kb --help` and
`kb --version` cost little more than importing Click. Data goes to stdout,
messages to stderr; core errors become one line and an exit code from
`exitcodes.Exit`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar

import click

from . import __version__
from .exitcodes import Exit
from .tags import CAUSES, PLATFORMS
from .versions import JSON_SCHEMA_VERSION, VERSION_TEXT

if TYPE_CHECKING:
    from pathlib import Path

    from .article import Article
    from .kb import KnowledgeBase
    from .render import Painter

F = TypeVar("F", bound=Callable[..., Any])

#: Bytes read from standard input at most (a query is analysed up to 64 KB
#: anyway; this only bounds memory for an endless pipe).
MAX_STDIN_BYTES = 8 * 1024 * 1024
MAX_WIDTH = 100


class DefaultGroup(click.Group):
    """A group where an unknown first word is a search: `kb "card declined"`."""

    default_command = "search"

    def resolve_command(self, ctx: click.Context, args: list[str]) -> Any:
        if args and self.get_command(ctx, args[0]) is None and not args[0].startswith("-"):
            return self.default_command, self.get_command(ctx, self.default_command), args
        return super().resolve_command(ctx, args)


class Env:
    """What every command needs: where things are and how to print."""

    def __init__(self, kb_dir: str, index_dir: str, color_choice: str, quiet: bool) -> None:
        self._kb_dir = kb_dir
        self._index_dir = index_dir
        self.color_choice = color_choice
        self.quiet = quiet

    @property
    def kb_dir(self) -> Path:
        from pathlib import Path

        return Path(self._kb_dir)

    @property
    def index_dir(self) -> Path:
        from pathlib import Path

        return Path(self._index_dir)

    def color(self, err: bool = False) -> bool:
        """Colour only on a terminal; NO_COLOR and FORCE_COLOR are honoured,
        and an explicit --color always/never beats both (no-color.org)."""
        if self.color_choice in ("always", "never"):
            return self.color_choice == "always"
        if os.environ.get("NO_COLOR"):
            return False
        if os.environ.get("FORCE_COLOR"):
            return True
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
            click.echo(f"kb: {message}", err=True)

    def page(self, text: str, no_pager: bool) -> None:
        """Show long text through a pager, only when stdout is a terminal:
        ERRKB_PAGER, then PAGER, else `less -FRX` (which exits at once when the
        text fits the screen)."""
        import shutil

        color = self.color()
        if no_pager or not sys.stdout.isatty() or text.count("\n") < shutil.get_terminal_size().lines - 1:
            click.echo(text, nl=False, color=color)
            return
        import shlex
        import subprocess

        command = os.environ.get("ERRKB_PAGER") or os.environ.get("PAGER") or "less -FRX"
        if not color:
            text = click.unstyle(text)
        try:
            subprocess.run(shlex.split(command), input=text.encode("utf-8"), check=False)
        except (OSError, ValueError):  # no such pager: print instead
            click.echo(text, nl=False, color=color)

    def flush_notes(self, kb: KnowledgeBase) -> None:
        for note in kb.notes:
            self.say(note)
        kb.notes.clear()


def width() -> int:
    import shutil

    return min(shutil.get_terminal_size((80, 24)).columns, MAX_WIDTH)


def fail(message: str, code: Exit) -> None:
    """One line on stderr, then exit with `code`."""
    click.echo(f"kb: error: {message}", err=True)
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


def emit_json(data: dict[str, Any]) -> None:
    import json

    click.echo(json.dumps({"schema_version": JSON_SCHEMA_VERSION, **data}, ensure_ascii=False, indent=2))


def tag_options(func: F) -> F:
    """--platform/-p and --cause/-c, shared by search and browse."""
    func = click.option("-c", "--cause", "causes", multiple=True, metavar="CAUSE",
                        type=click.Choice(sorted(CAUSES)),
                        help="Only articles with this cause tag (repeat to widen).")(func)
    func = click.option("-p", "--platform", "platforms", multiple=True, metavar="PLATFORM",
                        type=click.Choice(sorted(PLATFORMS)),
                        help="Only articles for this platform (repeat to widen): taobao, alipay, alibaba.")(func)
    return func


@click.group(cls=DefaultGroup, invoke_without_command=True,
             context_settings={"help_option_names": ["-h", "--help"], "auto_envvar_prefix": "ERRKB"})
@click.option("--kb-dir", type=click.Path(file_okay=False), default="kb",
              show_default=True, envvar="ERRKB_KB_DIR", help="Folder of articles [env: ERRKB_KB_DIR].")
@click.option("--index-dir", type=click.Path(), default="index",
              show_default=True, envvar="ERRKB_INDEX_DIR", help="Folder of the search index [env: ERRKB_INDEX_DIR].")
@click.option("--color", "color", type=click.Choice(["auto", "always", "never"]), default="auto",
              show_default=True, help="Colour output; auto means only on a terminal (NO_COLOR honoured).")
@click.option("-q", "--quiet", is_flag=True, help="No messages on stderr, only data and errors.")
@click.version_option(__version__, "-V", "--version", message=VERSION_TEXT)
@click.pass_context
def cli(ctx: click.Context, kb_dir: str, index_dir: str, color: str, quiet: bool) -> None:
    """errkb: find the fix for a Taobao, Alipay or Alibaba.com payment error.

    Paste the error (English, Chinese or both); errkb answers with the
    matching articles and their fixes, best first. Searching is the default
    command, so a quoted message or piped text is enough.

    \b
    Examples:
      kb "支付宝 身份信息过期"
      kb search -p taobao "card declined at checkout"
      pbpaste | kb
      kb browse -p alibaba
      kb show identity-verification-expired
    """
    ctx.obj = Env(kb_dir, index_dir, color, quiet)
    if ctx.invoked_subcommand is None:
        if sys.stdin is not None and not sys.stdin.isatty():
            ctx.invoke(search)
        else:
            click.echo(ctx.get_help())


def read_query(words: tuple[str, ...]) -> str:
    """The query: the words given, or stdin for `-` or when piped."""
    if words == ("-",) or (not words and sys.stdin is not None and not sys.stdin.isatty()):
        stream = click.get_binary_stream("stdin")
        raw = stream.read(MAX_STDIN_BYTES)
        return raw.decode("utf-8", errors="replace")
    if not words:
        raise click.UsageError("give a query, or pipe the error text in (kb search - < error.txt)")
    return " ".join(words)


@cli.command()
@click.argument("query", nargs=-1)
@tag_options
@click.option("-n", "--limit", default=5, show_default=True, type=click.IntRange(1, 1000),
              help="Show at most this many articles.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (results, confident, ...).")
@click.option("--no-pager", is_flag=True, help="Never page, even on a terminal.")
@click.pass_obj
@handle_errors
def search(env: Env, query: tuple[str, ...], platforms: tuple[str, ...], causes: tuple[str, ...],
           limit: int, as_json: bool, no_pager: bool) -> None:
    """Find the articles that answer a pasted error message.

    QUERY is the message (any text: English, Chinese, order numbers and all).
    Use `-`, or no QUERY with piped input, to read it from standard input.
    Exit status 1 when nothing matches.

    \b
    Examples:
      kb search "实名认证已过期 请更新身份信息"
      kb search -p alibaba -n 3 "payment failed insufficient funds"
      kb search --json - < error.txt
    """
    text = read_query(query)
    kb = env.kb()
    result = kb.search(text, platforms=list(platforms), causes=list(causes), limit=limit)
    env.flush_notes(kb)
    if as_json:
        emit_json(result.as_json())
    elif result.hits:
        from .render import render_search

        env.page(render_search(result, env.painter(), width()), no_pager)
    if not result.hits:
        if not as_json:
            hint = f" Did you mean: {result.suggestion}?" if result.suggestion else ""
            click.echo(f"kb: no article matches.{hint} Try `kb browse` to list articles by platform or cause.",
                       err=True)
        sys.exit(int(Exit.NO_MATCH))


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
    cause together narrow it.

    \b
    Examples:
      kb browse -p alibaba
      kb browse -c phone-mismatch -c name-mismatch --json
    """
    kb = env.kb()
    result = kb.browse(platforms=list(platforms), causes=list(causes))
    env.flush_notes(kb)
    if as_jsonl:
        import json

        for article in result.listing():
            click.echo(json.dumps(article, ensure_ascii=False))
    elif as_json:
        emit_json(result.as_json())
    else:
        from .render import render_browse

        env.page(render_browse(result, env.painter()), no_pager)
    if not result.articles:
        if not (as_json or as_jsonl):
            click.echo("kb: no article has these tags", err=True)
        sys.exit(int(Exit.NO_MATCH))


def complete_ids(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
    """Article ids for shell completion: the names of kb/*.md (no index is opened or built)."""
    from pathlib import Path

    from click.shell_completion import CompletionItem

    root = ctx.find_root()
    env = root.obj if isinstance(root.obj, Env) else None
    kb_dir = env.kb_dir if env else Path(os.environ.get("ERRKB_KB_DIR", "kb"))
    try:
        names = sorted(p.stem for p in kb_dir.glob("*.md") if not p.name.startswith((".", "_")))
    except OSError:
        return []
    return [CompletionItem(n) for n in names if n.startswith(incomplete)]


@cli.command()
@click.argument("article_id", metavar="ID", shell_complete=complete_ids)
@click.option("--json", "as_json", is_flag=True, help="Front matter plus sections as JSON.")
@click.option("--raw", is_flag=True, help="The Markdown file as written.")
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
    kb = env.kb()
    article = kb.show(article_id)
    env.flush_notes(kb)
    if raw:
        click.echo(article.path.read_text(encoding="utf-8"), nl=False)
    elif as_html:
        from .article_html import article_html

        click.echo(article_html(article))
    elif as_json:
        emit_json(article_json(article))
    else:
        from .render import render_article

        env.page(render_article(article, env.painter(), width()), no_pager)


def article_json(article: Article) -> dict[str, Any]:
    return article.as_json()  # the core's, shared with the web API


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
        click.echo(f"kb: {finding}", err=True)
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
            click.echo(str(finding))
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
    data = env.kb().info()
    if as_json:
        emit_json(data)
        return
    lines = [VERSION_TEXT, f"articles: {data['kb_dir']} ({data['articles_on_disk']} files)",
             f"index:    {data['index_dir']}"]
    index = data["index"]
    if index is not None:
        lines.append(f"          {index['articles']} articles, built {index['built_at']} "
                     f"({index['age_seconds']}s ago), {index['generation']}")
    else:
        lines.append(f"          {data['index_problem'] or 'not built yet (kb index, or any search, builds it)'}")
    click.echo("\n".join(lines))


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
    click.echo(cls(cli, {}, "kb", "_KB_COMPLETE").source())


@cli.command()
@click.argument("article_id", metavar="ID")
@click.option("-p", "--platform", "platforms", multiple=True, required=True,
              type=click.Choice(sorted(PLATFORMS)), help="A platform the problem happens on (repeatable).")
@click.option("-c", "--cause", "causes", multiple=True, required=True,
              type=click.Choice(sorted(CAUSES)), help="A cause tag (repeatable).")
@click.option("--title", help="The article's title (editable later).")
@click.pass_obj
@handle_errors
def new(env: Env, article_id: str, platforms: tuple[str, ...], causes: tuple[str, ...], title: str | None) -> None:
    """Start a new article from the template (never overwrites).

    \b
    Examples:
      kb new card-expired -p taobao -p alipay -c card-settings
    """
    from .template import create_article

    path = create_article(env.kb_dir, article_id, list(platforms), list(causes), title)
    click.echo(str(path))
    env.say("fill in the TODOs, then run `kb check`")


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; 0.0.0.0 answers every network the machine is on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="Port to listen on.")
@click.option("--threads", default=4, show_default=True, type=click.IntRange(1, 64),
              help="Request threads (searches take turns; the others send and receive).")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Server processes; one per core for a team (searching is CPU-bound).")
@click.option("--recheck", default=0.0, show_default=True, type=click.FloatRange(0),
              help="Seconds a check for edited articles may be reused; 0: every request sees every edit.")
@click.option("--access-log", is_flag=True, help="Log method, path, status and time per request (never the query).")
@click.pass_obj
@handle_errors
def serve(env: Env, host: str, port: int, threads: int, workers: int, recheck: float, access_log: bool) -> None:
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
    """Console-script entry point: never a traceback for the user."""
    try:
        cli.main(prog_name="kb", standalone_mode=True)
    except BrokenPipeError:  # `kb ... | head`
        sys.stderr.close()
        sys.exit(int(Exit.OK))
    except KeyboardInterrupt:
        sys.exit(int(Exit.INTERRUPTED))
    except Exception as exc:  # noqa: BLE001 - the last line of defence
        if os.environ.get("ERRKB_DEBUG"):
            raise
        click.echo(f"kb: internal error: {exc.__class__.__name__}: {exc} (set ERRKB_DEBUG=1 for details)",
                   err=True)
        sys.exit(int(Exit.INTERNAL))
