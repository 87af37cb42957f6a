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
from collections.abc import Callable
from typing import Any

from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor, SetParametersResult
from rclpy.exceptions import InvalidParameterTypeException, InvalidParameterValueException

from rover_stack.common.param_spec import changed_params, check_changes, declared, param, spec, validate

__all__ = ['declare_params', 'override_of', 'param', 'watch_params']

def _descriptor(field: dataclasses.Field, meta: dict):
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


def override_of(node, name: str):
    """The value this node's overrides (``-p``, YAML, launch) give ``name``, read through the public API:
    declared untyped, read, undeclared again; None when not given."""
    value = node.declare_parameter(name, None, ParameterDescriptor(dynamic_typing=True)).value
    node.undeclare_parameter(name)
    return value


def declare_params(node, cls, prefix: str = ''):
    """Declare every ``param`` field of dataclass ``cls`` on ``node``; an instance with the values (other
    fields keep their defaults).

    Raises ValueError naming the parameter when a value is out of range or of the wrong type (also
    when rclpy refuses it against the descriptor's range), so ``run_node`` logs one clear line and
    exits with 1. Later changes through ``ros2 param set`` are validated the same way; read-only ones
    are refused by rclpy.
    """
    values = {}
    for field in declared(cls):
        meta = spec(field)
        default = field.default if field.default is not dataclasses.MISSING else field.default_factory()
        name = prefix + field.name
        descriptor = _descriptor(field, meta)
        try:
            value = node.declare_parameter(name, default, descriptor).value
        except InvalidParameterTypeException as error:
            # '-p rate:=10' (or a launch argument '10') arrives as an integer; for a float parameter
            # that means 10.0, where rclpy alone refuses it.
            number = override_of(node, name)
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


def watch_params(node, cls, apply: Callable[[Any], str | None], prefix: str = '',
                 attribute: str = 'params') -> None:
    """Apply run-time changes of ``node.<attribute>`` (a ``cls`` instance from ``declare_params``).

    On ``ros2 param set``: the same range checks as at start-up, then ``apply(new_values)``, which puts
    the values to use (e.g. rebuilds a core's limits) and returns None, or refuses with a message and
    changes nothing (e.g. a cross-field rule of the core). Accepted changes are logged. A node whose
    parameters come from two dataclasses (its own and its core's config) watches each with its attribute.
    """
    names = {prefix + f.name for f in declared(cls)}

    def on_set(parameters) -> SetParametersResult:
        ours = [p for p in parameters if p.name in names]
        if not ours:
            return SetParametersResult(successful=True)
        error = check_changes(cls, ours, prefix)
        if error is None:
            new = changed_params(getattr(node, attribute), ours, prefix)
            try:
                error = apply(new)
            except ValueError as exc:
                error = str(exc)
        if error is not None:
            node.get_logger().warning(f'parameter change refused: {error}')
            return SetParametersResult(successful=False, reason=error)
        setattr(node, attribute, new)
        node.get_logger().info('parameters changed: ' + ', '.join(f'{p.name}={p.value}' for p in ours))
        return SetParametersResult(successful=True)

    node.add_on_set_parameters_callback(on_set)
