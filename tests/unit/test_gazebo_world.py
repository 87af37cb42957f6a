"""The Gazebo world generated from the urc_demo course: committed output is current and faithful."""
import shutil
import subprocess
import xml.etree.ElementTree as ET

import cv2
import numpy as np
import pytest

from rover_stack.gazebo.world import (
    MATERIALS,
    WORLD_SYSTEMS,
    build_world,
    decoded_heights,
    heightmap_side,
    main,
)
from rover_stack.sim.course import load_course
from rover_stack.sim.terrain import Heightfield

ROOT = __import__('pathlib').Path(__file__).resolve().parents[2]
OUT = ROOT / 'sim' / 'gazebo'
IGN = shutil.which('ign')
COURSE = load_course('urc_demo')


@pytest.fixture(scope='module')
def generated():
    return build_world(COURSE)


@pytest.fixture(scope='module')
def world(generated):
    return ET.fromstring(generated.sdf.split('-->', 1)[1]).find('world')


def model(world, name):
    found = [m for m in world.findall('model') if m.get('name') == name]
    assert len(found) == 1, name
    return found[0]


def test_committed_world_is_what_the_generator_writes(generated):
    """Regenerate with `python -m rover_stack.gazebo.world urc_demo --out sim/gazebo` when this fails."""
    assert (OUT / 'urc_demo.sdf').read_text() == generated.sdf
    for relative, image in generated.images.items():
        committed = cv2.imread(str(OUT / relative), cv2.IMREAD_UNCHANGED)
        assert committed is not None, f'{relative} missing'
        assert committed.dtype == image.dtype and np.array_equal(committed, image), relative


def test_generator_cli_writes_the_same_files(tmp_path, generated):
    assert main(['urc_demo', '--out', str(tmp_path)]) == 0
    assert (tmp_path / 'urc_demo.sdf').read_text() == generated.sdf
    assert sorted(p.name for p in (tmp_path / MATERIALS).iterdir()) == sorted(p.name for p in (OUT / MATERIALS).iterdir())


@pytest.mark.parametrize('resolution, side', [(2, 3), (3, 3), (100, 129), (256, 257), (257, 257), (258, 513)])
def test_heightmap_side_is_two_to_the_n_plus_one(resolution, side):
    assert heightmap_side(resolution) == side


def test_heightmap_reproduces_the_course_terrain(generated, world):
    heightmap = model(world, 'terrain').find('link/collision/geometry/heightmap')
    size_x, size_y, size_z = (float(v) for v in heightmap.findtext('size').split())
    image = generated.images[heightmap.findtext('uri')]
    assert image.dtype == np.uint16 and image.shape[0] == image.shape[1] == 257 and image.max() == 65535
    terrain = Heightfield.from_spec(COURSE.terrain)
    seen = decoded_heights(image, size_z, size_x, size_y)
    rng = np.random.default_rng(3)
    xs, ys = rng.uniform(-145, 145, 500), rng.uniform(-145, 145, 500)
    error = np.abs(seen.height_at(xs, ys) - terrain.height_at(xs, ys))
    assert error.max() < 0.05 and error.mean() < 0.01   # m: resampling 256 -> 257 nodes, 16-bit steps
    # north up: the hill at (0, 20) is in the upper half of the image, the basin at (-100, -40) lower left
    hill_row = round((150 - 20) / 300 * 256)
    assert image[hill_row, 128] > image[256 - hill_row, 128]


def test_datum_and_world_systems(world):
    coords = world.find('spherical_coordinates')
    assert coords.findtext('world_frame_orientation') == 'ENU'
    assert float(coords.findtext('latitude_deg')) == COURSE.datum.latitude
    assert float(coords.findtext('longitude_deg')) == COURSE.datum.longitude
    assert float(coords.findtext('elevation')) == COURSE.datum.altitude
    assert [(p.get('filename'), p.get('name')) for p in world.findall('plugin')] == list(WORLD_SYSTEMS)


def test_every_course_item_is_in_the_world(world):
    names = {m.get('name') for m in world.findall('model')}
    assert {f'post_{p.tag_id}' for p in COURSE.posts} <= names
    assert {f'rock_{i}' for i in range(len(COURSE.rocks))} <= names
    assert {f'object_{i}_{o.kind}' for i, o in enumerate(COURSE.objects)} <= names
    assert {f'waypoint_{w.name}' for w in COURSE.waypoints} <= names
    assert len(names) == 1 + len(COURSE.posts) + len(COURSE.rocks) + len(COURSE.objects) + len(COURSE.waypoints)
    terrain = Heightfield.from_spec(COURSE.terrain)
    for post in COURSE.posts:
        x, y, z = (float(v) for v in model(world, f'post_{post.tag_id}').findtext('pose').split()[:3])
        assert (x, y) == (post.x, post.y) and z == pytest.approx(terrain.height_at(post.x, post.y), abs=1e-5)


@pytest.mark.parametrize('post', COURSE.posts, ids=lambda p: f'tag{p.tag_id}')
def test_post_faces_carry_a_texture_that_decodes_to_its_tag(generated, world, post):
    faces = [v for v in model(world, f'post_{post.tag_id}').iter('visual') if v.get('name').startswith('marker')]
    assert len(faces) == post.faces
    (texture,) = {v.findtext('material/pbr/metal/albedo_map') for v in faces}
    assert (OUT / texture).is_file()
    image = np.pad(generated.images[texture], 16, constant_values=255)
    detector = cv2.aruco.ArucoDetector(cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, COURSE.dictionary)))
    _, ids, _ = detector.detectMarkers(image)
    assert ids is not None and ids.ravel().tolist() == [post.tag_id]


def test_every_file_the_world_names_exists(world):
    uris = [e.text for e in world.iter() if e.tag in ('uri', 'diffuse', 'normal', 'albedo_map')
            and e.text and e.text.startswith(MATERIALS)]
    assert uris and all((OUT / uri).is_file() for uri in uris)


def test_spawn_pose_is_the_course_start_above_the_ground(generated):
    spawn = generated.spawn
    ground = Heightfield.from_spec(COURSE.terrain).height_at(COURSE.start_x, COURSE.start_y)
    assert (spawn.x, spawn.y, spawn.yaw) == (COURSE.start_x, COURSE.start_y, COURSE.start_yaw)
    assert 0.05 < spawn.z - ground < 0.2


@pytest.mark.skipif(IGN is None, reason='ign (Debian ignition-tools + libsdformat-dev) not installed')
def test_sdformat_validates_the_committed_world():
    result = subprocess.run([IGN, 'sdf', '-k', str(OUT / 'urc_demo.sdf')], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0 and 'Valid.' in result.stdout, result.stdout + result.stderr


@pytest.mark.parametrize('course', ['flat_easy', 'rock_field'])
def test_other_shipped_courses_generate_worlds_with_a_nonzero_heightmap(course):
    loaded = load_course(course)
    generated = build_world(loaded)
    heightmap = ET.fromstring(generated.sdf.split('-->', 1)[1]).find('.//heightmap')
    assert float(heightmap.findtext('size').split()[2]) > 0.0   # flat_easy: 0.01 m, all black
    side = heightmap_side(loaded.terrain.resolution)
    assert generated.images[heightmap.findtext('uri')].shape == (side, side)
