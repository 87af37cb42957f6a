"""Pure parts of rover report / rover replay: events and tracks from decoded messages, the error
series, node selection and the check of the recorded inputs."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from rover_stack.cli.replay import check_inputs, selected_nodes
from rover_stack.reporting.report import Track
from rover_stack.reporting.run_analysis import analyse, error_series


def header(t: float) -> SimpleNamespace:
    return SimpleNamespace(stamp=SimpleNamespace(sec=int(t), nanosec=round((t - int(t)) * 1e9)))


def odometry(t: float, x: float, y: float) -> SimpleNamespace:
    return SimpleNamespace(header=header(t), pose=SimpleNamespace(pose=SimpleNamespace(position=SimpleNamespace(x=x, y=y))))


def status(t: float, state: int, leg: int, leg_state: str) -> SimpleNamespace:
    return SimpleNamespace(header=header(t), state=state, leg_index=leg, leg_count=2, leg_kind='post', leg_state=leg_state,
              mission_name='m')


def detection(ident: int, confirmed: bool, kind: int = 0, label: str = 'DICT_4X4_50') -> SimpleNamespace:
    return SimpleNamespace(id=ident, confirmed=confirmed, kind=kind, label=label)


def test_analyse_collects_tracks_events_detections_and_datum():
    messages = [
        ('/datum', 0, SimpleNamespace(latitude=38.0, longitude=-110.0, altitude=1000.0)),
        ('/active_source', 0, SimpleNamespace(data='autonomy')),
        ('/estop_state', 0, SimpleNamespace(data=False)),
        ('/sim/ground_truth', 0, odometry(1.0, 0.0, 0.0)),
        ('/odometry/filtered', 0, odometry(1.0, 0.3, 0.4)),
        ('/mission/status', 0, status(1.0, 1, 0, 'navigate')),
        ('/mission/status', 0, status(1.5, 1, 0, 'navigate')),        # no change: no event
        ('/markers', 0, SimpleNamespace(header=header(2.0), detections=[detection(3, True), detection(4, False)])),
        ('/objects', 0, SimpleNamespace(header=header(2.0), detections=[detection(0, True, kind=1, label='mallet')])),
        ('/mission/status', 0, status(3.0, 1, 1, 'search')),
        ('/active_source', 0, SimpleNamespace(data='joystick')),
        ('/hardware_estop', 0, SimpleNamespace(data=True)),
        ('/mission/status', 0, status(4.0, 5, 1, 'succeeded')),
    ]
    run = analyse(messages)
    assert run.datum == (38.0, -110.0, 1000.0)
    assert len(run.truth) == len(run.estimate) == 1
    kinds = [(e.kind, e.text) for e in run.events]
    assert kinds == [('mission', "mission 'm' RUNNING"), ('leg', 'leg 1/2 post: navigate'),
                     ('leg', 'leg 2/2 post: search'), ('takeover', 'command source autonomy -> joystick'),
                     ('estop', 'hardware e-stop LATCHED'), ('mission', "mission 'm' SUCCEEDED"),
                     ('leg', 'leg 2/2 post: succeeded')]
    assert [e.t for e in run.events] == sorted(e.t for e in run.events)
    assert run.detections == {'tag 3': 1, 'mallet': 1}
    assert run.counts['mission/status'] == 4


def test_error_series_pairs_nearest_truth_within_the_gap():
    truth, estimate = Track(), Track()
    for i in range(11):
        truth.add(i * 0.1, i * 0.1, 0.0)
    estimate.add(0.0, 0.0, 1.0)       # 1 m off
    estimate.add(0.52, 0.5, 0.0)      # nearest truth 0.5 s: exact
    estimate.add(5.0, 0.0, 0.0)       # no truth within 0.1 s: skipped
    errors = error_series(estimate, truth)
    assert errors[:, 0].tolist() == [0.0, 0.52]
    assert errors[:, 1] == pytest.approx([1.0, 0.0])
    assert error_series(Track(), truth).shape == (0, 2)


def test_node_selection_and_input_check():
    assert selected_nodes('ekf') == ['ekf_localization']
    assert selected_nodes('perception, ekf,aruco_detector') == ['aruco_detector', 'obstacle_grid',
                                                                 'ekf_localization']
    for bad in ('', 'planner', ','):
        with pytest.raises(ValueError):
            selected_nodes(bad)
    recorded = {'/odom': ('nav_msgs/msg/Odometry', 10), '/gnss/fix': ('sensor_msgs/msg/NavSatFix', 0)}
    problems = check_inputs(['ekf_localization'], recorded)
    assert len(problems) == 1 and 'gnss/fix' in problems[0]       # recorded but empty counts as missing
    recorded['/gnss/fix'] = ('sensor_msgs/msg/NavSatFix', 5)
    assert check_inputs(['ekf_localization'], recorded) == []
    assert 'scan' in check_inputs(['obstacle_grid'], recorded)[0]
