"""The $IMU line protocol: parsing, refusal of bad samples, sequence gaps (pure)."""
import math
from pathlib import Path

import pytest

from rover_stack.drivers.imu_serial import (
    ImuFormatError,
    ImuSample,
    format_imu_line,
    lost_samples,
    parse_imu_line,
)
from rover_stack.drivers.nmea import with_checksum

LEVEL = ImuSample(7, (1.0, 0.0, 0.0, 0.0), (0.01, -0.02, 0.5), (0.1, 0.0, 9.81))


def test_round_trip_of_a_level_sample():
    line = format_imu_line(LEVEL)
    assert line.startswith('$IMU,7,1.000000,0.000000,0.000000,0.000000,0.01000,-0.02000,0.50000,')
    assert parse_imu_line(line) == LEVEL


def test_a_written_out_line_parses():
    line = with_checksum('IMU,65535,0.7071068,0,0,0.7071068,0,0,0.1,0,0,9.80665')
    sample = parse_imu_line(line)
    assert sample.seq == 65535
    assert sample.orientation == pytest.approx((math.sqrt(0.5), 0, 0, math.sqrt(0.5)))   # yaw 90 deg, ENU
    assert sample.linear_acceleration == (0.0, 0.0, 9.80665)


def test_empty_quaternion_fields_mean_no_orientation():
    sample = parse_imu_line(with_checksum('IMU,1,,,,,0,0,0,0,0,9.8'))
    assert sample.orientation is None
    assert parse_imu_line(format_imu_line(sample)) == sample


def test_slightly_off_quaternion_is_normalised():
    sample = parse_imu_line(with_checksum('IMU,1,1.02,0,0,0,0,0,0,0,0,9.8'))
    assert sample.orientation == (1.0, 0.0, 0.0, 0.0)


@pytest.mark.parametrize('body, message', [
    ('IMU,1,1,0,0,0,0,0,0,0,0', 'expected 11'),
    ('IMU,1,1,0,0,0,0,0,0,0,0,9.8,1', 'expected 11'),
    ('IMU,x,1,0,0,0,0,0,0,0,0,9.8', 'not an integer'),
    ('IMU,70000,1,0,0,0,0,0,0,0,0,9.8', 'outside'),
    ('IMU,1,0.5,0,0,0,0,0,0,0,0,9.8', 'norm'),
    ('IMU,1,1,0,0,,0,0,0,0,0,9.8', 'not a number'),
    ('IMU,1,1,0,0,0,nan,0,0,0,0,9.8', 'not finite'),
    ('IMU,1,1,0,0,0,0,0,0,0,0,inf', 'not finite'),
    ('IMU,1,1,0,0,0,36,0,0,0,0,9.8', 'angular velocity'),
    ('IMU,1,1,0,0,0,0,0,0,0,0,170', 'acceleration'),
])
def test_bad_samples_are_refused(body, message):
    with pytest.raises(ImuFormatError, match=message):
        parse_imu_line(with_checksum(body))


def test_bad_checksum_is_refused():
    line = format_imu_line(LEVEL)
    with pytest.raises(ImuFormatError, match='checksum'):
        parse_imu_line(line[:-2] + ('00' if line[-2:] != '00' else '01'))


def test_other_sentences_are_ignored():
    assert parse_imu_line(with_checksum('TXT,booting')) is None


@pytest.mark.parametrize('previous, seq, lost', [(None, 5, 0), (5, 6, 0), (5, 8, 2), (65535, 0, 0), (65534, 1, 2)])
def test_lost_samples_across_the_wrap(previous, seq, lost):
    assert lost_samples(previous, seq) == lost


def test_the_example_line_of_the_docs_parses():
    docs = (Path(__file__).resolve().parents[2] / 'docs' / 'drivers.md').read_text()
    examples = [line for line in docs.splitlines() if line.startswith('$IMU,1')]
    assert examples
    for line in examples:
        assert parse_imu_line(line) is not None
