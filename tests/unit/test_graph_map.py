"""The map of the system (docs/graphs, docs/architecture.md) is made from the declarations and is not stale."""
from pathlib import Path

import pytest

from rover_stack.bringup.graph_map import HASH_PREFIX, MAP_PROFILES, dot_source, source_hash

pytestmark = pytest.mark.unit

GRAPHS = Path(__file__).resolve().parents[2] / 'docs' / 'graphs'
REMAKE = 'remake it: source scripts/env.sh && python -m rover_stack.bringup.graph_map --out docs/graphs'


@pytest.mark.parametrize('profile', MAP_PROFILES)
def test_the_committed_map_matches_the_declarations(profile):
    dot = dot_source(profile)
    assert (GRAPHS / f'{profile}.dot').read_text() == dot, f'docs/graphs/{profile}.dot is stale: {REMAKE}'
    svg = (GRAPHS / f'{profile}.svg').read_text()
    assert f'{HASH_PREFIX}{source_hash(dot)} -->' in svg, f'docs/graphs/{profile}.svg is stale: {REMAKE}'


def test_the_map_shows_the_command_and_detection_paths():
    dot = dot_source('rover')
    for edge in ('"/web_bridge" -> "/cmd_arbitration"', '"/cmd_arbitration" -> "/drive_controller"',
                 '"/drive_controller" -> "/motor_driver"', '"/camera_driver" -> "/aruco_detector"',
                 '"/aruco_detector" -> "/mission_executive"', '"/navigator" -> "/mission_executive"',
                 '"/sllidar_node" -> "/obstacle_grid"'):
        assert edge in dot, edge
