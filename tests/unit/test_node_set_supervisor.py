"""The runner's supervisor core: start failures, respawn back-off schedule, fatal exits (injected time)."""
from __future__ import annotations

import pytest

from rover_stack.bringup.supervisor import RestartPolicy, Supervisor

POLICY = RestartPolicy(start_grace=2.0, stable_after=10.0, min_delay=0.1, max_delay=8.0)


def supervisor(**node) -> Supervisor:
    sup = Supervisor(POLICY)
    options = {'respawn': True, 'required': False, 'respawn_delay': 1.0} | node
    sup.add('n', now=0.0, **options)
    return sup


def crash_after(sup: Supervisor, now: float, uptime: float, code: int = 1):
    """Start n at ``now`` (must be due), crash it ``uptime`` s later; the decision and the exit time."""
    assert sup.due(now) == ['n']
    sup.started('n', pid=100, now=now)
    return sup.exited('n', code, now + uptime), now + uptime


def test_nodes_are_due_in_order_at_start():
    sup = Supervisor(POLICY)
    for name in ('a', 'b', 'c'):
        sup.add(name, respawn=False, required=False, respawn_delay=1.0, now=5.0)
    assert sup.due(4.9) == []
    assert sup.due(5.0) == ['a', 'b', 'c']


def test_back_off_doubles_while_crashing_fast_and_is_capped():
    sup = supervisor()
    now, delays = 0.0, []
    decision, now = crash_after(sup, now, uptime=5.0)      # a later start: not a "failed start"
    delays.append(decision.delay)
    for _ in range(6):
        next_start = now + decision.delay
        assert sup.due(next_start - 0.01) == []          # not before its time
        decision, now = crash_after(sup, next_start, uptime=3.0)
        delays.append(decision.delay)
    assert delays == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0, 8.0]
    assert decision.respawn and sup.failure is None


def test_back_off_resets_after_a_stable_run():
    sup = supervisor()
    decision, now = crash_after(sup, 0.0, uptime=5.0)
    decision, now = crash_after(sup, now + decision.delay, uptime=1.0)
    decision, now = crash_after(sup, now + decision.delay, uptime=1.0)
    assert decision.delay == 4.0
    decision, now = crash_after(sup, now + decision.delay, uptime=10.0)   # stayed up: reset
    assert decision.delay == 1.0
    decision, now = crash_after(sup, now + decision.delay, uptime=1.0)
    assert decision.delay == 2.0


def test_zero_respawn_delay_is_floored_so_a_crash_loop_never_spins():
    sup = supervisor(respawn_delay=0.0)
    decision, now = crash_after(sup, 0.0, uptime=5.0)
    assert decision.delay == pytest.approx(0.1)
    decision, _ = crash_after(sup, now + decision.delay, uptime=0.5)
    assert decision.delay == pytest.approx(0.2)


def test_clean_exit_of_a_respawned_node_is_respawned_too():
    decision, _ = crash_after(supervisor(), 0.0, uptime=30.0, code=0)
    assert decision.respawn and decision.delay == 1.0


@pytest.mark.parametrize(('respawn', 'uptime', 'code'), [(True, 0.5, 1), (False, 0.5, 1), (True, 1.9, -9)])
def test_required_node_failing_at_start_fails_the_bringup(respawn, uptime, code):
    sup = supervisor(required=True, respawn=respawn)
    decision, _ = crash_after(sup, 0.0, uptime=uptime, code=code)
    assert decision.fatal and not decision.respawn
    assert sup.failure.startswith('required node n failed to start')
    assert sup.due(100.0) == []


def test_not_required_node_failing_at_start_only_ends():
    sup = supervisor(respawn=False)
    decision, _ = crash_after(sup, 0.0, uptime=0.5)
    assert not decision.fatal and not decision.respawn and sup.failure is None
    assert sup.finished


def test_required_node_exiting_later_without_respawn_fails_the_bringup():
    sup = supervisor(required=True, respawn=False)
    decision, _ = crash_after(sup, 0.0, uptime=60.0, code=0)
    assert decision.fatal
    assert sup.failure == 'required node n exited with code 0 and is not respawned'


def test_required_respawned_node_crashing_after_start_grace_is_respawned():
    sup = supervisor(required=True)
    decision, now = crash_after(sup, 0.0, uptime=2.5)
    assert decision.respawn and sup.failure is None
    decision, _ = crash_after(sup, now + decision.delay, uptime=0.1)     # second start: back-off only
    assert decision.respawn and decision.delay == 2.0 and sup.failure is None


def test_unexecutable_program_counts_as_failed_start():
    sup = supervisor(required=True)
    assert sup.due(0.0) == ['n']
    decision = sup.start_failed('n', 'cannot execute: No such file', 0.0)
    assert decision.fatal and 'cannot execute' in sup.failure


def test_running_and_next_event():
    sup = supervisor()
    assert sup.next_event() == 0.0
    sup.started('n', pid=42, now=0.0)
    assert sup.running() == {'n': 42} and sup.next_event() is None
    sup.exited('n', 1, 5.0)
    assert sup.running() == {} and sup.next_event() == 6.0 and not sup.finished
