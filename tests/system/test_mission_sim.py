"""`rover sim` end to end: the whole sim profile as processes, the flat_easy mission, report.json, run.mcap,
trajectory.png and the exit code. Needs every node of the autonomy chain in the `sim` profile."""
from __future__ import annotations

import pytest
from mcap.reader import make_reader

from rover_stack.bringup.node_set import load_node_sets
from rover_stack.bringup.runner import default_config
from rover_stack.testing.sim_stack import run_rover_sim

CHAIN = {'rover_simulator', 'ekf_localization', 'aruco_detector', 'navigator', 'mission_executive'}


def missing_nodes() -> set[str]:
    return CHAIN - {entry.executable for entry in load_node_sets(default_config())['sim'].nodes}


pytestmark = pytest.mark.skipif(bool(missing_nodes()), reason=f'sim profile lacks {sorted(missing_nodes())}')


@pytest.mark.timeout(300)   # the whole stack on 2 cores: ~2 min wall for the ~60 s sim mission when idle
def test_rover_sim_completes_flat_easy(tmp_path):
    out = tmp_path / 'run'
    code, report, log = run_rover_sim('flat_easy', 1, out, timeout=230.0)
    assert code == 0, log
    assert report['success'] and len(report['legs']) == 3
    for leg in report['legs']:
        assert leg['reached'] and leg['final_error_m'] <= leg['tolerance_m'], leg
    assert report['collisions'] == 0 and report['path_length_m'] > 30.0
    assert report['localization_rmse_m'] is not None and report['localization_rmse_m'] < 2.0
    assert (out / 'trajectory.png').stat().st_size > 10_000

    with open(out / 'run.mcap', 'rb') as stream:
        topics = {channel.topic for channel in make_reader(stream).get_summary().channels.values()}
    assert {'/sim/ground_truth', '/odometry/filtered', '/mission/status'} <= topics
