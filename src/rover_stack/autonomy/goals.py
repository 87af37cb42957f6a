"""Resolving an ExecuteMission goal to a mission, and small frame helpers (pure, no rclpy)."""
from __future__ import annotations

import math
from pathlib import Path

from rover_stack.autonomy.mission import MISSIONS_DIR, Mission, MissionError, load_mission_file
from rover_stack.autonomy.mission import mission_from_text as _from_text
from rover_stack.common.share_files import names_a_file, share_roots


def default_mission_dirs() -> list[Path]:
    """config/missions of the installed share directory and of the source tree."""
    return [root / MISSIONS_DIR for root in share_roots()]


def resolve_goal(mission_file: str, mission_yaml: str, allowed_dirs: list[Path]) -> tuple[Mission, str, str]:
    """(mission, its YAML text, its source) for a goal; MissionError with a clear message otherwise.

    Exactly one of ``mission_file`` / ``mission_yaml`` must be given. A file must resolve (symlinks
    and '..' followed) to a path inside one of ``allowed_dirs``; a bare name ('urc_demo'; the rule of
    ``common.share_files.names_a_file``) means
    ``<dir>/urc_demo.yaml`` in the first allowed directory that has it.
    """
    if bool(mission_file) == bool(mission_yaml):
        raise MissionError('<goal>', 0, 'mission_file', 'give exactly one of mission_file and mission_yaml')
    if mission_yaml:
        return _from_text(mission_yaml), mission_yaml, '<mission_yaml>'
    path = _find(mission_file, allowed_dirs)
    text = path.read_text(encoding='utf-8')
    return load_mission_file(path), text, str(path)


def _find(mission_file: str, allowed_dirs: list[Path]) -> Path:
    name = mission_file.strip()
    if names_a_file(name):
        candidates = [Path(name)]
    else:
        candidates = [d / f'{name}.yaml' for d in allowed_dirs]
    allowed = [d.resolve() for d in allowed_dirs]
    for candidate in candidates:
        resolved = candidate.expanduser().resolve()
        if not any(resolved.is_relative_to(d) for d in allowed):
            raise MissionError(name, 0, 'mission_file', 'not inside an allowed mission directory ('
                               + ', '.join(map(str, allowed)) + ')')
        if resolved.is_file():
            return resolved
    raise MissionError(name, 0, 'mission_file', 'no such mission file')


def base_to_map(pose: tuple[float, float, float], x: float, y: float) -> tuple[float, float]:
    """A point (x, y) in base_link -> map, for a rover at pose (x, y, yaw) in map."""
    px, py, yaw = pose
    c, s = math.cos(yaw), math.sin(yaw)
    return (px + c * x - s * y, py + s * x + c * y)



