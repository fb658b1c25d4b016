"""The README stays true to the program: CLI reference, rule codes, commands."""

from __future__ import annotations

from conftest import ROOT
from errkb.clidoc import END, START, reference


def test_readme_cli_reference_matches_the_help_text() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split(START, 1)[1].split(END, 1)[0].strip()
    assert section == reference().strip(), "run `python -m errkb.clidoc` to regenerate"


def test_readme_starts_with_the_two_setup_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    first_block = readme.split("```sh", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in first_block.strip().splitlines()]
    assert commands == ['make search Q="支付宝 身份信息过期"', "make test"]


def test_ci_runs_exactly_the_readme_test_command() -> None:
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert [line for line in script.splitlines() if line.startswith("make")] == ["make test"]
