"""ROS 2 message definitions in the concatenated ``ros2msg`` form (pure, no rclpy).

Foxglove (and MCAP) describe a CDR channel by its type's .msg text followed by the text of every
type it uses, each after a separator line and ``MSG: pkg/Name``, dependencies once each in the order
first met (depth first). The .msg files come from ``<prefix>/share/<pkg>/msg/<Name>.msg`` of the
ament prefixes (AMENT_PREFIX_PATH).
"""
from __future__ import annotations

import os
import re
from pathlib import Path

SEPARATOR = '=' * 80
PRIMITIVES = frozenset({'bool', 'byte', 'char', 'float32', 'float64', 'int8', 'uint8', 'int16', 'uint16',
                        'int32', 'uint32', 'int64', 'uint64', 'string', 'wstring'})
_TYPE = re.compile(r'^(?P<base>[A-Za-z][\w/]*)(?:<=\d+)?(?:\[[^\]]*\])?$')


class SchemaError(LookupError):
    """A message type whose definition (or one of its dependencies) cannot be found or read."""


def ament_prefixes(environ: dict | None = None) -> list[Path]:
    """The ament prefixes of AMENT_PREFIX_PATH, in order."""
    value = (os.environ if environ is None else environ).get('AMENT_PREFIX_PATH', '')
    return [Path(p) for p in value.split(os.pathsep) if p]


def split_type(type_name: str) -> tuple[str, str]:
    """'nav_msgs/msg/Odometry' or 'nav_msgs/Odometry' -> ('nav_msgs', 'Odometry')."""
    parts = type_name.split('/')
    if len(parts) == 3 and parts[1] == 'msg':
        parts = [parts[0], parts[2]]
    if len(parts) != 2 or not all(parts):
        raise SchemaError(f'{type_name!r}: a message type like pkg/msg/Name is required')
    return parts[0], parts[1]


def field_types(text: str, package: str) -> list[str]:
    """The complex (non-primitive) field types of one .msg text, as 'pkg/Name', in order."""
    out = []
    for raw_line in text.splitlines():
        line = raw_line.split('#', 1)[0].strip()
        if not line:
            continue
        match = _TYPE.match(line.split()[0])
        if match is None:
            raise SchemaError(f'{package}: cannot read the field type in {line!r}')
        base = match['base']
        if base in PRIMITIVES:
            continue
        if '/' in base:
            out.append('/'.join(split_type(base)))
        elif base == 'Header':   # ROS 1 habit some files keep
            out.append('std_msgs/Header')
        else:
            out.append(f'{package}/{base}')
    return out


def message_definition(type_name: str, prefixes: list[Path] | None = None) -> str:
    """The concatenated ros2msg definition of ``type_name``; SchemaError if a file is missing."""
    prefixes = ament_prefixes() if prefixes is None else prefixes
    root = '/'.join(split_type(type_name))
    sections: list[str] = []
    seen: set[str] = set()

    def visit(name: str) -> None:
        seen.add(name)
        text = _read(name, prefixes)
        sections.append(text if name == root else f'{SEPARATOR}\nMSG: {name}\n{text}')
        for dependency in field_types(text, name.split('/', maxsplit=1)[0]):
            if dependency not in seen:
                visit(dependency)

    visit(root)
    return '\n'.join(sections)


def _read(name: str, prefixes: list[Path]) -> str:
    package, message = name.split('/')
    for prefix in prefixes:
        path = prefix / 'share' / package / 'msg' / f'{message}.msg'
        if path.is_file():
            return path.read_text(encoding='utf-8').rstrip('\n')
    raise SchemaError(f'{name}: no {package}/msg/{message}.msg under the ament prefixes '
                      f'({", ".join(map(str, prefixes)) or "AMENT_PREFIX_PATH is empty"})')
