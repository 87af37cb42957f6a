"""NMEA framing and the GGA/RMC/GST -> fix logic of the GNSS driver (pure)."""
import math
import os
import time

import pytest

from rover_stack.drivers.gnss_nmea import (
    COV_APPROXIMATED,
    COV_DIAGONAL_KNOWN,
    COV_UNKNOWN,
    FIX,
    GBAS_FIX,
    NO_FIX,
    SBAS_FIX,
    FixAssembler,
    Gga,
    Gst,
    Rmc,
    parse_line,
    seconds_of_day,
)
from rover_stack.drivers.nmea import LineReader, NmeaError, checksum, split_sentence, with_checksum
from rover_stack.drivers.serial_lines import ReconnectingLines

# Reference sentences with the checksums their publishers printed (NMEA 0183 examples, Trimble GST doc).
GGA_REF = '$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47'
RMC_REF = '$GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W*6A'
GST_REF = '$GPGST,172814.0,0.006,0.023,0.020,273.6,0.023,0.020,0.031*6A'


def gga(time='120000.00', lat='3824.3840', ns='N', lon='11047.5140', ew='W', quality=1, sats=12, hdop='0.8',
        alt='1325.0', sep='-17.0', talker='GN'):
    return with_checksum(f'{talker}GGA,{time},{lat},{ns},{lon},{ew},{quality},{sats:02d},{hdop},{alt},M,{sep},M,,')


def gst(time='120000.00', lat_sigma='0.9', lon_sigma='0.7', alt_sigma='1.5'):
    return with_checksum(f'GNGST,{time},1.2,1.0,0.8,45.0,{lat_sigma},{lon_sigma},{alt_sigma}')


def test_reference_checksums_verify():
    for line in (GGA_REF, RMC_REF, GST_REF):
        split_sentence(line)
    assert checksum('GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,') == 0x47


def test_reference_gga_parses():
    sentence = parse_line(GGA_REF)
    assert isinstance(sentence, Gga)
    assert sentence.latitude == pytest.approx(48 + 7.038 / 60)
    assert sentence.longitude == pytest.approx(11 + 31.0 / 60)
    assert (sentence.quality, sentence.satellites, sentence.hdop) == (1, 8, 0.9)
    assert sentence.altitude == pytest.approx(545.4 + 46.9)   # ellipsoid = MSL + geoid separation


def test_reference_rmc_and_gst_parse():
    rmc = parse_line(RMC_REF)
    assert isinstance(rmc, Rmc) and rmc.valid and rmc.latitude == pytest.approx(48.1173)
    gst_ = parse_line(GST_REF)
    assert isinstance(gst_, Gst) and (gst_.sigma_lat, gst_.sigma_lon, gst_.sigma_alt) == (0.023, 0.020, 0.031)


def test_southern_western_hemispheres_are_negative():
    sentence = parse_line(gga(lat='3351.000', ns='S', lon='15112.000', ew='W'))
    assert sentence.latitude == pytest.approx(-(33 + 51 / 60)) and sentence.longitude == pytest.approx(-(151 + 12 / 60))


@pytest.mark.parametrize('line, message', [
    (GGA_REF.replace('*47', '*48'), 'checksum mismatch'),
    (GGA_REF.replace('4807.038', '4807.039'), 'checksum mismatch'),
    (GGA_REF[:-3], 'no checksum'),
    (GGA_REF[1:], 'no leading'),
    (GGA_REF.replace('*47', '*G7'), 'not hex'),
    (with_checksum('GPGGA,1,2,3'), 'expected at least 15'),
    (gga(lat='48x7.038'), 'bad coordinate'),
    (gga(lat='4867.000'), 'bad coordinate'),
    (gga(hdop='zero'), 'not a number'),
    (gga(ns='Q'), 'bad coordinate'),
])
def test_invalid_sentences_are_refused(line, message):
    with pytest.raises(NmeaError, match=message):
        parse_line(line)


def test_other_sentences_are_ignored():
    assert parse_line(with_checksum('GPGSV,3,1,11,03,03,111,00')) is None


def test_gga_with_gst_of_the_epoch_gives_known_diagonal_covariance():
    assembler = FixAssembler(uere=3.0)
    assert assembler.on_sentence(parse_line(gst()), 0.0) is None
    fix = assembler.on_sentence(parse_line(gga()), 0.0)
    assert fix.status == FIX and fix.covariance_type == COV_DIAGONAL_KNOWN
    assert fix.covariance == pytest.approx((0.7 ** 2, 0.9 ** 2, 1.5 ** 2))   # east (lon), north (lat), up
    assert fix.latitude == pytest.approx(38 + 24.384 / 60) and fix.longitude == pytest.approx(-(110 + 47.514 / 60))
    assert fix.altitude == pytest.approx(1308.0)


def test_gst_after_gga_applies_to_the_next_epoch_only_while_recent():
    assembler = FixAssembler(uere=3.0)
    assert assembler.on_sentence(parse_line(gga('120000.00')), 0.0).covariance_type == COV_APPROXIMATED
    assembler.on_sentence(parse_line(gst('120000.00')), 0.0)
    assert assembler.on_sentence(parse_line(gga('120000.20')), 0.2).covariance_type == COV_DIAGONAL_KNOWN
    assert assembler.on_sentence(parse_line(gga('120005.00')), 5.0).covariance_type == COV_APPROXIMATED


def test_without_gst_covariance_is_hdop_times_uere():
    fix = FixAssembler(uere=2.0).on_sentence(parse_line(gga(hdop='1.5')), 0.0)
    assert fix.covariance_type == COV_APPROXIMATED
    assert fix.covariance == pytest.approx((9.0, 9.0, 36.0))


def test_without_hdop_or_gst_covariance_is_unknown():
    fix = FixAssembler().on_sentence(parse_line(gga(hdop='')), 0.0)
    assert fix.status == FIX and fix.covariance_type == COV_UNKNOWN and fix.covariance == (0.0, 0.0, 0.0)


@pytest.mark.parametrize('quality, status', [(0, NO_FIX), (1, FIX), (2, SBAS_FIX), (3, FIX), (4, GBAS_FIX),
                                             (5, GBAS_FIX), (6, NO_FIX), (7, NO_FIX), (8, NO_FIX), (9, SBAS_FIX)])
def test_fix_quality_maps_to_status(quality, status):
    fix = FixAssembler().on_sentence(parse_line(gga(quality=quality)), 0.0)
    assert fix.status == status
    if status == NO_FIX:
        assert math.isnan(fix.latitude) and fix.covariance_type == COV_UNKNOWN


def test_no_fix_epoch_with_empty_fields():
    line = with_checksum('GNGGA,120001.00,,,,,0,00,99.99,,,,,,')
    fix = FixAssembler().on_sentence(parse_line(line), 0.0)
    assert fix.status == NO_FIX and math.isnan(fix.latitude) and math.isnan(fix.altitude)


def test_rmc_is_used_only_when_no_gga_comes():
    assembler = FixAssembler()
    assert assembler.on_sentence(parse_line(gga()), 0.0) is not None
    assert assembler.on_sentence(parse_line(RMC_REF), 1.0) is None
    fix = assembler.on_sentence(parse_line(RMC_REF), 3.0)
    assert fix.status == FIX and math.isnan(fix.altitude) and fix.covariance_type == COV_UNKNOWN
    void = FixAssembler().on_sentence(parse_line(with_checksum('GPRMC,123519,V,,,,,,,230394,,')), 0.0)
    assert void.status == NO_FIX


@pytest.mark.parametrize('text, seconds', [('123519', 45319.0), ('000000.20', 0.2), ('', math.nan)])
def test_seconds_of_day(text, seconds):
    assert seconds_of_day(text) == pytest.approx(seconds, nan_ok=True)


def test_gst_across_midnight_is_recent():
    assembler = FixAssembler()
    assembler.on_sentence(parse_line(gst('235959.80')), 0.0)
    assert assembler.on_sentence(parse_line(gga('000000.00')), 0.2).covariance_type == COV_DIAGONAL_KNOWN


def test_line_reader_joins_partial_lines_and_drops_garbage():
    reader = LineReader()
    data = (GGA_REF + '\r\n' + RMC_REF + '\r\n').encode()
    assert reader.feed(data[:20]) == []
    assert reader.feed(data[20:75]) == [GGA_REF]
    assert reader.feed(data[75:]) == [RMC_REF]
    assert reader.feed(b'\xff\xfe\r\n' + b'x' * 500 + b'\r\n' + GST_REF.encode() + b'\r\n') == [GST_REF]
    assert reader.dropped == 2


def test_reconnecting_lines_read_a_pseudo_terminal_and_survive_its_loss():
    master, slave = os.openpty()
    lines = ReconnectingLines(os.ttyname(slave), 9600, reconnect_period=0.05)
    try:
        assert lines.poll(0.0) == [] and lines.open
        os.write(master, (GGA_REF + '\r\n' + GST_REF[:10]).encode())
        got, deadline = [], time.monotonic() + 5.0
        while not got and time.monotonic() < deadline:
            got += lines.poll(0.0)
            time.sleep(0.01)
        assert got == [GGA_REF]   # the partial GST waits for its line end
    finally:
        lines.close()
        os.close(master)
        os.close(slave)
    missing = ReconnectingLines('/dev/no_such_gnss', 9600, reconnect_period=1.0)
    assert missing.poll(0.0) == [] and not missing.open and 'cannot open' in missing.error
    assert missing.poll(0.5) == [] and missing.reconnects == 0
