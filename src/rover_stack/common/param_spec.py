"""Parameter metadata on dataclass fields: description, unit, range, choices, read-only. Pure Python.

An algorithm core's config (or a node's parameter class) declares each setting once with ``param``
(fields without it are internal constants, not parameters);
``rover_stack.common.params`` turns such a dataclass into ROS parameters (``declare_params``,
``watch_params``), and the same metadata validates values here, without rclpy, so simulator and core
modules can describe their settings without loading ROS.
"""
from __future__ import annotations

import dataclasses
import math
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


def declared(cls) -> list[dataclasses.Field]:
    """The fields of dataclass ``cls`` made with ``param``: the ROS parameters it declares. A core's
    config may keep other fields (internal constants) that are not parameters."""
    return [f for f in dataclasses.fields(cls) if _META in f.metadata]


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


def check_changes(cls, parameters, prefix: str = '') -> str | None:
    """Validate a list of rclpy Parameters against ``cls``; an error message, or None if all fine."""
    fields = {prefix + f.name: f for f in declared(cls)}
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
    return [f.name for f in declared(cls) if not spec(f)['read_only']]


def changed_params(current, parameters, prefix: str = ''):
    """``current`` (a params dataclass) with the values of ``parameters`` (rclpy Parameters) that name
    its parameter fields; a float field given an integer takes it as a float. Other names are ignored."""
    fields = {prefix + f.name: f for f in declared(type(current))}
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
