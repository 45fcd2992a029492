"""Turn Chinese and English text into the terms the FAQ index counts.

Latin letters and digits form words, as usual. Chinese is written without
spaces and we ship no dictionary (a segmenter such as jieba costs tens of
megabytes per worker), so a run of CJK characters becomes its single
characters plus every overlapping pair: "发货时间" gives 发 货 时 间 发货 货时
时间. Pairs carry most of the meaning; singles let a one-character
paraphrase still meet its entry.

NFKC folds full-width letters and digits to ASCII; punctuation of either
width separates terms and is never a term itself.
"""

from __future__ import annotations

import re
import unicodedata

# Words every question has; matching on them would make unrelated entries
# look alike.
ENGLISH_STOP_TEXT = """
    a an the and or but if of to in on at by for with from about as into
    is are was were be been being am do does did done have has had
    i me my mine we us our you your yours he she it its they them their
    this that these those there here what which who whom whose when where
    why how can could will would shall should may might must
    please hi hello thanks thank just any some not no so than too very
    get got want need know tell let like make take give also
"""
ENGLISH_STOP_WORDS = frozenset(ENGLISH_STOP_TEXT.split())

# Chinese function words and question particles. They split a CJK run like
# punctuation does, so "我的订单" yields 订单 and not the noise pair 的订.
CHINESE_STOP_WORDS = (
    "为什么", "怎么样", "请问", "怎么", "什么", "如何", "怎样", "哪里", "哪儿",
    "可以", "能否", "是否", "你们", "我们", "一下",
    "的", "了", "吗", "呢", "吧", "啊", "呀", "么", "嘛", "哦", "是", "我",
    "你", "请", "在", "和", "与",
)  # fmt: skip

CJK_CLASS = (
    "\u3040-\u30ff"  # kana
    "\u3400-\u4dbf"  # CJK extension A
    "\u4e00-\u9fff"  # CJK unified ideographs
    "\uac00-\ud7af"  # hangul syllables
    "\uf900-\ufaff"  # CJK compatibility ideographs
)
TERM_RUNS = re.compile(rf"[a-z0-9]+(?:'[a-z]+)?|[{CJK_CLASS}]+")
CHINESE_STOP_PATTERN = re.compile("|".join(map(re.escape, CHINESE_STOP_WORDS)))


def tokenize(text: str) -> list[str]:
    """The terms of `text` in order, repeated as often as they occur."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    terms: list[str] = []
    for run in TERM_RUNS.findall(folded):
        if run[0].isascii():
            terms.extend(latin_terms(run))
        else:
            terms.extend(cjk_terms(run))
    return terms


def latin_terms(word: str) -> list[str]:
    word = word.split("'", 1)[0]  # "order's" -> "order", "don't" -> "don"
    if word in ENGLISH_STOP_WORDS:
        return []
    return [word_stem(word)]


def word_stem(word: str) -> str:
    """Strip a regular plural, -ing or -ed ending; leave anything doubtful.

    Crude next to a real stemmer, but it lets "shipping" meet "ships" and
    "opening" meet "open", which is most of what FAQ paraphrases need.
    """
    if len(word) <= 3 or word.isdigit():
        return word
    if word.endswith("ing") and len(word) > 5:
        return undouble(word[:-3])
    if word.endswith("ed") and len(word) > 5 and not word.endswith("eed"):
        return undouble(word[:-2])
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "shes", "ches", "xes", "zes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def undouble(stem: str) -> str:
    # "shipp" -> "ship", "stopp" -> "stop"; "bill" and "miss" stay whole.
    if len(stem) > 2 and stem[-1] == stem[-2] and stem[-1] not in "lsz":
        return stem[:-1]
    return stem


def cjk_terms(run: str) -> list[str]:
    terms: list[str] = []
    for piece in CHINESE_STOP_PATTERN.split(run):
        terms.extend(piece)
        terms.extend(piece[i : i + 2] for i in range(len(piece) - 1))
    return terms
