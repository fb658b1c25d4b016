"""Validation rules: each broken article yields its finding with file, line and code."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from conftest import WriteArticle, article_text
from errkb.validate import RULES, check_kb

TODAY = date(2026, 11, 21)


def codes_at(kb_dir: Path) -> set[tuple[str, int, str]]:
    """(file name, line, code) of every finding."""
    return {(Path(f.path).name, f.line, f.code) for f in check_kb(kb_dir, today=TODAY).findings}


def test_valid_article_has_no_findings(kb_dir: Path, write_article: WriteArticle) -> None:
    write_article("card-declined")
    assert check_kb(kb_dir, today=TODAY).findings == []


@pytest.mark.parametrize(
    ("parts", "line", "code"),
    [
        ({"platforms": "[wechat]"}, 4, "E008"),
        ({"causes": "[bad-luck]"}, 5, "E009"),
        ({"platforms": "[]"}, 4, "E006"),
        ({"title": ""}, 3, "E006"),
        ({"platforms": "taobao"}, 4, "E007"),
        ({"codes": "{a: 1}"}, 11, "E007"),
        ({"zh": '"no chinese here"'}, 6, "E017"),
        ({"related": "[does-not-exist]"}, 12, "W110"),
        ({"fixes": "Just call the bank."}, 25, "E015"),
        ({"extra_front": "plaforms: [alipay]\n"}, 15, "W109"),
    ],
)
def test_broken_front_matter_is_reported_at_its_line(
    kb_dir: Path, write_article: WriteArticle, parts: dict[str, str], line: int, code: str
) -> None:
    write_article("card-declined", **parts)
    assert ("card-declined.md", line, code) in codes_at(kb_dir)


def test_id_must_equal_the_file_name(kb_dir: Path, write_article: WriteArticle) -> None:
    write_article("other-name", raw=article_text("card-declined"))
    assert codes_at(kb_dir) == {("other-name.md", 2, "E010")}


def test_missing_and_out_of_order_sections(kb_dir: Path, write_article: WriteArticle) -> None:
    text = article_text("card-declined").replace("## Prevention", "## Notes")
    text = text.replace("## Why it happens\n\nThe bank refuses online payments.\n\n", "")
    text = text.replace("## Related", "## Related\n\n## Why it happens\n\nLate.")
    write_article("card-declined", raw=text)
    found = codes_at(kb_dir)
    assert ("card-declined.md", 32, "E014") in found  # Why it happens after Related
    assert ("card-declined.md", 26, "E014") in found  # unknown section "Notes"
    assert ("card-declined.md", 16, "E013") in found  # Prevention missing (reported where the body starts)


@pytest.mark.parametrize(
    ("raw", "line", "code"),
    [
        (b"\xff\xfe not utf-8", 1, "E001"),
        (b"no front matter\n", 1, "E002"),
        (b"---\nid: x\n", 1, "E003"),
        (b"---\nid: x\ntitle: [unclosed\n---\n", 4, "E004"),
        (b"---\n- a\n- b\n---\n", 2, "E005"),
        (b"---\nid: !!python/object/apply:os.system [echo]\n---\n", 2, "E004"),
    ],
)
def test_unreadable_files_name_file_line_and_code(kb_dir: Path, raw: bytes, line: int, code: str) -> None:
    (kb_dir / "x.md").write_bytes(raw)
    assert codes_at(kb_dir) == {("x.md", line, code)}


def test_duplicate_ids_and_codes_between_articles(kb_dir: Path, write_article: WriteArticle) -> None:
    write_article("a-first", codes="[E1001]", en='"one"', zh='"一"', title="A")
    (kb_dir / "b-second.md").write_text(
        article_text("a-first", codes="[e1001]", en='"two"', zh='"二"', title="B"), encoding="utf-8")
    write_article("c-third", codes="[E1001]", en='"three"', zh='"三"', title="C")
    found = codes_at(kb_dir)
    assert ("b-second.md", 2, "E011") in found
    assert ("c-third.md", 11, "E012") in found
    assert not any(name == "a-first.md" and code.startswith("E") and code != "E023"  # E023: codes, no URL
                   for name, _, code in found)


def test_warnings_do_not_make_errors(kb_dir: Path, write_article: WriteArticle) -> None:
    write_article("a-one", title="Same title")
    text = article_text("b-two", title="Same title").replace("Call the bank.", "Call the bank.\t  ")
    (kb_dir / "b-two.md").write_bytes(text.replace("\n", "\r\n").encode())
    (kb_dir / "notes.txt").write_text("not an article")
    result = check_kb(kb_dir, today=TODAY)
    found = {(Path(f.path).name, f.code) for f in result.findings}
    assert {("b-two.md", "W101"), ("b-two.md", "W102"), ("b-two.md", "W103"), ("b-two.md", "W104"),
            ("b-two.md", "W105"), ("notes.txt", "W107")} <= found
    assert result.errors == []


def test_old_updated_date_warns_with_a_configurable_age(kb_dir: Path, write_article: WriteArticle) -> None:
    write_article("card-declined")  # updated 2026-11-01
    assert check_kb(kb_dir, today=TODAY, max_age_days=30).findings == []
    old = check_kb(kb_dir, today=TODAY, max_age_days=10).findings
    assert [(f.line, f.code) for f in old] == [(14, "W106")]


def test_symlink_is_not_followed(kb_dir: Path, tmp_path: Path) -> None:
    outside = tmp_path / "secret.md"
    outside.write_text(article_text("secret"))
    (kb_dir / "secret.md").symlink_to(outside)
    result = check_kb(kb_dir, today=TODAY)
    assert result.articles == []
    assert [(Path(f.path).name, f.code) for f in result.findings] == [("secret.md", "W108")]


def test_oversized_article_is_refused(kb_dir: Path) -> None:
    (kb_dir / "huge.md").write_text(article_text("huge") + "x" * (11 * 1024 * 1024))
    assert codes_at(kb_dir) == {("huge.md", 1, "E019")}


def test_every_rule_code_is_documented_in_the_readme() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    assert [code for code in RULES if f"`{code}`" not in readme] == []
