"""`kb` from any folder: which articles, which index folder, the config file,
and (slow) a real install into a fresh virtual environment."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from conftest import FIXTURE_KB, REAL_KB, ROOT
from errkb import locations
from errkb.cli import cli
from errkb.exitcodes import Exit


def run(runner: CliRunner, args: list[str], **kwargs: object) -> Result:
    return runner.invoke(cli, args, catch_exceptions=False, **kwargs)  # type: ignore[arg-type]


def info(runner: CliRunner, args: list[str] | None = None, **kwargs: object) -> dict[str, object]:
    result = run(runner, [*(args or []), "info", "--json"], **kwargs)
    assert result.exit_code == Exit.OK, result.stderr
    data: dict[str, object] = json.loads(result.stdout)
    return data


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder with no knowledge base in it, as the current folder."""
    folder = tmp_path / "home"
    folder.mkdir()
    monkeypatch.chdir(folder)
    monkeypatch.delenv("ERRKB_KB_DIR", raising=False)
    monkeypatch.delenv("ERRKB_INDEX_DIR", raising=False)
    return folder


def test_outside_a_clone_the_installed_articles_answer(runner: CliRunner, elsewhere: Path) -> None:
    result = run(runner, ["-q", "search", "--json", "card declined"])
    assert result.exit_code == Exit.OK
    data = json.loads(result.stdout)
    assert data["results"] and Path(data["results"][0]["path"]).parent == locations.installed_kb()
    assert not (elsewhere / "index").exists()
    where = info(runner)
    assert where["kb_source"] == locations.FROM_INSTALL and where["index_source"] == locations.INDEX_IN_CACHE
    assert str(where["index_dir"]).startswith(os.environ["XDG_CACHE_HOME"])


def test_a_kb_folder_in_the_current_folder_wins_with_index_beside_it(runner: CliRunner, elsewhere: Path) -> None:
    shutil.copytree(FIXTURE_KB, elsewhere / "kb")
    result = run(runner, ["-q", "search", "--json", "E1001"])
    assert json.loads(result.stdout)["results"][0]["id"] == "card-expired-e1001"
    assert (elsewhere / "index" / "errkb-index.json").exists()
    where = info(runner)
    assert where["kb_source"] == locations.FROM_CWD and where["index_source"] == locations.INDEX_BESIDE_KB


def test_a_kb_folder_without_articles_is_not_a_knowledge_base(runner: CliRunner, elsewhere: Path) -> None:
    (elsewhere / "kb").mkdir()
    (elsewhere / "kb" / "notes.md").write_text("my own notes, no front matter\n")
    assert info(runner)["kb_source"] == locations.FROM_INSTALL


def test_explicit_kb_dir_and_env_index_in_the_cache_keyed_by_path(runner: CliRunner, elsewhere: Path,
                                                                   tmp_path: Path) -> None:
    one, two = tmp_path / "one" / "kb", tmp_path / "two" / "kb"
    shutil.copytree(FIXTURE_KB, one)
    shutil.copytree(FIXTURE_KB, two)
    a = info(runner, ["--kb-dir", str(one)])
    b = info(runner, env={"ERRKB_KB_DIR": str(two)})
    assert a["kb_source"] == locations.FROM_OPTION and b["kb_source"] == locations.FROM_ENV
    assert a["index_dir"] != b["index_dir"]
    assert a["index_dir"] == str(locations.cache_index_dir(one))
    assert run(runner, ["-q", "--kb-dir", str(one), "search", "E1001"]).exit_code == Exit.OK
    assert not (elsewhere / "index").exists()  # ERRKB_KB_DIR no longer makes ./index where you stand
    assert Path(str(a["index_dir"]), "errkb-index.json").exists()


def test_config_file_sets_kb_dir_colour_and_limit(runner: CliRunner, elsewhere: Path, tmp_path: Path) -> None:
    shutil.copytree(FIXTURE_KB, tmp_path / "mine")
    config = Path(os.environ["XDG_CONFIG_HOME"]) / "errkb" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text(f'kb_dir = "{tmp_path / "mine"}"\ncolor = "always"\nlimit = 1\n', encoding="utf-8")
    result = run(runner, ["-q", "identity card limit"])
    assert "\x1b[" in result.stdout and "Also:" not in result.stdout
    assert len(json.loads(run(runner, ["-q", "search", "--json", "identity card limit"]).stdout)["results"]) == 1
    # The command line and the environment beat the file.
    assert len(json.loads(run(runner, ["-q", "search", "-n", "3", "--json", "identity card limit"]).stdout)[
        "results"]) > 1
    assert "\x1b[" not in run(runner, ["-q", "--color", "never", "identity"]).stdout
    where = info(runner)
    assert where["kb_source"] == locations.FROM_CONFIG and where["config_file"] == str(config)
    assert where["config_found"] is True
    assert f"config:   {config} (read)" in run(runner, ["info"]).stdout


def test_config_paths_are_relative_to_the_file(runner: CliRunner, elsewhere: Path, tmp_path: Path) -> None:
    config = tmp_path / "conf" / "errkb.toml"
    shutil.copytree(FIXTURE_KB, tmp_path / "conf" / "articles")
    config.write_text('kb_dir = "articles"\n', encoding="utf-8")
    assert info(runner, env={"ERRKB_CONFIG": str(config)})["kb_dir"] == str(tmp_path / "conf" / "articles")


@pytest.mark.parametrize(("text", "problem"), [
    ("colour = 'never'\n", "unknown key 'colour' (known: kb_dir, index_dir, color, limit)"),
    ("color = 'sometimes'\n", "color must be one of auto, always, never, not 'sometimes'"),
    ("limit = 0\n", "limit must be a whole number from 1 to 1000, not 0"),
    ("limit = [\n", "is not valid TOML"),
])
def test_a_bad_config_file_is_one_line_naming_it_exit_2(runner: CliRunner, elsewhere: Path, tmp_path: Path,
                                                        text: str, problem: str) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(text, encoding="utf-8")
    result = runner.invoke(cli, ["search", "x"], env={"ERRKB_CONFIG": str(config)})
    assert result.exit_code == Exit.USAGE
    assert result.stderr.startswith(f"kb: error: config file {config}: {problem}")
    assert result.stderr.count("\n") == 1


def test_info_names_the_config_file_even_when_absent(runner: CliRunner, elsewhere: Path) -> None:
    text = run(runner, ["info"]).stdout
    expected = Path(os.environ["XDG_CONFIG_HOME"]) / "errkb" / "config.toml"
    assert f"config:   {expected} (not present" in text and "None" not in text


def test_the_wheel_and_sdist_configuration_ships_the_articles() -> None:
    """pyproject maps errkb.articles to the top-level kb/ (proved by the slow build test)."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    assert config["package-dir"]["errkb.articles"] == "kb"
    assert "errkb.articles" in config["packages"]
    assert config["package-data"]["errkb.articles"] == ["*.md"]


@pytest.mark.slow
def test_pip_install_into_a_fresh_venv_then_kb_from_home_just_works(tmp_path: Path) -> None:
    """Build the sdist, build a wheel from it, install that wheel into a new
    venv, and search from an empty $HOME: the 20 articles come with it."""
    if not (ROOT / ".git").exists() or shutil.which("git") is None:
        pytest.skip("needs a git checkout")
    source = tmp_path / "src"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(source)], check=True, timeout=120)
    # The working tree as it is (tests run before a commit too).
    for name in ("pyproject.toml", "Makefile", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    shutil.rmtree(source / "src")
    shutil.copytree(ROOT / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__"))
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    pip = [str(python), "-m", "pip", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "install", "setuptools>=77"], check=True, timeout=600)
    dist = tmp_path / "dist"
    subprocess.run([str(python), "-c", f"import setuptools.build_meta as b; print(b.build_sdist({str(dist)!r}))"],
                   cwd=source, check=True, timeout=600, capture_output=True)
    sdist = next(dist.glob("errkb-*.tar.gz"))
    import tarfile

    with tarfile.open(sdist) as archive:
        shipped = [n for n in archive.getnames() if n.split("/", 1)[-1].startswith("kb/") and n.endswith(".md")]
    assert len(shipped) == len(list(REAL_KB.glob("*.md")))
    subprocess.run([*pip, "wheel", "--no-deps", "-w", str(dist), str(sdist)], check=True, timeout=600)
    wheel = next(dist.glob("errkb-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    articles = [n for n in names if n.startswith("errkb/articles/") and n.endswith(".md")]
    assert len(articles) == len(list(REAL_KB.glob("*.md"))) == 20
    web = Path(__file__).resolve().parents[1] / "src" / "errkb" / "web"
    for folder in ("templates", "static"):  # kb serve's pages and assets ship too
        for path in (web / folder).iterdir():
            assert f"errkb/web/{folder}/{path.name}" in names
    subprocess.run([*pip, "install", str(wheel)], check=True, timeout=600)
    home = tmp_path / "home"
    home.mkdir()
    clean_env = {k: v for k, v in os.environ.items() if not k.startswith(("ERRKB_", "XDG_", "PYTHON"))}
    clean_env["HOME"] = str(home)
    result = subprocess.run([str(env_dir / "bin" / "kb"), "card declined"], cwd=home, env=clean_env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("1. ") and "kb show" in result.stdout
    assert not (home / "index").exists() and (home / ".cache" / "errkb" / "indexes").is_dir()
    where = subprocess.run([str(env_dir / "bin" / "kb"), "info", "--json"], cwd=home, env=clean_env,
                           capture_output=True, text=True, timeout=300)
    data = json.loads(where.stdout)
    assert data["kb_source"] == locations.FROM_INSTALL and data["articles_on_disk"] == 20
    assert "site-packages" in data["kb_dir"]
    assert sys.executable != str(python)


@pytest.mark.parametrize("xdg", [None, "", "   ", "/srv/xdg"])
def test_user_folders_are_the_ones_platformdirs_gives(monkeypatch: pytest.MonkeyPatch, xdg: str | None) -> None:
    import platformdirs

    for variable in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
        if xdg is None:
            monkeypatch.delenv(variable, raising=False)
        else:
            monkeypatch.setenv(variable, xdg)
    assert locations.user_folder("config") == platformdirs.user_config_path("errkb")
    assert locations.user_folder("cache") == platformdirs.user_cache_path("errkb")
