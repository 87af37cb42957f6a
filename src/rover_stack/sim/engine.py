"""The simulator core: MuJoCo physics of one rover on one course, its sensors, and the hardware's rules.

``Simulator(course, robot_config, seed, config)`` owns the model and the state. ``step(n)`` advances n
physics steps (``dt`` = 2 ms) and returns the sensor readings that fell due, each at its own rate on a
fixed grid of steps, so the same seed and the same command sequence give identical outputs. Commands
are set with ``set_wheel_commands`` / ``set_steering_commands`` and follow the hardware contract: wheel
set-points are clamped to max_wheel_speed, non-finite values and unknown joints are refused
(ValueError), and the wheels stop when no wheel command came for ``command_timeout`` s, as the real
motor controller does. A pressed hardware e-stop (``set_estop``) brakes the wheels to zero.

Frames: world = map (x east, y north, z up); body velocities in base_link. Units SI. No rclpy here.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, field

os.environ.setdefault('MUJOCO_GL', 'egl')   # before mujoco is imported: offscreen rendering, no display
import mujoco
import numpy as np

from rover_stack.common.param_spec import param
from rover_stack.geo.enu import LocalTangentPlane
from rover_stack.sim.model_builder import WORLD_GROUP, CameraIntrinsics, build_model
from rover_stack.sim.sensors import (
    BatteryConfig,
    BatteryModel,
    CameraConfig,
    CameraModel,
    EncoderConfig,
    GnssConfig,
    GnssModel,
    ImuConfig,
    ImuModel,
    RangeConfig,
    RangeSensor,
    WheelEncoders,
)
from rover_stack.tf.transform import yaw_from_quaternion

DEFAULT_DATUM = (38.4064, -110.7919, 1340.0)   # deg, deg, m: used when the course names none
COLLISION_CHECK_STEPS = 5                      # physics steps between contact scans (10 ms)


@dataclass
class EngineConfig:
    command_timeout: float = param(0.5, 'Wheels stop when no wheel command came for this long', unit='s',
                                   low=0.01, high=10.0, read_only=True)
    physics_substeps: int = param(1, 'Reserved: physics steps per 2 ms tick (keep 1)', low=1, high=1,
                                  read_only=True)


@dataclass
class SimConfig:
    """Everything configurable about a run (defaults: config/simulator.yaml)."""
    engine: EngineConfig = field(default_factory=EngineConfig)
    encoders: EncoderConfig = field(default_factory=EncoderConfig)
    imu: ImuConfig = field(default_factory=ImuConfig)
    gnss: GnssConfig = field(default_factory=GnssConfig)
    camera: CameraConfig = field(default_factory=CameraConfig)
    range: RangeConfig = field(default_factory=RangeConfig)
    battery: BatteryConfig = field(default_factory=BatteryConfig)


@dataclass(frozen=True)
class GroundTruth:
    stamp: float
    position: tuple[float, float, float]             # m, base_link origin in the map frame
    orientation: tuple[float, float, float, float]   # x, y, z, w: base_link in the map frame
    linear_velocity: tuple[float, float, float]      # m/s, in base_link
    angular_velocity: tuple[float, float, float]     # rad/s, in base_link

    @property
    def yaw(self) -> float:
        return yaw_from_quaternion(*self.orientation)


@dataclass(frozen=True)
class CollisionEvent:
    stamp: float
    kind: str          # 'rock' | 'post'
    index: int         # rock index in the course, or the post's tag id
    position: tuple[float, float, float]   # m, contact point in the map frame


@dataclass(frozen=True)
class GnssFix:
    """A GNSS sample as the receiver reports it: WGS 84 plus the model's ENU sample."""
    stamp: float
    fix: bool
    latitude: float
    longitude: float
    altitude: float
    variance_horizontal: float   # m^2
    variance_vertical: float     # m^2


class _Stream:
    """A sensor stream on a grid of physics steps: sample k is due at step round(k * period / dt)."""

    def __init__(self, name: str, rate: float, dt: float):
        self.name, self.rate = name, rate
        self.steps_per_sample = 1.0 / (rate * dt) if rate > 0 else math.inf
        self.count = 1
        self.last_step = 0

    def due_step(self) -> float:
        return round(self.count * self.steps_per_sample) if math.isfinite(self.steps_per_sample) else math.inf

    def advance(self, step: int) -> None:
        self.count += 1
        self.last_step = step


def _xyzw(wxyz) -> np.ndarray:
    return np.array([wxyz[1], wxyz[2], wxyz[3], wxyz[0]])


class Simulator:
    """One rover on one course. ``render=False`` skips the camera (no OpenGL context needed)."""

    def __init__(self, course=None, robot_config: str = 'skid4', seed: int = 0,
                 config: SimConfig | None = None, render: bool = True):
        self.config = config = config or SimConfig()
        self.course = course
        cam = config.camera
        self.built = build_model(course, robot_config, CameraIntrinsics(cam.width, cam.height, cam.fovy))
        self.model = model = self.built.model
        self.data = mujoco.MjData(model)
        self.geometry = self.built.geometry
        self.dt = float(model.opt.timestep)
        self.steps = 0
        rngs = [np.random.default_rng([int(seed), k]) for k in range(6)]
        self.encoders = WheelEncoders(config.encoders, rngs[0])
        self.imu = ImuModel(config.imu, rngs[1])
        self.gnss = GnssModel(config.gnss, rngs[2])
        self.camera = CameraModel(config.camera, rngs[3], self.built.camera_name, self.built.camera.k())
        # the heightfield (group TERRAIN) is ray-marched by the sensor; flat ground is a WORLD geom
        self.range = RangeSensor(config.range, rngs[4], seen_groups=(WORLD_GROUP,),
                                 terrain=self.built.terrain)
        self.battery = BatteryModel(config.battery, rngs[5])
        datum = getattr(course, 'datum', None)
        lat0, lon0, alt0 = ((datum.latitude, datum.longitude, datum.altitude) if datum is not None
                            else DEFAULT_DATUM)
        self.plane = LocalTangentPlane(lat0, lon0, alt0)
        self.render_enabled = render and cam.rate > 0
        self._streams = [_Stream('joint_states', config.encoders.rate, self.dt),
                         _Stream('imu', config.imu.rate, self.dt),
                         _Stream('gnss', config.gnss.rate, self.dt),
                         _Stream('scan', config.range.rate, self.dt),
                         _Stream('battery', config.battery.rate, self.dt)]
        if self.render_enabled:
            self._streams.append(_Stream('camera', cam.rate, self.dt))
        # joints and actuators
        self._wheel_qpos = np.array([model.joint(j).qposadr[0] for j in self.built.wheel_joints])
        self._wheel_dof = np.array([model.joint(j).dofadr[0] for j in self.built.wheel_joints])
        steering = self.built.steering_joints
        self._steer_qpos = np.array([model.joint(j).qposadr[0] for j in steering], dtype=int)
        self._steer_dof = np.array([model.joint(j).dofadr[0] for j in steering], dtype=int)
        self._wheel_act = np.array([model.actuator(f'{j}_vel').id for j in self.built.wheel_joints])
        self._steer_act = np.array([model.actuator(f'{j}_pos').id for j in self.built.steering_joints],
                                   dtype=int)
        self._wheel_target = np.zeros(len(self._wheel_act))
        self._steer_target = np.zeros(len(self._steer_act))
        self._steer_setpoint = np.zeros(len(self._steer_act))   # rate-limited toward the target
        self._last_wheel_command: float | None = None
        self.estop_pressed = False
        self.timeouts = 0
        # sensor sites
        self._base_site = model.site('base_link_site').id
        self._imu_site = model.site('imu_link_site').id
        self._gnss_site = model.site('gnss_link_site').id
        self._laser_site = model.site('laser_link_site').id
        self._imu_velocity = self._site_linear_velocity(self._imu_site)
        self._contacts: set[tuple[str, int]] = set()
        self.collisions: list[CollisionEvent] = []
        mujoco.mj_forward(model, self.data)
        self._imu_velocity = self._site_linear_velocity(self._imu_site)

    # ---- commands ----------------------------------------------------------------------------
    @property
    def time(self) -> float:
        """Simulated time in s (steps * dt, exact)."""
        return self.steps * self.dt

    @property
    def wheel_joints(self) -> tuple[str, ...]:
        return self.built.wheel_joints

    @property
    def steering_joints(self) -> tuple[str, ...]:
        return self.built.steering_joints

    def set_wheel_commands(self, velocities: dict[str, float]) -> None:
        """Wheel speed set-points in rad/s, by joint name (every wheel joint, or a subset: the others
        keep their set-point). Clamped to max_wheel_speed; ValueError for unknown names or non-finite
        values (then nothing changes)."""
        target = self._targets(velocities, self.built.wheel_joints, self._wheel_target, 'wheel')
        limit = self.geometry.max_wheel_speed
        self._wheel_target = np.clip(target, -limit, limit)
        self._last_wheel_command = self.time

    def set_steering_commands(self, angles: dict[str, float]) -> None:
        """Steering angle set-points in rad, by joint name; clamped to max_steering_angle."""
        if not self.built.steering_joints and angles:
            raise ValueError(f'robot {self.geometry.name!r} has no steering joints')
        target = self._targets(angles, self.built.steering_joints, self._steer_target, 'steering')
        limit = self.geometry.max_steering_angle
        self._steer_target = np.clip(target, -limit, limit)

    @staticmethod
    def _targets(values: dict[str, float], joints, current, what: str) -> np.ndarray:
        target = np.array(current, dtype=float)
        index = {name: i for i, name in enumerate(joints)}
        for name, raw in values.items():
            if name not in index:
                raise ValueError(f'unknown {what} joint {name!r}; expected {", ".join(joints)}')
            value = float(raw)
            if not math.isfinite(value):
                raise ValueError(f'{what} command for {name} is not finite: {value}')
            target[index[name]] = value
        return target

    def set_estop(self, pressed: bool) -> None:
        """Press (True) or release the hardware e-stop; while pressed the wheels brake to zero."""
        self.estop_pressed = bool(pressed)

    @property
    def command_fresh(self) -> bool:
        return (self._last_wheel_command is not None
                and self.time - self._last_wheel_command <= self.config.engine.command_timeout)

    # ---- stepping ----------------------------------------------------------------------------
    def step(self, n: int = 1) -> list:
        """Advance ``n`` physics steps; return the readings that fell due, in time order."""
        readings = []
        end = self.steps + int(n)
        while self.steps < end:
            next_event = min(*(s.due_step() for s in self._streams),
                             (self.steps // COLLISION_CHECK_STEPS + 1) * COLLISION_CHECK_STEPS, end)
            self._apply_controls(next_event - self.steps)
            mujoco.mj_step(self.model, self.data, nstep=int(next_event - self.steps))
            elapsed = (next_event - self.steps) * self.dt
            self.steps = int(next_event)
            self.battery.drain(elapsed, self.data.actuator_force[self._wheel_act],
                               self.data.qvel[self._wheel_dof])
            if self.steps % COLLISION_CHECK_STEPS == 0:
                self._scan_contacts()
            for stream in self._streams:
                if stream.due_step() <= self.steps:
                    readings.append(self._sample(stream))
                    stream.advance(self.steps)
        return readings

    def _apply_controls(self, steps: int) -> None:
        ctrl = self.data.ctrl
        if self.estop_pressed or not self.command_fresh:
            if self._last_wheel_command is not None and not self.command_fresh and self._wheel_target.any():
                self.timeouts += 1
                self._wheel_target[:] = 0.0
            ctrl[self._wheel_act] = 0.0
        else:
            ctrl[self._wheel_act] = self._wheel_target
        if len(self._steer_act):
            max_change = self.geometry.max_steering_rate * steps * self.dt
            change = np.clip(self._steer_target - self._steer_setpoint, -max_change, max_change)
            self._steer_setpoint += change
            ctrl[self._steer_act] = self._steer_setpoint

    def _scan_contacts(self) -> None:
        d, built = self.data, self.built
        now: set[tuple[str, int]] = set()
        positions = {}
        for i in range(d.ncon):
            contact = d.contact[i]
            g1, g2 = int(contact.geom1), int(contact.geom2)
            for mine, other in ((g1, g2), (g2, g1)):
                if mine not in built.rover_geoms:
                    continue
                if other in built.rock_geoms:
                    key = ('rock', built.rock_geoms[other])
                elif other in built.post_geoms:
                    key = ('post', built.post_geoms[other])
                else:
                    continue
                now.add(key)
                positions[key] = tuple(float(x) for x in contact.pos)
        for key in sorted(now - self._contacts):
            self.collisions.append(CollisionEvent(self.time, key[0], key[1], positions[key]))
        self._contacts = now

    def take_collisions(self) -> list[CollisionEvent]:
        events, self.collisions = self.collisions, []
        return events

    # ---- sensors -----------------------------------------------------------------------------
    def _site_linear_velocity(self, site: int) -> np.ndarray:
        velocity = np.zeros(6)
        mujoco.mj_objectVelocity(self.model, self.data, mujoco.mjtObj.mjOBJ_SITE, site, velocity, 0)
        return velocity[3:].copy()

    def _site_pose(self, site: int) -> tuple[np.ndarray, np.ndarray]:
        return self.data.site_xpos[site].copy(), self.data.site_xmat[site].reshape(3, 3).copy()

    def _sample(self, stream: _Stream):
        t = self.time
        d = self.data
        if stream.name == 'joint_states':
            efforts = d.actuator_force[self._wheel_act]
            return self.encoders.measure(
                t, self.built.wheel_joints, d.qpos[self._wheel_qpos], d.qvel[self._wheel_dof], efforts,
                steering_names=self.built.steering_joints, steering_positions=d.qpos[self._steer_qpos],
                steering_velocities=d.qvel[self._steer_dof],
                steering_efforts=d.actuator_force[self._steer_act])
        if stream.name == 'imu':
            period = (self.steps - stream.last_step) * self.dt
            velocity = self._site_linear_velocity(self._imu_site)
            mean_acceleration = (velocity - self._imu_velocity) / max(period, self.dt)
            self._imu_velocity = velocity
            rate = np.zeros(6)
            mujoco.mj_objectVelocity(self.model, d, mujoco.mjtObj.mjOBJ_SITE, self._imu_site, rate, 1)
            _, rotation = self._site_pose(self._imu_site)
            quat = np.zeros(4)
            mujoco.mju_mat2Quat(quat, rotation.ravel())
            return self.imu.measure(t, period, rotation, _xyzw(quat), true_rate=rate[:3],
                                    mean_world_acceleration=mean_acceleration)
        if stream.name == 'gnss':
            position, _ = self._site_pose(self._gnss_site)
            sample = self.gnss.measure(t, *position)
            if not sample.fix:
                return GnssFix(t, False, math.nan, math.nan, math.nan, sample.sigma_horizontal ** 2,
                               sample.sigma_vertical ** 2)
            lat, lon, alt = self.plane.to_geodetic(sample.east, sample.north, sample.up)
            return GnssFix(t, True, float(lat), float(lon), float(alt), sample.sigma_horizontal ** 2,
                           sample.sigma_vertical ** 2)
        if stream.name == 'scan':
            origin, rotation = self._site_pose(self._laser_site)
            return self.range.scan(t, self.model, d, origin, rotation)
        if stream.name == 'battery':
            return self.battery.measure(t)
        if stream.name == 'camera':
            return self.camera.render(t, self.model, d)
        raise AssertionError(stream.name)

    def ground_truth(self) -> GroundTruth:
        """Pose and twist of base_link now (map frame; twist in base_link)."""
        position, rotation = self._site_pose(self._base_site)
        quat = np.zeros(4)
        mujoco.mju_mat2Quat(quat, rotation.ravel())
        velocity = np.zeros(6)
        mujoco.mj_objectVelocity(self.model, self.data, mujoco.mjtObj.mjOBJ_SITE, self._base_site, velocity,
                                 1)
        return GroundTruth(self.time, tuple(float(x) for x in position), tuple(float(x) for x in _xyzw(quat)),
                           tuple(float(x) for x in velocity[3:]), tuple(float(x) for x in velocity[:3]))

    def close(self) -> None:
        self.camera.close()
