"""The base-station WebSocket protocol: parse and validate client messages (pure, no rclpy).

Client -> server, JSON objects with a ``type``:
  hello{token?}, heartbeat{seq, t (page clock ms, echoed), rtt? s},
  drive{seq, t (page clock ms), linear m/s, angular rad/s}, estop, estop_reset,
  mission{action: start|pause|resume|skip|abort_return|cancel, mission?}.
Server -> client: hello_ack, telemetry, camera, pong, error (built by the bridge node).
Out-of-range values are rejected with an error, never clamped, so a bad page cannot drive.
"""
from __future__ import annotations

import hmac
import json
import math
import re
from collections import deque
from dataclasses import dataclass, field

MISSION_ACTIONS = ('start', 'pause', 'resume', 'skip', 'abort_return', 'cancel')
NEEDS_TOKEN = frozenset({'drive', 'estop_reset', 'mission'})
_MISSION_NAME = re.compile(r'[A-Za-z0-9_.\-]{1,64}')   # fullmatch


class ProtocolError(ValueError):
    """A client message that must be refused; str() is the message sent back to the page."""


@dataclass(frozen=True)
class Limits:
    """Validation limits: speeds in m/s and rad/s, size in bytes."""

    max_linear: float = 1.0
    max_angular: float = 1.5
    max_message_bytes: int = 1024


@dataclass(frozen=True)
class Message:
    type: str
    fields: dict = field(default_factory=dict)


def _number(data: dict, key: str, low: float, high: float) -> float:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ProtocolError(f'{key}: a number is required')
    value = float(value)
    if not math.isfinite(value) or not low <= value <= high:
        raise ProtocolError(f'{key}: {value} is outside [{low}, {high}]')
    return value


def _seq(data: dict) -> int:
    seq = data.get('seq')
    if isinstance(seq, bool) or not isinstance(seq, int) or not 0 <= seq < 2**53:
        raise ProtocolError('seq: a non-negative integer is required')
    return seq


def _encodable(text: str) -> bool:
    """False for strings JSON can carry but UTF-8 cannot (lone surrogates such as '\\ud800')."""
    try:
        text.encode('utf-8')
    except UnicodeEncodeError:
        return False
    return True


def parse(text: str | bytes, limits: Limits = Limits()) -> Message:
    """Decode and validate one client message; ProtocolError on anything unexpected."""
    if len(text) > limits.max_message_bytes:
        raise ProtocolError(f'message of {len(text)} bytes exceeds {limits.max_message_bytes}')
    try:
        data = json.loads(text)
    except (ValueError, UnicodeDecodeError):
        raise ProtocolError('not valid JSON') from None
    except RecursionError:                   # '[[[[...' within the size limit
        raise ProtocolError('JSON nested too deeply') from None
    if not isinstance(data, dict):
        raise ProtocolError('a JSON object is required')
    kind = data.get('type')
    if kind == 'hello':
        token = data.get('token', '')
        if not isinstance(token, str) or len(token) > 128 or not _encodable(token):
            raise ProtocolError('token: a UTF-8 string of at most 128 characters is required')
        return Message('hello', {'token': token})
    if kind == 'heartbeat':
        rtt = _number(data, 'rtt', 0.0, 60.0) if data.get('rtt') is not None else None
        return Message('heartbeat', {'seq': _seq(data), 't': _number(data, 't', -1e15, 1e15), 'rtt': rtt})
    if kind == 'drive':
        return Message('drive', {'seq': _seq(data), 't': _number(data, 't', -1e15, 1e15),
                                 'linear': _number(data, 'linear', -limits.max_linear, limits.max_linear),
                                 'angular': _number(data, 'angular', -limits.max_angular,
                                                    limits.max_angular)})
    if kind in ('estop', 'estop_reset'):
        return Message(kind)
    if kind == 'mission':
        action = data.get('action')
        if action not in MISSION_ACTIONS:
            raise ProtocolError(f'action: one of {", ".join(MISSION_ACTIONS)} is required')
        name = data.get('mission', '')
        if action == 'start' and (not isinstance(name, str) or not _MISSION_NAME.fullmatch(name)):
            raise ProtocolError('mission: a name of letters, digits, _ . - (1-64) is required to start')
        return Message('mission', {'action': action, 'mission': name if action == 'start' else ''})
    raise ProtocolError(f'unknown message type {kind!r}')


def token_matches(expected: str, offered: str) -> bool:
    """Constant-time token comparison; an empty expected token never matches."""
    return bool(expected) and hmac.compare_digest(expected.encode(), offered.encode())


class RateLimiter:
    """At most ``max_count`` events in any sliding window of ``window`` s (times from the caller)."""

    def __init__(self, max_count: int, window: float = 1.0):
        if max_count < 1 or window <= 0:
            raise ValueError('max_count >= 1 and window > 0 are required')
        self.max_count, self.window = max_count, window
        self._times: deque[float] = deque()

    def allow(self, now: float) -> bool:
        while self._times and now - self._times[0] >= self.window:
            self._times.popleft()
        if len(self._times) >= self.max_count:
            return False
        self._times.append(now)
        return True
