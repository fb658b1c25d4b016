"""One analyzer for English, Chinese and mixed text, used to index and to query.

- Full-width letters, digits and CJK punctuation are folded to ASCII, and
  Traditional Chinese characters to Simplified (OpenCC's character table,
  `hant.py`), one character for one, so character offsets (for
  highlighting) stay true.
- English: lowercased, stop words dropped, Porter-stemmed.
- Chinese: each run of Han characters becomes overlapping bigrams (a single
  character stays a unigram). Bigrams find words inside longer words
  (预留手机号 in 银行预留手机号不一致) and cost nothing at start-up, where a
  dictionary segmenter (jieba: ~0.6 s to load per process) would blow the
  search latency budget; `make eval` reports how they rank.
- Latin "words" longer than 40 characters are dropped (hashes, base64).
- Numbers: tokens that are all digits, or carry five or more digits (order
  ids, timestamps, masked card numbers, trace ids) are dropped: they never
  describe a problem and would only add noise to long pastes.

The analyzer is pickled into the Whoosh schema, so this module's path and the
class name are part of the index format (`ANALYZER_VERSION` guards changes).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator
from functools import cache
from itertools import chain

from whoosh.analysis import Analyzer, Token
from whoosh.lang.porter import stem as _porter_stem

from .hant import SIMPLIFIED, TRADITIONAL
from .versions import ANALYZER_VERSION

__all__ = ["ANALYZER_VERSION", "ErrkbAnalyzer", "all_han", "count_terms", "fold", "is_han", "iter_folded_tokens",
           "iter_tokens", "stem", "terms", "words"]

#: Longer "words" are blobs (base64, hashes, a held key), never vocabulary.
MAX_WORD_CHARS = 40

#: \w+ compiles in microseconds; a character class mixing \W with the Han
#: ranges takes milliseconds, paid by every `kb search` process.
_WORD = re.compile(r"[^\W_]+")
_DIGIT = re.compile(r"\d")

_FOLD_PAIRS = {
    "\u3000": " ", "。": ".", "，": ",", "、": ",", "；": ";", "：": ":", "？": "?",
    "！": "!", "“": '"', "”": '"', "‘": "'", "’": "'", "（": "(", "）": ")",
    "【": "[", "】": "]", "《": "<", "》": ">", "「": '"', "」": '"', "『": '"',
    "』": '"', "—": "-", "…": ".", "～": "~", "·": " ",
}
FOLD_TABLE: dict[int, str] = {c: chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)}
FOLD_TABLE.update({ord(k): v for k, v in _FOLD_PAIRS.items()})
FOLD_TABLE.update(zip(map(ord, TRADITIONAL), SIMPLIFIED, strict=True))

#: English function words, plus the filler of questions and chat ("how do I
#: get it back", "tried again", "please", "anymore"): in a knowledge base of
#: short articles a rare filler word would otherwise outweigh the symptom.
STOP_WORDS: frozenset[str] = frozenset(
    ["a", "about", "above", "after", "again", "am", "an", "and", "any", "anymore", "anyone", "anything", "are", "as", "at", "be", "because", "been", "before", "being", "below", "between", "both", "but", "by", "can", "could", "did", "do", "does", "doing", "don", "down", "during", "each", "either", "else", "even", "ever", "every", "few", "for", "from", "further", "get", "gets", "getting", "got", "had", "has", "have", "having", "he", "her", "here", "hers", "him", "his", "how", "however", "i", "if", "in", "into", "is", "it", "its", "itself", "just", "let", "like", "me", "more", "most", "much", "my", "myself", "no", "nor", "of", "off", "on", "once", "only", "or", "other", "our", "ours", "out", "over", "own", "please", "same", "she", "should", "so", "some", "something", "such", "than", "thank", "thanks", "that", "the", "their", "theirs", "them", "then", "there", "these", "they", "thing", "things", "this", "those", "through", "to", "too", "try", "tried", "tries", "trying", "under", "until", "up", "us", "use", "used", "using", "very", "via", "want", "wanted", "was", "we", "were", "what", "when", "where", "which", "while", "who", "whom", "why", "will", "with", "would", "yet", "you", "your", "yours", "yourself", "hi", "hello", "ok", "okay", "also", "already", "really", "still", "take", "took", "way",
     # what contractions leave behind once the apostrophe splits them (won't -> won, t)
     "won", "doesn", "didn", "isn", "wasn", "aren", "weren", "couldn", "shouldn", "wouldn", "hasn", "haven", "ll", "ve", "re"]
)


def fold(text: str, *, once: bool = False) -> str:
    """Full-width and CJK punctuation to ASCII and Traditional Chinese to
    Simplified, one character for one (`FOLD_TABLE`). ASCII text, most of
    every article, has nothing to fold and is not scanned; a long text
    replaces just the characters it must (several times faster than
    `str.translate`, which looks every character up), a short one, such as a
    query, is translated and spares the pattern's compilation (as is any text
    folded `once`, a paste of any length: a search process folds only that)."""
    if text.isascii():
        return text
    if once or len(text) < LONG_TEXT:
        return text.translate(FOLD_TABLE)
    return _foldable().sub(_fold_one, text)


#: Texts at least this long are folded by `_foldable()`.
LONG_TEXT = 512


def _fold_one(match: re.Match[str]) -> str:
    return FOLD_TABLE[ord(match.group())]


@cache
def _foldable() -> re.Pattern[str]:
    """The characters `fold` changes, as a class of ranges (compiled once, ~3 ms)."""
    ranges: list[list[int]] = []
    for code in sorted(FOLD_TABLE):
        if ranges and code == ranges[-1][1] + 1:
            ranges[-1][1] = code
        else:
            ranges.append([code, code])
    return re.compile("[" + "".join(re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}"
                                    for a, b in ranges) + "]")


def stem(word: str) -> str:
    """Porter stem."""
    return str(_porter_stem(word))


def _is_number_like(word: str) -> bool:
    digits = len(_DIGIT.findall(word))
    return digits >= 5 or (digits > 0 and digits == len(word))


#: Han (Chinese) characters, errkb's one definition: CJK Unified Ideographs
#: (the main block, first), Extension A and the Compatibility Ideographs; not
#: U+4DC0-4DFF, the Yijing hexagram symbols between the first two.
HAN_RANGES = (("\u4e00", "\u9fff"), ("\u3400", "\u4dbf"), ("\uf900", "\ufaff"))
_MAIN_FIRST, _MAIN_LAST = HAN_RANGES[0]


def is_han(char: str) -> bool:
    """Whether a character is Han (see `HAN_RANGES`)."""
    return "\u4e00" <= char <= "\u9fff" or "\u3400" <= char <= "\u4dbf" or "\uf900" <= char <= "\ufaff"


def all_han(text: str) -> bool:
    """Whether `text` is non-empty and all Han (min/max test the main block in C)."""
    if not text:
        return False
    return (min(text) >= _MAIN_FIRST and max(text) <= _MAIN_LAST) or all(map(is_han, text))


def _runs(folded: str) -> Iterator[tuple[bool, str, int]]:
    """(is_cjk, text, start) for each run of word characters, CJK split from the rest."""
    for match in _WORD.finditer(folded):
        word, start = match.group(), match.start()
        if word.isascii():
            yield False, word, start
            continue
        begin = 0
        for i in range(1, len(word) + 1):
            if i == len(word) or is_han(word[i]) != is_han(word[begin]):
                yield is_han(word[begin]), word[begin:i], start + begin
                begin = i


def cjk_bigrams(run: str, start: int) -> Iterator[tuple[str, int, int]]:
    """A run of Han characters as overlapping bigrams (a lone character as itself)."""
    if len(run) == 1:
        yield run, start, start + 1
        return
    for i in range(len(run) - 1):
        yield run[i : i + 2], start + i, start + i + 2


def _word_term(word: str, stemmed: bool) -> str | None:
    """The term of one lowercased non-Chinese word, or None when it is not
    searchable (too short or long, a stop word, a number)."""
    if not 2 <= len(word) <= MAX_WORD_CHARS or word in STOP_WORDS or _is_number_like(word):
        return None
    return stem(word) if stemmed else word


class _TermOf(dict[str, "str | None"]):
    """word -> `_word_term(word, stemmed)`, filled on first use (the same
    words recur in every article and every paste)."""

    def __init__(self, stemmed: bool) -> None:
        super().__init__()
        self.stemmed = stemmed

    def __missing__(self, word: str) -> str | None:
        if len(self) >= 262144:  # bounded
            self.clear()
        term = self[word] = _word_term(word, self.stemmed)
        return term


_TERM_OF = {True: _TermOf(stemmed=True), False: _TermOf(stemmed=False)}


def iter_tokens(text: str, *, stemmed: bool = True) -> Iterator[tuple[str, int, int]]:
    """Yield (term, start, end) for every searchable token of `text`.

    Bigram positions follow one another, so a run of Chinese keeps its order
    for phrase matching.
    """
    return iter_folded_tokens(fold(text).lower(), stemmed=stemmed)


def iter_folded_tokens(lowered: str, *, stemmed: bool = True) -> Iterator[tuple[str, int, int]]:
    """`iter_tokens` of a text already folded and lowercased (a query, whose
    folded form is kept for codes, synonyms and the exact-message test)."""
    term_of = _TERM_OF[stemmed]
    for cjk, run, start in _runs(lowered):
        if cjk:
            yield from cjk_bigrams(run, start)
        else:
            term = term_of[run]
            if term is not None:
                yield term, start, start + len(run)


def terms(text: str, *, stemmed: bool = True) -> list[str]:
    """The terms of `text`, in order (duplicates kept): `iter_tokens` without
    the offsets, on a faster path for the ASCII words that make up most text."""
    found: list[str] = []
    term_of = _TERM_OF[stemmed].__getitem__
    if not text.isascii():
        text = fold(text)
    for word in _WORD.findall(text.lower()):
        if word.isascii():
            term = term_of(word)
            if term is not None:
                found.append(term)
        elif min(word) >= _MAIN_FIRST and max(word) <= _MAIN_LAST:  # all Han, the common case: its bigrams
            found.extend([word[i : i + 2] for i in range(len(word) - 1)] if len(word) > 1 else [word])
        else:  # scripts mixed in one word, or the rarer Han blocks
            found.extend(term for term, _, _ in iter_tokens(word, stemmed=stemmed))
    return found


def words(text: str) -> list[str]:
    """The words `terms` finds in `text`, folded and lowercased, before they
    become terms: what a build counts once for several fields
    (`count_terms`). The words of two texts joined by a line break are the
    words of one, then of the other."""
    if not text.isascii():
        text = fold(text)
    return _WORD.findall(text.lower())


def _word_terms(word: str, stemmed: bool) -> tuple[str, ...]:
    """The terms `terms` makes of one of its words (the three cases of its loop)."""
    if word.isascii():
        term = _TERM_OF[stemmed][word]
        return () if term is None else (term,)
    if min(word) >= _MAIN_FIRST and max(word) <= _MAIN_LAST:
        return tuple([word[i : i + 2] for i in range(len(word) - 1)]) if len(word) > 1 else (word,)
    return tuple(term for term, _, _ in iter_tokens(word, stemmed=stemmed))


class _TermsOf(dict[str, tuple[str, ...]]):
    """word -> `_word_terms(word, stemmed)`, kept for the ASCII words that
    recur from article to article (Chinese words rarely do: not kept)."""

    def __init__(self, stemmed: bool) -> None:
        super().__init__()
        self.stemmed = stemmed

    def __missing__(self, word: str) -> tuple[str, ...]:
        found = _word_terms(word, self.stemmed)
        if word.isascii():
            if len(self) >= 262144:  # bounded
                self.clear()
            self[word] = found
        return found


_TERMS_OF = {True: _TermsOf(stemmed=True), False: _TermsOf(stemmed=False)}


def count_terms(found: Iterable[str], *, stemmed: bool = True) -> Counter[str]:
    """`Counter(terms(text))` of the text whose `words` are `found`, counted
    in the same order, with no Python step per word once its terms are known
    (a build counts two million words)."""
    return Counter(chain.from_iterable(map(_TERMS_OF[stemmed].__getitem__, found)))


class ErrkbAnalyzer(Analyzer):  # type: ignore[misc]
    """Whoosh analyzer around `iter_tokens` (stemmed or not)."""

    def __init__(self, stemmed: bool = True) -> None:
        self.stemmed = stemmed

    def __call__(
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs: object,
    ) -> Iterator[Token]:
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if not tokenize:
            token.original = token.text = value
            token.boost = 1.0
            if positions:
                token.pos = start_pos
            if chars:
                token.startchar, token.endchar = start_char, start_char + len(value)
            yield token
            return
        for pos, (term, start, end) in enumerate(iter_tokens(value, stemmed=self.stemmed), start=start_pos):
            token.text = term
            token.boost = 1.0
            token.stopped = False
            if keeporiginal:
                token.original = value[start:end]
            if positions:
                token.pos = pos
            if chars:
                token.startchar, token.endchar = start_char + start, start_char + end
            yield token
