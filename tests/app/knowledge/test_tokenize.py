"""Chinese, English and mixed text become comparable terms."""

from __future__ import annotations

from app.knowledge.tokenize import tokenize


def test_chinese_becomes_single_characters_and_overlapping_pairs():
    assert tokenize("发货时间") == ["发", "货", "时", "间", "发货", "货时", "时间"]


def test_chinese_particles_and_punctuation_split_runs_without_becoming_terms():
    assert tokenize("请问，我的订单呢？") == ["订", "单", "订单"]


def test_english_drops_stop_words_and_folds_case_and_plurals():
    assert tokenize("How long do the DELIVERIES take?") == ["long", "delivery"]
    assert tokenize("boxes, addresses and invoices") == ["box", "address", "invoice"]


def test_english_endings_meet_their_stems():
    assert tokenize("shipping opening tracked") == ["ship", "open", "track"]
    # Short and doubled words are left alone rather than mangled.
    assert tokenize("bus status bill") == ["bus", "status", "bill"]


def test_full_width_letters_and_digits_fold_to_ascii():
    assert tokenize("ＯＲＤＥＲ１２３") == ["order123"]


def test_mixed_text_keeps_latin_words_inside_chinese():
    assert tokenize("iPhones怎么退货") == ["iphone", "退", "货", "退货"]


def test_text_without_terms_gives_nothing():
    assert tokenize("？！。，  ...") == []
    assert tokenize("") == []
