"""Simulator engine: determinism, driving on flat ground, corner steering, timeouts, e-stop, collisions,
sensor streams at their rates."""
import math
from collections import Counter

import numpy as np
import pytest

from rover_stack.geo.enu import Datum
from rover_stack.sim.course import Course, Rock
from rover_stack.sim.engine import CollisionEvent, GnssFix, Simulator
from rover_stack.sim.sensors import ImuReading, JointReading, ScanReading
from rover_stack.sim.terrain import Hill, TerrainSpec


def flat_course(rocks=()):
    return Course(name='flat', description='', difficulty='easy', datum=Datum(38.4, -110.8, 1300.0),
                  terrain=TerrainSpec(size_x=40.0, size_y=40.0, resolution=16, max_height=0.0),
                  start_x=0.0, start_y=0.0, start_yaw=0.0, rocks=tuple(rocks), posts=(), gates=(), objects=())


def drive(sim, wheel_speed, seconds, steering=None):
    """Command every wheel at ``wheel_speed`` rad/s at 50 Hz for ``seconds``; returns the readings."""
    readings = []
    for _ in range(round(seconds * 50)):
        speeds = wheel_speed if isinstance(wheel_speed, dict) else {j: wheel_speed for j in sim.wheel_joints}
        sim.set_wheel_commands(speeds)
        if steering is not None:
            sim.set_steering_commands(steering)
        readings += sim.step(10)
    return readings


def test_same_seed_and_commands_give_identical_runs():
    def run(seed):
        sim = Simulator(flat_course(), 'skid4', seed=seed, render=False)
        readings = drive(sim, {j: (4.0 if 'left' in j else 6.0) for j in sim.wheel_joints}, 2.0)
        return sim.ground_truth(), [r for r in readings if isinstance(r, ImuReading | GnssFix)]
    truth_a, readings_a = run(5)
    truth_b, readings_b = run(5)
    assert truth_a == truth_b
    assert readings_a == readings_b
    assert run(6)[1] != readings_a


def test_wheel_speed_gives_the_expected_body_speed_on_flat_ground():
    sim = Simulator(flat_course(), 'skid4', render=False)
    radius = sim.geometry.wheel_radius
    drive(sim, 1.0 / radius, 3.0)           # 1 m/s
    truth = sim.ground_truth()
    assert truth.linear_velocity[0] == pytest.approx(1.0, abs=0.05)   # slip within 5 %
    assert abs(truth.position[1]) < 0.05 and abs(truth.yaw) < 0.02
    assert truth.position[2] == pytest.approx(radius, abs=0.01)


def test_skid_steer_turns_toward_the_slower_side_with_slip_visible_in_the_encoders():
    sim = Simulator(flat_course(), 'skid6', render=False)
    speed = 0.5 / sim.geometry.wheel_radius
    readings = drive(sim, {j: (-speed if 'left' in j else speed) for j in sim.wheel_joints}, 3.0)
    truth = sim.ground_truth()
    assert truth.angular_velocity[2] > 0.15                   # turns left (counter-clockwise)
    ideal = 2 * 0.5 / sim.geometry.track                       # rad/s if the wheels did not slip
    assert truth.angular_velocity[2] < 0.8 * ideal             # slip: the rover turns slower
    last = [r for r in readings if isinstance(r, JointReading)][-1]
    measured = dict(zip(last.names, last.velocities, strict=True))
    assert measured['wheel_front_right_joint'] == pytest.approx(speed, rel=0.15)


def test_corner_steering_joints_follow_the_commands_at_the_rate_limit():
    sim = Simulator(flat_course(), 'corner6', render=False)
    angles = {'steer_front_left_joint': 0.4, 'steer_front_right_joint': 0.4,
              'steer_rear_left_joint': -0.4, 'steer_rear_right_joint': -0.4}
    readings = drive(sim, 2.0, 0.1, steering=angles)
    early = dict(zip(readings[-1].names, readings[-1].positions, strict=True)) if isinstance(
        readings[-1], JointReading) else None
    readings = drive(sim, 3.0, 2.0, steering=angles)
    last = [r for r in readings if isinstance(r, JointReading)][-1]
    positions = dict(zip(last.names, last.positions, strict=True))
    for joint, angle in angles.items():
        assert positions[joint] == pytest.approx(angle, abs=0.03)
    if early is not None:
        assert abs(early['steer_front_left_joint']) <= sim.geometry.max_steering_rate * 0.1 + 0.03
    assert sim.ground_truth().angular_velocity[2] > 0.2         # front left, rear right: turns left


def test_wheels_stop_when_commands_stop():
    sim = Simulator(flat_course(), 'skid4', render=False)
    drive(sim, 5.0, 1.0)
    assert sim.ground_truth().linear_velocity[0] > 0.6
    sim.step(round(0.45 / sim.dt))
    assert sim.ground_truth().linear_velocity[0] > 0.5          # still within the 0.5 s timeout
    sim.step(round(1.0 / sim.dt))
    assert abs(sim.ground_truth().linear_velocity[0]) < 0.02
    assert sim.timeouts == 1


def test_commands_are_validated_and_clamped():
    sim = Simulator(flat_course(), 'skid4', render=False)
    with pytest.raises(ValueError, match='unknown wheel joint'):
        sim.set_wheel_commands({'wheel_left_joint': 1.0})
    with pytest.raises(ValueError, match='not finite'):
        sim.set_wheel_commands({'wheel_front_left_joint': math.nan})
    with pytest.raises(ValueError, match='no steering joints'):
        sim.set_steering_commands({'steer_front_left_joint': 0.1})
    drive(sim, 1000.0, 2.0)
    limit = sim.geometry.max_wheel_speed * sim.geometry.wheel_radius
    assert sim.ground_truth().linear_velocity[0] == pytest.approx(limit, rel=0.05)


def test_hardware_estop_brakes_the_wheels():
    sim = Simulator(flat_course(), 'skid4', render=False)
    drive(sim, 5.0, 1.0)
    sim.set_estop(True)
    drive(sim, 5.0, 1.5)
    assert abs(sim.ground_truth().linear_velocity[0]) < 0.02
    sim.set_estop(False)
    drive(sim, 5.0, 1.0)
    assert sim.ground_truth().linear_velocity[0] > 0.5


def test_driving_into_a_rock_is_reported_once_and_the_scan_sees_it():
    sim = Simulator(flat_course(rocks=[Rock(3.0, 0.0, 1.0)]), 'skid4', render=False)
    readings = drive(sim, 0.1, 0.3)
    scan = [r for r in readings if isinstance(r, ScanReading)][-1]
    ahead = scan.ranges[len(scan.ranges) // 2]
    laser_x, _, laser_z = sim.geometry.sensors['range'].xyz
    height = sim.geometry.wheel_radius + laser_z          # scan plane above flat ground
    # the rock (ellipsoid 1.0 x 0.9 x 0.8 m semi-axes, centre on the ground) cut at the scan plane
    half_length = 1.0 * math.sqrt(1.0 - (height / 0.8) ** 2)
    assert ahead == pytest.approx(3.0 - laser_x - half_length, abs=0.05)
    behind = scan.ranges[0]
    assert behind == math.inf                     # nothing there, the rover itself is never seen
    drive(sim, 4.0, 4.0)
    events = sim.take_collisions()
    assert events and all(isinstance(e, CollisionEvent) for e in events)
    assert {(e.kind, e.index) for e in events} == {('rock', 0)}
    assert sim.take_collisions() == []


def test_streams_run_at_their_rates():
    sim = Simulator(flat_course(), 'skid4', render=False)
    counts = Counter(type(r).__name__ for r in sim.step(round(2.0 / sim.dt)))
    assert counts == {'JointReading': 100, 'ImuReading': 200, 'GnssFix': 10, 'ScanReading': 20,
                      'BatteryReading': 2}


def test_gnss_fix_is_at_the_antenna_through_the_datum():
    sim = Simulator(flat_course(), 'skid4', render=False)
    sim.config.gnss.sigma = sim.config.gnss.vertical_sigma = 0.0
    fixes = [r for r in sim.step(round(1.0 / sim.dt)) if isinstance(r, GnssFix)]
    east, north, _ = sim.plane.to_enu(fixes[-1].latitude, fixes[-1].longitude, fixes[-1].altitude)
    antenna = sim.geometry.sensors['gnss'].xyz
    assert (east, north) == pytest.approx((antenna[0], antenna[1]), abs=0.01)
    assert fixes[-1].variance_horizontal == 0.0


def test_imu_reads_gravity_at_rest():
    sim = Simulator(flat_course(), 'skid4', render=False)
    imu = [r for r in sim.step(round(1.0 / sim.dt)) if isinstance(r, ImuReading)]
    accel = np.array([r.linear_acceleration for r in imu[-50:]]).mean(axis=0)
    assert accel == pytest.approx([0.0, 0.0, 9.81], abs=0.1)


def test_scan_over_a_heightfield_matches_mujocos_own_ray_test():
    import mujoco  # noqa: PLC0415 - after sim.engine sets MUJOCO_GL

    terrain = TerrainSpec(size_x=40.0, size_y=40.0, resolution=64, max_height=3.0,
                          hills=(Hill(8.0, 0.0, 10.0, 2.0),))
    course = Course(name='hill', description='', difficulty='easy', datum=Datum(38.4, -110.8, 1300.0),
                    terrain=terrain, start_x=-4.0, start_y=0.0, start_yaw=0.0, rocks=(), posts=(), gates=(),
                    objects=())
    sim = Simulator(course, 'skid4', render=False)
    sim.config.range.noise = 0.0
    scan = [r for r in sim.step(round(0.5 / sim.dt)) if isinstance(r, ScanReading)][-1]
    origin, rotation = sim._site_pose(sim._laser_site)
    directions = (rotation @ sim.range._local.T).T
    geomid = np.zeros(len(directions), dtype=np.int32)
    dist = np.zeros(len(directions))
    terrain_only = np.array([0, 0, 0, 1, 0, 0], dtype=np.uint8)
    mujoco.mj_multiRay(sim.model, sim.data, origin, directions.ravel(), terrain_only, 1, -1, geomid, dist, None,
                       len(directions), 20.0)
    reference = np.where(geomid >= 0, dist, np.inf)
    ours = np.array(scan.ranges)
    hits = np.isfinite(reference) & (reference < 19.0)
    assert hits.sum() > 20                       # the hill ahead is seen
    assert np.allclose(ours[hits], reference[hits], atol=0.1)
    assert np.all(np.isinf(ours[~np.isfinite(reference)]))
