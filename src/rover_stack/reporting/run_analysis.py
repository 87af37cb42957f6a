"""What a recorded run says: tracks, position error over time, events, detections (pure, no rclpy).

Input: (topic, log time ns, message) from ``mcap_io.decoded`` (any objects with the ROS field names).
Tracks are map-frame x, y (m) at header stamps (s: sim time in simulation). Events are changes of the
mission leg/state (mission/status), of the active command source (active_source: takeovers) and of
the e-stop (estop_state, hardware_estop).
"""
from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from rover_stack.common.stamps import stamp_seconds
from rover_stack.reporting.report import Track

TRUTH_TOPIC = 'sim/ground_truth'
ESTIMATE_TOPIC = 'odometry/filtered'
KIND_OBJECT = 1        # rover_interfaces/MarkerDetection (decoded messages carry no constants)
MISSION_STATES = ('IDLE', 'RUNNING', 'PAUSED', 'TELEOP', 'RETURNING', 'SUCCEEDED', 'FAILED', 'CANCELED')


@dataclass(frozen=True)
class Event:
    t: float          # s (header stamp, or log time where the message has no header)
    kind: str         # 'leg' | 'mission' | 'takeover' | 'estop'
    text: str


@dataclass
class RunData:
    truth: Track = field(default_factory=Track)
    estimate: Track = field(default_factory=Track)
    events: list[Event] = field(default_factory=list)
    detections: Counter = field(default_factory=Counter)      # label ('tag 3', 'mallet') -> confirmed count
    counts: Counter = field(default_factory=Counter)          # topic -> messages
    datum: tuple[float, float, float] | None = None            # lat deg, lon deg, alt m


def stamp(header) -> float:
    return stamp_seconds(header.stamp)


def relative(topic: str) -> str:
    return topic.lstrip('/')


def analyse(messages: Iterable[tuple[str, int, object]], estimate_topic: str = ESTIMATE_TOPIC) -> RunData:
    """Collect a RunData from decoded messages (any order of topics; time order within a topic)."""
    run = RunData()
    last_leg = last_state = last_source = None
    estop: dict[str, bool] = {}
    clock = 0.0                        # latest header stamp seen: time of header-less events
    for topic, log_ns, msg in messages:
        name = relative(topic)
        run.counts[name] += 1
        header = getattr(msg, 'header', None)
        if header is not None:
            clock = max(clock, stamp(header))
        when = clock if clock > 0.0 else log_ns * 1e-9
        if name == TRUTH_TOPIC:
            run.truth.add(stamp(msg.header), msg.pose.pose.position.x, msg.pose.pose.position.y)
        elif name == relative(estimate_topic):
            run.estimate.add(stamp(msg.header), msg.pose.pose.position.x, msg.pose.pose.position.y)
        elif name == 'datum' and run.datum is None:
            values = (msg.latitude, msg.longitude, msg.altitude)
            if all(math.isfinite(v) for v in values):
                run.datum = values
        elif name == 'mission/status':
            t = stamp(msg.header)
            leg = (msg.leg_index, msg.leg_state)
            if msg.state != last_state:
                last_state = msg.state
                state = MISSION_STATES[msg.state] if msg.state < len(MISSION_STATES) else str(msg.state)
                run.events.append(Event(t, 'mission', f'mission {msg.mission_name!r} {state}'))
            if leg != last_leg and msg.leg_count:
                last_leg = leg
                run.events.append(Event(t, 'leg', f'leg {msg.leg_index + 1}/{msg.leg_count} '
                                                  f'{msg.leg_kind}: {msg.leg_state or "-"}'))
        elif name == 'active_source':
            if msg.data != last_source:
                if last_source is not None:
                    run.events.append(Event(when, 'takeover', f'command source {last_source} -> {msg.data}'))
                last_source = msg.data
        elif name in ('estop_state', 'hardware_estop'):
            pressed = bool(msg.data)
            if estop.get(name, False) != pressed:
                what = 'e-stop' if name == 'estop_state' else 'hardware e-stop'
                run.events.append(Event(when, 'estop', f'{what} {"LATCHED" if pressed else "released"}'))
            estop[name] = pressed
        elif name in ('markers', 'objects'):
            for d in msg.detections:
                if d.confirmed:
                    run.detections[d.label if d.kind == KIND_OBJECT else f'tag {d.id}'] += 1
    run.events.sort(key=lambda e: e.t)
    return run


def error_series(estimate: Track, truth: Track, max_gap: float = 0.1) -> np.ndarray:
    """(N, 2): estimate stamp (s) and horizontal error (m) to the truth sample nearest in time, for
    estimate samples with a truth sample within ``max_gap`` s."""
    if not len(estimate) or not len(truth):
        return np.zeros((0, 2))
    tr = truth.array()
    tr = tr[np.argsort(tr[:, 0])]
    est = estimate.array()
    idx = np.clip(np.searchsorted(tr[:, 0], est[:, 0]), 1, max(1, len(tr) - 1))
    left, right = tr[np.minimum(idx - 1, len(tr) - 1)], tr[np.minimum(idx, len(tr) - 1)]
    use_left = np.abs(est[:, 0] - left[:, 0]) <= np.abs(right[:, 0] - est[:, 0])
    nearest = np.where(use_left[:, None], left, right)
    ok = np.abs(nearest[:, 0] - est[:, 0]) <= max_gap
    errors = np.hypot(est[ok, 1] - nearest[ok, 1], est[ok, 2] - nearest[ok, 2])
    return np.column_stack([est[ok, 0], errors])
