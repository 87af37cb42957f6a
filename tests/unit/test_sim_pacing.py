"""Pacer: an as-fast-as-possible clock waits for lagging consumers, never for dead ones (sim/pacing.py)."""
from __future__ import annotations

import pytest

from rover_stack.sim.pacing import Pacer


def test_holds_while_an_alive_source_lags_and_releases_when_it_catches_up():
    pacer = Pacer(max_lag=0.3, silence=1.0)
    pacer.seen('odometry/filtered', 10.0, 10.0, wall=100.0)
    assert pacer.blocking(10.29, wall=100.1) is None              # within max_lag: run
    assert pacer.blocking(10.31, wall=100.1) == 'odometry/filtered'
    pacer.seen('odometry/filtered', 10.2, 10.2, wall=100.3)
    assert pacer.blocking(10.31, wall=100.3) is None
    assert pacer.stats.held_ticks == 1
    assert pacer.stats.held_wall_s == pytest.approx(0.2)


def test_every_source_counts():
    pacer = Pacer(max_lag=0.3, silence=1.0)
    pacer.seen('wheel_commands', 5.0, 5.0, wall=0.0)
    pacer.seen('odometry/filtered', 4.0, 4.0, wall=0.0)
    assert pacer.blocking(5.0, wall=0.1) == 'odometry/filtered'
    pacer.seen('odometry/filtered', 4.9, 4.9, wall=0.2)
    assert pacer.blocking(5.31, wall=0.2) == 'wheel_commands'


def test_a_source_that_stopped_advancing_is_not_waited_for():
    pacer = Pacer(max_lag=0.3, silence=1.0)
    pacer.seen('wheel_commands', 5.0, 5.0, wall=0.0)
    assert pacer.blocking(6.0, wall=0.9) == 'wheel_commands'      # maybe just slow: wait
    pacer.seen('wheel_commands', 5.0, 5.0, wall=0.95)                   # same stamp again: not progress
    assert pacer.blocking(6.0, wall=1.01) is None                 # silent > 1 s wall: killed, go on
    pacer.seen('wheel_commands', 6.5, 6.5, wall=3.0)                    # respawned: paced again
    assert pacer.blocking(7.0, wall=3.1) == 'wheel_commands'


def test_nothing_seen_nothing_held_and_bad_stamps_are_ignored():
    pacer = Pacer(max_lag=0.3, silence=1.0)
    assert pacer.blocking(100.0, wall=0.0) is None
    pacer.seen('wheel_commands', 0.0, 100.0, wall=0.0)             # zero stamp: unusable
    assert pacer.blocking(100.0, wall=0.0) is None
    pacer.seen('wheel_commands', 99.0, 100.0, wall=0.0)
    pacer.seen('wheel_commands', 1e9, 100.0, wall=0.1)             # from the future: ignored, does not
    assert pacer.blocking(100.0, wall=0.2) == 'wheel_commands'     # hide the lag of the real stamps


@pytest.mark.parametrize(('max_lag', 'silence'), [(0.0, 1.0), (0.3, 0.0), (float('nan'), 1.0)])
def test_bad_settings_are_refused(max_lag, silence):
    with pytest.raises(ValueError, match='must be > 0'):
        Pacer(max_lag, silence)
