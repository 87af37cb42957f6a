"""Full ROS 2 message definitions ('ros2msg' MCAP schemas) from the installed .msg files (pure).

A schema is the type's own .msg text followed by every type it uses, each after a line of 80 '='
and 'MSG: pkg/Name', the layout rosbag2 writes and MCAP readers (mcap_ros2, rosbags, Foxglove) parse.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

PRIMITIVES = {'bool', 'byte', 'char', 'float32', 'float64', 'int8', 'uint8', 'int16', 'uint16', 'int32',
              'uint32', 'int64', 'uint64', 'string', 'wstring', 'time', 'duration'}
SEPARATOR = '=' * 80
_FIELD_TYPE = re.compile(r'^\s*([A-Za-z0-9_/]+)')


def search_roots() -> list[Path]:
    """share/ directories of every AMENT_PREFIX_PATH entry."""
    return [Path(p) / 'share' for p in os.environ.get('AMENT_PREFIX_PATH', '').split(os.pathsep) if p]


def msg_text(type_name: str, roots: list[Path] | None = None) -> str:
    """Text of pkg/msg/Name.msg ('pkg/Name' or 'pkg/msg/Name'); LookupError if not installed."""
    package, _, name = _split(type_name)
    for root in roots or search_roots():
        path = root / package / 'msg' / f'{name}.msg'
        if path.is_file():
            return path.read_text(encoding='utf-8')
    raise LookupError(f'no {package}/msg/{name}.msg under AMENT_PREFIX_PATH')


def dependencies(text: str, package: str) -> list[str]:
    """'pkg/Name' of the non-primitive field types of a .msg text, in order of first use."""
    found = []
    for raw in text.splitlines():
        line = raw.split('#', 1)[0].strip()
        match = _FIELD_TYPE.match(line)
        if match is None or len(line.split()) < 2:     # blank, comment; constants have primitive types
            continue
        base = re.split(r'[\[<]', match.group(1))[0]
        if base in PRIMITIVES:
            continue
        full = base if '/' in base else ('std_msgs/Header' if base == 'Header' else f'{package}/{base}')
        if full not in found:
            found.append(full)
    return found


def schema_text(type_name: str, roots: list[Path] | None = None) -> str:
    """The concatenated definition of ``type_name`` and everything it depends on."""
    package, _, name = _split(type_name)
    main = msg_text(type_name, roots)
    parts, seen = [main.rstrip('\n')], {f'{package}/{name}'}
    queue = dependencies(main, package)
    while queue:
        dep = queue.pop(0)
        if dep in seen:
            continue
        seen.add(dep)
        text = msg_text(dep, roots)
        parts.append(f'{SEPARATOR}\nMSG: {dep}\n{text.rstrip(chr(10))}')
        queue += [d for d in dependencies(text, dep.split('/')[0]) if d not in seen]
    return '\n'.join(parts) + '\n'


def _split(type_name: str) -> tuple[str, str, str]:
    parts = type_name.split('/')
    if len(parts) == 3 and parts[1] == 'msg':
        return parts[0], 'msg', parts[2]
    if len(parts) == 2:
        return parts[0], 'msg', parts[1]
    raise ValueError(f'not a message type name: {type_name!r}')
