"""Rough token counts, good enough to keep a prompt within a budget.

Real tokenizers differ by model; what matters here is the order of size:
a CJK character is about one token, other text about four characters a token.
"""

from __future__ import annotations

import math
import re

CJK = re.compile(r"[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]")


def estimate_tokens(text: str) -> int:
    cjk = len(CJK.findall(text))
    return cjk + math.ceil((len(text) - cjk) / 4)


def truncate_to_tokens(text: str, budget: int) -> str:
    """The longest head of `text` whose estimate fits in `budget` tokens."""
    if estimate_tokens(text) <= budget:
        return text
    low, high = 0, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if estimate_tokens(text[:middle]) <= budget:
            low = middle
        else:
            high = middle - 1
    return text[:low]
