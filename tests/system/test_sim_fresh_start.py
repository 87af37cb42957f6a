"""`rover sim` into a directory holding an earlier run's unfinished progress file starts the mission
from its first leg (found when a sweep re-ran a killed seed into the same directory: the executive
resumed at leg 7 and the report showed six legs "missed" by 50-215 m)."""
from __future__ import annotations

import pytest

from rover_stack.autonomy import persistence
from rover_stack.autonomy.executive import LegResult
from rover_stack.common.share_files import package_share_dir
from rover_stack.testing.sim_stack import run_rover_sim


@pytest.mark.timeout(600)
def test_a_new_run_does_not_resume_an_earlier_runs_progress(tmp_path):
    out = tmp_path / 'run'
    out.mkdir()
    text = (package_share_dir() / 'config' / 'missions' / 'flat_easy.yaml').read_text()
    stale = persistence.Progress('flat_easy', persistence.digest(text), 'flat_easy.yaml', text, next_leg=2,
                                 legs=[LegResult(0, 'gnss', 'wp1', 'SUCCEEDED', 20.0, 0.5),
                                       LegResult(1, 'gnss', 'wp2', 'SUCCEEDED', 20.0, 0.5)])
    persistence.save(out / 'mission_progress.json', stale)
    code, report, log = run_rover_sim('flat_easy', 0, out, timeout=400.0)
    assert code == 0, log
    assert [leg['reached'] for leg in report['legs']] == [True, True, True], log
