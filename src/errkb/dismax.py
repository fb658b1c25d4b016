"""A working disjunction-max query for Whoosh.

Whoosh 2.7's `DisjunctionMax` ignores its tiebreak, scores a document with
sub-matchers positioned on *other* documents, and drops a whole branch when
one side runs out during optimisation (`DisjunctionMaxMatcher.replace`). errkb
needs the real thing: a word matched in several fields, or a group of
synonyms, counts as its best match (plus `tiebreak` times the others), not as
the sum. This matcher inherits the union's positioning and its (sum-based,
hence safe) quality pruning, and fixes scoring.
"""

from __future__ import annotations

from typing import Any

from whoosh import matching
from whoosh.matching.binary import UnionMatcher
from whoosh.query import DisjunctionMax as _WhooshDisMax
from whoosh.query.compound import make_binary_tree


class DisMaxMatcher(UnionMatcher):  # type: ignore[misc]
    """max(a, b) + tiebreak * min(a, b) for documents both sides match."""

    def __init__(self, a: Any, b: Any, tiebreak: float = 0.0) -> None:
        super().__init__(a, b)
        self.tiebreak = tiebreak

    def copy(self) -> DisMaxMatcher:
        return self.__class__(self.a.copy(), self.b.copy(), tiebreak=self.tiebreak)

    def _combine(self, x: float, y: float) -> float:
        return max(x, y) + self.tiebreak * min(x, y)

    def replace(self, minquality: float = 0) -> Any:
        a, b = self.a, self.b
        if not (a.is_active() or b.is_active()):
            return matching.NullMatcher()
        if not a.is_active():
            return b.replace(minquality)
        if not b.is_active():
            return a.replace(minquality)
        new_a, new_b = a.replace(0), b.replace(0)
        if new_a is not a or new_b is not b:
            return self.__class__(new_a, new_b, tiebreak=self.tiebreak)
        return self

    def score(self) -> float:
        a, b = self.a, self.b
        if not a.is_active():
            return float(b.score())
        if not b.is_active():
            return float(a.score())
        id_a, id_b = a.id(), b.id()
        if id_a < id_b:
            return float(a.score())
        if id_b < id_a:
            return float(b.score())
        return self._combine(a.score(), b.score())

    def skip_to_quality(self, minquality: float) -> int:
        """Skip blocks of each side that cannot reach `minquality` on their own.

        Whoosh's contract: afterwards the block quality is at least
        `minquality` or the matcher is done (the union's sum-based loop would
        never end here, since a max is below a sum). A document that only the
        tiebreak share would lift over the bar may be skipped: the share is
        small and the bar is the k-th best score so far.
        """
        skipped = 0
        for child in (self.a, self.b):
            if child.is_active() and child.block_quality() < minquality:
                skipped += child.skip_to_quality(minquality)
        return skipped

    def max_quality(self) -> float:
        return self._combine(self.a.max_quality(), self.b.max_quality())

    def block_quality(self) -> float:
        return self._combine(self.a.block_quality(), self.b.block_quality())


class DisMax(_WhooshDisMax):  # type: ignore[misc]
    """`DisjunctionMax` with `DisMaxMatcher` underneath."""

    def _matcher(self, subs: list[Any], searcher: Any, context: Any) -> Any:
        matchers = [q.matcher(searcher, context) for q in subs]
        if len(matchers) == 1:
            m = matchers[0]
        else:
            m = make_binary_tree(DisMaxMatcher, matchers, tiebreak=self.tiebreak)
        if self.boost != 1.0:
            m = matching.WrappingMatcher(m, self.boost)
        return m
