"""The covariance stays symmetric positive definite and the yaw wrapped, whatever arrives."""
import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rover_stack.localization.ekf import EkfConfig, Localizer
from rover_stack.localization.gating import is_symmetric_positive_definite, symmetric_positive_definite

finite = st.floats(min_value=-1e4, max_value=1e4, allow_nan=False)
anything = st.one_of(finite, st.just(math.nan), st.just(math.inf), st.floats(-1e-9, 1e-9))
variance = st.one_of(st.floats(min_value=1e-8, max_value=1e4), st.just(None))

update = st.one_of(
    st.tuples(st.just('odom'), anything, anything, variance, variance),
    st.tuples(st.just('imu'), anything, variance, st.floats(-0.5, 0.5), st.floats(-0.5, 0.5)),
    st.tuples(st.just('gnss'), anything, anything, st.floats(1e-4, 1e3)),
    st.tuples(st.just('yaw'), anything, st.floats(1e-6, 10.0)),
    st.tuples(st.just('landmark'), finite, finite, anything, anything),
)
step = st.tuples(st.floats(min_value=-0.05, max_value=3.0), update)


def apply(loc: Localizer, t: float, item) -> None:
    kind, *args = item
    if kind == 'odom':
        loc.update_odom(t, args[0], args[1], args[2], args[3])
    elif kind == 'imu':
        loc.update_imu(t, args[0], args[1], roll=args[2], pitch=args[3])
    elif kind == 'gnss':
        loc.update_gnss(t, args[0], args[1], np.eye(2) * args[2])
    elif kind == 'yaw':
        loc.update_yaw(t, args[0], args[1])
    else:
        loc.update_landmark(t, (args[0], args[1]), args[2], args[3])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(step, min_size=1, max_size=80), st.tuples(finite, finite, finite))
def test_random_update_sequences_keep_the_covariance_spd(steps, lever):
    loc = Localizer(EkfConfig(lever_arm=(lever[0] % 2, lever[1] % 2, lever[2] % 2)))
    t = 1.0
    for dt, item in steps:
        t += dt
        apply(loc, t, item)
        assert is_symmetric_positive_definite(loc.P)
        assert np.all(np.isfinite(loc.x))
        assert -math.pi < loc.x[2] <= math.pi
        assert np.max(np.linalg.eigvalsh(loc.P)) <= loc.config.covariance_ceiling * (1 + 1e-9)


def test_a_long_run_keeps_the_covariance_bounded_and_spd():
    rng = np.random.default_rng(5)
    loc = Localizer()
    t = 1.0
    for i in range(20000):
        t += 0.01
        loc.update_odom(t, 1.0 + rng.normal(0, 0.02), 0.1 + rng.normal(0, 0.05))
        loc.update_imu(t, 0.1 + rng.normal(0, 0.005))
        if i % 10 == 0:
            angle = 0.1 * (t - 1.0)
            loc.update_gnss(t, 10 * math.sin(angle) + rng.normal(0, 2.5), 10 - 10 * math.cos(angle)
                            + rng.normal(0, 2.5))
    assert is_symmetric_positive_definite(loc.P)
    assert loc.P[0, 0] < 1.0 and loc.P[2, 2] < 0.01


def test_repair_clamps_eigenvalues_and_symmetrises():
    bad = np.array([[1.0, 2.0], [2.0 + 1e-6, 1.0]])     # eigenvalues 3 and -1, slightly asymmetric
    fixed = symmetric_positive_definite(bad, 1e-6, 1e6)
    assert np.array_equal(fixed, fixed.T)
    assert np.linalg.eigvalsh(fixed)[0] >= 1e-6 * (1 - 1e-9)
    assert not is_symmetric_positive_definite(bad)
    assert is_symmetric_positive_definite(fixed)
