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


_VALID = {'version': 1, 'mission_name': 'm', 'mission_digest': 'd', 'mission_source': 's', 'mission_yaml': '',
          'next_leg': 1, 'running': True, 'legs': [{'index': 0, 'kind': 'gnss', 'name': 'wp1'}]}


@pytest.mark.parametrize('change', [
    {'mission_yaml': 5}, {'mission_name': None}, {'running': 'yes'}, {'next_leg': True}, {'next_leg': 1.5},
    {'legs': {'index': 0}}, {'legs': [{'index': 'a', 'kind': 'gnss', 'name': 'wp1'}]},
    {'legs': [{'index': 0, 'kind': 'gnss'}]}, {'legs': [{'index': 0, 'kind': 'gnss', 'name': 'x', 'color': 1}]},
    {'legs': [{'index': 0, 'kind': 'gnss', 'name': 'x', 'outcome': 'MAYBE'}]},
    {'legs': [{'index': 0, 'kind': 'gnss', 'name': 'x', 'duration': 'long'}]}, {'legs': ['junk']},
    {'sightings': 'junk'}, {'hold': 'napping'}, {'hold': 'returning'}, {'hold': 'returning', 'return_goal': [1, 2]},
    {'boot_time': 'x'}, {'boot_id': 7}])
def test_fields_of_the_wrong_type_raise_progress_error(tmp_path, change):
    """Issue #18 item 7: every damage is a ProgressError (the node moves the file aside), never a crash."""
    path = tmp_path / 'progress.json'
    path.write_text(json.dumps(_VALID | change))
    with pytest.raises(ProgressError):
        load(path)
    path.write_text(json.dumps(_VALID))
    assert load(path).legs == [LegResult(0, 'gnss', 'wp1')]


@pytest.mark.parametrize('raw', [b'\xff\xfe{"version": 1}', b'{"version": 1, "mission_name": "\xc3"}',
                                 b'[' * 5000 + b']' * 5000, b'\x00' * 64])
def test_bytes_that_are_not_utf8_json_raise_progress_error(tmp_path, raw):
    path = tmp_path / 'progress.json'
    path.write_bytes(raw)
    with pytest.raises(ProgressError, match='progress'):
        load(path)


def test_quarantine_moves_the_damaged_file_aside(tmp_path):
    path = tmp_path / 'progress.json'
    path.write_bytes(b'\xff')
    assert persistence.quarantine(path) == tmp_path / 'progress.json.damaged'
    assert not path.exists() and (tmp_path / 'progress.json.damaged').read_bytes() == b'\xff'
    assert persistence.quarantine(path) is None          # nothing left to move


def test_hold_and_boot_stamp_round_trip(tmp_path):
    path = tmp_path / 'progress.json'
    boot_id, boot_time = persistence.boot_stamp()
    saved = Progress('m', 'd', 's', TEXT, 1, True, [], [], 'returning', [1.0, 2.0, 0.8, 'leg 1 (wp1)'],
                     boot_id, boot_time)
    save(path, saved)
    assert load(path) == saved


def test_only_a_file_of_this_boot_within_the_age_is_restored():
    """Issue #18 item 7: not the wall clock (a clock that boots behind made an old file look new)."""
    saved = Progress('m', 'd', 's', TEXT, 1, True, boot_id='boot-a', boot_time=1000.0)
    assert persistence.restore_refusal(saved, 'boot-a', 1100.0, 300.0) is None
    assert 'ago' in persistence.restore_refusal(saved, 'boot-a', 1400.0, 300.0)       # too old
    assert 'ago' in persistence.restore_refusal(saved, 'boot-a', 900.0, 300.0)        # written "later"
    assert 'boot' in persistence.restore_refusal(saved, 'boot-b', 1100.0, 300.0)      # another boot
    unknown = Progress('m', 'd', 's', TEXT, 1, True)                                   # no boot recorded
    assert 'boot' in persistence.restore_refusal(unknown, 'boot-a', 1100.0, 300.0)
    assert 'boot' in persistence.restore_refusal(unknown, '', 0.0, 300.0)
    ended = Progress('m', 'd', 's', TEXT, 1, False, boot_id='boot-a', boot_time=1000.0)
    assert persistence.restore_refusal(ended, 'boot-a', 1000.0, 300.0) == 'the mission had ended'
    assert persistence.boot_stamp()[1] > 0.0
