"""The Fast DDS profile used by every run and test keeps discovery and data on this machine."""
import os
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NS = {'d': 'http://www.eprosima.com/XMLSchemas/fastRTPS_Profiles'}
PROFILE = ROOT / 'config' / 'dds' / 'fastdds_localhost.xml'


def _participant():
    tree = ET.parse(PROFILE)
    participants = tree.findall('.//d:participant', NS)
    assert len(participants) == 1
    assert participants[0].get('is_default_profile') == 'true'
    return tree, participants[0]


def test_no_builtin_transports_and_only_shm_and_loopback_udp():
    tree, participant = _participant()
    assert participant.findtext('d:rtps/d:useBuiltinTransports', namespaces=NS) == 'false'
    used = [t.text for t in participant.findall('d:rtps/d:userTransports/d:transport_id', NS)]
    kinds = {d.findtext('d:transport_id', namespaces=NS): d for d in tree.findall('.//d:transport_descriptor', NS)}
    assert set(used) == set(kinds)
    for transport_id in used:
        descriptor = kinds[transport_id]
        kind = descriptor.findtext('d:type', namespaces=NS)
        assert kind in ('SHM', 'UDPv4'), kind
        if kind == 'UDPv4':
            allowed = [a.text for a in descriptor.findall('d:interfaceWhiteList/d:address', NS)]
            assert allowed == ['127.0.0.1']
        else:
            # 640x480 RGB images must fit one segment (measured: 16 ms latency with the default size)
            assert int(descriptor.findtext('d:segment_size', namespaces=NS)) >= 16 * 1024 * 1024


def test_no_multicast_and_every_locator_is_loopback():
    tree, _ = _participant()
    assert not tree.findall('.//d:metatrafficMulticastLocatorList', NS)
    assert not tree.findall('.//d:multicastLocatorList', NS)
    addresses = [a.text for a in tree.findall('.//d:locator/d:udpv4/d:address', NS)]
    assert addresses and set(addresses) == {'127.0.0.1'}


def test_env_script_selects_the_profile_by_default():
    env = {k: v for k, v in os.environ.items() if not k.startswith(('ROVER_DDS', 'FASTDDS', 'FASTRTPS'))}
    out = subprocess.run(
        ['bash', '-c', 'source scripts/env.sh >/dev/null && echo "$FASTDDS_DEFAULT_PROFILES_FILE|'
         '$ROS_AUTOMATIC_DISCOVERY_RANGE|$ROVER_DDS_SCOPE"'],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=30, check=True).stdout.strip()
    assert out == f'{PROFILE}|SYSTEM_DEFAULT|localhost'


def test_env_script_refuses_an_unknown_scope():
    env = dict(os.environ, ROVER_DDS_SCOPE='internet')
    proc = subprocess.run(['bash', '-c', 'source scripts/env.sh'], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode != 0
    assert "must be 'localhost' or 'lan'" in proc.stderr
