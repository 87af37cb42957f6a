"""Value checks of the hardware-interface contract, applied to one message at a time.

Pure Python: messages are duck-typed (any object with the named attributes), so the checks run on
ROS message objects without rclpy and on hand-built stand-ins alike. Each check returns a list of
problems, short sentences naming the field; an empty list means the message passes.

Field paths are dotted attribute names with optional indices: ``status.status``,
``orientation_covariance[0]``. A field holding a sequence (list, array, numpy array) is checked
element by element, reported as ``velocity[2]``.
"""
from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

_PATH_PART = re.compile(r'^([A-Za-z_][A-Za-z0-9_]*)((?:\[\d+\])*)$')

# Bytes per pixel of the image encodings the contract allows (sensor_msgs/image_encodings.hpp).
BYTES_PER_PIXEL = {
    'rgb8': 3, 'bgr8': 3, 'rgba8': 4, 'bgra8': 4, 'mono8': 1, 'mono16': 2,
    '8UC1': 1, '8UC3': 3, '16UC1': 2, '32FC1': 4,
}
# Number of distortion coefficients of each camera model (empty d is allowed: no distortion given).
DISTORTION_SIZES = {'plumb_bob': (5,), 'rational_polynomial': (8,), 'equidistant': (4,)}
JOINT_GROUPS = ('wheel', 'steering')
LIMIT_PARAMS = ('min', 'max', 'abs_max')   # numbers, or names of RoverGeometry attributes


class FieldError(ValueError):
    """A field path does not name an attribute of the message."""


def _is_sequence(value) -> bool:
    if isinstance(value, (str, bytes, bytearray)):
        return False
    return hasattr(value, '__len__') and hasattr(value, '__getitem__')


def get_field(msg, path: str):
    """The value at ``path`` (e.g. ``header.stamp.sec``, ``k[0]``); FieldError if it does not exist."""
    value = msg
    for part in path.split('.'):
        match = _PATH_PART.match(part)
        if match is None:
            raise FieldError(f'bad field path {path!r}')
        name, indices = match.groups()
        if not hasattr(value, name):
            raise FieldError(f'{type(msg).__name__} has no field {path!r}')
        value = getattr(value, name)
        for index in re.findall(r'\d+', indices):
            try:
                value = value[int(index)]
            except (IndexError, TypeError):
                raise FieldError(f'{path}: index {index} out of range') from None
    return value


def field_items(msg, path: str) -> list[tuple[str, object]]:
    """(label, value) pairs: one for a scalar field, one per element for a sequence field."""
    value = get_field(msg, path)
    if _is_sequence(value):
        return [(f'{path}[{i}]', item) for i, item in enumerate(value)]
    return [(path, value)]


def _number(value) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def resolve_limit(limit, geometry) -> float | None:
    """A numeric limit, or the RoverGeometry attribute it names (None without a geometry)."""
    if isinstance(limit, str):
        return None if geometry is None else float(getattr(geometry, limit))
    return float(limit)


# ----------------------------------------------------------------------------- the check kinds


def check_stamped(msg, params, geometry) -> list[str]:
    stamp = msg.header.stamp
    if stamp.sec == 0 and stamp.nanosec == 0:
        return ['header.stamp is zero (not stamped)']
    if stamp.sec < 0 or not 0 <= stamp.nanosec < 1_000_000_000:
        return [f'header.stamp {stamp.sec}.{stamp.nanosec:09d} is not a valid time']
    return []


def check_finite(msg, params, geometry) -> list[str]:
    problems = []
    for path in params['fields']:
        for label, value in _numeric_items(msg, path):
            if not math.isfinite(value):
                problems.append(f'{label} is {value}, not finite')
    return problems


def _numeric_items(msg, path):
    """Numeric (label, float) pairs of a field; vector-like messages (x, y, z[, w]) are expanded."""
    items = []
    for label, value in field_items(msg, path):
        number = _number(value)
        if number is not None:
            items.append((label, number))
            continue
        for axis in ('x', 'y', 'z', 'w'):
            if hasattr(value, axis):
                items.append((f'{label}.{axis}', float(getattr(value, axis))))
    return items


def check_range(msg, params, geometry) -> list[str]:
    low = resolve_limit(params['min'], geometry) if 'min' in params else None
    high = resolve_limit(params['max'], geometry) if 'max' in params else None
    if 'abs_max' in params:
        bound = resolve_limit(params['abs_max'], geometry)
        if bound is not None:
            low, high = -bound, bound
    low = -math.inf if low is None else low
    high = math.inf if high is None else high
    problems = []
    for label, value in _numeric_items(msg, params['field']):
        if math.isnan(value):
            if not params.get('allow_nan', False):
                problems.append(f'{label} is NaN')
            continue
        if not low <= value <= high:
            problems.append(f'{label} = {value:g} outside [{low:g}, {high:g}]')
    return problems


def check_non_empty(msg, params, geometry) -> list[str]:
    return [f'{path} is empty' for path in params['fields'] if len(get_field(msg, path)) == 0]


def check_same_length(msg, params, geometry) -> list[str]:
    lengths = {path: len(get_field(msg, path)) for path in params['fields']}
    if len(set(lengths.values())) > 1:
        listed = ', '.join(f'{path} {n}' for path, n in lengths.items())
        return [f'lengths differ: {listed}']
    return []


def check_joint_names(msg, params, geometry) -> list[str]:
    names = [str(name) for name in get_field(msg, params['field'])]
    expected = []
    for group in params['joints']:
        expected += geometry.wheel_joints if group == 'wheel' else geometry.steering_joints
    problems = []
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        problems.append(f'{params["field"]} repeats {duplicates}')
    missing = sorted(set(expected) - set(names))
    unknown = sorted(set(names) - set(expected))
    if missing:
        problems.append(f'{params["field"]} lacks joints {missing}')
    if unknown:
        problems.append(f'{params["field"]} has joints not in the robot config {unknown}')
    return problems


def check_unit_quaternion(msg, params, geometry) -> list[str]:
    q = get_field(msg, params['field'])
    values = [float(q.x), float(q.y), float(q.z), float(q.w)]
    if not all(math.isfinite(v) for v in values):
        return [f'{params["field"]} is not finite: {values}']
    norm = math.sqrt(sum(v * v for v in values))
    tolerance = float(params.get('tolerance', 1e-3))
    if abs(norm - 1.0) > tolerance:
        return [f'{params["field"]} has norm {norm:.4f}, not 1']
    return []


def check_covariance(msg, params, geometry) -> list[str]:
    """Row-major 3x3 or 6x6 covariance: finite, non-negative diagonal, symmetric; [0] = -1 means unknown."""
    path = params['field']
    values = [float(v) for v in get_field(msg, path)]
    size = math.isqrt(len(values))
    if size * size != len(values) or size == 0:
        return [f'{path} has {len(values)} elements, not a square matrix']
    if values[0] == -1.0:
        return []
    if not all(math.isfinite(v) for v in values):
        return [f'{path} is not finite']
    problems = []
    if any(values[i * size + i] < 0.0 for i in range(size)):
        problems.append(f'{path} has a negative variance on the diagonal')
    tolerance = 1e-9 * max(1.0, *(abs(v) for v in values))
    if any(abs(values[r * size + c] - values[c * size + r]) > tolerance
           for r in range(size) for c in range(r + 1, size)):
        problems.append(f'{path} is not symmetric')
    return problems


def check_one_of(msg, params, geometry) -> list[str]:
    value = get_field(msg, params['field'])
    if value not in params['values']:
        return [f'{params["field"]} = {value!r} not one of {list(params["values"])}']
    return []


def check_image(msg, params, geometry) -> list[str]:
    if msg.width <= 0 or msg.height <= 0:
        return [f'image size {msg.width}x{msg.height} is empty']
    bpp = BYTES_PER_PIXEL.get(msg.encoding)
    if bpp is None:
        return [f'encoding {msg.encoding!r} unknown; expected one of {sorted(BYTES_PER_PIXEL)}']
    problems = []
    if msg.step < msg.width * bpp:
        problems.append(f'step {msg.step} < width {msg.width} x {bpp} bytes per pixel')
    if len(msg.data) != msg.step * msg.height:
        problems.append(f'data has {len(msg.data)} bytes, step x height = {msg.step * msg.height}')
    return problems


def check_camera_info(msg, params, geometry) -> list[str]:
    problems = []
    if msg.width <= 0 or msg.height <= 0:
        problems.append(f'size {msg.width}x{msg.height} is empty')
    k = [float(v) for v in msg.k]
    p = [float(v) for v in msg.p]
    if not all(math.isfinite(v) for v in k + p + [float(v) for v in msg.d]):
        problems.append('k, p or d is not finite')
    elif k[0] <= 0.0 or k[4] <= 0.0 or k[8] != 1.0:
        problems.append(f'k is not a camera matrix (fx {k[0]:g}, fy {k[4]:g}, k[8] {k[8]:g})')
    elif p[0] <= 0.0 or p[5] <= 0.0 or p[10] != 1.0:
        problems.append(f'p is not a projection matrix (fx {p[0]:g}, fy {p[5]:g}, p[10] {p[10]:g})')
    if len(msg.d) > 0:
        sizes = DISTORTION_SIZES.get(msg.distortion_model)
        if sizes is None:
            problems.append(f'distortion_model {msg.distortion_model!r} unknown; '
                            f'expected one of {sorted(DISTORTION_SIZES)}')
        elif len(msg.d) not in sizes:
            problems.append(f'{msg.distortion_model} needs {sizes[0]} coefficients in d, got {len(msg.d)}')
    return problems


def check_laser_scan(msg, params, geometry) -> list[str]:
    """Consistent angles and limits; every range within limits or +-inf / NaN (REP-117)."""
    angle_min, angle_max, step = float(msg.angle_min), float(msg.angle_max), float(msg.angle_increment)
    range_min, range_max = float(msg.range_min), float(msg.range_max)
    numbers = (angle_min, angle_max, step, range_min, range_max)
    if not all(math.isfinite(v) for v in numbers):
        return [f'angle or range limits not finite: {numbers}']
    problems = []
    if step <= 0.0 or angle_max <= angle_min:
        problems.append(f'angles not increasing: min {angle_min:g}, max {angle_max:g}, increment {step:g}')
    elif len(msg.ranges) != round((angle_max - angle_min) / step) + 1:
        expected = round((angle_max - angle_min) / step) + 1
        problems.append(f'{len(msg.ranges)} ranges, angles give {expected}')
    if not 0.0 <= range_min < range_max:
        problems.append(f'range limits not 0 <= range_min {range_min:g} < range_max {range_max:g}')
    bad = [i for i, r in enumerate(msg.ranges)
           if math.isfinite(r) and not range_min <= r <= range_max]
    if bad:
        problems.append(f'{len(bad)} ranges outside [range_min, range_max] without being +-inf, '
                        f'first ranges[{bad[0]}] = {msg.ranges[bad[0]]:g}')
    if len(msg.intensities) not in (0, len(msg.ranges)):
        problems.append(f'{len(msg.intensities)} intensities for {len(msg.ranges)} ranges')
    return problems


# ----------------------------------------------------------------------------- registry


@dataclass(frozen=True)
class CheckKind:
    """One kind of check: its function and the parameters it takes."""
    function: Callable[[object, Mapping, object], list[str]]
    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    needs_geometry: bool = False
    description: str = ''


CHECK_KINDS: dict[str, CheckKind] = {
    'stamped': CheckKind(check_stamped, description='header.stamp set (not zero)'),
    'finite': CheckKind(check_finite, ('fields',), description='every number in the fields finite'),
    'range': CheckKind(check_range, ('field',), ('min', 'max', 'abs_max', 'allow_nan'),
                       description='every number in the field within [min, max] or |x| <= abs_max'),
    'non_empty': CheckKind(check_non_empty, ('fields',), description='the arrays are not empty'),
    'same_length': CheckKind(check_same_length, ('fields',), description='the arrays have equal lengths'),
    'joint_names': CheckKind(check_joint_names, ('field', 'joints'), needs_geometry=True,
                             description='names are exactly the robot config joints of these groups'),
    'unit_quaternion': CheckKind(check_unit_quaternion, ('field',), ('tolerance',),
                                 description='quaternion finite with norm 1'),
    'covariance': CheckKind(check_covariance, ('field',),
                            description='square, finite, symmetric, variances >= 0 ([0] = -1: unknown)'),
    'one_of': CheckKind(check_one_of, ('field', 'values'), description='value among the listed ones'),
    'image': CheckKind(check_image, description='encoding known, width/height/step/data consistent'),
    'camera_info': CheckKind(check_camera_info,
                             description='size, camera and projection matrices, distortion model'),
    'laser_scan': CheckKind(check_laser_scan, description='angles, limits and ranges consistent (REP-117)'),
}


@dataclass(frozen=True)
class Check:
    """One check of a topic: its kind, its parameters, and an optional skip condition."""
    kind: str
    params: Mapping = field(default_factory=dict)
    unless: tuple[str, object] | None = None   # (field path, value): skip when the field equals it

    def applies_to(self, msg) -> bool:
        return self.unless is None or get_field(msg, self.unless[0]) != self.unless[1]

    def __str__(self) -> str:
        shown = ', '.join(f'{key}={_show(value)}' for key, value in self.params.items())
        skip = f' unless {self.unless[0]} == {self.unless[1]!r}' if self.unless else ''
        return f'{self.kind}({shown}){skip}'


def _show(value) -> str:
    return '[' + ', '.join(str(v) for v in value) + ']' if isinstance(value, (list, tuple)) else str(value)


def run_checks(msg, checks, geometry=None) -> list[str]:
    """Problems of ``msg`` under ``checks``. Checks needing a RoverGeometry are skipped without one."""
    problems = []
    for check in checks:
        if geometry is None and needs_geometry(check):
            continue
        try:
            if check.applies_to(msg):
                problems += CHECK_KINDS[check.kind].function(msg, check.params, geometry)
        except FieldError as error:
            problems.append(str(error))
        except (AttributeError, TypeError, ValueError) as error:  # message not of the expected shape
            problems.append(f'{check}: cannot check {type(msg).__name__}: {error}')
    return problems


def skipped_checks(checks, geometry=None) -> list[Check]:
    """The checks :func:`run_checks` leaves out for this geometry (None: those needing one)."""
    return [check for check in checks if geometry is None and needs_geometry(check)]


def needs_geometry(check: Check) -> bool:
    """True for joint-name checks and for limits that name a RoverGeometry attribute."""
    limits = (check.params.get(key) for key in LIMIT_PARAMS)
    return CHECK_KINDS[check.kind].needs_geometry or any(isinstance(limit, str) for limit in limits)
