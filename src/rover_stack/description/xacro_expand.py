"""Expand urdf/rover.urdf.xacro into URDF XML for one robot config, in process (xacro's Python API).

``expand('corner6')`` reads config/robot/corner6.yaml; ``expand('/path/to/my_rover.yaml')`` reads that
file. The config is validated with :func:`geometry.load_geometry` first, so a bad file fails with a
GeometryError naming the field instead of producing a broken description.
"""
from __future__ import annotations

from pathlib import Path

import xacro

from rover_stack.common.share_files import UnknownRobotError, robot_config_path, share_path
from rover_stack.description.geometry import load_geometry

XACRO_FILE = Path('urdf') / 'rover.urdf.xacro'


class DescriptionError(ValueError):
    """The robot description cannot be expanded (unknown variant, xacro error)."""


def _xacro_value(value) -> str:
    if isinstance(value, bool):
        return 'true' if value else 'false'
    return str(value)


def expand(variant_or_path: str | Path, **args) -> str:
    """URDF XML of the rover for a variant name or robot config path.

    ``args`` are further xacro args, e.g. ``sim_gazebo=True``; booleans become 'true'/'false'.
    Raises GeometryError for an invalid config and DescriptionError when xacro fails.
    """
    try:
        config = robot_config_path(variant_or_path)
    except UnknownRobotError as error:
        raise DescriptionError(str(error)) from None
    load_geometry(config)
    mappings = {name: _xacro_value(value) for name, value in args.items()}
    mappings['robot_config'] = str(config)
    xacro_file = share_path(XACRO_FILE)
    try:
        document = xacro.process_file(str(xacro_file), mappings=mappings)
    except xacro.XacroException as error:
        raise DescriptionError(f'{xacro_file} with {config}: {error}') from None
    return document.toprettyxml(indent='  ')
