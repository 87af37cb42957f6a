"""REP-105 map -> odom: composition, odometry interpolation, bounded slewing."""
import math

import pytest

from rover_stack.localization.map_odom import IDENTITY, MapOdomSlew, Pose2D, PoseHistory


def close(a: Pose2D, b: Pose2D, tol=1e-9):
    return (abs(a.x - b.x) < tol and abs(a.y - b.y) < tol
            and abs(math.remainder(a.yaw - b.yaw, 2 * math.pi)) < tol)


def test_compose_and_inverse():
    a, b = Pose2D(1.0, 2.0, 0.5), Pose2D(-3.0, 0.5, 2.0)
    assert close(a.compose(a.inverse()), IDENTITY)
    assert close(a.inverse().compose(a.compose(b)), b)
    assert close(Pose2D(0.0, 0.0, math.pi / 2).compose(Pose2D(1.0, 0.0, 0.0)), Pose2D(0.0, 1.0, math.pi / 2))


def test_pose_history_interpolates_and_refuses_old_or_far_stamps():
    history = PoseHistory()
    assert history.at(1.0) is None
    assert history.add(1.0, Pose2D(0.0, 0.0, 3.0))
    assert history.add(2.0, Pose2D(2.0, 0.0, -3.0))          # yaw crosses +-pi
    assert not history.add(1.5, Pose2D(9.0, 9.0, 0.0))       # not newer
    assert not history.add(3.0, Pose2D(math.nan, 0.0, 0.0))
    mid = history.at(1.5)
    assert mid.x == pytest.approx(1.0)
    assert abs(math.remainder(mid.yaw - math.pi, 2 * math.pi)) < 1e-9
    assert history.at(2.3).x == 2.0
    assert history.at(5.0) is None


def test_first_update_snaps_to_the_target():
    slew = MapOdomSlew()
    map_base, odom_base = Pose2D(10.0, 5.0, 1.0), Pose2D(2.0, 1.0, 0.2)
    map_odom = slew.update(map_base, odom_base)
    assert close(map_odom.compose(odom_base), map_base)


def test_jumps_are_spread_over_updates_and_converge():
    slew = MapOdomSlew(max_translation_step=0.1, max_rotation_step=math.radians(0.5))
    odom = Pose2D(0.0, 0.0, 0.0)
    slew.update(Pose2D(0.0, 0.0, 0.0), odom)
    correction = Pose2D(3.0, 0.0, math.radians(10.0))       # the filter jumps by 3 m and 10 deg
    previous = slew.map_odom.compose(odom)
    for i in range(200):
        odom = Pose2D(0.01 * i, 0.0, 0.0)                    # the rover keeps driving in odom
        published = slew.update(correction.compose(odom), odom).compose(odom)
        step = math.hypot(published.x - previous.x, published.y - previous.y)
        assert step <= 0.1 + 0.01 + 1e-9                    # bounded jump (plus the odom motion)
        assert abs(math.remainder(published.yaw - previous.yaw, 2 * math.pi)) <= math.radians(0.5) + 1e-9
        previous = published
    assert close(slew.map_odom, correction, 1e-6)


def test_no_correction_means_a_constant_transform():
    slew = MapOdomSlew()
    offset = Pose2D(5.0, -2.0, 0.7)
    for i in range(50):
        odom = Pose2D(0.1 * i, 0.02 * i, 0.01 * i)
        map_odom = slew.update(offset.compose(odom), odom)
        assert close(map_odom, offset, 1e-9)
