# Source this file to get a shell with the rover stack's built environment:
#     source scripts/env.sh
#
# * With a ROS 2 distro sourced (ROS_DISTRO set), the distro is used as it is.
# * Otherwise the project's venv (.venv, or .venv-<distro> for ROS_WHEELS other than jazzy) is
#   activated and the variables that the PyPI ROS wheels would set by re-executing every Python
#   interpreter are set here once, so no process re-executes itself.
# * Then the ROS 2 tools overlay (install-tools/: launch, launch_testing, the ros2 CLI; no distro only),
#   Nav2's interfaces (install-nav/, built by make test; no distro only) and the workspace overlay
#   (install/) are sourced, if they have been built.
# * DDS is kept on this machine unless ROVER_DDS_SCOPE says otherwise (docs/dds.md).

# colcon's and the venv's scripts read unset variables: relax `set -u` while sourcing, restore after.
case $- in *u*) _rover_nounset=1; set +u ;; *) _rover_nounset= ;; esac

if [ -n "${BASH_SOURCE:-}" ]; then
  _rover_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
else
  _rover_root="$(cd "$(dirname "$0")/.." && pwd)"
fi
export ROVER_STACK_ROOT="$_rover_root"

ROS_WHEELS="${ROS_WHEELS:-jazzy}"
if [ "$ROS_WHEELS" = "jazzy" ]; then _rover_suffix=""; else _rover_suffix="-$ROS_WHEELS"; fi
export ROVER_VENV="${ROVER_VENV:-$_rover_root/.venv$_rover_suffix}"
export ROVER_INSTALL="${ROVER_INSTALL:-$_rover_root/install$_rover_suffix}"

if [ -n "${ROS_DISTRO:-}" ] && [ -z "${ROVER_USING_WHEELS:-}" ]; then
  # A distro is sourced: use it; the venv (if any) only adds pure-Python tools.
  if [ -f "$ROVER_VENV/bin/activate" ]; then
    # shellcheck disable=SC1091
    . "$ROVER_VENV/bin/activate"
  fi
else
  if [ ! -f "$ROVER_VENV/bin/activate" ]; then
    echo "scripts/env.sh: no venv at $ROVER_VENV; run 'make setup' first" >&2
    [ -n "$_rover_nounset" ] && set -u
    return 1 2>/dev/null || exit 1
  fi
  # shellcheck disable=SC1091
  . "$ROVER_VENV/bin/activate"
  export ROVER_USING_WHEELS=1
  _rover_site="$("$ROVER_VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
  _rover_ld="$ROVER_VENV/lib"
  for _d in "$_rover_site"/ros_*.libs; do
    [ -d "$_d" ] && _rover_ld="$_rover_ld:$_d"
  done
  case ":${LD_LIBRARY_PATH:-}:" in
    *":$ROVER_VENV/lib:"*) ;;
    *) export LD_LIBRARY_PATH="$_rover_ld${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" ;;
  esac
  export _ROS_WHEELS_BOOTSTRAP_COMPLETE=1
  case ":${AMENT_PREFIX_PATH:-}:" in
    *":$ROVER_VENV:"*) ;;
    *) export AMENT_PREFIX_PATH="$ROVER_VENV${AMENT_PREFIX_PATH:+:$AMENT_PREFIX_PATH}" ;;
  esac
  export ROS_DISTRO_WHEELS="$ROS_WHEELS"
  export RMW_IMPLEMENTATION="${RMW_IMPLEMENTATION:-rmw_fastrtps_cpp}"
  unset _rover_site _rover_ld _d
fi

# The ROS 2 launch and command-line tools built from upstream source (make setup, scripts/build_tools.sh):
# an overlay under the workspace's, only where no distro provides them.
_rover_tools="$_rover_root/install-tools$_rover_suffix"
if [ -n "${ROVER_USING_WHEELS:-}" ] && [ -f "$_rover_tools/local_setup.sh" ]; then
  COLCON_CURRENT_PREFIX="$_rover_tools" . "$_rover_tools/local_setup.sh"
fi
# Nav2's interfaces (nav2_msgs, geographic_msgs, nav2_simple_commander) on top of the tools: make test only.
_rover_nav="$_rover_root/install-nav$_rover_suffix"
if [ -n "${ROVER_USING_WHEELS:-}" ] && [ -f "$_rover_nav/local_setup.sh" ]; then
  COLCON_CURRENT_PREFIX="$_rover_nav" . "$_rover_nav/local_setup.sh"
fi
unset _rover_tools _rover_nav

if [ -f "$ROVER_INSTALL/local_setup.sh" ]; then
  # colcon's scripts read COLCON_CURRENT_PREFIX; sh-compatible local_setup works in bash and sh.
  COLCON_CURRENT_PREFIX="$ROVER_INSTALL" . "$ROVER_INSTALL/local_setup.sh"
  # The package's executables (what `ros2 run rover_stack X` would run), e.g. rover_runner, rover.
  case ":$PATH:" in
    *":$ROVER_INSTALL/rover_stack/lib/rover_stack:"*) ;;
    *) export PATH="$ROVER_INSTALL/rover_stack/lib/rover_stack:$PATH" ;;
  esac
fi

# DDS scope: "localhost" (default) keeps discovery and traffic on loopback and shared memory;
# "lan" lets a rover and a base station discover each other on a real network (docs/dds.md).
export ROVER_DDS_SCOPE="${ROVER_DDS_SCOPE:-localhost}"
case "$ROVER_DDS_SCOPE" in
  localhost)
    # With Fast DDS the XML profile alone confines discovery and data to loopback and shared
    # memory. ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST would make rmw_fastrtps add a UDP transport
    # of its own that binds 0.0.0.0 and the LAN address (measured with `ss -uanp`, docs/dds.md), so
    # it is left to the profile (SYSTEM_DEFAULT). Other RMWs get LOCALHOST.
    case "${RMW_IMPLEMENTATION:-rmw_fastrtps_cpp}" in
      rmw_fastrtps*) export ROS_AUTOMATIC_DISCOVERY_RANGE=SYSTEM_DEFAULT ;;
      *) export ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST ;;
    esac
    export FASTDDS_DEFAULT_PROFILES_FILE="$_rover_root/config/dds/fastdds_localhost.xml"
    export FASTRTPS_DEFAULT_PROFILES_FILE="$FASTDDS_DEFAULT_PROFILES_FILE"
    ;;
  lan)
    export ROS_AUTOMATIC_DISCOVERY_RANGE=SUBNET
    export FASTDDS_DEFAULT_PROFILES_FILE="$_rover_root/config/dds/fastdds_lan.xml"
    export FASTRTPS_DEFAULT_PROFILES_FILE="$FASTDDS_DEFAULT_PROFILES_FILE"
    ;;
  *)
    echo "scripts/env.sh: ROVER_DDS_SCOPE must be 'localhost' or 'lan', not '$ROVER_DDS_SCOPE'" >&2
    [ -n "$_rover_nounset" ] && set -u
    return 1 2>/dev/null || exit 1
    ;;
esac
unset _rover_root _rover_suffix
[ -n "$_rover_nounset" ] && set -u
unset _rover_nounset
true
