from __future__ import annotations

import pytest

from app.ai.handoff import HANDOFF_MARKER, HandoffMarkerFilter


def run_filter(pieces: list[str]) -> tuple[list[str], bool]:
    marker_filter = HandoffMarkerFilter()
    shown = [marker_filter.feed(piece) for piece in pieces]
    shown.append(marker_filter.flush())
    return shown, marker_filter.needs_human


@pytest.mark.parametrize("cut", range(1, len(HANDOFF_MARKER)))
def test_marker_split_anywhere_is_stripped_and_never_shown(cut: int):
    text = f"请稍等，人工客服马上来。{HANDOFF_MARKER}"
    cut_at = text.index(HANDOFF_MARKER) + cut

    shown, needs_human = run_filter([text[:cut_at], text[cut_at:]])

    assert needs_human
    assert "".join(shown) == "请稍等，人工客服马上来。"
    assert not any("[[" in piece for piece in shown)


def test_marker_in_the_middle_keeps_the_text_around_it():
    shown, needs_human = run_filter(["One moment. [[HAND", "OFF]] Thanks!"])

    assert needs_human
    assert "".join(shown) == "One moment.  Thanks!"


def test_brackets_that_are_not_the_marker_are_shown_once_known():
    shown, needs_human = run_filter(["see [[", "docs]] or [[HAND"])

    assert not needs_human
    assert shown[0] == "see "
    assert "".join(shown) == "see [[docs]] or [[HAND"


def test_plain_text_passes_straight_through():
    marker_filter = HandoffMarkerFilter()

    assert marker_filter.feed("Hello there") == "Hello there"
    assert marker_filter.flush() == ""
