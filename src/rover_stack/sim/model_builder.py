"""Build the MuJoCo model of one rover on one course, from the ONE robot description.

The rover comes from ``xacro_expand.expand(robot_config)`` (the URDF every other consumer reads),
loaded by ``mujoco.MjSpec.from_string``; this module adds what a URDF cannot say: a free joint on the
root body, wheel velocity actuators and steering position actuators, contact friction, sensor sites
at the URDF's sensor frames (imu_link, gnss_link, laser_link, base_link), and a MuJoCo camera at
camera_optical_frame. The course adds the terrain (a plane when flat, else a heightfield), rocks,
ArUco-marked posts and ground objects (mallet, bottle).

World frame = map frame: x east, y north, z up, m. No rclpy here.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, field

import numpy as np

os.environ.setdefault('MUJOCO_GL', 'egl')   # offscreen rendering without a display
import mujoco

from rover_stack.common.share_files import robot_config_path
from rover_stack.description.geometry import RoverGeometry, load_geometry
from rover_stack.description.xacro_expand import expand
from rover_stack.sim.ground_texture import regolith_texture
from rover_stack.sim.markers import marker_texture_rgb, quiet_zone_scale
from rover_stack.sim.terrain import Heightfield

TIMESTEP = 0.002                 # s, physics step
IMAGE_WIDTH, IMAGE_HEIGHT = 640, 480   # px
CAMERA_FOVY_DEG = 45.0           # deg, vertical field of view
WHEEL_KV = 30.0                  # N m / (rad/s), wheel velocity servo gain
WHEEL_EFFORT = 50.0              # N m, wheel torque limit (the URDF joint effort limit)
STEER_KP = 300.0                 # N m / rad, steering position servo gain
STEER_KV = 15.0                  # N m / (rad/s), steering servo damping
STEER_EFFORT = 20.0              # N m
WHEEL_FRICTION = (0.6, 0.01, 0.0005)    # sliding, torsional, rolling (contacts take the larger)
GROUND_FRICTION = (0.6, 0.01, 0.0005)
WHEEL_ARMATURE = 0.2             # kg m^2, motor rotor inertia reflected through the gearbox
# Soft tyre contact: impedance from 0.3 at first touch to 0.95 over 3 cm (rest sinkage ~1.5 mm). Stiff
# contacts hop while skid steering slides the wheels sideways; this keeps them on the ground, and
# the skid-steer yaw gain near the robot configs' effective_track_factor (docs/simulator.md).
WHEEL_SOLREF = (0.02, 1.0)       # s, damping ratio
WHEEL_SOLIMP = (0.3, 0.95, 0.03, 0.5, 2.0)
POST_WIDTH_MARGIN = 0.06         # m, post wider than the marker plate
# Geom groups. Rendered by default: 0-2. The range sensor sees WORLD and TERRAIN, never ROVER or VISUAL.
WORLD_GROUP, ROVER_GROUP, VISUAL_GROUP, TERRAIN_GROUP = 0, 1, 2, 3
OBJECT_GROUP = VISUAL_GROUP       # ground objects, waypoint flags: visual only
VISUAL_TERRAIN_MAX = 96           # samples per side of the rendered terrain (collision uses the full grid)
NO_CONTACT = {'contype': 0, 'conaffinity': 0}   # visual-only geoms
GROUND_TEXTURE_PX = 512           # side of the regolith texture image
GROUND_TEXTURE_TILE = 2.5         # m of ground one texture image covers (~5 mm per texel)
SENSOR_SITES = {'imu': 'imu_link', 'gnss': 'gnss_link', 'range': 'laser_link'}


@dataclass(frozen=True)
class CameraIntrinsics:
    """Pinhole intrinsics of the rendered camera (no distortion)."""
    width: int = IMAGE_WIDTH          # px
    height: int = IMAGE_HEIGHT        # px
    fovy_deg: float = CAMERA_FOVY_DEG  # deg

    @property
    def focal(self) -> float:
        """Focal length in px (square pixels)."""
        return self.height / 2.0 / math.tan(math.radians(self.fovy_deg) / 2.0)

    def k(self) -> list[float]:
        """Row-major 3x3 camera matrix K."""
        f = self.focal
        return [f, 0.0, self.width / 2.0, 0.0, f, self.height / 2.0, 0.0, 0.0, 1.0]


@dataclass
class BuiltModel:
    """A compiled model and the names/ids the engine needs."""
    model: mujoco.MjModel
    geometry: RoverGeometry
    camera: CameraIntrinsics
    rover_body: int                       # id of the free body (base_footprint)
    rover_geoms: frozenset[int]
    rock_geoms: dict[int, int] = field(default_factory=dict)    # geom id -> rock index
    post_geoms: dict[int, int] = field(default_factory=dict)    # geom id -> tag id
    wheel_joints: tuple[str, ...] = ()
    steering_joints: tuple[str, ...] = ()
    camera_name: str = 'rover_camera'
    flat: bool = True
    terrain: object = None                # the course's Heightfield (None when flat)


def terrain_of(course):
    """The course's Heightfield, or None when the course is flat (no terrain or max_height 0)."""
    spec = getattr(course, 'terrain', None)
    if spec is None or float(getattr(spec, 'max_height', 0.0)) <= 0.0:
        return None
    field = Heightfield.from_spec(spec)
    return field if float(np.ptp(field.heights)) > 1e-6 else None


def ground_height(terrain, x: float, y: float) -> float:
    """Terrain height (m) at map (x, y); 0 on flat courses (``terrain`` None)."""
    return 0.0 if terrain is None else float(terrain.height_at(x, y))


def _quat_yaw(yaw: float) -> list[float]:
    return [math.cos(yaw / 2.0), 0.0, 0.0, math.sin(yaw / 2.0)]   # MuJoCo order w, x, y, z


def _add_rover(spec: mujoco.MjSpec, geometry: RoverGeometry, start, z0: float) -> None:
    root = spec.body('base_footprint')
    root.add_freejoint(name='rover_free')
    root.pos = [start[0], start[1], z0]
    root.quat = _quat_yaw(start[2])
    for body in _descendants(root):
        for geom in body.geoms:
            geom.group = ROVER_GROUP
            geom.friction = list(WHEEL_FRICTION)
            if body.name.startswith('wheel_'):
                geom.solref = list(WHEEL_SOLREF)
                geom.solimp = list(WHEEL_SOLIMP)
            geom.rgba = [0.1, 0.1, 0.1, 1.0] if body.name.startswith('wheel_') else [0.6, 0.6, 0.6, 1.0]
    for wheel in geometry.wheels:
        act = spec.add_actuator(name=f'{wheel.joint}_vel', target=wheel.joint,
                                trntype=mujoco.mjtTrn.mjTRN_JOINT)
        act.set_to_velocity(kv=WHEEL_KV)
        act.forcelimited = mujoco.mjtLimited.mjLIMITED_TRUE
        act.forcerange = [-WHEEL_EFFORT, WHEEL_EFFORT]
        spec.joint(wheel.joint).damping = [0.05, 0.0, 0.0]
        spec.joint(wheel.joint).armature = WHEEL_ARMATURE
    for joint in geometry.steering_joints:
        act = spec.add_actuator(name=f'{joint}_pos', target=joint, trntype=mujoco.mjtTrn.mjTRN_JOINT)
        act.set_to_position(kp=STEER_KP, kv=STEER_KV)
        act.forcelimited = mujoco.mjtLimited.mjLIMITED_TRUE
        act.forcerange = [-STEER_EFFORT, STEER_EFFORT]
        spec.joint(joint).armature = 0.01
    spec.body('base_link').add_site(name='base_link_site')
    for kind, frame in SENSOR_SITES.items():
        mount = geometry.sensors.get(kind)
        spec.body(mount.frame if mount else 'base_link').add_site(name=f'{frame}_site')
    spec.add_sensor(name='imu_accel', type=mujoco.mjtSensor.mjSENS_ACCELEROMETER,
                    objtype=mujoco.mjtObj.mjOBJ_SITE, objname='imu_link_site')
    spec.add_sensor(name='imu_gyro', type=mujoco.mjtSensor.mjSENS_GYRO,
                    objtype=mujoco.mjtObj.mjOBJ_SITE, objname='imu_link_site')


def _add_camera(spec: mujoco.MjSpec, camera: CameraIntrinsics, name: str) -> None:
    """MuJoCo cameras look along -z with y up: the optical frame (z forward, y down) turned pi about x."""
    body = spec.body('camera_optical_frame')
    if body is None:
        raise ValueError('the robot description has no camera_optical_frame')
    body.add_camera(name=name, quat=[0.0, 1.0, 0.0, 0.0], fovy=camera.fovy_deg)


def _descendants(body):
    out = [body]
    for child in body.bodies:
        out.extend(_descendants(child))
    return out


def _add_ground(spec: mujoco.MjSpec, course, terrain) -> None:
    texture = regolith_texture(GROUND_TEXTURE_PX)
    spec.add_texture(name='ground_tex', type=mujoco.mjtTexture.mjTEXTURE_2D, width=GROUND_TEXTURE_PX,
                     height=GROUND_TEXTURE_PX, nchannel=3, data=texture.ravel().tolist())
    spec_t = getattr(course, 'terrain', None)
    size_x = float(getattr(spec_t, 'size_x', 100.0)) if spec_t is not None else 100.0
    size_y = float(getattr(spec_t, 'size_y', 100.0)) if spec_t is not None else 100.0
    repeat = [max(1.0, size_x / GROUND_TEXTURE_TILE), max(1.0, size_y / GROUND_TEXTURE_TILE)]
    spec.add_material(name='ground_mat', textures=['', 'ground_tex'], texrepeat=repeat, reflectance=0.0)
    if terrain is None:
        spec.worldbody.add_geom(name='ground', type=mujoco.mjtGeom.mjGEOM_PLANE,
                                size=[size_x / 2.0, size_y / 2.0, 1.0], material='ground_mat',
                                friction=list(GROUND_FRICTION), group=WORLD_GROUP)
        return
    grid = np.asarray(terrain.heights, dtype=float)   # [ny, nx], row 0 at -y: MuJoCo's hfield layout
    ny, nx = grid.shape
    low, high = float(grid.min()), float(grid.max())
    span = max(high - low, 1e-6)
    size = [terrain.size_x / 2.0, terrain.size_y / 2.0, span, 0.5]
    spec.add_hfield(name='terrain', nrow=ny, ncol=nx, size=size,
                    userdata=((grid - low) / span).ravel().tolist())
    # collision terrain: full grid, not rendered (group 3); a coarser copy is drawn (software rendering
    # of a 256 x 256 heightfield costs ~40 ms a frame)
    spec.worldbody.add_geom(name='ground', type=mujoco.mjtGeom.mjGEOM_HFIELD, hfieldname='terrain',
                            pos=[0.0, 0.0, low], friction=list(GROUND_FRICTION), group=TERRAIN_GROUP)
    visual = _resample(grid, VISUAL_TERRAIN_MAX)
    spec.add_hfield(name='terrain_visual', nrow=visual.shape[0], ncol=visual.shape[1], size=size,
                    userdata=((visual - low) / span).ravel().tolist())
    spec.worldbody.add_geom(name='ground_visual', type=mujoco.mjtGeom.mjGEOM_HFIELD,
                            hfieldname='terrain_visual',
                            pos=[0.0, 0.0, low], material='ground_mat', group=VISUAL_GROUP, **NO_CONTACT)


def _resample(grid: np.ndarray, max_side: int) -> np.ndarray:
    """Bilinear resampling of a [ny, nx] grid to at most ``max_side`` samples per side (same extent)."""
    ny, nx = grid.shape
    if max(ny, nx) <= max_side:
        return grid
    rows = np.linspace(0.0, ny - 1.0, min(ny, max_side))
    cols = np.linspace(0.0, nx - 1.0, min(nx, max_side))
    r0 = np.minimum(np.floor(rows).astype(int), ny - 2)
    c0 = np.minimum(np.floor(cols).astype(int), nx - 2)
    fr, fc = (rows - r0)[:, None], (cols - c0)[None, :]
    g = grid
    return ((1 - fr) * (1 - fc) * g[np.ix_(r0, c0)] + (1 - fr) * fc * g[np.ix_(r0, c0 + 1)]
            + fr * (1 - fc) * g[np.ix_(r0 + 1, c0)] + fr * fc * g[np.ix_(r0 + 1, c0 + 1)])


def _marker_image(tag_id: int, dictionary: str) -> tuple[np.ndarray, float]:
    """(RGB texture with its white quiet zone, texture side / black-square side)."""
    return np.ascontiguousarray(marker_texture_rgb(tag_id, dictionary)), quiet_zone_scale(dictionary)


def _face_yaws(faces) -> list[float]:
    """Outward normals (rad, map frame) of a post's marked faces: east, north, west, south, in that
    order, the first ``faces`` of them (so 3 faces leave the south side bare)."""
    count = 4 if faces is None else int(faces)
    if not 1 <= count <= 4:
        raise ValueError(f'a post has 1 to 4 marked faces, got {faces!r}')
    return [math.pi / 2.0 * i for i in range(count)]


def _add_post(spec, course, terrain, index: int, post) -> list[str]:
    """A square post with a marker plate on each face; returns the names of its geoms."""
    size = float(getattr(post, 'marker_size', 0.2))
    centre = float(getattr(post, 'height', 0.9))
    image, scale = _marker_image(int(post.tag_id), str(getattr(course, 'dictionary', 'DICT_4X4_50')))
    plate = size * scale   # the marker_size is the black square; the texture adds the quiet zone
    half = plate / 2.0 + POST_WIDTH_MARGIN / 2.0
    z0 = ground_height(terrain, post.x, post.y)
    top = centre + plate / 2.0 + 0.05
    names = [f'post_{index}']
    spec.worldbody.add_geom(name=names[0], type=mujoco.mjtGeom.mjGEOM_BOX,
                            pos=[post.x, post.y, z0 + top / 2.0],
                            size=[half, half, top / 2.0], rgba=[0.95, 0.95, 0.95, 1.0], group=WORLD_GROUP)
    tex_name = f'marker_{index}_tex'
    spec.add_texture(name=tex_name, type=mujoco.mjtTexture.mjTEXTURE_2D, width=image.shape[1],
                     height=image.shape[0], nchannel=3, data=image.ravel().tolist())
    spec.add_material(name=f'marker_{index}_mat', textures=['', tex_name], reflectance=0.0, emission=0.3)
    for k, yaw in enumerate(_face_yaws(getattr(post, 'faces', None))):
        offset = half + 0.001
        # plate: thin box whose local +x faces outwards (the rotated local y/z span the marker)
        quat = _face_quat(yaw)
        name = f'post_{index}_face_{k}'
        spec.worldbody.add_geom(name=name, type=mujoco.mjtGeom.mjGEOM_BOX,
                                pos=[post.x + offset * math.cos(yaw), post.y + offset * math.sin(yaw),
                                     z0 + centre],
                                quat=quat, size=[plate / 2.0, plate / 2.0, 0.001],
                                material=f'marker_{index}_mat', group=WORLD_GROUP, **NO_CONTACT)
        names.append(name)
    return names


def _face_quat(yaw: float) -> list[float]:
    """Orientation of a marker plate whose local +z points along the horizontal direction ``yaw``
    and whose local +y points up (so the texture's top is up)."""
    z_axis = np.array([math.cos(yaw), math.sin(yaw), 0.0])
    y_axis = np.array([0.0, 0.0, 1.0])
    x_axis = np.cross(y_axis, z_axis)
    quat = np.zeros(4)
    mujoco.mju_mat2Quat(quat, np.column_stack([x_axis, y_axis, z_axis]).ravel())
    return quat.tolist()


def _add_objects(spec, course, terrain) -> None:
    for i, obj in enumerate(getattr(course, 'objects', ()) or ()):
        z0 = ground_height(terrain, obj.x, obj.y)
        yaw = float(getattr(obj, 'yaw', 0.0))
        common = dict(group=OBJECT_GROUP, **NO_CONTACT)
        if obj.kind == 'mallet':
            # handle along the object's x axis, rubber head across it at the +x end
            c, s = math.cos(yaw), math.sin(yaw)
            spec.worldbody.add_geom(name=f'object_{i}_handle', type=mujoco.mjtGeom.mjGEOM_CYLINDER,
                                    pos=[obj.x, obj.y, z0 + 0.02], quat=_axis_quat(yaw, horizontal=True),
                                    size=[0.015, 0.15, 0.0], rgba=[0.55, 0.35, 0.15, 1.0], **common)
            spec.worldbody.add_geom(name=f'object_{i}_head', type=mujoco.mjtGeom.mjGEOM_CYLINDER,
                                    pos=[obj.x + 0.15 * c, obj.y + 0.15 * s, z0 + 0.045],
                                    quat=_axis_quat(yaw + math.pi / 2.0, horizontal=True),
                                    size=[0.045, 0.06, 0.0], rgba=[1.0, 0.45, 0.0, 1.0], **common)
        elif obj.kind == 'bottle':
            spec.worldbody.add_geom(name=f'object_{i}_bottle', type=mujoco.mjtGeom.mjGEOM_CYLINDER,
                                    pos=[obj.x, obj.y, z0 + 0.11], size=[0.035, 0.11, 0.0],
                                    rgba=[0.2, 0.5, 0.9, 1.0], **common)
        else:
            raise ValueError(f'course object {i}: unknown kind {obj.kind!r} (mallet or bottle)')


def _add_waypoint_flags(spec, course, terrain) -> None:
    """A thin pole with a small flag at each course waypoint (visual only: no contact, no range return)."""
    for i, point in enumerate(getattr(course, 'waypoints', ()) or ()):
        z0 = ground_height(terrain, point.x, point.y)
        spec.worldbody.add_geom(name=f'waypoint_{i}_pole', type=mujoco.mjtGeom.mjGEOM_CYLINDER,
                                pos=[point.x, point.y, z0 + 0.5], size=[0.01, 0.5, 0.0],
                                rgba=[0.9, 0.9, 0.9, 1.0], group=OBJECT_GROUP, **NO_CONTACT)
        spec.worldbody.add_geom(name=f'waypoint_{i}_flag', type=mujoco.mjtGeom.mjGEOM_BOX,
                                pos=[point.x + 0.12, point.y, z0 + 0.9], size=[0.12, 0.005, 0.08],
                                rgba=[0.1, 0.8, 0.2, 1.0], group=OBJECT_GROUP, **NO_CONTACT)


def _axis_quat(yaw: float, horizontal: bool) -> list[float]:
    """Quaternion turning a cylinder's z axis to lie horizontally along ``yaw``."""
    q_yaw = np.array(_quat_yaw(yaw))
    q_pitch = np.array([math.cos(math.pi / 4.0), 0.0, math.sin(math.pi / 4.0), 0.0])   # z -> x
    out = np.zeros(4)
    mujoco.mju_mulQuat(out, q_yaw, q_pitch if horizontal else np.array([1.0, 0.0, 0.0, 0.0]))
    return out.tolist()


def build_model(course, robot_config: str = 'skid4', camera: CameraIntrinsics | None = None) -> BuiltModel:
    """Compile rover ``robot_config`` (variant name or robot yaml path) on ``course`` (or None: flat)."""
    camera = camera or CameraIntrinsics()
    geometry = load_geometry(robot_config_path(robot_config))
    spec = mujoco.MjSpec.from_string(expand(robot_config))
    spec.compiler.discardvisual = False   # the URDF import sets it, and it would drop materials and textures
    spec.option.timestep = TIMESTEP
    spec.option.integrator = mujoco.mjtIntegrator.mjINT_IMPLICITFAST
    # Elliptic friction cones: pyramidal ones make sliding contacts bounce (skid steering slides).
    spec.option.cone = mujoco.mjtCone.mjCONE_ELLIPTIC
    spec.visual.global_.offwidth = max(camera.width, 640)
    spec.visual.global_.offheight = max(camera.height, 480)
    spec.visual.quality.shadowsize = 0
    # Clip planes scale with the model extent, which a large terrain makes ~200 m (near plane 2 m):
    # fix the extent so the camera sees from 5 cm to 600 m.
    spec.stat.extent = 10.0
    spec.visual.map.znear = 0.005
    spec.visual.map.zfar = 60.0
    spec.visual.quality.offsamples = 0     # no multisampling: 10x faster software (llvmpipe) rendering
    spec.visual.quality.numslices = 12     # coarser spheres/cylinders: fewer triangles to rasterise
    spec.visual.quality.numstacks = 8
    spec.visual.headlight.ambient = [0.35, 0.35, 0.35]
    spec.visual.headlight.diffuse = [0.3, 0.3, 0.3]
    spec.add_texture(name='sky', type=mujoco.mjtTexture.mjTEXTURE_SKYBOX,
                     builtin=mujoco.mjtBuiltin.mjBUILTIN_GRADIENT, width=64, height=64,
                     rgb1=[0.55, 0.7, 0.9], rgb2=[0.9, 0.85, 0.8])
    spec.worldbody.add_light(name='sun', pos=[0.0, 0.0, 50.0], dir=[0.3, 0.2, -1.0],
                             type=mujoco.mjtLightType.mjLIGHT_DIRECTIONAL, castshadow=False,
                             diffuse=[0.7, 0.7, 0.7], ambient=[0.2, 0.2, 0.2])
    terrain = terrain_of(course)
    start = (float(getattr(course, 'start_x', 0.0)), float(getattr(course, 'start_y', 0.0)),
             float(getattr(course, 'start_yaw', 0.0))) if course is not None else (0.0, 0.0, 0.0)
    z0 = ground_height(terrain, start[0], start[1]) + 0.02
    _add_rover(spec, geometry, start, z0)
    _add_camera(spec, camera, 'rover_camera')
    _add_ground(spec, course, terrain)
    rock_names = []
    for i, rock in enumerate(getattr(course, 'rocks', ()) or ()):
        r = float(rock.radius)
        name = f'rock_{i}'
        spec.worldbody.add_geom(name=name, type=mujoco.mjtGeom.mjGEOM_ELLIPSOID,
                                pos=[rock.x, rock.y, ground_height(terrain, rock.x, rock.y)],
                                size=[r, r * 0.9, r * 0.8], rgba=[0.45, 0.38, 0.33, 1.0], group=WORLD_GROUP,
                                friction=list(GROUND_FRICTION))
        rock_names.append(name)
    post_names: dict[str, int] = {}
    for i, post in enumerate(getattr(course, 'posts', ()) or ()):
        for name in _add_post(spec, course, terrain, i, post):
            post_names[name] = int(post.tag_id)
    _add_objects(spec, course, terrain)
    _add_waypoint_flags(spec, course, terrain)
    model = spec.compile()
    root = model.body('base_footprint').id
    rover_geoms = frozenset(g for g in range(model.ngeom) if model.body_rootid[model.geom_bodyid[g]] == root)
    return BuiltModel(
        model=model, geometry=geometry, camera=camera, rover_body=root, rover_geoms=rover_geoms,
        rock_geoms={model.geom(n).id: i for i, n in enumerate(rock_names)},
        post_geoms={model.geom(n).id: tag for n, tag in post_names.items()},
        wheel_joints=tuple(geometry.wheel_joints), steering_joints=tuple(geometry.steering_joints),
        flat=terrain is None, terrain=terrain)
