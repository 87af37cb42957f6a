"""The MuJoCo model built from the robot description and a course."""
import math

import numpy as np
import pytest

from rover_stack.geo.enu import Datum
from rover_stack.sim.course import Course, GroundObject, Post, Rock, load_course
from rover_stack.sim.model_builder import CameraIntrinsics, build_model
from rover_stack.sim.terrain import Heightfield, Hill, TerrainSpec


def small_course(**changes):
    fields = dict(
        name='test', description='', difficulty='easy', datum=Datum(38.4, -110.8, 1300.0),
        terrain=TerrainSpec(size_x=30.0, size_y=30.0, resolution=32, max_height=0.0),
        start_x=0.0, start_y=0.0, start_yaw=0.0, rocks=(Rock(4.0, 1.0, 0.3),),
        posts=(Post(tag_id=3, x=6.0, y=0.0),), gates=(),
        objects=(GroundObject('mallet', 2.0, -1.0, 0.5), GroundObject('bottle', 2.0, 1.0)))
    fields.update(changes)
    return Course(**fields)


@pytest.mark.parametrize('robot', ['skid4', 'skid6', 'corner6'])
def test_every_robot_variant_builds_with_actuators_sensors_and_camera(robot):
    built = build_model(small_course(), robot)
    model = built.model
    assert model.nu == len(built.wheel_joints) + len(built.steering_joints)
    assert len(built.wheel_joints) == (4 if robot == 'skid4' else 6)
    assert len(built.steering_joints) == (4 if robot == 'corner6' else 0)
    for site in ('base_link_site', 'imu_link_site', 'gnss_link_site', 'laser_link_site'):
        assert model.site(site).id >= 0
    assert model.camera('rover_camera').fovy[0] == pytest.approx(45.0)
    assert model.opt.timestep == pytest.approx(0.002)
    assert set(built.rock_geoms.values()) == {0}
    assert set(built.post_geoms.values()) == {3}
    assert built.flat


def test_rover_geoms_are_exactly_the_rover_bodies():
    built = build_model(small_course(), 'skid4')
    model = built.model
    names = {model.geom(g).name for g in range(model.ngeom) if g not in built.rover_geoms}
    assert {'ground', 'rock_0', 'post_0'} <= names
    assert len(built.rover_geoms) == 5          # chassis + 4 wheels


def test_hilly_course_gets_a_heightfield_at_the_terrain_heights():
    terrain = TerrainSpec(size_x=40.0, size_y=40.0, resolution=64, max_height=2.0,
                          hills=(Hill(10.0, 0.0, 8.0, 1.5),))
    built = build_model(small_course(terrain=terrain, rocks=(), posts=(), objects=()), 'skid4')
    import mujoco  # noqa: PLC0415 - after model_builder sets MUJOCO_GL
    model, data = built.model, None
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    assert not built.flat
    geomid = np.zeros(1, dtype=np.int32)
    groups = np.array([0, 0, 0, 1, 0, 0], dtype=np.uint8)
    top = mujoco.mj_ray(model, data, np.array([10.0, 0.0, 10.0]), np.array([0.0, 0.0, -1.0]), groups, 1, -1,
                        geomid)
    expected = Heightfield.from_spec(terrain).height_at(10.0, 0.0)
    assert 10.0 - top == pytest.approx(expected, abs=0.05)


def test_camera_intrinsics_follow_the_field_of_view():
    cam = CameraIntrinsics(640, 480, 45.0)
    assert cam.focal == pytest.approx(240.0 / math.tan(math.radians(22.5)))
    assert cam.k()[2] == 320.0 and cam.k()[5] == 240.0


def test_shipped_course_builds():
    built = build_model(load_course('rock_field'), 'corner6')
    assert len(built.rock_geoms) == len(load_course('rock_field').rocks)
