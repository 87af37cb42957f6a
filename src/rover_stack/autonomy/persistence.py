"""Mission progress on disk, written atomically (pure, no rclpy).

The file is JSON: the mission (name, sha256 digest of its YAML text, where it came from and the text
itself, so a respawned node can resume without a client), the outcome of every finished leg, the
index of the next leg, whether the mission is still running, and the sightings of the leg in
progress (so a respawned node goes straight to a post it had already found instead of searching
again). ``save`` writes a temporary file in
the same directory, fsyncs it, renames it over the old one and fsyncs the directory: a crash at any
point leaves either the old or the new file, never a torn one.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from rover_stack.autonomy.executive import LegResult, Sighting

VERSION = 1


class ProgressError(ValueError):
    """The progress file is unreadable or not a progress file."""


def digest(mission_yaml: str) -> str:
    """Identity of a mission: sha256 of its YAML text."""
    return hashlib.sha256(mission_yaml.encode('utf-8')).hexdigest()


@dataclass
class Progress:
    mission_name: str
    mission_digest: str
    mission_source: str            # file path, or '<mission_yaml>' for inline text
    mission_yaml: str              # the text, for resuming without a client
    next_leg: int = 0              # 0-based; legs before it have a final outcome
    running: bool = True           # false once the mission ended (succeeded, failed, canceled)
    legs: list[LegResult] = field(default_factory=list)
    sightings: list = field(default_factory=list)   # leg next_leg: [kind, key, x, y, yaw, distance]

    def to_json(self) -> str:
        data = asdict(self)
        data['version'] = VERSION
        return json.dumps(data, indent=1, allow_nan=True)

    @classmethod
    def from_json(cls, text: str, source: str = 'progress') -> Progress:
        try:
            data = json.loads(text)
            if data.pop('version', None) != VERSION:
                raise ProgressError(f'{source}: not a version {VERSION} progress file')
            data['legs'] = [LegResult(**leg) for leg in data.get('legs', [])]
            progress = cls(**data)
        except (json.JSONDecodeError, TypeError, AttributeError) as error:
            raise ProgressError(f'{source}: not a progress file: {error}') from None
        if not (isinstance(progress.next_leg, int) and progress.next_leg >= 0):
            raise ProgressError(f'{source}: next_leg must be an integer >= 0')
        return progress


def save(path: str | Path, progress: Progress) -> None:
    """Atomically replace ``path`` with ``progress`` (tmp + fsync + rename + fsync of the directory)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=f'.{path.name}.', suffix='.tmp', dir=path.parent)
    try:
        with os.fdopen(handle, 'w', encoding='utf-8') as stream:
            stream.write(progress.to_json())
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def load(path: str | Path) -> Progress | None:
    """The progress in ``path``; None when there is no file. ProgressError when it is damaged."""
    path = Path(path)
    try:
        text = path.read_text(encoding='utf-8')
    except FileNotFoundError:
        return None
    except OSError as error:
        raise ProgressError(f'{path}: cannot read: {error.strerror}') from None
    return Progress.from_json(text, str(path))


def sightings_to_json(sightings: list[Sighting]) -> list:
    return [[s.kind, list(s.key) if isinstance(s.key, tuple) else s.key, s.xy[0], s.xy[1], s.yaw, s.distance]
            for s in sightings]


def _number(value, optional: bool) -> bool:
    if value is None:
        return optional
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


#: Sighting kind -> check of its key as JSON gives it back: tag id, class label, [left_id, right_id].
_KEY_CHECKS = {'marker': lambda k: isinstance(k, int) and not isinstance(k, bool),
               'object': lambda k: isinstance(k, str),
               'gate': lambda k: isinstance(k, list) and len(k) == 2 and all(isinstance(i, int) for i in k)}


def sightings_from_json(raw) -> tuple[list[Sighting], int]:
    """(valid sightings, how many entries were malformed and dropped) from a progress file's list."""
    out, bad = [], 0
    for entry in raw if isinstance(raw, list) else []:
        try:
            kind, key, x, y, yaw, distance = entry
        except (TypeError, ValueError):
            bad += 1
            continue
        if (kind not in _KEY_CHECKS or not _KEY_CHECKS[kind](key)
                or not (_number(x, False) and _number(y, False))
                or not (_number(yaw, True) and _number(distance, True))):
            bad += 1
            continue
        out.append(Sighting(kind, tuple(key) if kind == 'gate' else key, (float(x), float(y)), yaw, distance))
    if raw is not None and not isinstance(raw, list):
        bad += 1
    return out, bad


def resume_point(progress: Progress | None, mission_digest: str) -> tuple[int, list[LegResult]]:
    """(first leg to run, outcomes of the legs before it) for a mission about to start.

    Resumes only an unfinished run of the same mission (same digest); otherwise starts at leg 0.
    """
    if progress is None or not progress.running or progress.mission_digest != mission_digest:
        return 0, []
    return progress.next_leg, [leg for leg in progress.legs if leg.index < progress.next_leg]
