"""Chaos on a simulated mission (issues #10, #18): the whole `sim` profile as processes, web bridge
included (`rover sim`, course flat_easy, mission flat_easy: 3 legs, about 65 s of sim time).

The e-stop episode (issue #18, docs/safety.md), once leg 1 is under way: the hardware e-stop
(``sim/estop``) and the software e-stop (``estop``) are pressed; once latched, the drive_controller and
the web_bridge are SIGKILLed; when both are back, the button and the software e-stop are released.
Checked: ``reset_estop`` is refused while the button is pressed; from the latch until the operator's
``mission/resume`` every ``wheel_commands`` is zero and the rover stays within ``HELD_M`` (ground
truth) although the sources are released, the controller restarted and ``reset_estop`` was accepted
(the mission stays paused after a reset until it is resumed: mission executive, issue #18 item 6).

Then, every 10-20 s of sim time (a seeded ``random.Random``) one respawnable stack process is SIGKILLed;
the simulator never is. The runner respawns it after its respawn_delay (config/node_sets.yaml). The test
is the operator: a respawned drive controller comes up latched and needs ``reset_estop``; a paused
mission (after an e-stop, or restored by a respawned executive) needs ``mission/resume``. Checked:

1. Stale commands never move the rover. The drive controller has **no fresh command** while no
   ``cmd_vel`` (the arbitration output, which carries its source's stamp) was stamped within the
   controller's ``max_stamp_age`` (config/drive.yaml: it drops a command at that age), and
   while the drive controller's process (its container) is dead (from the kill to its first ``wheel_commands`` after the
   respawn; then the simulator's ``engine.command_timeout``, the motor controller's rule, stops the
   wheels). Within each such interval the rover may still brake: the controller ramps to zero at
   ``linear_max_deceleration`` (from at most ``linear_max_velocity``: ``BRAKE_S`` = 0.5 s); a dead
   controller's last command holds for the simulator's command timeout, then the wheels are braked.
   **Definition**: the reference pose is the ground truth at ``settled`` = interval start
   (last cmd_vel stamp + max_stamp_age, or the kill) + the simulator's command timeout (dead controller only) +
   ``BRAKE_S``; from ``settled`` to the interval's end the rover's ground-truth position stays within
   ``MAX_DRIFT_M`` (0.2 m) of that reference.
2. The mission completes anyway: final mission/status SUCCEEDED and the progress file lists every leg
   SUCCEEDED (a killed mission_executive restores the run paused; the operator resumes it).
3. No gaps where nothing was killed: for each recorded topic of a process that was alive throughout, the
   largest gap between consecutive message stamps (sim time) is at most ``GAP_BOUND_S``; gaps that overlap
   the publisher's own kill-to-first-message window are the respawn, reported but not checked.

Everything is in sim time (the monitor node follows /clock; gaps and intervals use message stamps).
A summary (kills, respawn times, displacement while commands were stale, largest gaps) is printed (-s) and
added to every failure message.
"""
from __future__ import annotations

import math
import os
import random
import re
import signal
import sys
import time
from collections import Counter
from dataclasses import dataclass
from itertools import pairwise

import pytest
import rclpy
import yaml
from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import TwistStamped
from nav_msgs.msg import OccupancyGrid, Odometry
from rclpy.action import ActionClient
from rclpy.executors import SingleThreadedExecutor
from rclpy.parameter import Parameter
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import JointState
from std_msgs.msg import Bool
from std_srvs.srv import SetBool, Trigger

from rover_interfaces.action import ExecuteMission
from rover_interfaces.msg import MissionStatus
from rover_stack.autonomy import persistence
from rover_stack.bringup.node_set import load_node_sets, processes, resolve
from rover_stack.common.qos import command_qos, latched_qos, sensor_qos
from rover_stack.common.share_files import package_share_dir
from rover_stack.drive.estop_reset import reset_estop
from rover_stack.testing.sim_stack import send_goal, start_sim
from rover_stack.testing.waiting import spin_for, spin_until

COURSE = 'flat_easy'
SIM_SEED = 1
CHAOS_SEED = 2717          # which processes are killed, and when
KILL_EVERY = (10.0, 20.0)  # s of sim time between kills
LEGS = 3
MAX_DRIFT_M = 0.2          # m, ground-truth motion allowed once the stop has settled
HELD_M = 0.05              # m, ground-truth motion allowed from 1 s after the e-stop latched to the resume
HOLD_S = 6.0               # s sim, watched after the release (> the 3 s hardware_estop silence bound)
EPISODE_AFTER_M = 1.0      # m driven on leg 1 before the e-stop episode
# s of sim time: the largest gap allowed on a topic whose publisher was alive = the respawn time bound:
# the default respawn_delay (1 s) + 1 s of start-up before a respawned Python rclpy node publishes
# (measured kill -> first message: 2.4-6.6 s sim). A surviving publisher must never stall that long.
GAP_BOUND_S = 2.0
CONFIG = package_share_dir() / 'config'


def ros_parameters(file: str, node: str) -> dict:
    data = yaml.safe_load((CONFIG / file).read_text())
    return data[f'/**/{node}']['ros__parameters']


DRIVE = ros_parameters('drive.yaml', 'drive_controller')
# s: the longest a cmd_vel keeps the controller driving after its stamp. cmd_arbitration forwards the
# source's stamp, and the controller drops a command at stamp + max_stamp_age at the latest.
COMMAND_LIFE = DRIVE['max_stamp_age']
BRAKE_S = DRIVE['linear_max_velocity'] / DRIVE['linear_max_deceleration']          # s
SIM_COMMAND_TIMEOUT = ros_parameters('simulator.yaml', 'rover_simulator')['engine']['command_timeout']  # s

SIM_PROCESSES = processes(resolve(load_node_sets(CONFIG / 'node_sets.yaml')['sim'],
                                   {'web': 'true', 'autonomy': 'true'}))
PROCESS_OF = {node.name: p.name for p in SIM_PROCESSES for node in p.members}   # node -> its process
DRIVE_PROCESS = PROCESS_OF['drive_controller']

# Periodic topics recorded, with the process publishing them.
TOPICS = {
    '/clock': (Clock, PROCESS_OF['rover_simulator']),
    'sim/ground_truth': (Odometry, PROCESS_OF['rover_simulator']),
    'joint_states': (JointState, PROCESS_OF['rover_simulator']),
    'cmd_vel': (TwistStamped, PROCESS_OF['cmd_arbitration']),
    'wheel_commands': (JointState, DRIVE_PROCESS),
    'odom': (Odometry, DRIVE_PROCESS),
    'odometry/filtered': (Odometry, PROCESS_OF['ekf_localization']),
    'obstacles/grid': (OccupancyGrid, PROCESS_OF['obstacle_grid']),
}
BEST_EFFORT = {'/clock', 'joint_states'}


def respawnable() -> list[str]:
    """The sim profile's respawnable processes (a node, or a container of several) as `rover sim`
    runs them, minus the simulator."""
    return [p.name for p in SIM_PROCESSES if p.respawn and p.name != 'rover_simulator']


@dataclass
class Kill:
    name: str
    pid: int
    at: float                      # s sim, when SIGKILL was sent
    started: float | None = None   # s sim, the runner's 'started NAME' line seen
    back: float | None = None      # s sim, stamp of its first message after the respawn (recorded topics)
    up: float | None = None        # s sim, the respawned drive controller logged that it runs
    reset: bool = False            # the operator reset the e-stop after this (drive controller) respawn


class Monitor:
    """The test's node on sim time: records stamps of the periodic topics, ground truth, mission/status."""

    def __init__(self, context):
        self.node = rclpy.create_node('chaos_monitor', context=context,
                                      parameter_overrides=[Parameter('use_sim_time', value=True)])
        self.stamps: dict[str, list[float]] = {topic: [] for topic in TOPICS}
        self.wall_sim: list[tuple[float, float]] = []           # (wall s, sim s) at each /clock
        self.truth: list[tuple[float, float, float]] = []     # (s sim, x m, y m) in map
        self.statuses: list[MissionStatus] = []
        self.cmd_received: list[tuple[float, float, float]] = []   # cmd_vel: (received s sim, stamp s, v m/s)
        self.wheels: list[tuple[float, float]] = []    # wheel_commands: (stamp s sim, max |velocity| rad/s)
        self.latched: list[tuple[float, bool]] = []    # estop_state: (received s sim, value)
        for topic, (kind, _) in TOPICS.items():
            qos = sensor_qos(depth=50) if topic in BEST_EFFORT else command_qos(depth=50)
            self.node.create_subscription(kind, topic, lambda msg, t=topic: self._on_message(t, msg), qos)
        self.accepted: list[tuple[float, int]] = []   # drive_controller diagnostics: (stamp s, accepted_commands)
        self.node.create_subscription(MissionStatus, 'mission/status', self.statuses.append, latched_qos())
        self.node.create_subscription(DiagnosticArray, 'diagnostics', self._on_diagnostics, command_qos(depth=50))
        self.mission = ActionClient(self.node, ExecuteMission, 'execute_mission')
        self.node.create_subscription(Bool, 'estop_state', lambda m: self.latched.append((self.now(), m.data)),
                                      latched_qos())
        self.estop = self.node.create_publisher(Bool, 'estop', latched_qos())
        self.button = self.node.create_client(SetBool, 'sim/estop')
        self.reset = self.node.create_client(Trigger, 'reset_estop')
        self.resume = self.node.create_client(Trigger, 'mission/resume')
        self.executor = SingleThreadedExecutor(context=context)
        self.executor.add_node(self.node)

    def _on_message(self, topic: str, msg) -> None:
        stamp = msg.clock if topic == '/clock' else msg.header.stamp
        t = stamp.sec + stamp.nanosec * 1e-9
        self.stamps[topic].append(t)
        if topic == '/clock':
            self.wall_sim.append((time.time(), t))   # to read the nodes' log stamps (wall) as sim time
        if topic == 'wheel_commands':
            self.wheels.append((t, max((abs(v) for v in msg.velocity), default=0.0)))
        if topic == 'cmd_vel':     # arrival vs stamp: how far this monitor lags (reported)
            self.cmd_received.append((self.now(), t, msg.twist.linear.x))
        if topic == 'sim/ground_truth':
            p = msg.pose.pose.position
            if math.isfinite(p.x) and math.isfinite(p.y):
                self.truth.append((t, p.x, p.y))

    def _on_diagnostics(self, msg: DiagnosticArray) -> None:
        for status in msg.status:
            if status.name == 'drive_controller: drive':
                values = {kv.key: kv.value for kv in status.values}
                if values.get('accepted_commands', '').isdigit():
                    stamp = msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9
                    self.accepted.append((stamp, int(values['accepted_commands'])))

    def now(self) -> float:
        return self.node.get_clock().now().nanoseconds * 1e-9

    def close(self) -> None:
        self.executor.shutdown()
        self.node.destroy_node()


@pytest.fixture
def chaos(tmp_path, ros_context):
    starts = Counter()      # process name -> starts seen in the runner's output
    runner, progress = start_sim(COURSE, SIM_SEED, tmp_path, on_start=lambda name, _pid: starts.update([name]),
                                 web=True)
    monitor = None
    try:
        monitor = Monitor(ros_context)
        yield runner, monitor, progress, starts
    finally:
        if monitor is not None:
            monitor.close()
        runner.stop()
        (tmp_path / 'runner.log').write_text('\n'.join(runner.lines))   # kept for a failure's post-mortem


# ---- analysis (pure functions of the recording) ---------------------------------------------------------

def stale_intervals(cmd_stamps: list[float], accepted: list[tuple[float, int]], kills: list[Kill],
                    end: float) -> list[tuple[float, float, float, str]]:
    """(start, settled, end, why) of every interval without a fresh command, in s sim.

    Silences are found from the cmd_vel stamps (a late arrival here is this monitor's lag, not the
    controller's). A cmd_vel silence seen here ends at the next cmd_vel seen, or earlier at the last drive_controller
    diagnostics before its ``accepted_commands`` grew: a respawned cmd_arbitration's publisher can be
    discovered by the controller seconds before this monitor sees it."""
    out = []
    for a, b in pairwise(sorted(cmd_stamps)):
        if b - a > COMMAND_LIFE:
            start, stop, why = a + COMMAND_LIFE, b, f'no cmd_vel stamped for {b - a:.2f} s'
            took = [d1 for (d1, n1), (_, n2) in pairwise(accepted) if start <= d1 < stop and n2 > n1]
            if took:
                stop, why = took[0], why + f', controller accepting commands after {took[0] - a:.2f} s'
            out.append((start, start + BRAKE_S, stop, why))
    for kill in kills:
        if kill.name == DRIVE_PROCESS:
            # Down until it runs again: its first message seen here, or earlier its start-up log line
            # (this monitor discovers a new publisher seconds after the simulator does).
            back = min([t for t in (kill.back, kill.up) if t is not None], default=end)
            out.append((kill.at, kill.at + SIM_COMMAND_TIMEOUT + BRAKE_S, back, 'drive_controller down'))
    return sorted(out)


CONTROLLER_UP = re.compile(r'^\[\w+\] \[INFO\] \[(\d+\.\d+)\] \[drive_controller\]: robot ')


def sim_at_wall(pairs: list[tuple[float, float]], wall: float) -> float | None:
    """Sim time (s) at wall time ``wall`` (s), interpolated between /clock arrivals; None outside them."""
    for (w0, s0), (w1, s1) in pairwise(pairs):
        if w0 <= wall <= w1:
            return s0 if w1 == w0 else s0 + (s1 - s0) * (wall - w0) / (w1 - w0)
    return None


def drift_after(truth: list[tuple[float, float, float]], settled: float, end: float) -> float | None:
    """Largest ground-truth distance (m) from the pose at ``settled`` over [settled, end]; None if none."""
    window = [(x, y) for t, x, y in truth if settled <= t <= end]
    if not window:
        return None
    return max(math.dist(window[0], point) for point in window)


def gaps(stamps: list[float], since: float, until: float, excluded: list[tuple[float, float]]):
    """(largest checked gap, its start, largest excluded gap) between consecutive stamps in [since, until]."""
    times = sorted(t for t in stamps if since <= t <= until)
    worst, worst_at, respawn_gap = 0.0, since, 0.0
    for a, b in pairwise(times):
        if any(a <= hi and b >= lo for lo, hi in excluded):
            respawn_gap = max(respawn_gap, b - a)
        elif b - a > worst:
            worst, worst_at = b - a, a
    return worst, worst_at, respawn_gap


@pytest.mark.timeout(560)
def test_chaos_kills_during_a_mission_on_flat_easy(chaos):
    runner, mon, progress, starts = chaos
    rng = random.Random(CHAOS_SEED)
    victims = respawnable()
    assert 'rover_simulator' not in victims and DRIVE_PROCESS in victims, victims
    kills: list[Kill] = []
    report: list[str] = []

    def summary() -> str:
        return '\n'.join(['chaos summary:', *report]) + runner.tail(30)

    def tick() -> None:
        """Note respawns: the runner's 'started' line, then the first message stamped after it."""
        for kill in kills:
            if kill.started is None and starts[kill.name] > sum(
                    k.name == kill.name for k in kills if k.at <= kill.at):
                kill.started = mon.now()
            if kill.started is not None and kill.back is None:
                topics = [t for t, (_, owner) in TOPICS.items() if owner == kill.name]
                later = [s for t in topics for s in mon.stamps[t] if s > kill.started]
                if later:
                    kill.back = min(later)

    def waited(condition, timeout, what):
        def check():
            tick()
            return condition() or runner.process.poll() is not None
        try:
            spin_until(mon.executor, check, timeout, what)
        except AssertionError as error:
            raise AssertionError(f'{error}\n{summary()}') from None
        assert runner.process.poll() is None, f'the runner ended ({runner.process.returncode})\n{summary()}'

    def mission_over() -> bool:
        s = mon.statuses[-1] if mon.statuses else None
        return s is not None and s.state in (MissionStatus.SUCCEEDED, MissionStatus.FAILED,
                                             MissionStatus.CANCELED)

    def kill(name: str) -> None:
        pid = runner.pids(name)[-1]
        at = mon.now()
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pytest.fail(f'{name} (pid {pid}) was not running at {at:.1f} s, 10+ s after any kill\n{summary()}')
        kills.append(Kill(name, pid, at))
        report.append(f'  kill {name} (pid {pid}) at {at - t_goal:.1f} s sim after the goal')

    def ask(client, request, what: str, timeout: float = 60.0):
        """Call a service until it answers (a request to a killed server's stale entry goes unanswered)."""
        give_up = time.monotonic() + timeout
        while True:
            waited(client.service_is_ready, max(1.0, give_up - time.monotonic()), f'{what} service')
            future = client.call_async(request)
            try:
                spin_until(mon.executor, future.done, 5.0, f'{what} response')
                return future.result()
            except AssertionError:
                assert time.monotonic() < give_up, f'{what}: no answer within {timeout:.0f} s\n{summary()}'

    def paused() -> bool:
        return bool(mon.statuses) and mon.statuses[-1].state == MissionStatus.PAUSED

    wall_start = time.monotonic()
    waited(mon.mission.server_is_ready, 150.0, 'execute_mission server')
    waited(lambda: mon.truth and mon.now() > 0.0, 30.0, 'sim/ground_truth and /clock')
    reset_estop(mon.node, mon.executor)      # a started drive controller is latched: the operator resets
    handle = send_goal(mon.mission, mon.executor, ExecuteMission.Goal(mission_file=COURSE))
    assert handle.accepted, summary()
    t_goal = mon.now()

    # ---- the e-stop episode (issue #18) ----
    start_xy = mon.truth[-1][1:]

    def under_way() -> bool:
        return math.dist(mon.truth[-1][1:], start_xy) > EPISODE_AFTER_M

    while not under_way():    # an executive that had not seen the start's reset yet pauses: resume it
        waited(lambda: under_way() or paused(), 120.0, 'leg 1 under way')
        if paused():
            ask(mon.resume, Trigger.Request(), 'mission/resume at the start')
            spin_for(mon.executor, 2.0)      # the next mission/status
    pressed_at = mon.now()
    mon.estop.publish(Bool(data=True))
    assert ask(mon.button, SetBool.Request(data=True), 'sim/estop press').success, summary()
    waited(lambda: any(v for t, v in mon.latched if t >= pressed_at), 30.0, 'estop_state true')
    latched_at = next(t for t, v in mon.latched if t >= pressed_at and v)
    waited(paused, 30.0, 'the mission paused by the e-stop')
    for name in (DRIVE_PROCESS, PROCESS_OF['web_bridge']):     # killed while latched
        kill(name)
    episode_kills = kills[-2:]
    waited(lambda: all(k.started is not None for k in episode_kills), 60.0,
           'drive_controller and web_bridge respawned')
    refused = ask(mon.reset, Trigger.Request(), 'reset_estop with the button pressed')
    released_at = mon.now()
    assert ask(mon.button, SetBool.Request(data=False), 'sim/estop release').success, summary()
    mon.estop.publish(Bool(data=False))
    waited(lambda: mon.now() >= released_at + HOLD_S, 60.0, 'the hold after the release')
    reset_answer = reset_estop(mon.node, mon.executor)
    reset_at = mon.now()
    waited(lambda: mon.now() >= reset_at + 3.0, 60.0, 'the hold after the reset')
    still_paused = paused()
    resumed = ask(mon.resume, Trigger.Request(), 'mission/resume')
    resume_at = mon.now()
    held_xy = mon.truth[-1][1:]
    waited(lambda: math.dist(mon.truth[-1][1:], held_xy) > 0.3, 60.0, 'driving again after mission/resume')
    moving_while_held = [(round(t - t_goal, 2), v) for t, v in mon.wheels if latched_at + 0.1 < t < resume_at
                         and v > 1e-9]
    held_drift = drift_after(mon.truth, latched_at + 1.0, resume_at)
    episode = (f'  e-stop episode: latched {latched_at - pressed_at:.2f} s after the press; released '
                  f'{released_at - t_goal:.1f} s, reset {reset_at - t_goal:.1f} s ({reset_answer!r}), resumed '
                  f'{resume_at - t_goal:.1f} s after the goal; drift while held {held_drift} m')
    report.append(episode)

    # ---- random kills every 10-20 s of sim time until the mission is over; the test is the operator ----
    deadline = time.monotonic() + 320.0
    next_kill = [mon.now() + rng.uniform(*KILL_EVERY)]
    resume_asked = [0.0]          # wall s

    def operator_due() -> bool:
        needs_reset = any(k.name == DRIVE_PROCESS and k.started is not None and k.at > resume_at
                          and not getattr(k, 'reset', False) for k in kills)
        return needs_reset or (paused() and time.monotonic() - resume_asked[0] > 2.0)

    def operate() -> None:
        for k in kills:
            if k.name == DRIVE_PROCESS and k.started is not None and k.at > resume_at and not k.reset:
                k.reset = True
                report.append(f'  operator: reset_estop after the respawn ({reset_estop(mon.node, mon.executor)})')
        if paused() and time.monotonic() - resume_asked[0] > 2.0:
            resume_asked[0] = time.monotonic()
            mon.resume.call_async(Trigger.Request())

    while True:
        waited(lambda: mission_over() or mon.now() >= next_kill[0] or operator_due(),
               max(1.0, deadline - time.monotonic()), f'the mission to end (kills so far: {len(kills)})')
        if mission_over():
            break
        if operator_due():
            operate()
            continue
        kill(rng.choice(victims))
        next_kill[0] = kills[-1].at + rng.uniform(*KILL_EVERY)
    t_end = mon.now()
    # Every killed process back (the last kill may be recent).
    waited(lambda: all(k.started is not None for k in kills), 60.0, 'the respawn of every killed process')
    up_walls = [float(m.group(1)) for line in runner.lines if (m := CONTROLLER_UP.match(line))]
    for kill in kills:
        if kill.name == DRIVE_PROCESS:
            ups = [t for t in (sim_at_wall(mon.wall_sim, w) for w in up_walls) if t is not None and t > kill.at]
            kill.up = min(ups, default=None)
    wall = time.monotonic() - wall_start

    # ---- figures ----
    report.clear()
    report.append(f'mission {t_end - t_goal:.1f} s sim ({wall:.0f} s wall from start-up), '
                  f'{len(kills)} kills (chaos seed {CHAOS_SEED}):')
    for k in kills:
        back = f', first message {k.back - k.at:.2f} s' if k.back is not None else ''
        started = f'{k.started - k.at:.2f} s' if k.started is not None else 'never'
        report.append(f'  {k.at - t_goal:6.1f} s  {k.name:<20} restarted after {started}{back} (sim)')
    drifts = []
    late = [round(r - st, 2) for r, st, _ in mon.cmd_received if r >= t_goal and abs(r - st) > COMMAND_LIFE]
    report.append(f'  cmd_vel arriving here more than max_stamp_age after their stamp: {len(late)}'
                  + (f', up to {max(late):.2f} s' if late else ''))
    report.append(f'  runner output: {progress.parent / "runner.log"} (written at the end)')
    report.append(episode)
    for start, settled, end, why in stale_intervals(mon.stamps['cmd_vel'], mon.accepted, kills, t_end):
        drift = drift_after(mon.truth, settled, end)
        drifts.append((drift, start, end, why))
        shown = f'{drift:.3f} m' if drift is not None else 'ended before the stop settled'
        report.append(f'  stale {start - t_goal:6.1f}..{end - t_goal:6.1f} s ({why}): drift {shown}')
    gap_rows = []
    for topic, (_, owner) in TOPICS.items():
        excluded = [(k.at - 0.1, k.back if k.back is not None else t_end) for k in kills if k.name == owner]
        worst, worst_at, respawn_gap = gaps(mon.stamps[topic], t_goal, t_end, excluded)
        gap_rows.append((topic, owner, worst, worst_at))
        respawned = f', respawn gap {respawn_gap:.2f} s' if excluded else ''
        report.append(f'  gap {topic:<18} ({owner}): largest {worst:.3f} s at {worst_at - t_goal:.1f} s{respawned}')
    sys.stdout.write('\n' + summary() + '\n')   # shown with -s

    # ---- assertions ----
    assert not refused.success and 'hardware_estop' in refused.message, f'{refused}\n{summary()}'
    assert not moving_while_held, (
        f'non-zero wheel_commands between the latch and mission/resume: {moving_while_held[:5]}\n{summary()}')
    assert held_drift is not None and held_drift <= HELD_M, (
        f'the rover moved {held_drift} m while the e-stop was latched or the mission paused\n{summary()}')
    assert still_paused, f'the mission did not stay paused after reset_estop: {mon.statuses[-1]}\n{summary()}'
    assert resumed.success, f'mission/resume refused: {resumed.message}\n{summary()}'
    assert len(kills) >= 3, summary()
    final = mon.statuses[-1]
    assert final.state == MissionStatus.SUCCEEDED, f'final mission/status {final}\n{summary()}'
    saved = persistence.load(progress)
    assert saved is not None and not saved.running, summary()
    assert [leg.outcome for leg in saved.legs] == ['SUCCEEDED'] * LEGS, f'{saved}\n{summary()}'
    bad = [(d, s - t_goal, why) for d, s, _, why in drifts if d is not None and d > MAX_DRIFT_M]
    assert not bad, f'the rover moved more than {MAX_DRIFT_M} m without a fresh command: {bad}\n{summary()}'
    assert any(why == 'drive_controller down' and d is not None for d, *_, why in drifts), (
        f'no checked interval with the drive controller down\n{summary()}')
    stalled = [(topic, round(worst, 3)) for topic, _, worst, _ in gap_rows if worst > GAP_BOUND_S]
    assert not stalled, f'topics of live processes stalled longer than {GAP_BOUND_S} s: {stalled}\n{summary()}'
    assert all(mon.stamps[topic] for topic in TOPICS), (
        f'topics never heard: {[t for t in TOPICS if not mon.stamps[t]]}\n{summary()}')
