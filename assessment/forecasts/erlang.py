"""Seats needed to answer a share of calls within a target wait: Erlang C (M/M/N queue).

Hand-worked example (the test checks it): 20 calls in a half hour (1,800 s), 180 s handling time →
offered load A = 20 × 180 / 1800 = 2 Erlangs. Erlang B by recursion B(n) = A·B(n-1) / (n + A·B(n-1)):
B(1) = 2/3, B(2) = 2/5, B(3) = 4/19, B(4) = 2/21, B(5) = 4/109. Erlang C, the chance a call waits,
C(N) = N·B(N) / (N − A·(1 − B(N))): C(3) = 4/9, C(4) = 4/23, C(5) = 4/67. Answered within 15 s,
P = 1 − C(N)·exp(−(N − A)·15 / 180): N = 3 → 0.591, N = 4 → 0.853, N = 5 → 0.9535 ≥ 0.95. So 5 seats.
"""

from __future__ import annotations

import math


def erlang_c(seats: int, load: float) -> float:
    """Probability that a call has to wait (0 ≤ C ≤ 1); 1 when the seats cannot carry the load."""
    if load <= 0:
        return 0.0
    if seats <= load:
        return 1.0
    b = 1.0
    for n in range(1, seats + 1):
        b = load * b / (n + load * b)
    return seats * b / (seats - load * (1 - b))


def service_level(seats: int, load: float, *, handle_seconds: float, target_seconds: float) -> float:
    """Share of calls answered within target_seconds."""
    if seats <= load:
        return 0.0 if load > 0 else 1.0
    return 1 - erlang_c(seats, load) * math.exp(-(seats - load) * target_seconds / handle_seconds)


def seats_needed(
    calls: float, *, period_seconds: float, handle_seconds: float, target_seconds: float, share: float
) -> int:
    """The fewest seats that answer `share` of `calls` (arriving over period_seconds) within
    target_seconds."""
    if calls <= 0:
        return 0
    load = calls * handle_seconds / period_seconds
    seats = max(1, math.floor(load) + 1)
    while service_level(seats, load, handle_seconds=handle_seconds, target_seconds=target_seconds) < share:
        seats += 1
    return seats
