"""Traditional Chinese folds to Simplified, one character for one, from OpenCC's tables."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from errkb import hant
from errkb.analysis import fold, terms

ROOT = Path(__file__).resolve().parents[1]


def test_table_is_what_opencc_gives() -> None:
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import gen_hant
    finally:
        sys.path.pop(0)
    if importlib.util.find_spec("opencc") is None:
        pytest.skip("opencc-python-reimplemented (a test extra) is not installed")
    generated = gen_hant.render(gen_hant.mapping(gen_hant.opencc_dictionary()))
    assert (ROOT / "src" / "errkb" / "hant.py").read_text(encoding="utf-8") == generated


def test_table_is_one_for_one() -> None:
    assert len(hant.TRADITIONAL) == len(hant.SIMPLIFIED) == len(set(hant.TRADITIONAL))


@pytest.mark.parametrize(("traditional", "simplified"), [
    ("實名認證已過期，請重新認證", "实名认证已过期，请重新认证"),
    ("銀行預留手機號碼不一致", "银行预留手机号码不一致"),
    ("餘額不足，付款失敗", "余额不足，付款失败"),
    ("臺灣的銀行卡", "台湾的银行卡"),  # a Taiwan variant (臺) through OpenCC's variant table
])
def test_traditional_text_has_the_simplified_terms(traditional: str, simplified: str) -> None:
    assert len(fold(traditional)) == len(traditional)
    assert terms(traditional) == terms(simplified)
    assert terms(traditional)  # not both empty


def test_simplified_and_english_are_untouched() -> None:
    text = "支付宝 实名认证 Card declined 12:03"
    assert fold(text) == text
