"""Node ``static_tf_publisher``: the robot description's fixed joints on ``tf_static``."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rclpy.node import Node
from std_msgs.msg import String

from rover_stack.common.node_main import run_node
from rover_stack.common.params import declare_params, param
from rover_stack.common.qos import latched_qos
from rover_stack.description.geometry import GeometryError
from rover_stack.description.xacro_expand import DescriptionError, expand
from rover_stack.tf.listener import StaticTransformBroadcaster
from rover_stack.tf.urdf import UrdfError, fixed_transforms, parse_urdf


@dataclass
class StaticTfParams:
    robot_description: str = param(
        '', 'URDF XML of the robot; when empty, robot_description_file is read', read_only=True)
    robot_description_file: str = param(
        '', 'Path of a .urdf file, used when robot_description is empty', read_only=True)
    robot_config: str = param(
        '', 'Robot variant (skid4, skid6, corner6) or path of a config/robot/*.yaml; the xacro '
        'description is expanded from it when the two parameters above are empty', read_only=True)


def load_description(params: StaticTfParams) -> str:
    """The URDF text named by the parameters; ValueError if neither is set or the file is unreadable."""
    if params.robot_description.strip():
        return params.robot_description
    if not params.robot_description_file:
        if params.robot_config:
            try:
                return expand(params.robot_config)
            except (GeometryError, DescriptionError) as error:
                raise ValueError(f'cannot expand robot_config {params.robot_config!r}: {error}') from None
        raise ValueError('set parameter robot_description (URDF XML), robot_description_file (path) '
                         'or robot_config (variant or robot config path)')
    path = Path(params.robot_description_file)
    try:
        return path.read_text(encoding='utf-8')
    except (OSError, UnicodeDecodeError) as error:
        raise ValueError(f'cannot read robot_description_file {str(path)!r}: {error}') from None


class StaticTfPublisherNode(Node):
    """Publishes every fixed joint of the URDF once, latched, and the URDF itself.

    Publishes:
      * ``tf_static`` (tf2_msgs/TFMessage, reliable, transient local): T_parent_child of each fixed
        joint, stamped with the start time.
      * ``robot_description`` (std_msgs/String, latched): the URDF text.
    Parameters (read-only):
      * ``robot_description`` (string): URDF XML. When empty, ``robot_description_file`` is used.
      * ``robot_description_file`` (string): path of a .urdf file.
      * ``robot_config`` (string): variant name or config/robot/*.yaml path; the xacro description
        (urdf/rover.urdf.xacro) is expanded from it when both of the above are empty.
    Refuses to start (ValueError) when neither is given, the file is unreadable or the URDF is
    malformed. Movable joints (wheels, steering) are not published here.
    """

    def __init__(self, **node_kwargs):
        super().__init__('static_tf_publisher', **node_kwargs)
        self.params = declare_params(self, StaticTfParams)
        text = load_description(self.params)
        try:
            urdf = parse_urdf(text)
        except UrdfError as error:
            raise ValueError(f'static_tf_publisher: malformed robot description: {error}') from None
        stamp_ns = self.get_clock().now().nanoseconds
        transforms = [(parent, child, stamp_ns, t) for parent, child, t in fixed_transforms(urdf)]
        self._broadcaster = StaticTransformBroadcaster(self)
        self._broadcaster.send(transforms)
        self._description_publisher = self.create_publisher(String, 'robot_description', latched_qos())
        self._description_publisher.publish(String(data=text))
        self.get_logger().info(
            f"robot '{urdf.name}': published {len(transforms)} fixed transforms "
            f'from {len(urdf.joints)} joints')


def main(args=None) -> int:
    return run_node(StaticTfPublisherNode, 'static_tf_publisher', args)
