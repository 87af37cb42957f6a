"""The link impairment relay (rover_stack.testing.link_relay) against plain asyncio echo/sink servers:
delay statistics and order, bandwidth cap, stall, cut/restore, UDP drop share."""
from __future__ import annotations

import asyncio
import random
import socket
import statistics
import threading
import time

import pytest

from rover_stack.testing.link_relay import DelayModel, LinkProfile, RelayThread, TcpRelay, UdpRelay

HOST = '127.0.0.1'


async def _echo(reader, writer) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except OSError:
        pass
    finally:
        writer.close()


class Sink:
    """Counts the bytes it receives."""

    def __init__(self):
        self.received = 0

    async def handle(self, reader, writer) -> None:
        try:
            while data := await reader.read(65536):
                self.received += len(data)
        except OSError:
            pass
        finally:
            writer.close()


async def _with_relay(handler, profile: LinkProfile, body, seed: int = 7):
    server = await asyncio.start_server(handler, HOST, 0)
    relay = TcpRelay(HOST, server.sockets[0].getsockname()[1], profile, seed=seed)
    await relay.start()
    try:
        return await asyncio.wait_for(body(relay), timeout=20.0)
    finally:
        await relay.close()
        server.close()


def run(coroutine):
    return asyncio.run(coroutine)


def test_delay_model_is_seeded_bounded_and_never_reorders():
    profile = LinkProfile(delay=0.1, jitter=0.05)
    first = DelayModel(profile, random.Random(3)).sample()
    model = DelayModel(profile, random.Random(3))
    delays = [model.sample() for _ in range(5000)]
    assert first == delays[0]                                  # seeded
    assert min(delays) >= 0.05 and max(delays) <= 0.15
    assert statistics.mean(delays) == pytest.approx(0.1, abs=0.003)
    assert statistics.pstdev(delays) == pytest.approx(0.05 / 3 ** 0.5, rel=0.05)   # uniform +/- 0.05
    model = DelayModel(profile, random.Random(4))
    dues = [model.due(i * 0.001) for i in range(1000)]                # arrivals 1 ms apart, jitter 50 ms
    assert dues == sorted(dues)
    assert all(d - i * 0.001 >= 0.05 - 1e-12 for i, d in enumerate(dues))


@pytest.mark.parametrize('bad', [dict(delay=-0.1), dict(delay=0.1, jitter=0.2), dict(bandwidth=0.0),
                                 dict(drop=1.5), dict(buffer_bytes=10)])
def test_profile_refuses_bad_values(bad):
    with pytest.raises(ValueError):
        LinkProfile(**bad)


def test_round_trips_take_twice_the_one_way_delay():
    async def body(relay):
        reader, writer = await asyncio.open_connection(HOST, relay.port)
        rtts = []
        for i in range(15):
            sent = time.monotonic()
            writer.write(b'%04d' % i)
            assert await reader.readexactly(4) == b'%04d' % i
            rtts.append(time.monotonic() - sent)
        writer.close()
        return rtts

    rtts = run(_with_relay(_echo, LinkProfile(delay=0.05, jitter=0.02), body))
    assert min(rtts) >= 2 * 0.03 - 0.002                       # two one-way delays of at least 30 ms
    assert 0.08 <= statistics.mean(rtts) <= 0.16               # 2 x 50 ms mean; slack for a loaded machine
    assert statistics.pstdev(rtts) > 0.002                     # jitter is there


def test_data_arrives_complete_and_in_order_under_jitter():
    payload = b''.join(b'%06d,' % i for i in range(20000))

    async def body(relay):
        reader, writer = await asyncio.open_connection(HOST, relay.port)

        async def send():
            for start in range(0, len(payload), 1000):     # many small writes, each its own delay
                writer.write(payload[start:start + 1000])
                await writer.drain()
                await asyncio.sleep(0)
        sender = asyncio.create_task(send())
        received = await reader.readexactly(len(payload))
        await sender
        writer.close()
        return received

    assert run(_with_relay(_echo, LinkProfile(delay=0.02, jitter=0.02), body)) == payload


@pytest.mark.parametrize('bandwidth', [None, 100_000.0])
def test_bandwidth_cap(bandwidth):
    size = 60_000
    sink = Sink()

    async def body(relay):
        _reader, writer = await asyncio.open_connection(HOST, relay.port)
        start = time.monotonic()
        writer.write(b'x' * size)
        await writer.drain()
        while sink.received < size:
            await asyncio.sleep(0.005)
        elapsed = time.monotonic() - start
        writer.close()
        return elapsed

    elapsed = run(_with_relay(sink.handle, LinkProfile(delay=0.0, jitter=0.0, bandwidth=bandwidth), body))
    if bandwidth is None:
        assert elapsed < 0.3
    else:
        assert elapsed >= 0.9 * size / bandwidth                 # 0.6 s at 100 kB/s
        assert elapsed < size / bandwidth + 1.0


def test_stall_holds_data_until_restore():
    async def body(relay):
        reader, writer = await asyncio.open_connection(HOST, relay.port)
        writer.write(b'ping')
        assert await reader.readexactly(4) == b'ping'
        relay.stall()
        writer.write(b'held')
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(reader.readexactly(4), timeout=0.4)
        restored = time.monotonic()
        await relay.restore()
        assert await asyncio.wait_for(reader.readexactly(4), timeout=2.0) == b'held'
        late = time.monotonic() - restored
        writer.close()
        return late

    assert run(_with_relay(_echo, LinkProfile(delay=0.01, jitter=0.0), body)) < 0.3


def test_cut_closes_connections_refuses_new_ones_and_restore_listens_again():
    async def body(relay):
        reader, writer = await asyncio.open_connection(HOST, relay.port)
        writer.write(b'ping')
        assert await reader.readexactly(4) == b'ping'
        await relay.cut()
        with pytest.raises((asyncio.IncompleteReadError, ConnectionError)):
            await asyncio.wait_for(reader.readexactly(1), timeout=2.0)
        with pytest.raises(ConnectionRefusedError):
            await asyncio.open_connection(HOST, relay.port)
        await relay.restore()
        reader, writer = await asyncio.open_connection(HOST, relay.port)
        writer.write(b'back')
        data = await asyncio.wait_for(reader.readexactly(4), timeout=2.0)
        writer.close()
        return data, relay.stats['connections']

    assert run(_with_relay(_echo, LinkProfile(delay=0.0, jitter=0.0), body)) == (b'back', 2)


def test_relay_thread_for_synchronous_tests():
    async def serve():
        return await asyncio.start_server(_echo, HOST, 0)

    loop = asyncio.new_event_loop()
    server = loop.run_until_complete(serve())
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        with RelayThread(TcpRelay(HOST, server.sockets[0].getsockname()[1], LinkProfile(0.02, 0.0))) as relay:
            with socket.create_connection((HOST, relay.port), timeout=2.0) as sock:
                sent = time.monotonic()
                sock.sendall(b'abc')
                assert sock.recv(3) == b'abc'
                assert time.monotonic() - sent >= 0.038
            relay.cut()
            with pytest.raises(ConnectionRefusedError):
                socket.create_connection((HOST, relay.port), timeout=2.0)
            relay.restore()
            socket.create_connection((HOST, relay.port), timeout=2.0).close()
    finally:
        loop.call_soon_threadsafe(server.close)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5.0)


class _UdpEcho(asyncio.DatagramProtocol):
    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        self.transport.sendto(data, addr)


class _UdpClient(asyncio.DatagramProtocol):
    def __init__(self):
        self.received: list[bytes] = []

    def datagram_received(self, data, addr):
        self.received.append(data)


@pytest.mark.parametrize('drop', [0.0, 0.3])
def test_udp_drops_the_configured_share(drop):
    count = 400

    async def main():
        loop = asyncio.get_running_loop()
        echo, _ = await loop.create_datagram_endpoint(_UdpEcho, local_addr=(HOST, 0))
        relay = UdpRelay(HOST, echo.get_extra_info('sockname')[1], LinkProfile(0.005, 0.0, drop=drop), seed=5)
        await relay.start()
        client = _UdpClient()
        transport, _ = await loop.create_datagram_endpoint(lambda: client, remote_addr=(HOST, relay.port))
        for i in range(count):
            transport.sendto(b'%05d' % i)
            if i % 20 == 19:
                await asyncio.sleep(0.005)          # keep the socket buffers from overflowing
        deadline, last, quiet_since = time.monotonic() + 3.0, -1, time.monotonic()
        while time.monotonic() < deadline and len(client.received) < count:   # until 0.2 s without news
            await asyncio.sleep(0.02)
            if len(client.received) != last:
                last, quiet_since = len(client.received), time.monotonic()
            elif time.monotonic() - quiet_since > 0.2:
                break
        await asyncio.sleep(0.05)
        transport.close()
        await relay.close()
        echo.close()
        return client.received, relay.stats

    received, stats = run(main())
    # each datagram crosses the relay twice (there and back), each crossing drops with share ``drop``
    survive = (1.0 - drop) ** 2
    assert len(received) == pytest.approx(count * survive, abs=max(1.0, 0.08 * count))
    assert stats['dropped'] == pytest.approx(count * (1 - survive), abs=max(1.0, 0.08 * count))
    assert received == sorted(received)              # constant delay: order kept
