"""Generate a Gazebo Harmonic world (SDF 1.9) from a course file (sim/courses/<name>.yaml).

The world has the course's terrain as a heightmap, its rocks, ArUco-marked posts, ground objects and
waypoint flags, the datum as ``spherical_coordinates`` (ENU world frame = the course's map frame),
physics and the world systems the rover's sensors need (sensors, imu, navsat). The rover itself is
not in the world: it is spawned from the robot description (urdf/rover.urdf.xacro with
sim_gazebo:=true) at ``spawn_pose(course)``.

Output, under the output directory (sim/gazebo in the repository, committed):
  <course>.sdf                               the world
  materials/<course>_heightmap.png           16-bit grey heightmap, (2^n + 1) px square, north up
  materials/terrain_diffuse.png, terrain_normal.png   terrain texture (flat sand, flat normal)
  materials/aruco_<dictionary>_<id>.png      marker textures (rover_stack.sim.markers, quiet zone included)

Heights: pixel value v maps to v / 65535 * size_z with size_z = the highest terrain point, so a
reader that scales by the brightest pixel and one that scales by the bit depth agree. The heightmap
image has its first row at +y (north up, as seen from above); the course Heightfield has its first
row at -y, so rows are flipped. Run as ``python -m rover_stack.gazebo.world urc_demo --out sim/gazebo``.
"""
from __future__ import annotations

import argparse
import logging
import math
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from rover_stack.sim.course import Course, load_course
from rover_stack.sim.markers import marker_image, quiet_zone_scale
from rover_stack.sim.terrain import Heightfield

SDF_VERSION = '1.9'
MATERIALS = 'materials'
POST_WIDTH_MARGIN = 0.06      # m, post wider than the marker plate (as rover_stack.sim.model_builder)
PLATE_THICKNESS = 0.002       # m
SPAWN_CLEARANCE = 0.10        # m, rover spawned this far above the ground, drops onto its wheels
PHYSICS_STEP = 0.002          # s
MIN_HEIGHT_RANGE = 0.01       # m, heightmap z size of a flat terrain (Gazebo scales by it)
TERRAIN_TEXTURE_SIZE = 10.0   # m, one tile of the terrain texture
SAND_BGR = (120, 150, 190)    # terrain colour (OpenCV channel order)
FLAT_NORMAL_BGR = (255, 128, 128)   # normal map of a flat surface: +z
WORLD_SYSTEMS = (             # (library, class) of each world system plugin
    ('gz-sim-physics-system', 'gz::sim::systems::Physics'),
    ('gz-sim-user-commands-system', 'gz::sim::systems::UserCommands'),
    ('gz-sim-scene-broadcaster-system', 'gz::sim::systems::SceneBroadcaster'),
    ('gz-sim-sensors-system', 'gz::sim::systems::Sensors'),
    ('gz-sim-imu-system', 'gz::sim::systems::Imu'),
    ('gz-sim-navsat-system', 'gz::sim::systems::NavSat'),
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SpawnPose:
    """Where the rover is spawned: x, y, z in m (world = map frame, ENU), yaw in rad."""
    x: float
    y: float
    z: float
    yaw: float


def num(value: float) -> str:
    """A number as SDF text, rounded to 1e-6 so that regeneration is byte-stable."""
    text = f'{round(float(value), 6):.6f}'.rstrip('0').rstrip('.')
    return '0' if text in ('-0', '') else text


def nums(*values: float) -> str:
    return ' '.join(num(v) for v in values)


def heightmap_side(resolution: int) -> int:
    """The smallest 2^n + 1 >= resolution (Gazebo heightmaps must be square, 2^n + 1 pixels)."""
    side = 2
    while side + 1 < resolution:
        side *= 2
    return side + 1


def heightmap_image(field: Heightfield, side: int) -> tuple[np.ndarray, float]:
    """(uint16 image side x side, first row north; height of the white level in m)."""
    xs = np.linspace(-field.size_x / 2, field.size_x / 2, side)
    ys = np.linspace(field.size_y / 2, -field.size_y / 2, side)   # first image row = +y
    gx, gy = np.meshgrid(xs, ys)
    heights = np.asarray(field.height_at(gx.ravel(), gy.ravel())).reshape(side, side)
    top = max(float(heights.max()), MIN_HEIGHT_RANGE)   # flat terrain: all black, a non-zero size
    return np.round(heights / top * 65535.0).astype(np.uint16), top


def decoded_heights(image: np.ndarray, size_z: float, size_x: float, size_y: float) -> Heightfield:
    """The Heightfield Gazebo sees in ``image`` (inverse of heightmap_image, for tests)."""
    heights = np.flipud(image.astype(float) / 65535.0 * size_z)
    return Heightfield(heights, size_x, size_y, max(size_z, 1e-9))


def marker_file(dictionary: str, tag_id: int) -> str:
    return f'{MATERIALS}/aruco_{dictionary.lower()}_{tag_id}.png'


def spawn_pose(course: Course, field: Heightfield | None = None) -> SpawnPose:
    field = Heightfield.from_spec(course.terrain) if field is None else field
    z = float(field.height_at(course.start_x, course.start_y)) + SPAWN_CLEARANCE
    return SpawnPose(course.start_x, course.start_y, round(z, 3), course.start_yaw)


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrib: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attrib)
    if text is not None:
        element.text = text
    return element


def _colour_material(parent: ET.Element, rgba: tuple[float, ...]) -> None:
    material = _sub(parent, 'material')
    _sub(material, 'ambient', nums(*rgba))
    _sub(material, 'diffuse', nums(*rgba))


def _static_model(world: ET.Element, name: str, x: float, y: float, *, z: float,
                  yaw: float = 0.0) -> ET.Element:
    model = _sub(world, 'model', name=name)
    _sub(model, 'static', 'true')
    _sub(model, 'pose', nums(x, y, z, 0, 0, yaw))
    return _sub(model, 'link', name='link')


def _geometry(parent: ET.Element, kind: str, **fields: str) -> None:
    shape = _sub(_sub(parent, 'geometry'), kind)
    for key, value in fields.items():
        _sub(shape, key, value)


def _shape(link: ET.Element, name: str, kind: str, rgba: tuple[float, ...], *, pose: str | None = None,
           collide: bool = True, **fields: str) -> None:
    """A visual (and collision, if ``collide``) of the same geometry on ``link``."""
    if collide:
        collision = _sub(link, 'collision', name=f'{name}_collision')
        if pose:
            _sub(collision, 'pose', pose)
        _geometry(collision, kind, **fields)
    visual = _sub(link, 'visual', name=f'{name}_visual')
    if pose:
        _sub(visual, 'pose', pose)
    _geometry(visual, kind, **fields)
    _colour_material(visual, rgba)


def _world_header(world: ET.Element, course: Course) -> None:
    physics = _sub(world, 'physics', name='default_physics', type='dart')
    _sub(physics, 'max_step_size', num(PHYSICS_STEP))
    _sub(physics, 'real_time_factor', '1')
    for library, cls in WORLD_SYSTEMS:
        plugin = _sub(world, 'plugin', filename=library, name=cls)
        if cls.endswith('::Sensors'):
            _sub(plugin, 'render_engine', 'ogre2')
    _sub(world, 'gravity', '0 0 -9.80665')
    coords = _sub(world, 'spherical_coordinates')
    _sub(coords, 'surface_model', 'EARTH_WGS84')
    _sub(coords, 'world_frame_orientation', 'ENU')
    _sub(coords, 'latitude_deg', num(course.datum.latitude))
    _sub(coords, 'longitude_deg', num(course.datum.longitude))
    _sub(coords, 'elevation', num(course.datum.altitude))
    _sub(coords, 'heading_deg', '0')
    scene = _sub(world, 'scene')
    _sub(scene, 'ambient', '0.6 0.6 0.6 1')
    _sub(scene, 'background', '0.75 0.6 0.5 1')
    _sub(scene, 'shadows', 'true')
    sun = _sub(world, 'light', type='directional', name='sun')
    _sub(sun, 'cast_shadows', 'true')
    _sub(sun, 'pose', '0 0 100 0 0 0')
    _sub(sun, 'diffuse', '0.9 0.9 0.85 1')
    _sub(sun, 'specular', '0.2 0.2 0.2 1')
    _sub(sun, 'direction', '-0.4 0.3 -0.85')


def _terrain(world: ET.Element, course: Course, size_z: float) -> None:
    spec = course.terrain
    link = _static_model(world, 'terrain', 0.0, 0.0, z=0.0)
    uri = f'{MATERIALS}/{course.name}_heightmap.png'
    size = nums(spec.size_x, spec.size_y, size_z)
    collision = _sub(link, 'collision', name='terrain_collision')
    _geometry(collision, 'heightmap', uri=uri, size=size, pos='0 0 0')
    visual = _sub(link, 'visual', name='terrain_visual')
    heightmap = _sub(_sub(visual, 'geometry'), 'heightmap')
    texture = _sub(heightmap, 'texture')
    _sub(texture, 'diffuse', f'{MATERIALS}/terrain_diffuse.png')
    _sub(texture, 'normal', f'{MATERIALS}/terrain_normal.png')
    _sub(texture, 'size', num(TERRAIN_TEXTURE_SIZE))
    _sub(heightmap, 'uri', uri)
    _sub(heightmap, 'size', size)
    _sub(heightmap, 'pos', '0 0 0')


def _post(world: ET.Element, course: Course, field: Heightfield, post) -> None:
    plate = post.marker_size * quiet_zone_scale(course.dictionary)
    half = plate / 2.0 + POST_WIDTH_MARGIN / 2.0
    top = post.height + plate / 2.0 + 0.05
    z0 = float(field.height_at(post.x, post.y))
    link = _static_model(world, f'post_{post.tag_id}', post.x, post.y, z=z0)
    _shape(link, 'post', 'box', (0.95, 0.95, 0.95, 1.0), pose=nums(0, 0, top / 2, 0, 0, 0),
           size=nums(2 * half, 2 * half, top))
    faces = 4 if post.faces is None else int(post.faces)
    for k in range(faces):   # east, north, west, south; with 3 faces the south side is bare
        yaw = math.pi / 2.0 * k
        offset = half + PLATE_THICKNESS / 2.0
        visual = _sub(link, 'visual', name=f'marker_face_{k}')
        _sub(visual, 'pose', nums(offset * math.cos(yaw), offset * math.sin(yaw), post.height, 0, 0, yaw))
        _geometry(visual, 'box', size=nums(PLATE_THICKNESS, plate, plate))
        material = _sub(visual, 'material')
        _sub(material, 'diffuse', '1 1 1 1')
        _sub(_sub(_sub(material, 'pbr'), 'metal'), 'albedo_map', marker_file(course.dictionary, post.tag_id))


def _rocks(world: ET.Element, course: Course, field: Heightfield) -> None:
    for i, rock in enumerate(course.rocks):
        link = _static_model(world, f'rock_{i}', rock.x, rock.y, z=float(field.height_at(rock.x, rock.y)))
        _shape(link, 'rock', 'ellipsoid', (0.45, 0.38, 0.33, 1.0),
               radii=nums(rock.radius, rock.radius * 0.9, rock.radius * 0.6))


def _objects(world: ET.Element, course: Course, field: Heightfield) -> None:
    for i, obj in enumerate(course.objects):
        link = _static_model(world, f'object_{i}_{obj.kind}', obj.x, obj.y,
                             z=float(field.height_at(obj.x, obj.y)), yaw=obj.yaw)
        if obj.kind == 'mallet':   # handle along the object's x, rubber head across it at +x
            _shape(link, 'handle', 'cylinder', (0.55, 0.35, 0.15, 1.0),
                   pose=nums(0, 0, 0.02, 0, math.pi / 2, 0), radius=num(0.015), length=num(0.30))
            _shape(link, 'head', 'cylinder', (1.0, 0.45, 0.0, 1.0),
                   pose=nums(0.15, 0, 0.045, math.pi / 2, 0, 0), radius=num(0.045), length=num(0.12))
        elif obj.kind == 'bottle':
            _shape(link, 'bottle', 'cylinder', (0.2, 0.5, 0.9, 1.0), pose=nums(0, 0, 0.11, 0, 0, 0),
                   radius=num(0.035), length=num(0.22))
        else:
            raise ValueError(f'course object {i}: unknown kind {obj.kind!r}')


def _waypoint_flags(world: ET.Element, course: Course, field: Heightfield) -> None:
    for point in course.waypoints:
        link = _static_model(world, f'waypoint_{point.name}', point.x, point.y,
                             z=float(field.height_at(point.x, point.y)))
        _shape(link, 'pole', 'cylinder', (0.9, 0.9, 0.9, 1.0), pose=nums(0, 0, 0.5, 0, 0, 0), collide=False,
               radius=num(0.01), length=num(1.0))
        _shape(link, 'flag', 'box', (0.1, 0.8, 0.2, 1.0), pose=nums(0.12, 0, 0.9, 0, 0, 0), collide=False,
               size=nums(0.24, 0.01, 0.16))


@dataclass(frozen=True)
class GeneratedWorld:
    """The world text and its image assets (relative path -> uint8/uint16 array)."""
    name: str
    sdf: str
    images: dict[str, np.ndarray]
    spawn: SpawnPose


def build_world(course: Course) -> GeneratedWorld:
    """The SDF world and its textures for ``course`` (pure: nothing is written)."""
    field = Heightfield.from_spec(course.terrain)
    side = heightmap_side(course.terrain.resolution)
    image, size_z = heightmap_image(field, side)
    spawn = spawn_pose(course, field)
    sdf = ET.Element('sdf', version=SDF_VERSION)
    world = _sub(sdf, 'world', name=course.name)
    _world_header(world, course)
    _terrain(world, course, size_z)
    for post in course.posts:
        _post(world, course, field, post)
    _rocks(world, course, field)
    _objects(world, course, field)
    _waypoint_flags(world, course, field)
    ET.indent(sdf, space='  ')
    header = (f'<?xml version="1.0"?>\n<!-- Generated from {course.name} (sim/courses/{course.name}.yaml) by '
              f'rover_stack.gazebo.world; do not edit.\n     Rover spawn pose (x y z yaw): '
              f'{nums(spawn.x, spawn.y, spawn.z, spawn.yaw)} -->\n')
    images = {f'{MATERIALS}/{course.name}_heightmap.png': image,
              f'{MATERIALS}/terrain_diffuse.png': np.full((64, 64, 3), SAND_BGR, np.uint8),
              f'{MATERIALS}/terrain_normal.png': np.full((64, 64, 3), FLAT_NORMAL_BGR, np.uint8)}
    for post in course.posts:
        images[marker_file(course.dictionary, post.tag_id)] = marker_image(post.tag_id, course.dictionary)
    return GeneratedWorld(course.name, header + ET.tostring(sdf, encoding='unicode') + '\n', images, spawn)


def write_world(generated: GeneratedWorld, out_dir: Path) -> list[Path]:
    """Write the SDF and the PNGs under ``out_dir``; returns the paths written."""
    out_dir = Path(out_dir)
    (out_dir / MATERIALS).mkdir(parents=True, exist_ok=True)
    written = [out_dir / f'{generated.name}.sdf']
    written[0].write_text(generated.sdf)
    for relative, image in sorted(generated.images.items()):
        path = out_dir / relative
        if not cv2.imwrite(str(path), image):
            raise OSError(f'cannot write {path}')
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description='Generate a Gazebo world from a course file.')
    parser.add_argument('course', help='course name (sim/courses) or path')
    parser.add_argument('--out', default='sim/gazebo', help='output directory (default: sim/gazebo)')
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format='%(message)s')
    generated = build_world(load_course(args.course))
    for path in write_world(generated, Path(args.out)):
        log.info('wrote %s', path)
    return 0


if __name__ == '__main__':
    sys.exit(main())
