"""remove_stale_segments: only segments whose owner is gone (and that are old enough) are removed."""
import fcntl
import os

from rover_stack.testing.shm_segments import remove_stale_segments


def _segment(directory, name, size):
    (directory / name).write_bytes(b'\0' * size)
    (directory / f'{name}_el').write_bytes(b'')
    os.utime(directory / f'{name}_el', (1000.0, 1000.0))


def test_stale_segments_go_and_held_or_young_ones_stay(tmp_path):
    _segment(tmp_path, 'fastrtps_dead', 4096)
    _segment(tmp_path, 'fastrtps_port7000', 100)
    _segment(tmp_path, 'fastrtps_alive', 2048)
    _segment(tmp_path, 'fastrtps_young', 512)
    os.utime(tmp_path / 'fastrtps_young_el', (5000.0, 5000.0))
    (tmp_path / 'other_file').write_bytes(b'x')
    fd = os.open(tmp_path / 'fastrtps_alive_el', os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX)          # a live participant holds its lock
    try:
        freed = remove_stale_segments(tmp_path, min_age=60.0, now=5030.0)
    finally:
        os.close(fd)
    assert freed == 4096 + 100
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        'fastrtps_alive', 'fastrtps_alive_el', 'fastrtps_young', 'fastrtps_young_el', 'other_file']


def test_a_lock_file_without_its_segment_is_removed_too(tmp_path):
    (tmp_path / 'fastrtps_gone_el').write_bytes(b'')
    os.utime(tmp_path / 'fastrtps_gone_el', (0.0, 0.0))
    assert remove_stale_segments(tmp_path, min_age=1.0, now=100.0) == 0
    assert list(tmp_path.iterdir()) == []
