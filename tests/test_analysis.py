"""The analyzer: English stemming, Chinese bigrams, folding and number dropping."""

from __future__ import annotations

from errkb.analysis import ErrkbAnalyzer, fold, terms


def test_english_is_lowercased_stemmed_and_stopped() -> None:
    assert terms("The Payments were DECLINED by your bank") == ["payment", "declin", "bank"]


def test_chinese_runs_become_overlapping_bigrams() -> None:
    assert terms("银行预留手机号") == ["银行", "行预", "预留", "留手", "手机", "机号"]


def test_a_word_inside_a_longer_chinese_word_shares_its_bigrams() -> None:
    assert set(terms("预留手机号")) <= set(terms("银行预留手机号不一致"))


def test_mixed_text_splits_latin_from_han() -> None:
    assert terms("Alipay支付宝verification") == ["alipai", "支付", "付宝", "verif"]


def test_full_width_letters_and_punctuation_fold_one_for_one() -> None:
    text = "ＡＢＣ１２３：「你好」"
    assert fold(text) == 'ABC123:"你好"'
    assert len(fold(text)) == len(text)


def test_numbers_and_ids_are_dropped_but_codes_like_words_stay() -> None:
    assert terms("order 5521093847165029384 at 12:03:44 card 6222****1234 E1001") == ["order", "card", "e1001"]


def test_single_han_character_is_kept_as_a_unigram() -> None:
    assert terms("卡") == ["卡"]


def test_analyzer_gives_positions_and_character_offsets() -> None:
    tokens = [(t.text, t.pos, t.startchar, t.endchar)
              for t in ErrkbAnalyzer()("手机号 mismatch", positions=True, chars=True)]
    assert tokens == [("手机", 0, 0, 2), ("机号", 1, 1, 3), ("mismatch", 2, 4, 12)]


def test_unstemmed_analyzer_keeps_words_whole() -> None:
    assert [t.text for t in ErrkbAnalyzer(stemmed=False)("Verification failed")] == ["verification", "failed"]


def test_han_is_defined_once_and_excludes_the_hexagram_block() -> None:
    from errkb.analysis import HAN_RANGES, all_han, is_han

    for first, last in HAN_RANGES:
        assert all(is_han(chr(c)) for c in range(ord(first), ord(last) + 1))
    assert not any(is_han(chr(c)) for c in range(0x4DC0, 0x4E00))  # Yijing hexagram symbols
    assert all_han("支付宝") and all_han("\u3400\uf900") and not all_han("支付宝x") and not all_han("")


def test_fold_is_the_fold_table_applied_one_character_for_one() -> None:
    import random

    from errkb.analysis import FOLD_TABLE, LONG_TEXT, fold

    rng = random.Random(7)
    pool = [*map(chr, FOLD_TABLE), "支", "付", "a", "Z", " ", "\u3001", "\uff5f", "\uff00", "🙂"]
    for n in range(2000):  # every 20th text is long enough for the pattern path
        size = rng.randrange(LONG_TEXT, LONG_TEXT + 600) if n % 20 == 0 else rng.randrange(0, 40)
        text = "".join(rng.choice(pool) if rng.random() < 0.7 else chr(rng.randrange(0x20, 0x3_0000))
                       for _ in range(size))
        text = text.encode("utf-8", "surrogatepass").decode("utf-8", "surrogatepass")
        assert fold(text) == text.translate(FOLD_TABLE) and len(fold(text)) == len(text)
