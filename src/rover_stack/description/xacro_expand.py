"""Expand urdf/rover.urdf.xacro into URDF XML for one robot config, in process (xacro's Python API).

``expand('corner6')`` reads config/robot/corner6.yaml; ``expand('/path/to/my_rover.yaml')`` reads that
file. The config is validated with :func:`geometry.load_geometry` first, so a bad file fails with a
GeometryError naming the field instead of producing a broken description.
"""
from __future__ import annotations

import re
from pathlib import Path

import xacro

try:  # present when the package runs from a ROS install; the source tree works without it
    from ament_index_python.packages import get_package_share_directory
except ImportError:
    get_package_share_directory = None

from rover_stack.description.geometry import load_geometry

PACKAGE = 'rover_stack'
XACRO_FILE = Path('urdf') / 'rover.urdf.xacro'
ROBOT_CONFIG_DIR = Path('config') / 'robot'
_VARIANT = re.compile(r'^[A-Za-z0-9_]+$')


class DescriptionError(ValueError):
    """The robot description cannot be expanded (unknown variant, xacro error)."""


def share_dir() -> Path:
    """Directory holding urdf/ and config/: installed share/rover_stack if present, else the source tree."""
    installed = None
    if get_package_share_directory is not None:
        try:
            installed = Path(get_package_share_directory(PACKAGE))
        except LookupError:  # PackageNotFoundError: not installed in the ament index
            installed = None
    if installed is not None and (installed / XACRO_FILE).is_file():
        return installed
    return Path(__file__).resolve().parents[3]


def variants(root: Path | None = None) -> list[str]:
    """Names of the robot configs shipped in config/robot (skid4, skid6, corner6, ...)."""
    root = share_dir() if root is None else root
    return sorted(path.stem for path in (root / ROBOT_CONFIG_DIR).glob('*.yaml'))


def config_path(variant_or_path: str | Path) -> Path:
    """A variant name ('skid4') -> config/robot/skid4.yaml; anything else is taken as a file path."""
    text = str(variant_or_path)
    if isinstance(variant_or_path, Path) or not _VARIANT.match(text):
        return Path(text).resolve()
    path = share_dir() / ROBOT_CONFIG_DIR / f'{text}.yaml'
    if not path.is_file():
        raise DescriptionError(f'unknown robot variant {text!r}; known: {", ".join(variants())}')
    return path


def _xacro_value(value) -> str:
    if isinstance(value, bool):
        return 'true' if value else 'false'
    return str(value)


def expand(variant_or_path: str | Path, **args) -> str:
    """URDF XML of the rover for a variant name or robot config path.

    ``args`` are further xacro args, e.g. ``sim_gazebo=True``; booleans become 'true'/'false'.
    Raises GeometryError for an invalid config and DescriptionError when xacro fails.
    """
    config = config_path(variant_or_path)
    load_geometry(config)
    mappings = {name: _xacro_value(value) for name, value in args.items()}
    mappings['robot_config'] = str(config)
    xacro_file = share_dir() / XACRO_FILE
    try:
        document = xacro.process_file(str(xacro_file), mappings=mappings)
    except xacro.XacroException as error:
        raise DescriptionError(f'{xacro_file} with {config}: {error}') from None
    return document.toprettyxml(indent='  ')
