"""Which lines of a long paste carry the error.

A chat log, an e-mail or an app log holds the error in one or two lines among
greetings, timestamps and chatter. The lines that look like what an app,
a bank or an API shows — quoted or bracketed text, an error code, the words
error messages are made of — keep their full weight; the other lines of the
paste count for less (`BACKGROUND_WEIGHT`), so that a word said in passing
does not outweigh the message itself. Short queries are left as they are.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from functools import cache

#: Lines a paste needs before some of them are weighed down.
MIN_LINES = 3
#: The weight of a term found only on lines that do not look like a message.
BACKGROUND_WEIGHT = 0.5


@cache
def _message_pattern() -> re.Pattern[str]:
    """Quoted or bracketed text, an error code, or the words error messages are
    made of, in English and Chinese. Compiled on the first paste of several
    lines: a one-line query never pays for it."""
    quoted = r'"[^"\n]{8,}"|“[^”\n]{4,}”|「[^」\n]{2,}」|『[^』\n]{2,}』|【[^】\n]{1,12}】'
    code = r"(?-i:\b[A-Z][A-Z0-9]*(?:[._][A-Z0-9]+)+\b|\b[A-Z]+\d{3,}\b)"
    words = (
        r"\b(?:error|errors|fail(?:ed|s|ure)?|declined?|rejected|denied|unable|cannot|can't|couldn't|"
        r"not (?:supported|allowed|available|valid)|invalid|expired?|exceed(?:ed|s)?|insufficient|"
        r"limit(?:ed)?|blocked|frozen|locked|suspended|restricted|risk|timeout|timed out|"
        r"unsuccessful|abnormal|try again later|unavailable|not accepted|(?:isn't|wasn't|not) working|"
        r"(?:doesn't|does not|didn't|did not|won't|will not) (?:work|go through|accept|load))\b"
        r"|失败|错误|无法|不支持|异常|超出|超过|超限|不足|过期|失效|冻结|锁定|拒绝|限制|风险|未通过|不一致|暂不|请重新|请稍后"
    )
    return re.compile(f"{quoted}|{code}|{words}", re.IGNORECASE)


class LineWeights:
    """The weight of each character offset's line in a (folded) paste."""

    def __init__(self, text: str) -> None:
        self._starts: list[int] = []
        self._weights: list[float] = []
        lines = text.split("\n")
        if len(lines) < MIN_LINES:
            self._starts, self._weights = [0], [1.0]
            return
        pattern = _message_pattern()
        marked = [pattern.search(line) is not None for line in lines]
        content = [m for line, m in zip(lines, marked, strict=True) if line.strip()]
        weigh = len(content) >= MIN_LINES and any(content) and not all(content)
        offset = 0
        for line, is_message in zip(lines, marked, strict=True):
            self._starts.append(offset)
            self._weights.append(1.0 if is_message or not weigh else BACKGROUND_WEIGHT)
            offset += len(line) + 1

    def at(self, offset: int) -> float:
        return self._weights[bisect_right(self._starts, offset) - 1]
