"""Progress file: round trip, resume rules, and atomic replacement (a crash mid-write keeps the old file)."""
from __future__ import annotations

import json
import os

import pytest

from rover_stack.autonomy import persistence
from rover_stack.autonomy.executive import LegResult, Sighting
from rover_stack.autonomy.persistence import Progress, ProgressError, digest, load, resume_point, save

TEXT = 'name: m\nlegs: []\n'


def progress(next_leg=1, running=True, text=TEXT):
    return Progress('m', digest(text), 'x.yaml', text, next_leg, running,
                    [LegResult(0, 'gnss', 'wp1', 'SUCCEEDED', 12.5, 0.8, '')])


def test_round_trip_and_resume(tmp_path):
    path = tmp_path / 'sub' / 'progress.json'
    assert load(path) is None
    save(path, progress())
    loaded = load(path)
    assert loaded == progress()
    assert resume_point(loaded, digest(TEXT)) == (1, loaded.legs)
    assert resume_point(loaded, digest('other')) == (0, [])
    assert resume_point(progress(running=False), digest(TEXT)) == (0, [])
    assert resume_point(None, digest(TEXT)) == (0, [])
    assert list(path.parent.iterdir()) == [path]          # no temporary file left behind


def test_crash_mid_write_leaves_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / 'progress.json'
    save(path, progress(next_leg=1))

    def crash(fd):
        raise OSError(5, 'simulated power loss during fsync')

    monkeypatch.setattr(persistence.os, 'fsync', crash)
    with pytest.raises(OSError, match='power loss'):
        save(path, progress(next_leg=2))
    monkeypatch.undo()
    assert load(path).next_leg == 1
    assert list(tmp_path.iterdir()) == [path]


def test_crash_before_rename_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / 'progress.json'
    save(path, progress(next_leg=1))
    monkeypatch.setattr(persistence.os, 'replace', lambda a, b: os.kill(os.getpid(), 0) or 1 / 0)
    with pytest.raises(ZeroDivisionError):
        save(path, progress(next_leg=3))
    monkeypatch.undo()
    assert load(path).next_leg == 1


@pytest.mark.parametrize('text', ['{', '[]', json.dumps({'version': 99}), json.dumps({'version': 1, 'x': 1}),
                                  json.dumps({'version': 1, 'mission_name': 'm', 'mission_digest': 'd',
                                              'mission_source': 's', 'mission_yaml': '', 'next_leg': -1})])
def test_damaged_files_raise(tmp_path, text):
    path = tmp_path / 'progress.json'
    path.write_text(text)
    with pytest.raises(ProgressError, match='progress'):
        load(path)


def test_sightings_round_trip_and_malformed_ones_are_dropped():
    sightings = [Sighting('marker', 1, (20.5, -1.0), None, 3.2), Sighting('gate', (3, 4), (30.0, 0.5), 1.2, None),
                 Sighting('object', 'mallet', (40.0, 0.0), None, 2.0)]
    progress = persistence.Progress('m', 'd', 'f.yaml', 'legs: []', 2, True, [],
                                    persistence.sightings_to_json(sightings))
    again = persistence.Progress.from_json(progress.to_json())
    assert persistence.sightings_from_json(again.sightings) == (sightings, 0)
    raw = [['marker', 1, 1.0, 2.0, None, None], ['marker', True, 1.0, 2.0, None, None],
           ['rock', 1, 1.0, 2.0, None, None], ['gate', [3], 1.0, 2.0, 0.0, None],
           ['object', 'bottle', float('nan'), 2.0, None, None], ['marker', 1, 1.0], 'junk']
    kept, bad = persistence.sightings_from_json(raw)
    assert kept == [Sighting('marker', 1, (1.0, 2.0), None, None)] and bad == 6
    assert persistence.sightings_from_json({'not': 'a list'}) == ([], 1)
    assert persistence.sightings_from_json(None) == ([], 0)
