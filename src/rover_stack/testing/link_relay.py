"""A user-space impairment relay for tests of the base-station link (pure asyncio, no rclpy).

``TcpRelay`` listens on a loopback port and forwards every connection to a target port, adding per
direction a one-way delay (``delay`` +/- ``jitter`` s, uniform, seeded; order preserved within a
connection: a chunk never overtakes the one before it), an optional bandwidth cap (bytes/s per
direction and connection) and a bounded buffer (``buffer_bytes``: a full buffer stops reading, so TCP
back-pressure reaches the sender as on a real slow link). Commands: ``stall()`` holds all data (nothing
is delivered, connections stay open), ``cut()`` closes every connection and refuses new ones
(connection refused), ``restore()`` ends both; data held by a stall is then delivered.
``UdpRelay`` forwards datagrams with the same delay and drops a seeded share ``drop`` of them.

``RelayThread`` runs a relay on its own event loop in a daemon thread, for synchronous tests:

    with RelayThread(TcpRelay('127.0.0.1', bridge_port, LinkProfile(delay=0.1, jitter=0.05))) as relay:
        page.goto(f'http://127.0.0.1:{relay.port}/'); relay.stall(); relay.restore(); relay.cut()
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import threading
import time
from dataclasses import dataclass

_log = logging.getLogger(__name__)
CHUNK = 16384            # bytes read at a time


@dataclass(frozen=True)
class LinkProfile:
    """The impairment of each direction."""
    delay: float = 0.1                 # s, mean one-way delay
    jitter: float = 0.05               # s, the delay is uniform in delay +/- jitter
    bandwidth: float | None = None     # bytes/s per direction and connection (None: unlimited)
    buffer_bytes: int = 256 * 1024     # held per direction before reading stops (TCP)
    drop: float = 0.0                  # share of datagrams dropped (UDP only), 0..1

    def __post_init__(self):
        if not (self.delay >= 0.0 and 0.0 <= self.jitter <= self.delay):
            raise ValueError('need delay >= 0 and 0 <= jitter <= delay (s)')
        if self.bandwidth is not None and not self.bandwidth > 0.0:
            raise ValueError('bandwidth must be > 0 bytes/s (or None)')
        if self.buffer_bytes < CHUNK:
            raise ValueError(f'buffer_bytes must be >= {CHUNK}')
        if not 0.0 <= self.drop <= 1.0:
            raise ValueError('drop must be in [0, 1]')


class DelayModel:
    """Seeded one-way delays whose delivery times never decrease (order-preserving)."""

    def __init__(self, profile: LinkProfile, rng: random.Random):
        self.profile, self._rng = profile, rng
        self._last_due = 0.0

    def sample(self) -> float:
        p = self.profile
        return p.delay + self._rng.uniform(-p.jitter, p.jitter) if p.jitter else p.delay

    def due(self, now: float) -> float:
        """Delivery time (s, same clock as ``now``) of data arriving at ``now``."""
        self._last_due = max(now + self.sample(), self._last_due)
        return self._last_due


class _Gate:
    """stall/restore as an asyncio.Event that is set while data may flow."""

    def __init__(self):
        self.flowing = asyncio.Event()
        self.flowing.set()


class _Pipe:
    """One direction of one connection: read, delay, cap, write."""

    def __init__(self, reader, writer, relay: TcpRelay, key: str):
        self.reader, self.writer, self.profile = reader, writer, relay.profile
        self.model = DelayModel(relay.profile, random.Random(relay.rng.random()))   # own seeded stream
        self.gate, self.stats, self.key = relay.gate, relay.stats, key
        self.queue: asyncio.Queue = asyncio.Queue()
        self.held = 0
        self.room = asyncio.Event()
        self.room.set()

    async def pump_in(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self.room.wait()
            data = await self.reader.read(CHUNK)
            if not data:
                await self.queue.put((self.model.due(loop.time()), b''))   # EOF after the data before it
                return
            self.held += len(data)
            if self.held >= self.profile.buffer_bytes:
                self.room.clear()
            await self.queue.put((self.model.due(loop.time()), data))

    async def pump_out(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            due, data = await self.queue.get()
            delay = due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            await self.gate.flowing.wait()
            if not data:
                if self.writer.can_write_eof():
                    self.writer.write_eof()
                return
            if self.profile.bandwidth:
                await asyncio.sleep(len(data) / self.profile.bandwidth)
                await self.gate.flowing.wait()
            self.writer.write(data)
            await self.writer.drain()
            self.stats[self.key] += len(data)
            self.held -= len(data)
            if self.held < self.profile.buffer_bytes:
                self.room.set()


class TcpRelay:
    """Listens on ``listen_host:listen_port`` (0: any free port) and relays to ``target``."""

    def __init__(self, target_host: str, target_port: int, profile: LinkProfile | None = None, *,
                 seed: int = 0, listen_host: str = '127.0.0.1', listen_port: int = 0):
        self.target = (target_host, target_port)
        self.profile = profile or LinkProfile()
        self.listen_host, self.port = listen_host, listen_port
        self.rng = random.Random(seed)
        self._server: asyncio.base_events.Server | None = None
        self.gate: _Gate | None = None
        self._connections: set[asyncio.Task] = set()
        self._pumps: set[asyncio.Task] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self.stats = {'connections': 0, 'up_bytes': 0, 'down_bytes': 0}
        self.is_cut = False

    async def start(self) -> int:
        self.gate = _Gate()
        await self._listen()
        return self.port

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._accept, self.listen_host, self.port,
                                                  reuse_address=True)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _accept(self, client_reader, client_writer) -> None:
        task = asyncio.current_task()
        self._connections.add(task)
        self._writers.add(client_writer)
        self.stats['connections'] += 1
        upstream_writer, pumps = None, []
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
            self._writers.add(upstream_writer)
            up = _Pipe(client_reader, upstream_writer, self, 'up_bytes')
            down = _Pipe(upstream_reader, client_writer, self, 'down_bytes')
            pumps = [asyncio.create_task(c)
                     for c in (up.pump_in(), up.pump_out(), down.pump_in(), down.pump_out())]
            self._pumps.update(pumps)
            await asyncio.gather(*pumps)
        except (OSError, asyncio.IncompleteReadError, asyncio.CancelledError) as error:
            # CancelledError: cut() cancelled the pumps (this handler itself is never cancelled)
            _log.debug('relay connection ended: %r', error)
        finally:
            for pump in pumps:
                pump.cancel()
                self._pumps.discard(pump)
            for writer in (client_writer, upstream_writer):
                if writer is not None:
                    self._writers.discard(writer)
                    writer.close()
            self._connections.discard(task)

    def stall(self) -> None:
        """Hold all data in both directions until ``restore``."""
        self.gate.flowing.clear()

    async def cut(self) -> None:
        """Close every connection (reset) and refuse new ones until ``restore``."""
        self.is_cut = True
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            transport = writer.transport
            if transport is not None:
                transport.abort()
        for pump in list(self._pumps):
            pump.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)

    async def restore(self) -> None:
        """End a stall (held data flows) and a cut (listen again on the same port)."""
        if self.is_cut:
            await self._listen()
            self.is_cut = False
        self.gate.flowing.set()

    async def close(self) -> None:
        await self.cut()


class _UdpSide(asyncio.DatagramProtocol):
    def __init__(self, on_datagram):
        self.on_datagram = on_datagram
        self.transport = None

    def connection_made(self, transport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr) -> None:
        self.on_datagram(data, addr)


class UdpRelay:
    """Datagrams from clients to ``target`` and back, each delayed and dropped with share ``drop``."""

    def __init__(self, target_host: str, target_port: int, profile: LinkProfile | None = None, *,
                 seed: int = 0, listen_host: str = '127.0.0.1', listen_port: int = 0):
        self.target = (target_host, target_port)
        self.profile = profile or LinkProfile(delay=0.0, jitter=0.0)
        self.listen = (listen_host, listen_port)
        self.port = listen_port
        self._rng = random.Random(seed)
        self._models: dict = {}
        self._front = None
        self._upstreams: dict = {}                 # client address -> upstream transport
        self._opening: dict = {}                   # client address -> (task, datagrams waiting for it)
        self.stats = {'up': 0, 'down': 0, 'dropped': 0}
        self.stalled = False
        self.is_cut = False

    async def start(self) -> int:
        loop = asyncio.get_running_loop()
        self._front, _ = await loop.create_datagram_endpoint(lambda: _UdpSide(self._from_client),
                                                              local_addr=self.listen)
        self.port = self._front.get_extra_info('sockname')[1]
        return self.port

    def _keep(self) -> bool:
        if self.is_cut or self.stalled or self._rng.random() < self.profile.drop:
            self.stats['dropped'] += 1
            return False
        return True

    def _later(self, key, send, data: bytes) -> None:
        loop = asyncio.get_running_loop()
        model = self._models.setdefault(key, DelayModel(self.profile, random.Random(self._rng.random())))
        loop.call_at(model.due(loop.time()), send, data)

    def _from_client(self, data: bytes, addr) -> None:
        if not self._keep():
            return
        upstream = self._upstreams.get(addr)
        if upstream is not None:
            self.stats['up'] += 1
            self._later(('up', addr), upstream.sendto, data)
        elif addr in self._opening:
            self._opening[addr][1].append(data)
        else:
            self._opening[addr] = (asyncio.create_task(self._open_upstream(addr)), [data])

    async def _open_upstream(self, addr) -> None:
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: _UdpSide(lambda data, _src: self._from_target(addr, data)), remote_addr=self.target)
        self._upstreams[addr] = transport
        for data in self._opening.pop(addr)[1]:
            self.stats['up'] += 1
            self._later(('up', addr), transport.sendto, data)

    def _from_target(self, addr, data: bytes) -> None:
        if self._keep():
            self.stats['down'] += 1
            self._later(('down', addr), lambda d: self._front.sendto(d, addr), data)

    def stall(self) -> None:
        self.stalled = True      # datagrams are lost, not held: a stalled radio link drops them

    async def cut(self) -> None:
        self.is_cut = True

    async def restore(self) -> None:
        self.stalled = self.is_cut = False

    async def close(self) -> None:
        for transport in self._upstreams.values():
            transport.close()
        if self._front is not None:
            self._front.close()


class RelayThread:
    """A relay on its own event loop in a daemon thread; methods are thread-safe and block."""

    def __init__(self, relay: TcpRelay | UdpRelay, timeout: float = 10.0):
        self.relay, self.timeout = relay, timeout
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name='link_relay', daemon=True)

    def _call(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(self.timeout)

    def start(self) -> int:
        self.thread.start()
        return self._call(self.relay.start())

    @property
    def port(self) -> int:
        return self.relay.port

    def stall(self) -> float:
        """Hold the link; returns the time.monotonic() of the stall."""
        self.loop.call_soon_threadsafe(self.relay.stall)
        return time.monotonic()

    def cut(self) -> float:
        """Cut the link; returns the time.monotonic() when every connection was closed."""
        self._call(self.relay.cut())
        return time.monotonic()

    def restore(self) -> None:
        self._call(self.relay.restore())

    async def _shutdown(self) -> None:
        await self.relay.close()
        others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in others:       # connections still being set up
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)

    def close(self) -> None:
        if self.thread.is_alive():
            with contextlib.suppress(TimeoutError, RuntimeError):
                self._call(self._shutdown())
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(self.timeout)
        self.loop.close()

    def __enter__(self) -> RelayThread:
        self.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.close()
