"""The URC-style sprint course (sim/courses/urc_sprint.yaml: two GNSS waypoints, a post, a gate, the
mallet) with the whole stack, for three seeds: every leg must be reached within its tolerance by
ground truth (the gate: driven through between its posts), without touching a rock.

The full-length urc_demo course over many seeds is a benchmark (bench/mission_success.py), not a test."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest


@pytest.mark.timeout(900)
@pytest.mark.parametrize('seed', [1, 2, 3])
def test_urc_sprint_completes_every_leg(tmp_path, seed):
    out = tmp_path / 'run'
    process = subprocess.run(
        [sys.executable, '-m', 'rover_stack.cli.rover', 'sim', '--course', 'urc_sprint', '--seed', str(seed),
         '--out', str(out), '--timeout', '800', '--no-web'],
        capture_output=True, text=True, timeout=860, check=False)
    stack_log = out / 'stack.log'
    warnings = [line for line in (stack_log.read_text().splitlines() if stack_log.exists() else [])
                if '[WARN]' in line or '[ERROR]' in line]
    log = process.stdout[-2500:] + process.stderr[-1000:] + '\nstack.log:\n' + '\n'.join(warnings[-30:])
    report = json.loads((out / 'report.json').read_text())
    assert process.returncode == 0, log
    assert [leg['kind'] for leg in report['legs']] == ['gnss', 'gnss', 'post', 'gate', 'object']
    for leg in report['legs']:
        assert leg['outcome'] == 'SUCCEEDED' and leg['reached'], (leg, log)
        assert leg['final_error_m'] <= leg['tolerance_m'], (leg, log)
    assert report['collisions'] == 0, report['collision_events']
