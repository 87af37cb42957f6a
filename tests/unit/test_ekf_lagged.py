"""Late measurements rewind the EKF and are replayed in stamp order (localization/lagged.py)."""
from __future__ import annotations

import math
import random

import numpy as np
import pytest

from rover_stack.localization.ekf import Localizer
from rover_stack.localization.lagged import LaggedFilter


def drive(seed: int = 7, seconds: float = 6.0) -> list[tuple[float, int, str, tuple]]:
    """Measurements of a rover driving an arc at 0.5 m/s: odometry 50 Hz, gyro 100 Hz, GNSS 5 Hz."""
    rng = random.Random(seed)
    out, seq = [], 0
    v, w = 0.5, 0.2

    def add(t, kind, payload):
        nonlocal seq
        seq += 1
        out.append((round(t, 6), seq, kind, payload))

    add(0.001, 'yaw', (0.3,))
    for i in range(int(seconds * 100)):
        t = 0.01 + i * 0.01
        add(t, 'imu', (w + rng.gauss(0.0, 0.01),))
        if i % 2 == 0:
            add(t + 0.002, 'odom', (v + rng.gauss(0.0, 0.02), w * 1.3))
        if i % 20 == 0:
            yaw = 0.3 + w * t
            x = v / w * (math.sin(yaw) - math.sin(0.3))
            y = -v / w * (math.cos(yaw) - math.cos(0.3))
            add(t + 0.004, 'gnss', (x + rng.gauss(0.0, 1.0), y + rng.gauss(0.0, 1.0)))
    return out


def applier(loc: Localizer):
    def apply(stamp: float, kind: str, payload: tuple) -> str | None:
        if kind == 'imu':
            return loc.update_imu(stamp, *payload)
        if kind == 'odom':
            return loc.update_odom(stamp, *payload)
        if kind == 'gnss':
            return loc.update_gnss(stamp, *payload, np.eye(2))
        return loc.update_yaw(stamp, *payload)
    return apply


def run(measurements, batches, history: float) -> tuple[Localizer, LaggedFilter]:
    """Feed ``measurements`` as the node's timer would: batch k holds the indices in batches[k]."""
    loc = Localizer()
    lagged = LaggedFilter(loc, applier(loc), history)
    for batch in batches:
        lagged.process([measurements[i] for i in batch])
    return loc, lagged


def in_order_batches(n: int, size: int = 5) -> list[list[int]]:
    return [list(range(i, min(i + size, n))) for i in range(0, n, size)]


def delayed(n: int, late: dict[int, int], size: int = 5) -> list[list[int]]:
    """In-order batches, except measurement i arrives ``late[i]`` batches after its own."""
    batches = in_order_batches(n, size)
    for i, lag in late.items():
        k = i // size
        batches[k].remove(i)
        batches[min(k + lag, len(batches) - 1)].append(i)
    return batches


def assert_same_filter(a: Localizer, b: Localizer) -> None:
    np.testing.assert_allclose(a.x, b.x, rtol=0, atol=1e-12)
    np.testing.assert_allclose(a.P, b.P, rtol=0, atol=1e-12)
    assert a.time == b.time
    assert {s: st.accepted for s, st in a.stats.items()} == {s: st.accepted for s, st in b.stats.items()}


def test_late_measurements_within_the_history_give_the_in_order_result():
    data = drive()
    reference, _ = run(data, in_order_batches(len(data)), history=1.0)
    def first(kind, after):
        return next(i for i, m in enumerate(data) if m[2] == kind and m[0] > after)

    # odometry, GNSS fixes and gyro readings 5-30 batches late (a batch of 5 spans ~14 ms: up to 0.4 s)
    late = {first('odom', 1.0): 10, first('gnss', 2.0): 25, first('imu', 3.0): 30,
            first('gnss', 4.0): 12, first('odom', 4.0): 5}
    loc, lagged = run(data, delayed(len(data), late), history=1.0)
    assert_same_filter(loc, reference)
    assert lagged.stats.rewinds == len(late)
    assert lagged.stats.replayed > 0
    assert sum(st.rejected['out_of_order'] for st in loc.stats.values()) == 0


def test_only_the_rewind_kinds_rewind_late_ones_of_other_kinds_are_rejected():
    data = drive()
    reference, _ = run(data, in_order_batches(len(data)), history=1.0)

    def first(kind, after):
        return next(i for i, m in enumerate(data) if m[2] == kind and m[0] > after)

    late = {first('gnss', 2.0): 25, first('imu', 3.0): 30}
    loc = Localizer()
    lagged = LaggedFilter(loc, applier(loc), 1.0, rewind_kinds=frozenset({'gnss'}))
    for batch in delayed(len(data), late):
        lagged.process([data[i] for i in batch])
    assert lagged.stats.rewinds == 1
    assert loc.stats['gnss'].rejected['out_of_order'] == 0
    assert loc.stats['imu'].rejected['out_of_order'] == 1
    assert loc.stats['gnss'].accepted == reference.stats['gnss'].accepted


def test_without_history_a_late_measurement_is_rejected_and_the_result_differs():
    data = drive()
    reference, _ = run(data, in_order_batches(len(data)), history=1.0)
    gnss = next(i for i, m in enumerate(data) if m[2] == 'gnss' and m[0] > 2.0)
    loc, lagged = run(data, delayed(len(data), {gnss: 10}), history=0.0)
    assert loc.stats['gnss'].rejected['out_of_order'] == 1
    assert lagged.stats.rewinds == 0
    assert not np.allclose(loc.x[:2], reference.x[:2], atol=1e-6)


def test_a_measurement_older_than_the_history_is_still_rejected():
    data = drive()
    gnss = next(i for i, m in enumerate(data) if m[2] == 'gnss' and m[0] > 2.0)
    batches = delayed(len(data), {gnss: 60})          # ~1.2 s late, history 0.5 s
    loc, lagged = run(data, batches, history=0.5)
    assert loc.stats['gnss'].rejected['out_of_order'] == 1
    assert lagged.stats.rewinds == 0
    without = [b for b in batches]
    without = [[i for i in b if i != gnss] for b in without]
    reference, _ = run(data, without, history=0.5)
    np.testing.assert_allclose(loc.x, reference.x, atol=1e-12)


def test_snapshot_restore_round_trip_and_reuse():
    data = drive(seconds=2.0)
    loc = Localizer()
    apply = applier(loc)
    for stamp, _, kind, payload in data[:100]:
        apply(stamp, kind, payload)
    snap = loc.snapshot()
    x, p, t, accepted = loc.x.copy(), loc.P.copy(), loc.time, loc.stats['imu'].accepted
    for stamp, _, kind, payload in data[100:]:
        apply(stamp, kind, payload)
    assert loc.time > t
    for _ in range(2):                                # the snapshot is not consumed by a restore
        loc.restore(snap)
        np.testing.assert_array_equal(loc.x, x)
        np.testing.assert_array_equal(loc.P, p)
        assert (loc.time, loc.stats['imu'].accepted) == (t, accepted)
        apply(t + 0.5, 'imu', (0.2,))
        assert loc.stats['imu'].accepted == accepted + 1


def test_history_must_not_be_negative():
    with pytest.raises(ValueError, match='history'):
        LaggedFilter(Localizer(), lambda *_: None, -0.1)
