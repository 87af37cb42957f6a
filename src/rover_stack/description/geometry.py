"""Rover geometry from one config file (config/robot/<variant>.yaml), shared by the xacro robot
description and the drive controller so the two can't disagree.

Frames follow REP-103 (x forward, y left, z up) and REP-105 (base_link on the chassis centre at
wheel-axle height). Lengths in m, angles in rad, speeds in rad/s.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from rover_stack.common.share_files import robot_config_path

KINEMATICS = ('skid', 'corner')


@dataclass(frozen=True)
class SensorMount:
    """Pose of a sensor frame in base_link: xyz in m, rpy in rad."""
    frame: str
    xyz: tuple[float, float, float]
    rpy: tuple[float, float, float] = (0.0, 0.0, 0.0)


@dataclass(frozen=True)
class Wheel:
    """One wheel: its joint names and its contact-point position in base_link (m)."""
    name: str                  # e.g. front_left
    joint: str                 # continuous wheel joint, e.g. wheel_front_left_joint
    x: float                   # m, forward of base_link
    y: float                   # m, left of base_link
    steering_joint: str = ''   # revolute steering joint, '' if the wheel does not steer

    @property
    def side(self) -> int:
        """+1 for a left wheel, -1 for a right wheel."""
        return 1 if self.y > 0 else -1


@dataclass(frozen=True)
class RoverGeometry:
    """Everything the kinematics and the robot description need to know about the rover."""
    name: str
    kinematics: str            # 'skid' or 'corner'
    wheel_radius: float        # m
    wheel_width: float         # m
    track: float               # m, between left and right wheel centres
    wheelbase: float           # m, between front and rear axles
    wheels: tuple[Wheel, ...]
    effective_track_factor: float = 1.0   # skid steer: effective track = factor * track
    max_wheel_speed: float = 10.0         # rad/s, motor limit at the wheel
    max_steering_angle: float = math.pi / 2  # rad, |angle| limit of the steering joints
    max_steering_rate: float = 2.0        # rad/s
    chassis_size: tuple[float, float, float] = (1.0, 0.6, 0.25)  # m, length, width, height
    chassis_mass: float = 40.0            # kg
    wheel_mass: float = 2.0               # kg
    sensors: dict[str, SensorMount] = field(default_factory=dict)

    @property
    def wheel_joints(self) -> list[str]:
        return [w.joint for w in self.wheels]

    @property
    def steering_joints(self) -> list[str]:
        return [w.steering_joint for w in self.wheels if w.steering_joint]


class GeometryError(ValueError):
    """The robot config file is missing a field or has an impossible value."""


def _positive(data: dict, key: str, source: str) -> float:
    try:
        value = float(data[key])
    except KeyError:
        raise GeometryError(f'{source}: missing field {key!r}') from None
    except (TypeError, ValueError):
        raise GeometryError(f'{source}: field {key!r} must be a number, got {data[key]!r}') from None
    if not math.isfinite(value) or value <= 0.0:
        raise GeometryError(f'{source}: field {key!r} must be a positive number, got {value}')
    return value


def _triple(value, what: str, source: str) -> tuple[float, float, float]:
    try:
        out = tuple(float(v) for v in value)
    except (TypeError, ValueError):
        out = ()
    if len(out) != 3 or not all(math.isfinite(v) for v in out):
        raise GeometryError(f'{source}: {what} must be a list of 3 finite numbers, got {value!r}')
    return out


def wheel_layout(wheel_count: int, track: float, wheelbase: float, steering: bool) -> tuple[Wheel, ...]:
    """Wheels at +-track/2 laterally; front and rear axles at +-wheelbase/2 (middle axle at 0 for 6).

    With steering (corner kinematics, 6 wheels) the four corner wheels steer, the middle pair does not.
    """
    if wheel_count == 4:
        axles = (('front', wheelbase / 2), ('rear', -wheelbase / 2))
    elif wheel_count == 6:
        axles = (('front', wheelbase / 2), ('middle', 0.0), ('rear', -wheelbase / 2))
    else:
        raise GeometryError(f'wheel_count must be 4 or 6, got {wheel_count}')
    wheels = []
    for axle, x in axles:
        for side, y in (('left', track / 2), ('right', -track / 2)):
            name = f'{axle}_{side}'
            steer = f'steer_{name}_joint' if steering and axle != 'middle' else ''
            wheels.append(Wheel(name=name, joint=f'wheel_{name}_joint', x=x, y=y, steering_joint=steer))
    return tuple(wheels)


def geometry_from_dict(data: dict, source: str = '<dict>') -> RoverGeometry:
    """Build and validate a RoverGeometry from the ``rover:`` mapping of a robot config file."""
    if not isinstance(data, dict):
        raise GeometryError(f'{source}: expected a mapping under "rover"')
    kinematics = data.get('kinematics')
    if kinematics not in KINEMATICS:
        raise GeometryError(f'{source}: kinematics must be one of {KINEMATICS}, got {kinematics!r}')
    wheel_count = data.get('wheel_count')
    if kinematics == 'corner' and wheel_count != 6:
        raise GeometryError(f'{source}: corner steering needs wheel_count 6, got {wheel_count!r}')
    if wheel_count not in (4, 6):
        raise GeometryError(f'{source}: wheel_count must be 4 or 6, got {wheel_count!r}')
    track = _positive(data, 'track', source)
    wheelbase = _positive(data, 'wheelbase', source)
    wheels = wheel_layout(wheel_count, track, wheelbase, steering=kinematics == 'corner')
    chassis = data.get('chassis', {})
    sensors = {}
    for name, mount in (data.get('sensors') or {}).items():
        if not isinstance(mount, dict) or 'frame' not in mount or 'xyz' not in mount:
            raise GeometryError(f'{source}: sensor {name!r} needs "frame" and "xyz"')
        sensors[name] = SensorMount(
            frame=str(mount['frame']),
            xyz=_triple(mount['xyz'], f'sensor {name} xyz', source),
            rpy=_triple(mount.get('rpy', (0.0, 0.0, 0.0)), f'sensor {name} rpy', source),
        )
    optional = {}
    for key in ('effective_track_factor', 'max_wheel_speed', 'max_steering_angle', 'max_steering_rate',
                'wheel_mass'):
        if key in data:
            optional[key] = _positive(data, key, source)
    if 'max_steering_angle' in optional and optional['max_steering_angle'] > math.pi / 2 + 1e-9:
        raise GeometryError(f'{source}: max_steering_angle must be at most pi/2 rad')
    if chassis:
        optional['chassis_size'] = (_positive(chassis, 'length', source), _positive(chassis, 'width', source),
                                    _positive(chassis, 'height', source))
        optional['chassis_mass'] = _positive(chassis, 'mass', source)
    return RoverGeometry(
        name=str(data.get('name', 'rover')),
        kinematics=kinematics,
        wheel_radius=_positive(data, 'wheel_radius', source),
        wheel_width=_positive(data, 'wheel_width', source),
        track=track,
        wheelbase=wheelbase,
        wheels=wheels,
        sensors=sensors,
        **optional,
    )


def load_geometry(path: str | Path) -> RoverGeometry:
    """Read config/robot/<variant>.yaml (top-level key ``rover``); GeometryError on bad content."""
    path = Path(path)
    try:
        document = yaml.safe_load(path.read_text())
    except OSError as error:
        raise GeometryError(f'{path}: cannot read robot config: {error.strerror}') from None
    except yaml.YAMLError as error:
        raise GeometryError(f'{path}: not valid YAML: {error}') from None
    if not isinstance(document, dict) or 'rover' not in document:
        raise GeometryError(f'{path}: expected a top-level "rover:" mapping')
    return geometry_from_dict(document['rover'], str(path))


def load_robot_geometry(variant_or_path: str | Path) -> RoverGeometry:
    """The geometry of a shipped robot variant ('skid4') or of a robot config file; ValueError (an
    unknown variant, GeometryError) with the reason."""
    return load_geometry(robot_config_path(variant_or_path))
