"""``rover replay`` and ``rover report`` on a synthetic recording with known truth (written once per
module by rover_stack.testing.synthetic_recording, the recorder's MCAP layout), and rosbags reading it."""
from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
from rosbags.highlevel import AnyReader

from rover_stack.reporting import mcap_io
from rover_stack.testing import synthetic_recording

REPLAY_TIMEOUT = 90.0   # s wall: node start-up under load + 10 s of sim at 2x


def rover(*args: str, timeout: float = 60.0) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, '-m', 'rover_stack.cli.rover', *args], capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


@pytest.fixture(scope='module')
def recording(tmp_path_factory) -> Path:
    run_dir = tmp_path_factory.mktemp('run')
    synthetic_recording.write_synthetic_run(run_dir / 'run.mcap', duration=10.0, seed=3)
    return run_dir / 'run.mcap'


@pytest.fixture(scope='module')
def replayed(recording, tmp_path_factory):
    out = tmp_path_factory.mktemp('replay')
    result = rover('replay', str(recording), '--nodes', 'ekf', '--rate', '2', '--out', str(out),
                   timeout=REPLAY_TIMEOUT)
    logs = '\n'.join(p.read_text()[-2000:] for p in (out / 'logs').glob('*.log'))
    assert result.returncode == 0, f'{result.stdout}\n{result.stderr}\n{logs}'
    return out, result


def test_rosbags_reads_the_recording(recording):
    with AnyReader([recording]) as reader:
        connections = {c.topic: c for c in reader.connections}
        assert connections['/gnss/fix'].msgtype == 'sensor_msgs/msg/NavSatFix'
        statuses = [reader.deserialize(raw, c.msgtype)
                    for c, _t, raw in reader.messages(connections=[connections['/mission/status']])]
        fixes = sum(1 for _ in reader.messages(connections=[connections['/gnss/fix']]))
    assert [s.leg_state for s in statuses] == [state for _t, _i, state in synthetic_recording.LEGS]
    assert fixes == mcap_io.topics(recording)['/gnss/fix'][1] > 0


def test_replay_through_the_ekf_tracks_the_ground_truth(replayed):
    out, result = replayed
    report = json.loads((out / 'replay_report.json').read_text())
    ekf = report['ekf']
    assert report['success'] and report['node_exit_codes'] == {'ekf_localization': 0}
    assert report['inputs_published']['/odom'] == 500 and report['inputs_published']['/gnss/fix'] == 50
    assert ekf['samples'] >= 50, ekf
    assert ekf['replay_rmse_m'] is not None and math.isfinite(ekf['replay_rmse_m'])
    assert ekf['replay_rmse_m'] < 0.8, ekf            # GNSS noise 0.5 m per axis, IMU heading
    assert ekf['recorded_rmse_m'] == pytest.approx(synthetic_recording.ESTIMATE_OFFSET, abs=1e-3)
    recorded = mcap_io.topics(out / 'replay.mcap')
    assert recorded['/odometry/filtered'][1] == ekf['samples']
    assert recorded['/datum'][1] == 1
    assert 'replay RMSE' in result.stdout


def test_report_renders_tracks_errors_and_events(recording, tmp_path):
    result = rover('report', str(recording.parent), '--out', str(tmp_path))
    assert result.returncode == 0, result.stderr
    for name in ('run_trajectory.png', 'run_error.png'):
        data = (tmp_path / name).read_bytes()
        assert data[:8] == b'\x89PNG\r\n\x1a\n' and len(data) > 20_000, name
    text = (tmp_path / 'run_report.md').read_text()
    assert '| localization RMSE | 0.200 m |' in text
    for event in ('leg 1/2 gnss: arrived', 'leg 2/2 gnss: navigate', 'command source autonomy -> teleop',
                  'e-stop LATCHED', 'e-stop released'):
        assert event in text, event
    assert 'Events (7)' in text


def test_report_of_the_replay_output(replayed, tmp_path):
    out, _ = replayed
    result = rover('report', str(out / 'replay.mcap'), '--out', str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert 'estimate samples (odometry/filtered) | 0 |' not in (tmp_path / 'run_report.md').read_text()


def test_replay_refuses_a_recording_without_the_inputs(recording, tmp_path):
    result = rover('replay', str(recording), '--nodes', 'perception', '--out', str(tmp_path))
    assert result.returncode == 2
    assert 'camera/image_raw' in result.stderr and '--record-sensors' in result.stderr
    assert rover('replay', str(tmp_path / 'missing.mcap')).returncode == 2
    assert rover('report', str(tmp_path / 'missing.mcap')).returncode == 2
