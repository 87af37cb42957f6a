"""Declare a node's parameters from a dataclass, with descriptions and ranges, in one call.

Each dataclass field declares one parameter. Its metadata carries the description, the unit and,
for numbers, the allowed range; ``read_only=True`` for values that must not change at run time::

    @dataclass
    class DriveParams:
        max_speed: float = param(1.0, 'Top forward speed', unit='m/s', low=0.0, high=5.0)
        kinematics: str = param('skid', 'skid or corner', choices=('skid', 'corner'), read_only=True)

    self.params = declare_params(self, DriveParams)   # -> DriveParams filled from the node

Values out of range or not among ``choices`` are refused by ``validate`` (used at start-up and on
every run-time change), so a bad YAML file fails loudly instead of driving the rover.

Fields without ``read_only`` are the ones a team tunes in the field. ``watch_params`` makes them take
effect at run time (``ros2 param set``): the change is validated by the same ranges, handed to the node's
``apply`` (which rebuilds what depends on it, and may refuse it), and only then becomes ``node.params``.
rclpy refuses read-only ones itself ("Trying to set a read-only parameter").
"""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

_META = 'rover_param'


def param(default: Any, description: str, *, unit: str = '', low: float | None = None,
          high: float | None = None, choices: tuple | None = None, read_only: bool = False):
    """A dataclass field describing one ROS parameter (see module docstring)."""
    meta = {'description': description, 'unit': unit, 'low': low, 'high': high,
            'choices': choices, 'read_only': read_only}
    if isinstance(default, list | dict):
        return dataclasses.field(default_factory=lambda: type(default)(default), metadata={_META: meta})
    return dataclasses.field(default=default, metadata={_META: meta})


def spec(field: dataclasses.Field) -> dict:
    """The metadata dict given to ``param`` for this field."""
    return field.metadata.get(_META, {'description': '', 'unit': '', 'low': None, 'high': None,
                                     'choices': None, 'read_only': False})


def validate(name: str, value: Any, meta: dict) -> str | None:
    """Return an error message if ``value`` breaks the field's range or choices, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            return f'{name}={value} is not a finite number'
        if meta['low'] is not None and value < meta['low']:
            return f"{name}={value} is below the minimum {meta['low']} {meta['unit']}".rstrip()
        if meta['high'] is not None and value > meta['high']:
            return f"{name}={value} is above the maximum {meta['high']} {meta['unit']}".rstrip()
    if meta['choices'] is not None and value not in meta['choices']:
        return f"{name}={value!r} is not one of {list(meta['choices'])}"
    return None


def _descriptor(field: dataclasses.Field, meta: dict):
    from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor

    text = meta['description'] + (f" [{meta['unit']}]" if meta['unit'] else '')
    if meta['choices']:
        text += f" (one of: {', '.join(map(str, meta['choices']))})"
    descriptor = ParameterDescriptor(description=text, read_only=meta['read_only'])
    default = field.default if field.default is not dataclasses.MISSING else None
    if meta['low'] is not None and meta['high'] is not None:
        if isinstance(default, float):
            descriptor.floating_point_range = [
                FloatingPointRange(from_value=float(meta['low']), to_value=float(meta['high']))]
        elif isinstance(default, int) and not isinstance(default, bool):
            descriptor.integer_range = [IntegerRange(from_value=int(meta['low']), to_value=int(meta['high']))]
    return descriptor


def declare_params(node, cls, prefix: str = ''):
    """Declare every field of dataclass ``cls`` on ``node`` and return an instance with the values.

    Raises ValueError naming the parameter when a value is out of range or of the wrong type (also
    when rclpy refuses it against the descriptor's range), so ``run_node`` logs one clear line and
    exits with 1. Later changes through ``ros2 param set`` are validated the same way; read-only ones
    are refused by rclpy.
    """
    from rclpy.exceptions import InvalidParameterTypeException, InvalidParameterValueException

    values = {}
    for field in dataclasses.fields(cls):
        meta = spec(field)
        default = field.default if field.default is not dataclasses.MISSING else field.default_factory()
        name = prefix + field.name
        descriptor = _descriptor(field, meta)
        try:
            value = node.declare_parameter(name, default, descriptor).value
        except InvalidParameterTypeException as error:
            # '-p rate:=10' (or a launch argument '10') arrives as an integer; for a float parameter
            # that means 10.0, where rclpy alone refuses it.
            override = getattr(node, '_parameter_overrides', {}).get(name)
            number = None if override is None else override.value
            if not (isinstance(default, float) and isinstance(number, int) and not isinstance(number, bool)):
                raise ValueError(f'{node.get_name()}: parameter {name} refused: {error}') from None
            try:
                value = node.declare_parameter(name, float(number), descriptor, ignore_override=True).value
            except InvalidParameterValueException as error:
                raise ValueError(f'{node.get_name()}: parameter {name} refused: {error}') from None
        except InvalidParameterValueException as error:
            raise ValueError(f'{node.get_name()}: parameter {name} refused: {error}') from None
        if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        error = validate(name, value, meta)
        if error:
            raise ValueError(f'{node.get_name()}: parameter {error}')
        values[field.name] = value
    return cls(**values)


def check_changes(cls, parameters, prefix: str = '') -> str | None:
    """Validate a list of rclpy Parameters against ``cls``; an error message, or None if all fine."""
    fields = {prefix + f.name: f for f in dataclasses.fields(cls)}
    for parameter in parameters:
        field = fields.get(parameter.name)
        if field is None:
            continue
        error = validate(parameter.name, parameter.value, spec(field))
        if error:
            return error
    return None


def writable(cls) -> list[str]:
    """Names of the fields of ``cls`` that may change at run time (no ``read_only``)."""
    return [f.name for f in dataclasses.fields(cls) if _META in f.metadata and not spec(f)['read_only']]


def changed_params(current, parameters, prefix: str = ''):
    """``current`` (a params dataclass) with the values of ``parameters`` (rclpy Parameters) that name
    its fields; a float field given an integer takes it as a float. Other names are ignored."""
    fields = {prefix + f.name: f for f in dataclasses.fields(current)}
    changes = {}
    for parameter in parameters:
        field = fields.get(parameter.name)
        if field is None:
            continue
        value = parameter.value
        if isinstance(getattr(current, field.name), float) and isinstance(value, int) \
                and not isinstance(value, bool):
            value = float(value)
        changes[field.name] = value
    return dataclasses.replace(current, **changes)


def watch_params(node, cls, apply: Callable[[Any], str | None], prefix: str = '') -> None:
    """Apply run-time changes of ``node.params`` (a ``cls`` instance from ``declare_params``).

    On ``ros2 param set``: the same range checks as at start-up, then ``apply(new_params)``, which puts
    the values to use (e.g. rebuilds a core's limits) and returns None, or refuses with a message and
    changes nothing (e.g. a cross-field rule of the core). Accepted changes are logged.
    """
    from rcl_interfaces.msg import SetParametersResult

    def on_set(parameters) -> SetParametersResult:
        ours = [p for p in parameters if p.name.startswith(prefix) and
                p.name[len(prefix):] in {f.name for f in dataclasses.fields(cls)}]
        if not ours:
            return SetParametersResult(successful=True)
        error = check_changes(cls, ours, prefix)
        if error is None:
            new = changed_params(node.params, ours, prefix)
            try:
                error = apply(new)
            except ValueError as exc:
                error = str(exc)
        if error is not None:
            node.get_logger().warning(f'parameter change refused: {error}')
            return SetParametersResult(successful=False, reason=error)
        node.params = new
        node.get_logger().info('parameters changed: ' + ', '.join(f'{p.name}={p.value}' for p in ours))
        return SetParametersResult(successful=True)

    node.add_on_set_parameters_callback(on_set)
