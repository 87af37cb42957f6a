"""The map of the system: each profile's node graph as Graphviz DOT, from the same declarations the graph
check reads (config/node_sets.yaml + config/node_ports.yaml), and as SVG through Graphviz's ``dot``.

    python -m rover_stack.bringup.graph_map [--out docs/graphs] [PROFILE ...]

writes ``<profile>.dot`` and ``<profile>.svg`` (needs the ``dot`` program: apt install graphviz). The SVG
carries the sha256 of its DOT source in a comment, so tests/unit/test_graph_map.py can tell a stale picture
from the declarations without Graphviz. An edge A -> B lists what B needs or uses that A offers (topics,
services, actions; ``tf`` for transforms); dashed edges are optional (``uses``).
"""
from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from rover_stack.bringup.graph_check import KINDS, ResolvedPorts, load_ports, profile_ports
from rover_stack.bringup.node_set import argument_values, load_node_sets
from rover_stack.common.share_files import package_share_dir

MAP_PROFILES = ('sim', 'rover', 'gazebo', 'base_station')
WORLD_SIDE = {'rover_simulator', 'motor_driver', 'gnss_driver', 'imu_driver', 'camera_driver', 'sllidar_node',
              'gz_sim', 'gz_spawn', 'gz_bridge', 'gz_wheel_adapter'}
OPERATOR_SIDE = {'web_bridge', 'foxglove_bridge'}
HASH_PREFIX = '<!-- dot source sha256: '
_ACTION_MARK = '(action)'
_SERVICE_MARK = '(srv)'


def _edges(nodes: Sequence[ResolvedPorts]) -> dict[tuple[str, str], tuple[list[str], bool]]:
    """(provider, consumer) -> (labels, every one optional)."""
    edges: dict[tuple[str, str], tuple[list[str], bool]] = {}
    for consumer in nodes:
        for role, optional in (('needs', False), ('uses', True)):
            wanted = getattr(consumer, role)
            for kind in KINDS:
                mark = {'topics': '', 'services': f' {_SERVICE_MARK}', 'actions': f' {_ACTION_MARK}'}[kind]
                for name in sorted(wanted.kind(kind)):
                    for provider in nodes:
                        if provider is not consumer and name in provider.offers.kind(kind):
                            _add(edges, provider.node, consumer.node, name.lstrip('/') + mark, optional)
            if wanted.tf:
                for provider in nodes:
                    if provider is not consumer and provider.offers.tf:
                        _add(edges, provider.node, consumer.node, 'tf', optional)
    return edges


def _add(edges, provider: str, consumer: str, label: str, optional: bool) -> None:
    labels, all_optional = edges.get((provider, consumer), ([], True))
    if label not in labels:
        labels.append(label)
    edges[(provider, consumer)] = (labels, all_optional and optional)


def dot_source(profile_name: str, config: Path | None = None, ports_path: Path | None = None) -> str:
    """The DOT text of one profile with its default arguments (and its peers' nodes, dashed)."""
    share = package_share_dir()
    profiles = load_node_sets(config or share / 'config' / 'node_sets.yaml')
    ports = load_ports(ports_path)
    profile = profiles[profile_name]
    values = argument_values(profile, {})
    nodes = profile_ports(profile, values, ports)
    peer_nodes = [node for peer in profile.peers
                  for node in profile_ports(profiles[peer], argument_values(profiles[peer], {}), ports)]
    lines = [f'digraph {profile_name} {{',
             f'  label="profile {profile_name}: {profile.description} (defaults; dashed = optional)";',
             '  labelloc=t; rankdir=LR; fontname="Helvetica"; fontsize=12;',
             '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=11];',
             '  edge [fontname="Helvetica", fontsize=8, color="#555555"];']
    groups = {'world': [], 'onboard': [], 'operator': [], 'peer': []}
    for node in nodes:
        short = node.node.rsplit('/', 1)[-1]
        side = 'world' if short in WORLD_SIDE else 'operator' if short in OPERATOR_SIDE else 'onboard'
        groups[side].append(node.node)
    groups['peer'] = [n.node for n in peer_nodes if n.node not in {m.node for m in nodes}]
    styles = {'world': ('world side (hardware or simulator)', '#f6d8ae'),
              'onboard': ('on-board stack', '#cfe2f3'),
              'operator': ('operator side', '#d9ead3'),
              'peer': ('peer profile (other machine)', '#eeeeee')}
    for side, members in groups.items():
        if not members:
            continue
        title, colour = styles[side]
        lines.append(f'  subgraph cluster_{side} {{ label="{title}"; style=dashed; color="#999999";')
        lines += [f'    "{name}" [fillcolor="{colour}"];' for name in members]
        lines.append('  }')
    all_nodes = [*nodes, *(n for n in peer_nodes if n.node in groups['peer'])]
    for (provider, consumer), (labels, optional) in sorted(_edges(all_nodes).items()):
        style = ', style=dashed' if optional else ''
        lines.append(f'  "{provider}" -> "{consumer}" [label="{_join(labels)}"{style}];')
    lines.append('}')
    return '\n'.join(lines) + '\n'


def _join(labels: list[str]) -> str:
    return '\\n'.join(labels)


def source_hash(dot: str) -> str:
    return hashlib.sha256(dot.encode()).hexdigest()


def render_svg(dot: str) -> str:
    """SVG text from Graphviz's dot, with the source hash comment after the XML declaration."""
    program = shutil.which('dot')
    if program is None:
        raise RuntimeError('Graphviz dot is not installed (apt install graphviz)')
    svg = subprocess.run([program, '-Tsvg'], input=dot, text=True, capture_output=True, check=True,
                         timeout=60).stdout
    head, sep, rest = svg.partition('?>\n')
    comment = f'{HASH_PREFIX}{source_hash(dot)} -->\n'
    return head + sep + comment + rest if sep else comment + svg


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog='graph_map', description=__doc__.split('\n\n')[0])
    parser.add_argument('profiles', nargs='*', default=list(MAP_PROFILES))
    parser.add_argument('--out', type=Path, default=Path('docs/graphs'))
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for name in args.profiles:
        dot = dot_source(name)
        (args.out / f'{name}.dot').write_text(dot)
        (args.out / f'{name}.svg').write_text(render_svg(dot))
        sys.stdout.write(f'{args.out / name}.svg\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
