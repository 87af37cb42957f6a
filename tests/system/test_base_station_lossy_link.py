"""The base-station page over an impaired link: Debian chromium (Playwright) reaches web_bridge THROUGH
rover_stack.testing.link_relay (loopback TCP relay: 100 ms +/- 50 ms one-way delay, 1 MB/s cap),
against the same stack as test_base_station_browser.py (its fixture and helpers are reused).

Stop bound after a stall or a cut while driving: the bridge's heartbeat timeout (1.0 s) + the
relay's largest one-way delay (0.15 s: the last heartbeat that got through may be that old) + 0.5 s
for the bridge's 20 Hz safety step, arbitration and drive controller = 1.65 s."""
from __future__ import annotations

import math
import re
import time

import pytest
import test_base_station_browser as browser_test

from rover_stack.testing.link_relay import LinkProfile, RelayThread, TcpRelay

stack = browser_test.stack          # the module fixture: simulator, drive, web_bridge, probe, browser
HEARTBEAT_TIMEOUT, TOKEN = browser_test.HEARTBEAT_TIMEOUT, browser_test.TOKEN
open_page, settle, wait = browser_test.open_page, browser_test.settle, browser_test.wait
expect = browser_test.sync_api.expect

DELAY, JITTER = 0.1, 0.05     # s one way
BANDWIDTH = 1.0e6             # bytes/s per direction
STOP_MARGIN = 0.5             # s: bridge step, arbitration, controller (as in the page-close test)
STOP_BOUND = HEARTBEAT_TIMEOUT + DELAY + JITTER + STOP_MARGIN


@pytest.fixture(scope='module')
def relay(stack):
    port = int(re.search(r':(\d+)/$', stack['url']).group(1))
    with RelayThread(TcpRelay('127.0.0.1', port, LinkProfile(DELAY, JITTER, BANDWIDTH), seed=11)) as relay:
        yield relay


@pytest.fixture
def page(stack, relay):
    relay.restore()
    settle(stack['probe'])
    page = open_page({**stack, 'url': f'http://127.0.0.1:{relay.port}/'}, TOKEN)
    yield page
    page.keyboard.up('w')
    page.close()
    relay.restore()


def drive_until_moving(stack, page) -> None:
    probe = stack['probe']
    start = probe.position()
    sent = len(probe.base_cmds)
    page.keyboard.down('w')
    try:
        wait(lambda: probe.moved_since(start) > 0.2, 15.0, 'the rover to move 0.2 m through the relay')
    except AssertionError as error:
        messages = page.locator('#messages').text_content()
        raise AssertionError(f'{error}; base_station/cmd_vel messages: {len(probe.base_cmds) - sent}; page '
                             f'messages: {messages!r}\n{stack["logs"]()}') from None
    assert probe.wheels[-1][1] > 0.1


def stop_time_after(probe, since: float) -> float:
    wait(lambda: probe.wheels and probe.wheels[-1][0] > since and probe.wheels[-1][1] < 1e-6, STOP_BOUND + 2.0,
         'zero wheel commands')
    return next(t for t, v in probe.wheels if t > since and v < 1e-6) - since


def test_driving_works_and_the_page_shows_the_delay(stack, relay, page, record_property):
    probe = stack['probe']
    rtt = []

    def rtt_shown() -> bool:
        found = re.search(r'RTT (\d+) ms', page.locator('#t-link').text_content() or '')
        rtt[:] = [int(found.group(1))] if found else []
        return bool(rtt)

    wait(rtt_shown, 10.0, 'an RTT on the page')
    assert rtt[0] >= 100, f'page shows RTT {rtt[0]} ms over a 2 x 100 ms link'
    record_property('page_rtt_ms', rtt[0])
    odom_start = probe.odom[-1].pose.pose.position
    drive_until_moving(stack, page)

    def odom_moved() -> float:
        now = probe.odom[-1].pose.pose.position
        return math.hypot(now.x - odom_start.x, now.y - odom_start.y)

    wait(lambda: odom_moved() > 0.2, 10.0, 'the odometry to change by 0.2 m while driving through the relay')
    page.screenshot(path=str(browser_test.SCREENSHOTS / 'base_station_lossy_link.png'))
    page.keyboard.up('w')
    settle(probe, 5.0)
    assert relay.relay.stats['down_bytes'] > 10_000 and relay.relay.stats['up_bytes'] > 100


def test_stalling_the_link_while_driving_stops_the_rover(stack, relay, page, record_property):
    probe = stack['probe']
    drive_until_moving(stack, page)
    stalled = relay.stall()
    stop_time = stop_time_after(probe, stalled)
    record_property('stop_time_s', round(stop_time, 3))
    assert stop_time <= STOP_BOUND, f'rover stopped {stop_time:.2f} s after the stall (bound {STOP_BOUND} s)'
    time.sleep(0.5)     # observing that it stays stopped while the link is still stalled
    assert all(v < 1e-6 for t, v in probe.wheels if t > stalled + stop_time)
    page.keyboard.up('w')
    relay.restore()     # the held messages (drive, then the key release) arrive in order
    settle(probe, 5.0)
    expect(page.locator('#conn')).to_have_text('connected', timeout=5_000)


def test_cutting_the_link_while_driving_stops_the_rover(stack, relay, page, record_property):
    probe = stack['probe']
    drive_until_moving(stack, page)
    cut = relay.cut()
    stop_time = stop_time_after(probe, cut)
    record_property('stop_time_s', round(stop_time, 3))
    assert stop_time <= STOP_BOUND, f'rover stopped {stop_time:.2f} s after the cut (bound {STOP_BOUND} s)'
    expect(page.locator('#conn')).to_have_text('disconnected', timeout=5_000)
    page.keyboard.up('w')
    relay.restore()     # the page reconnects by itself (every 1 s) and logs in with its token again
    expect(page.locator('#conn')).to_have_text('connected', timeout=10_000)
    expect(page.locator('#role')).to_have_text('operator (can drive)', timeout=10_000)
    settle(probe, 5.0)
