"""Erlang C against the hand-worked example in assessment/forecasts/erlang.py's docstring."""

import math

import pytest

from assessment.forecasts import erlang


def test_it_matches_the_hand_worked_erlang_c():
    # given: 20 calls in a half hour, 180 s each → 2 Erlangs
    load = 20 * 180 / 1800
    # then: the chance of waiting, by hand: 4/9, 4/23, 4/67
    assert erlang.erlang_c(3, load) == pytest.approx(4 / 9)
    assert erlang.erlang_c(4, load) == pytest.approx(4 / 23)
    assert erlang.erlang_c(5, load) == pytest.approx(4 / 67)
    # answered within 15 s: 0.591, 0.853, 0.9535
    levels = [erlang.service_level(n, load, handle_seconds=180, target_seconds=15) for n in (3, 4, 5)]
    assert levels == pytest.approx([1 - 4 / 9 * math.exp(-15 / 180), 0.852786, 0.953505], abs=1e-5)
    # so 95 % within 15 s needs 5 seats
    assert erlang.seats_needed(20, period_seconds=1800, handle_seconds=180, target_seconds=15, share=0.95) == 5


def test_it_needs_no_seats_without_calls_and_more_than_the_load():
    assert erlang.seats_needed(0, period_seconds=1800, handle_seconds=180, target_seconds=15, share=0.95) == 0
    # 600 calls × 240 s / 1800 s = 80 Erlangs: more seats than the load, fewer than twice it
    seats = erlang.seats_needed(600, period_seconds=1800, handle_seconds=240, target_seconds=15, share=0.95)
    assert 80 < seats < 100
    assert erlang.erlang_c(80, 80.0) == 1.0
