"""Sessions, authorisation, driving and link safety of the web bridge (pure, no rclpy).

The node feeds it client messages and calls ``step(now)`` from its timer; ``step`` says what to
publish on the base-station command source and on the base-station arbitration lock.
Times are in s on one monotonic clock supplied by the caller.

Drive messages carry the page's sequence number and clock: one that is out of order or older than
``drive_timeout`` by the page's clock (``PageClock``) is dropped, so a backlog released by a stalled
link never drives. A page may drive only once it is *armed*: it sent a fresh "controls at rest" drive
(zero) after it connected and after the last time the lock engaged; a control held through a stall or
a reconnection must be let go and pressed again (docs/safety.md).

At most ``max_connections`` sessions: a new one evicts the oldest session without the token (its
``evicted`` flag tells the web side to close it), or is refused (``BridgeFullError``) when all have it.
E-STOP is honoured from every page, never rate limited while the e-stop is not latched; while it is
latched, repeats are re-published and logged at most ``ESTOP_REPEATS`` times per second in all.
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

ESTOP_REPEATS = 4   # e-stops per s re-published (and logged) while the e-stop is already latched


class BridgeFullError(RuntimeError):
    """Every connection slot is taken by a page with the token: the new connection is refused."""


@dataclass
class Session:
    """One WebSocket connection."""

    id: int
    link: LinkMonitor
    limiter: RateLimiter
    authenticated: bool = False
    command: tuple[float, float] = (0.0, 0.0)   # linear m/s, angular rad/s
    command_time: float = 0.0                    # s, when the page sent it (arrival - its age)
    drive_seq: int = -1                          # last accepted drive sequence number
    armed: bool = False                          # a fresh zero drive came since connect / last lock
    dropped_drives: int = 0                      # out of order or too old
    evicted: bool = False                        # closed to make room (no token): the web side closes it
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
    max_connections: int = 16


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
        self.lock_known = False          # lock engaged or released in this process (else: publish nothing)
        self._estop_repeats = RateLimiter(ESTOP_REPEATS, 1.0)
        self.estops_unlogged = 0         # latched-state repeats neither re-published nor logged

    def connect(self) -> Session:
        if len(self.sessions) >= self.config.max_connections:
            guests = [s for s in self.sessions.values() if not s.authenticated]
            if not guests:
                raise BridgeFullError(f'{len(self.sessions)} connections with the token already')
            oldest = min(guests, key=lambda s: s.id)
            oldest.evicted = True
            self.disconnect(oldest)
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

        Actions: ('estop', repeats not logged since the last one), ('estop_reset',),
        ('mission', action, name).
        """
        try:
            message = parse(text, self.config.limits)
        except ProtocolError as error:
            return [{'type': 'error', 'error': str(error)}], []
        if session.evicted and message.type != 'estop':
            return [{'type': 'error', 'error': 'connection closed to make room for a newer one'}], []
        if message.type == 'estop':   # from any page; bounded only while already latched
            if estop_latched and not self._estop_repeats.allow(now):
                self.estops_unlogged += 1
                return [{'type': 'ack', 'of': 'estop'}], []
            unlogged, self.estops_unlogged = self.estops_unlogged, 0
            return [{'type': 'ack', 'of': 'estop'}], [('estop', unlogged)]
        if not session.limiter.allow(now):
            return [{'type': 'error', 'error': 'rate limit exceeded: message dropped'}], []
        if message.type == 'hello':
            session.authenticated = token_matches(self.config.token, message.fields['token'])
            return [{'type': 'hello_ack', 'session': session.id, 'can_drive': session.authenticated,
                     'heartbeat_timeout': self.config.heartbeat_timeout,
                     'max_linear': self.config.limits.max_linear,
                     'max_angular': self.config.limits.max_angular}], []
        if message.type == 'heartbeat':
            session.link.heartbeat(message.fields['seq'], now, message.fields['t'])
            if message.fields['rtt'] is not None:
                session.link.add_rtt(message.fields['rtt'])
            return [{'type': 'pong', 'seq': message.fields['seq'], 't': message.fields['t']}], []
        if message.type in NEEDS_TOKEN and not session.authenticated:
            return [{'type': 'error', 'error': f'{message.type}: read-only connection (no valid token)'}], []
        if message.type == 'drive':
            return self._drive(session, message.fields, now, estop_latched), []
        if message.type == 'estop_reset':
            return [], [('estop_reset',)]
        return [], [('mission', message.fields['action'], message.fields['mission'])]

    def _drive(self, session: Session, fields: dict, now: float, estop_latched: bool) -> list[dict]:
        linear, angular = fields['linear'], fields['angular']
        age = session.link.clock.age(fields['t'], now)
        if fields['seq'] <= session.drive_seq or age > self.config.drive_timeout:
            session.dropped_drives += 1
            return [{'type': 'error', 'error': f'drive: dropped (out of order or {age:.2f} s old)'}]
        session.drive_seq = fields['seq']
        at_rest = linear == 0.0 and angular == 0.0
        if at_rest:
            session.armed = True         # a fresh "controls at rest": the next press is a new action
        if estop_latched:
            session.armed = at_rest      # a control held through the e-stop must be let go first
            return [{'type': 'error', 'error': 'drive: E-STOP is latched; reset it first'}]
        if at_rest:
            if self._driver is session:
                self._driver, self._zero_pending = None, True
            return []
        if session.link.expired(now):
            return [{'type': 'error', 'error': 'drive: no recent heartbeat from this page'}]
        if self._driver is not None and self._driver is not session:
            return [{'type': 'error', 'error': f'drive: page {self._driver.id} is driving'}]
        if not session.armed:
            return [{'type': 'error', 'error': 'drive: let go of the controls, then drive again (new '
                                               'connection or link lost)'}]
        session.command, session.command_time = (linear, angular), now - age
        self._driver = session
        self.lock, self.lock_reason, self.lock_known = False, '', True
        return []

    def _engage(self, reason: str) -> None:
        self._driver, self._zero_pending = None, True
        self.lock, self.lock_reason, self.lock_known = True, reason, True
        for session in self.sessions.values():
            session.armed = False

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
