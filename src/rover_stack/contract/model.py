"""The hardware-interface contract as data: config/hardware_interface.yaml loaded and validated.

Pure Python (no rclpy). ``load_contract()`` returns a :class:`Contract`; every mistake in the file
raises :class:`ContractError` naming the topic and the field.
"""
from __future__ import annotations

import dataclasses
import importlib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import yaml

from rover_stack.common.share_files import package_share_dir
from rover_stack.contract.checks import CHECK_KINDS, JOINT_GROUPS, LIMIT_PARAMS, Check
from rover_stack.description.geometry import KINEMATICS, RoverGeometry

CONTRACT_FILE = Path('config') / 'hardware_interface.yaml'
DIRECTIONS = ('to_hardware', 'from_hardware')
# The profile names of rover_stack.common.qos.PROFILES (that module imports rclpy; a test keeps them equal).
QOS_NAMES = ('sensor', 'image', 'command', 'latched')
_TYPE_NAME = re.compile(r'^([A-Za-z][A-Za-z0-9_]*)/msg/([A-Z][A-Za-z0-9]*)$')
_RELATIVE_TOPIC = re.compile(r'^[A-Za-z][A-Za-z0-9_]*(/[A-Za-z][A-Za-z0-9_]*)*$')
_GEOMETRY_LIMITS = {f.name for f in dataclasses.fields(RoverGeometry) if f.type in ('float', float)}
_TOPIC_KEYS = {'direction', 'type', 'frame_id', 'rate_hz', 'qos', 'description', 'units', 'kinematics',
               'checks'}


class ContractError(ValueError):
    """The contract file is missing a field or has an impossible value."""


@dataclass(frozen=True)
class TopicContract:
    """What one topic between the stack and the hardware must look like."""
    name: str                  # relative topic name, e.g. imu/data
    direction: str             # to_hardware | from_hardware
    type: str                  # pkg/msg/Name
    frame_id: str | None       # required header.frame_id; None: the type has no header
    rate_hz: float             # nominal rate, Hz; 0 = on change only
    qos: str                   # profile name of rover_stack.common.qos
    description: str = ''
    units: Mapping[str, str] = dataclasses.field(default_factory=dict)
    kinematics: tuple[str, ...] = KINEMATICS    # robot variants that use the topic
    checks: tuple[Check, ...] = ()

    def used_by(self, kinematics: str) -> bool:
        return kinematics in self.kinematics


@dataclass(frozen=True)
class Contract:
    """All topics of the contract, in file order."""
    version: int
    topics: Mapping[str, TopicContract]
    source: str = '<dict>'

    def topic(self, name: str) -> TopicContract:
        try:
            return self.topics[name]
        except KeyError:
            known = ', '.join(self.topics)
            raise ContractError(f'{self.source}: no topic {name!r}; known: {known}') from None

    def select(self, direction: str | None = None, kinematics: str | None = None) -> list[TopicContract]:
        """Topics in a direction (None: both) used by a kinematics (None: any)."""
        return [t for t in self.topics.values()
                if (direction is None or t.direction == direction)
                and (kinematics is None or t.used_by(kinematics))]


def default_path() -> Path:
    return package_share_dir() / CONTRACT_FILE


def load_contract(path: str | Path | None = None) -> Contract:
    """Read and validate the contract file (default: config/hardware_interface.yaml of the package)."""
    path = default_path() if path is None else Path(path)
    try:
        document = yaml.safe_load(path.read_text())
    except OSError as error:
        raise ContractError(f'{path}: cannot read contract: {error.strerror}') from None
    except yaml.YAMLError as error:
        raise ContractError(f'{path}: not valid YAML: {error}') from None
    return contract_from_dict(document, str(path))


def contract_from_dict(document, source: str = '<dict>') -> Contract:
    if not isinstance(document, dict) or not isinstance(document.get('topics'), dict):
        raise ContractError(f'{source}: expected a mapping with "version" and "topics"')
    version = document.get('version')
    if version != 1:
        raise ContractError(f'{source}: version must be 1, got {version!r}')
    if not document['topics']:
        raise ContractError(f'{source}: no topics')
    topics = {name: _topic(name, spec, f'{source}: topic {name!r}')
              for name, spec in document['topics'].items()}
    return Contract(version=version, topics=MappingProxyType(topics), source=source)


def _topic(name, spec, where: str) -> TopicContract:
    if not isinstance(name, str) or not _RELATIVE_TOPIC.match(name):
        raise ContractError(f'{where}: name must be a relative ROS topic name (no leading /)')
    if not isinstance(spec, dict):
        raise ContractError(f'{where}: expected a mapping')
    unknown = set(spec) - _TOPIC_KEYS
    if unknown:
        raise ContractError(f'{where}: unknown keys {sorted(unknown)}; allowed: {sorted(_TOPIC_KEYS)}')
    for key in ('direction', 'type', 'frame_id', 'rate_hz', 'qos'):
        if key not in spec:
            raise ContractError(f'{where}: missing {key!r}')
    if spec['direction'] not in DIRECTIONS:
        raise ContractError(f'{where}: direction must be one of {DIRECTIONS}, got {spec["direction"]!r}')
    if not isinstance(spec['type'], str) or not _TYPE_NAME.match(spec['type']):
        raise ContractError(f'{where}: type must look like pkg/msg/Name, got {spec["type"]!r}')
    frame_id = spec['frame_id']
    if frame_id is not None and not isinstance(frame_id, str):
        raise ContractError(f'{where}: frame_id must be a string or null, got {frame_id!r}')
    rate = spec['rate_hz']
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not math.isfinite(rate) or rate < 0:
        raise ContractError(f'{where}: rate_hz must be a number >= 0 (0 = on change), got {rate!r}')
    if spec['qos'] not in QOS_NAMES:
        raise ContractError(f'{where}: qos must be one of {QOS_NAMES}, got {spec["qos"]!r}')
    kinematics = spec.get('kinematics', list(KINEMATICS))
    if not isinstance(kinematics, list) or not kinematics or not set(kinematics) <= set(KINEMATICS):
        raise ContractError(f'{where}: kinematics must be a non-empty list from {KINEMATICS}')
    units = spec.get('units') or {}
    if not isinstance(units, dict) or not all(isinstance(v, str) for v in units.values()):
        raise ContractError(f'{where}: units must map field names to unit strings')
    checks = spec.get('checks') or []
    if not isinstance(checks, list):
        raise ContractError(f'{where}: checks must be a list')
    return TopicContract(
        name=name,
        direction=spec['direction'],
        type=spec['type'],
        frame_id=frame_id,
        rate_hz=float(rate),
        qos=spec['qos'],
        description=str(spec.get('description', '')).strip(),
        units=MappingProxyType(dict(units)),
        kinematics=tuple(kinematics),
        checks=tuple(_check(entry, f'{where}, check {i}') for i, entry in enumerate(checks)),
    )


def _check(entry, where: str) -> Check:
    if not isinstance(entry, dict) or 'check' not in entry:
        raise ContractError(f'{where}: expected a mapping with "check: <kind>"')
    params = dict(entry)
    kind_name = params.pop('check')
    kind = CHECK_KINDS.get(kind_name)
    if kind is None:
        raise ContractError(f'{where}: unknown check {kind_name!r}; known: {sorted(CHECK_KINDS)}')
    where = f'{where} ({kind_name})'
    unless = params.pop('unless', None)
    if unless is not None:
        if not (isinstance(unless, dict) and set(unless) == {'field', 'equals'}
                and isinstance(unless['field'], str)):
            raise ContractError(f'{where}: unless must be {{field: <path>, equals: <value>}}')
        unless = (unless['field'], unless['equals'])
    missing = set(kind.required) - set(params)
    unknown = set(params) - set(kind.required) - set(kind.optional)
    if missing:
        raise ContractError(f'{where}: missing parameters {sorted(missing)}')
    if unknown:
        raise ContractError(f'{where}: unknown parameters {sorted(unknown)}; allowed: '
                            f'{sorted(kind.required + kind.optional)}')
    for key, value in params.items():
        params[key] = _param(key, value, where)
    if kind_name == 'range':
        if not set(params) & set(LIMIT_PARAMS):
            raise ContractError(f'{where}: needs min, max or abs_max')
        if 'abs_max' in params and {'min', 'max'} & set(params):
            raise ContractError(f'{where}: abs_max excludes min and max')
        if isinstance(params.get('min'), (int, float)) and isinstance(params.get('max'), (int, float)) \
                and params['min'] > params['max']:
            raise ContractError(f'{where}: min {params["min"]} > max {params["max"]}')
    return Check(kind=kind_name, params=MappingProxyType(params), unless=unless)


def _param(key: str, value, where: str):
    if key == 'field':
        if not isinstance(value, str) or not value:
            raise ContractError(f'{where}: field must be a field path string')
        return value
    if key == 'fields':
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            raise ContractError(f'{where}: fields must be a non-empty list of field paths')
        return tuple(value)
    if key == 'joints':
        if not isinstance(value, list) or not value or not set(value) <= set(JOINT_GROUPS):
            raise ContractError(f'{where}: joints must be a non-empty list from {JOINT_GROUPS}')
        return tuple(value)
    if key == 'values':
        if not isinstance(value, list) or not value:
            raise ContractError(f'{where}: values must be a non-empty list')
        return tuple(value)
    if key in LIMIT_PARAMS:
        if isinstance(value, str):
            if value not in _GEOMETRY_LIMITS:
                raise ContractError(f'{where}: {key} {value!r} is neither a number nor a RoverGeometry '
                                    f'limit ({sorted(_GEOMETRY_LIMITS)})')
            return value
        if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
            raise ContractError(f'{where}: {key} must be a number, got {value!r}')
        if key == 'abs_max' and value < 0:
            raise ContractError(f'{where}: abs_max must be >= 0, got {value}')
        return float(value)
    if key == 'allow_nan':
        if not isinstance(value, bool):
            raise ContractError(f'{where}: allow_nan must be true or false')
        return value
    if key == 'tolerance':
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise ContractError(f'{where}: tolerance must be a positive number')
        return float(value)
    raise ContractError(f'{where}: no validation for parameter {key!r}')  # a new kind's parameter


def message_class(type_name: str):
    """The Python class of a ROS message type 'pkg/msg/Name' (imports pkg.msg; no rclpy needed)."""
    match = _TYPE_NAME.match(type_name)
    if match is None:
        raise ContractError(f'type must look like pkg/msg/Name, got {type_name!r}')
    package, name = match.groups()
    try:
        module = importlib.import_module(f'{package}.msg')
    except ImportError as error:
        raise ContractError(f'{type_name}: cannot import {package}.msg: {error}') from None
    try:
        return getattr(module, name)
    except AttributeError:
        raise ContractError(f'{type_name}: {package}.msg has no {name}') from None
