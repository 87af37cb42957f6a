"""The simulated GNSS's forced outage and forced multipath jump: exactly when configured, nothing else
changed (the random streams stay the same, so a run with and without them differs only there)."""
import math

import numpy as np
import pytest

from rover_stack.common.param_spec import spec, validate
from rover_stack.sim.sensors import GnssConfig, GnssModel

RATE = 5.0


def readings(config, seed=4, duration=30.0):
    model = GnssModel(config, np.random.default_rng(seed))
    return [model.measure(k / RATE, 10.0, -5.0, 1.0) for k in range(round(duration * RATE))]


def test_forced_dropout_gives_no_fix_exactly_in_its_window_and_keeps_the_noise_stream():
    plain = readings(GnssConfig())
    forced = readings(GnssConfig(forced_dropout_start=10.0, forced_dropout_duration=5.0))
    for a, b in zip(plain, forced, strict=True):
        inside = 10.0 <= a.stamp < 15.0
        assert b.fix is not inside
        if inside:
            assert math.isnan(b.east) and math.isnan(b.north)
        else:
            assert (b.east, b.north, b.up) == (a.east, a.north, a.up)
    assert sum(not r.fix for r in forced) == 25


def test_forced_multipath_shifts_the_fixes_by_the_offset_only_in_its_window():
    plain = readings(GnssConfig())
    config = GnssConfig(forced_multipath_start=8.0, forced_multipath_duration=3.0, forced_multipath_east=20.0,
                        forced_multipath_north=-2.0)
    shifted = readings(config)
    moved = 0
    for a, b in zip(plain, shifted, strict=True):
        assert b.fix
        if 8.0 <= a.stamp < 11.0:
            moved += 1
            assert b.east - a.east == pytest.approx(20.0)
            assert b.north - a.north == pytest.approx(-2.0)
        else:
            assert (b.east, b.north) == (a.east, a.north)
        assert b.up == a.up and b.sigma_horizontal == a.sigma_horizontal   # the receiver claims the usual
    assert moved == 15


def test_zero_duration_means_no_forced_event():
    config = GnssConfig(forced_dropout_start=1.0, forced_multipath_start=1.0, forced_multipath_east=50.0)
    assert readings(config) == readings(GnssConfig())


@pytest.mark.parametrize(('name', 'value'), [
    ('forced_dropout_start', -1.0), ('forced_dropout_duration', -0.1), ('forced_multipath_duration', math.nan),
    ('forced_multipath_east', 1.0e4)])
def test_out_of_range_forced_event_parameters_are_refused(name, value):
    field = next(f for f in GnssConfig.__dataclass_fields__.values() if f.name == name)
    assert validate(name, value, spec(field)) is not None
