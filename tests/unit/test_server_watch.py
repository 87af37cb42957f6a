"""RestartWatch: a respawned action server is told apart from a lagging ROS graph."""
import pytest

from rover_stack.autonomy.server_watch import RestartWatch

OLD, NEW, STALE = ('old',), ('new',), ('stale',)


def test_a_server_appearing_after_the_baseline_settled_is_a_restart():
    watch = RestartWatch(period=1.0)
    watch.accepted({OLD}, now=0.0)
    assert not watch.restarted({OLD}, now=1.0)
    assert not watch.restarted(set(), now=2.0)     # killed: nothing yet
    assert watch.restarted({NEW}, now=5.0)


def test_settled_once_the_baseline_was_checked_and_holds_a_server():
    watch = RestartWatch(period=1.0)
    watch.accepted(set(), now=0.0)
    assert not watch.settled
    watch.restarted(set(), now=1.0)
    assert not watch.settled                       # the graph showed no server yet
    watch.restarted({OLD}, now=2.0)
    assert watch.settled


def test_a_stale_server_listed_at_the_acceptance_is_no_restart():
    # The graph still listed a destroyed server and not yet the one that accepted (the CI failure).
    watch = RestartWatch(period=1.0)
    watch.accepted({STALE}, now=0.0)
    assert not watch.restarted({NEW}, now=1.0)
    assert not watch.restarted({NEW}, now=2.0)
    assert not watch.restarted({NEW}, now=30.0)


def test_a_kill_within_the_first_period_is_still_seen_when_the_respawn_appears():
    watch = RestartWatch(period=1.0)
    watch.accepted({OLD}, now=0.0)
    assert not watch.restarted(set(), now=1.0)     # killed at 0.5 s, respawn not up yet
    assert watch.restarted({NEW}, now=4.0)


def test_an_empty_graph_at_the_acceptance_takes_the_first_server_seen():
    watch = RestartWatch(period=1.0)
    watch.accepted(set(), now=0.0)
    assert not watch.restarted(set(), now=1.0)
    assert not watch.restarted({NEW}, now=2.0)
    assert not watch.restarted({NEW}, now=3.0)


def test_queries_are_due_once_a_period_from_the_acceptance():
    watch = RestartWatch(period=1.0)
    assert watch.due(now=0.0)
    watch.accepted({OLD}, now=10.0)
    assert not watch.due(now=10.5)
    assert watch.due(now=11.0)
    watch.restarted({OLD}, now=11.0)
    assert not watch.due(now=11.9)


def test_a_new_goal_starts_a_new_baseline():
    watch = RestartWatch(period=1.0)
    watch.accepted({OLD}, now=0.0)
    watch.restarted({OLD}, now=1.0)
    watch.accepted({NEW}, now=10.0)       # the next goal, after a respawn we already handled
    assert not watch.restarted({NEW}, now=11.0)
    assert not watch.restarted({NEW}, now=12.0)


@pytest.mark.parametrize('period', [0.0, -1.0, float('nan')])
def test_a_period_that_is_not_positive_is_refused(period):
    with pytest.raises(ValueError, match='period'):
        RestartWatch(period=period)
