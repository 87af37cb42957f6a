"""Mission progress on disk, written atomically (pure, no rclpy).

The file is JSON: the mission (name, sha256 digest of its YAML text, where it came from and the text
itself, so a respawned node can resume without a client), the outcome of every finished leg, the
index of the next leg, whether the mission is still running, and the sightings of the leg in
progress (so a respawned node goes straight to a post it had already found instead of searching
again). ``save`` writes a temporary file in
the same directory, fsyncs it, renames it over the old one and fsyncs the directory: a crash at any
point leaves either the old or the new file, never a torn one.

It also records whether the operator held the mission (``hold``: paused, or returning after an
abort-and-return, with the return goal), so a respawned executive restores that, and when it was
written: the kernel's boot id and the seconds since boot (CLOCK_BOOTTIME). A respawned executive
restores a mission only from a file written during this boot and at most ``auto_resume_max_age`` s
of boot time ago (``restore_refusal``); the wall clock, which may boot behind or jump, is not used.

``load`` refuses anything but a well-formed file (ProgressError: bad UTF-8, bad JSON, a field of the
wrong type or range); the node then moves it aside (``quarantine``) and starts without it.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from rover_stack.autonomy.executive import OUTCOMES, LegResult, Sighting

VERSION = 1


class ProgressError(ValueError):
    """The progress file is unreadable or not a progress file."""


def digest(mission_yaml: str) -> str:
    """Identity of a mission: sha256 of its YAML text."""
    return hashlib.sha256(mission_yaml.encode('utf-8')).hexdigest()


HOLDS = ('', 'paused', 'returning')   # running / paused by the operator or the e-stop / abort-and-return
BOOT_ID_FILE = Path('/proc/sys/kernel/random/boot_id')


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
    hold: str = ''                 # one of HOLDS
    return_goal: list | None = None   # hold 'returning': [x m, y m, tolerance m, where]
    boot_id: str = ''              # kernel boot id when written ('' unknown)
    boot_time: float = 0.0         # s since boot (CLOCK_BOOTTIME) when written

    def to_json(self) -> str:
        data = asdict(self)
        data['version'] = VERSION
        return json.dumps(data, indent=1, allow_nan=True)

    @classmethod
    def from_json(cls, text: str, source: str = 'progress') -> Progress:
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as error:
            raise ProgressError(f'{source}: not a progress file: {error}') from None
        if not isinstance(data, dict):
            raise ProgressError(f'{source}: not a progress file: a JSON object is required')
        if data.pop('version', None) != VERSION:
            raise ProgressError(f'{source}: not a version {VERSION} progress file')
        try:
            progress = cls(**data)
        except TypeError as error:
            raise ProgressError(f'{source}: not a progress file: {error}') from None
        problem = progress._problem()
        if problem:
            raise ProgressError(f'{source}: not a valid progress file: {problem}')
        progress.legs = [LegResult(**leg) for leg in progress.legs]
        return progress

    def _problem(self) -> str | None:
        """What is wrong with the fields as JSON gave them back (None: nothing)."""
        for name in ('mission_name', 'mission_digest', 'mission_source', 'mission_yaml', 'boot_id'):
            if not isinstance(getattr(self, name), str):
                return f'{name} must be a string'
        if isinstance(self.next_leg, bool) or not isinstance(self.next_leg, int) or self.next_leg < 0:
            return 'next_leg must be an integer >= 0'
        if not isinstance(self.running, bool):
            return 'running must be true or false'
        if not _number(self.boot_time, False):
            return 'boot_time must be a finite number'
        if self.hold not in HOLDS:
            return f'hold must be one of {HOLDS}'
        if self.hold == 'returning' and not _return_goal_ok(self.return_goal):
            return 'return_goal must be [x, y, tolerance, where] while returning'
        if not isinstance(self.sightings, list):
            return 'sightings must be a list'
        if not isinstance(self.legs, list):
            return 'legs must be a list'
        for leg in self.legs:
            problem = _leg_problem(leg)
            if problem:
                return f'legs: {problem}'
        return None


def _return_goal_ok(goal) -> bool:
    return (isinstance(goal, list) and len(goal) == 4 and _number(goal[0], False) and _number(goal[1], False)
            and _number(goal[2], False) and goal[2] > 0.0 and isinstance(goal[3], str))


def _leg_problem(leg) -> str | None:
    if not isinstance(leg, dict):
        return 'each leg must be an object'
    unknown = set(leg) - set(LegResult.__dataclass_fields__)
    if unknown:
        return f'unknown leg fields {sorted(unknown)}'
    if not {'index', 'kind', 'name'} <= set(leg):
        return 'index, kind and name are required'
    index = leg.get('index')
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        return 'index must be an integer >= 0'
    if not all(isinstance(leg.get(k, ''), str) for k in ('kind', 'name', 'message')):
        return 'kind, name and message must be strings'
    if leg.get('outcome', 'PENDING') not in OUTCOMES:
        return f'outcome must be one of {OUTCOMES}'
    if not _number(leg.get('duration', 0.0), False):
        return 'duration must be a finite number'
    distance = leg.get('final_distance', math.nan)
    if isinstance(distance, bool) or not isinstance(distance, int | float):
        return 'final_distance must be a number (NaN: unknown)'
    return None


def boot_stamp() -> tuple[str, float]:
    """(kernel boot id or '' where unknown, s since boot including suspend): when a file is written."""
    try:
        boot_id = BOOT_ID_FILE.read_text(encoding='ascii').strip()
    except OSError:
        boot_id = ''
    return boot_id, time.clock_gettime(time.CLOCK_BOOTTIME)


def restore_refusal(progress: Progress, boot_id: str, boot_time: float, max_age: float) -> str | None:
    """Why a respawned executive must not restore ``progress`` now (None: it may, held paused).

    Only an unfinished mission written during this boot (same non-empty boot id) at most ``max_age`` s
    of boot time ago is restored: a file from an earlier boot is an old mission, whatever the wall clock
    says (a rover whose clock boots behind would see it as new).
    """
    if not progress.running:
        return 'the mission had ended'
    if not progress.boot_id or progress.boot_id != boot_id:
        return 'written before this boot (or by a version that did not record the boot)'
    age = boot_time - progress.boot_time
    if not 0.0 <= age <= max_age:
        return f'written {age:.0f} s ago (auto_resume_max_age {max_age:.0f} s)'
    return None


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
    except UnicodeDecodeError as error:
        raise ProgressError(f'{path}: not a progress file: not UTF-8 ({error.reason} at byte '
                            f'{error.start})') from None
    return Progress.from_json(text, str(path))


def quarantine(path: str | Path) -> Path | None:
    """Move a damaged progress file aside (``<name>.damaged``, replacing an older one) so the next start
    does not trip over it; the moved file's path, or None when it could not be moved."""
    path = Path(path)
    target = path.with_name(path.name + '.damaged')
    try:
        os.replace(path, target)
    except OSError:
        return None
    return target


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
