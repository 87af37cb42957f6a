"""The tf2_msgs compatibility package must be the same type as upstream's, hash for hash, so RViz,
Foxglove and tf2 on a machine with a ROS distro read this stack's /tf."""
import json
import os
from pathlib import Path

import pytest

# RIHS01 type hashes of upstream tf2_msgs in ROS 2 Jazzy (as reported by `ros2 topic info -v /tf` and
# recorded in Jazzy bag metadata); they depend only on the field layout, not on comments.
UPSTREAM_HASHES = {
    'msg/TFMessage': 'RIHS01_e369d0f05a23ae52508854b66f6aa0437f3449d652e8cbf22d5abe85d020f087',
    'msg/TF2Error': 'RIHS01_db2485e7d6a0ec75bf087e058ee45df682acc3a621ca7780503d10aac141809a',
}


def _share_dir() -> Path:
    for prefix in os.environ.get('AMENT_PREFIX_PATH', '').split(os.pathsep):
        candidate = Path(prefix) / 'share' / 'tf2_msgs'
        if (candidate / 'package.xml').exists():
            return candidate
    pytest.fail('tf2_msgs is not in AMENT_PREFIX_PATH: run make build / source scripts/env.sh')


@pytest.mark.parametrize('interface', sorted(UPSTREAM_HASHES))
def test_type_hash_matches_upstream_jazzy(interface):
    description = json.loads((_share_dir() / f'{interface}.json').read_text())
    own = {entry['type_name']: entry['hash_string'] for entry in description['type_hashes']}
    assert own[f'tf2_msgs/{interface}'] == UPSTREAM_HASHES[interface]


def test_tfmessage_fields():
    from tf2_msgs.msg import TFMessage  # noqa: PLC0415 - unit tier: no ROS messages at module top

    assert TFMessage.get_fields_and_field_types() == {'transforms': 'sequence<geometry_msgs/TransformStamped>'}
