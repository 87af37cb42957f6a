"""Read the parts of a URDF that transforms need: links and joints (type, parent, child, origin,
axis, limits), with clear errors for malformed descriptions. Lengths in m, angles in rad.

``fixed_transforms`` lists the fixed joints as (parent, child, T_parent_child) for /tf_static;
``joint_transform`` gives a movable joint's transform at a joint position.
"""
from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from rover_stack.tf.transform import Transform, quaternion_from_axis_angle

JOINT_TYPES = ('revolute', 'continuous', 'prismatic', 'fixed', 'floating', 'planar')
_NEEDS_LIMIT = ('revolute', 'prismatic')


class UrdfError(ValueError):
    """The URDF text is not a well-formed robot description."""


@dataclass(frozen=True)
class JointLimit:
    """Position limits (rad or m), effort (N m or N) and velocity (rad/s or m/s) of a joint."""
    lower: float
    upper: float
    effort: float
    velocity: float


@dataclass(frozen=True)
class Joint:
    name: str
    type: str
    parent: str
    child: str
    origin_xyz: tuple[float, float, float] = (0.0, 0.0, 0.0)
    origin_rpy: tuple[float, float, float] = (0.0, 0.0, 0.0)
    axis: tuple[float, float, float] = (1.0, 0.0, 0.0)     # unit vector in the joint frame
    limit: JointLimit | None = None

    @property
    def origin(self) -> Transform:
        """T_parent_joint at joint position zero."""
        return Transform.from_xyz_rpy(self.origin_xyz, self.origin_rpy)


@dataclass(frozen=True)
class Urdf:
    name: str
    links: tuple[str, ...]
    joints: dict[str, Joint]

    @property
    def root_link(self) -> str:
        """The one link that is no joint's child."""
        children = {j.child for j in self.joints.values()}
        return next(link for link in self.links if link not in children)


def parse_urdf(text: str) -> Urdf:
    """Parse URDF XML text; raises UrdfError naming what is wrong."""
    if not isinstance(text, str) or not text.strip():
        raise UrdfError('the URDF is empty')
    try:
        root = ET.fromstring(text)
    except ET.ParseError as error:
        raise UrdfError(f'the URDF is not well-formed XML: {error}') from None
    if root.tag != 'robot':
        raise UrdfError(f"the URDF's root element is <{root.tag}>, expected <robot>")
    name = root.get('name', '').strip()
    if not name:
        raise UrdfError('<robot> has no name attribute')
    links = _parse_links(root)
    joints: dict[str, Joint] = {}
    for element in root.findall('joint'):
        joint = _parse_joint(element, links)
        if joint.name in joints:
            raise UrdfError(f"joint '{joint.name}' is defined twice")
        joints[joint.name] = joint
    _check_tree(links, joints)
    return Urdf(name, tuple(links), joints)


def fixed_transforms(urdf: Urdf | str) -> list[tuple[str, str, Transform]]:
    """(parent link, child link, T_parent_child) of every fixed joint, in document order."""
    if isinstance(urdf, str):
        urdf = parse_urdf(urdf)
    return [(j.parent, j.child, j.origin) for j in urdf.joints.values() if j.type == 'fixed']


def joint_transform(joint: Joint, position: float = 0.0) -> Transform:
    """T_parent_child of a fixed, revolute, continuous or prismatic joint at ``position``
    (rad or m)."""
    if not math.isfinite(position):
        raise ValueError(f"joint '{joint.name}': position {position} is not finite")
    if joint.type == 'fixed':
        return joint.origin
    if joint.type in ('revolute', 'continuous'):
        return joint.origin @ Transform(rotation=quaternion_from_axis_angle(joint.axis, position))
    if joint.type == 'prismatic':
        return joint.origin @ Transform(translation=[position * a for a in joint.axis])
    raise ValueError(f"joint '{joint.name}' of type {joint.type} has no single-position transform")


def _parse_links(root: ET.Element) -> list[str]:
    links: list[str] = []
    for element in root.findall('link'):
        link = element.get('name', '').strip()
        if not link:
            raise UrdfError('a <link> has no name attribute')
        if link in links:
            raise UrdfError(f"link '{link}' is defined twice")
        links.append(link)
    if not links:
        raise UrdfError('the URDF has no <link>')
    return links


def _parse_joint(element: ET.Element, links: list[str]) -> Joint:
    name = element.get('name', '').strip()
    if not name:
        raise UrdfError('a <joint> has no name attribute')
    joint_type = element.get('type', '').strip()
    if joint_type not in JOINT_TYPES:
        raise UrdfError(f"joint '{name}' has type {joint_type!r}; expected one of {', '.join(JOINT_TYPES)}")
    parent = _link_reference(element, 'parent', name, links)
    child = _link_reference(element, 'child', name, links)
    if parent == child:
        raise UrdfError(f"joint '{name}' has link '{child}' as both parent and child")
    origin = element.find('origin')
    xyz = _vector(origin, 'xyz', (0.0, 0.0, 0.0), name)
    rpy = _vector(origin, 'rpy', (0.0, 0.0, 0.0), name)
    axis = _vector(element.find('axis'), 'xyz', (1.0, 0.0, 0.0), name)
    norm = math.sqrt(sum(a * a for a in axis))
    if joint_type in ('revolute', 'continuous', 'prismatic') and norm == 0.0:
        raise UrdfError(f"joint '{name}' has a zero axis")
    if norm:
        axis = (axis[0] / norm, axis[1] / norm, axis[2] / norm)
    limit = _parse_limit(element.find('limit'), name)
    if joint_type in _NEEDS_LIMIT and limit is None:
        raise UrdfError(f"{joint_type} joint '{name}' has no <limit> (required for {joint_type} joints)")
    return Joint(name, joint_type, parent, child, xyz, rpy, axis, limit)


def _link_reference(element: ET.Element, tag: str, joint: str, links: list[str]) -> str:
    ref = element.find(tag)
    link = ref.get('link', '').strip() if ref is not None else ''
    if not link:
        raise UrdfError(f"joint '{joint}' has no <{tag} link=...>")
    if link not in links:
        raise UrdfError(f"joint '{joint}' names {tag} link '{link}', which is not defined")
    return link


def _vector(element: ET.Element | None, attribute: str, default: tuple, joint: str) -> tuple:
    if element is None or element.get(attribute) is None:
        return default
    text = element.get(attribute, '')
    where = f"joint '{joint}': <{element.tag} {attribute}=\"{text}\">"
    try:
        values = tuple(float(v) for v in text.split())
    except ValueError:
        raise UrdfError(f'{where} is not three numbers') from None
    if len(values) != 3 or not all(math.isfinite(v) for v in values):
        raise UrdfError(f'{where} is not three finite numbers')
    return values


def _parse_limit(element: ET.Element | None, joint: str) -> JointLimit | None:
    if element is None:
        return None
    values = {}
    for key, default in (('lower', 0.0), ('upper', 0.0), ('effort', None), ('velocity', None)):
        text = element.get(key)
        if text is None:
            if default is None:
                raise UrdfError(f"joint '{joint}': <limit> has no {key} attribute (required)")
            values[key] = default
            continue
        try:
            values[key] = float(text)
        except ValueError:
            raise UrdfError(f"joint '{joint}': <limit {key}=\"{text}\"> is not a number") from None
        if not math.isfinite(values[key]):
            raise UrdfError(f"joint '{joint}': <limit {key}=\"{text}\"> is not finite")
    if values['lower'] > values['upper']:
        raise UrdfError(f"joint '{joint}': <limit> lower {values['lower']} is above upper {values['upper']}")
    return JointLimit(**values)


def _check_tree(links: list[str], joints: dict[str, Joint]) -> None:
    parent_of: dict[str, str] = {}
    for joint in joints.values():
        if joint.child in parent_of:
            raise UrdfError(f"link '{joint.child}' is the child of two joints (links have one parent)")
        parent_of[joint.child] = joint.parent
    roots = [link for link in links if link not in parent_of]
    if len(roots) != 1:
        raise UrdfError(f'the URDF must form one tree with one root link; roots found: {roots or "none"}')
    for start in links:
        link, seen = start, {start}
        while link in parent_of:
            link = parent_of[link]
            if link in seen:
                raise UrdfError(f"the joints form a loop through link '{link}'")
            seen.add(link)
