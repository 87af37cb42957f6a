"""Sessions, authorisation, driving and link safety of the web bridge (pure, no rclpy).

The node feeds it client messages and calls ``step(now)`` from its timer; ``step`` says what to
publish on the base-station command source and on the base-station arbitration lock.
Times are in s on one monotonic clock supplied by the caller.
"""
from __future__ import annotations

import itertools
from collections import deque
from dataclasses import dataclass, field

from rover_stack.base_station.link_monitor import LinkMonitor
from rover_stack.base_station.protocol import (
    NEEDS_TOKEN,
    Limits,
    ProtocolError,
    RateLimiter,
    parse,
    token_matches,
)


@dataclass
class Session:
    """One WebSocket connection."""

    id: int
    link: LinkMonitor
    limiter: RateLimiter
    authenticated: bool = False
    command: tuple[float, float] = (0.0, 0.0)   # linear m/s, angular rad/s
    command_time: float = 0.0
    outbox: deque = field(default_factory=deque)   # replies produced outside handle() (service results)


@dataclass
class StepOutput:
    command: tuple[float, float] | None   # None: publish nothing on the command source
    lock: bool                            # state of the base-station arbitration lock
    lock_reason: str = ''


@dataclass
class BridgeConfig:
    token: str
    limits: Limits = field(default_factory=Limits)
    heartbeat_timeout: float = 1.0   # s without heartbeat while driving -> lock
    drive_timeout: float = 0.5       # s without a drive message -> zero
    messages_per_second: int = 60


class BridgeCore:
    """Decides who may do what, and what the rover is told, from the connected pages."""

    def __init__(self, config: BridgeConfig):
        self.config = config
        self.sessions: dict[int, Session] = {}
        self._ids = itertools.count(1)
        self._driver: Session | None = None
        self._zero_pending = False
        self.lock = False
        self.lock_reason = ''

    def connect(self) -> Session:
        session = Session(next(self._ids), LinkMonitor(self.config.heartbeat_timeout),
                          RateLimiter(self.config.messages_per_second, 1.0))
        self.sessions[session.id] = session
        return session

    def disconnect(self, session: Session) -> None:
        self.sessions.pop(session.id, None)
        if self._driver is session:
            self._engage(f'page {session.id} disconnected while driving')

    @property
    def driving(self) -> bool:
        return self._driver is not None

    def handle(self, session: Session, text: str | bytes, now: float,
               estop_latched: bool) -> tuple[list[dict], list[tuple]]:
        """Replies for the page, and actions for the node.

        Actions: ('estop',), ('estop_reset',), ('mission', action, name).
        """
        try:
            message = parse(text, self.config.limits)
        except ProtocolError as error:
            return [{'type': 'error', 'error': str(error)}], []
        if message.type == 'estop':   # from any page, never rate limited
            return [{'type': 'ack', 'of': 'estop'}], [('estop',)]
        if not session.limiter.allow(now):
            return [{'type': 'error', 'error': 'rate limit exceeded: message dropped'}], []
        if message.type == 'hello':
            session.authenticated = token_matches(self.config.token, message.fields['token'])
            return [{'type': 'hello_ack', 'session': session.id, 'can_drive': session.authenticated,
                     'heartbeat_timeout': self.config.heartbeat_timeout,
                     'max_linear': self.config.limits.max_linear,
                     'max_angular': self.config.limits.max_angular}], []
        if message.type == 'heartbeat':
            session.link.heartbeat(message.fields['seq'], now)
            if message.fields['rtt'] is not None:
                session.link.add_rtt(message.fields['rtt'])
            return [{'type': 'pong', 'seq': message.fields['seq'], 't': message.fields['t']}], []
        if message.type in NEEDS_TOKEN and not session.authenticated:
            return [{'type': 'error', 'error': f'{message.type}: read-only connection (no valid token)'}], []
        if message.type == 'drive':
            return self._drive(session, message.fields['linear'], message.fields['angular'], now,
                               estop_latched), []
        if message.type == 'estop_reset':
            return [], [('estop_reset',)]
        return [], [('mission', message.fields['action'], message.fields['mission'])]

    def _drive(self, session: Session, linear: float, angular: float, now: float,
               estop_latched: bool) -> list[dict]:
        if estop_latched:
            return [{'type': 'error', 'error': 'drive: E-STOP is latched; reset it first'}]
        if session.link.expired(now):
            return [{'type': 'error', 'error': 'drive: no recent heartbeat from this page'}]
        if self._driver is not None and self._driver is not session:
            return [{'type': 'error', 'error': f'drive: page {self._driver.id} is driving'}]
        if linear == 0.0 and angular == 0.0:
            if self._driver is session:
                self._driver, self._zero_pending = None, True
            return []
        session.command, session.command_time = (linear, angular), now
        self._driver = session
        self.lock, self.lock_reason = False, ''
        return []

    def _engage(self, reason: str) -> None:
        self._driver, self._zero_pending = None, True
        self.lock, self.lock_reason = True, reason

    def step(self, now: float) -> StepOutput:
        driver = self._driver
        if driver is not None:
            if driver.link.expired(now):
                self._engage(f'no heartbeat from page {driver.id} for more than '
                             f'{self.config.heartbeat_timeout:.2f} s while driving')
            elif now - driver.command_time > self.config.drive_timeout:
                self._driver, self._zero_pending = None, True
            else:
                return StepOutput(driver.command, self.lock)
        if self._zero_pending:
            self._zero_pending = False
            return StepOutput((0.0, 0.0), self.lock, self.lock_reason)
        return StepOutput(None, self.lock, self.lock_reason)
