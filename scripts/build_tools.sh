#!/usr/bin/env bash
# Build upstream ROS 2 Jazzy sources that are not published as wheels into their own colcon overlay, where
# no ROS distro provides them. Two sets:
#   tools (default): launch, launch_ros, launch_testing, ros2launch, the ros2 CLI (make setup);
#   nav: Nav2's interfaces and Python commander (nav2_msgs, nav2_common, nav2_simple_commander,
#        geographic_msgs), built on top of the tools overlay, for make test only.
#   scripts/build_tools.sh SRC_DIR BUILD_BASE INSTALL_BASE LOG_BASE [tools|nav]
# Run in the env shell (scripts/env.sh). Sources, first that exists:
#   1. SRC_DIR (../shared/ros2-jazzy-tools): the set's archive, checked against its SHA256SUMS;
#   2. the set's .repos file (the same repositories and tags) through `vcs import`, if the network allows.
# Neither: says what is unavailable and exits 0.
# Upstream code is extracted into BUILD_BASE, never into the repository.
set -euo pipefail
src_dir="$1"; build_base="$2"; install_base="$3"; log_base="$4"; set_name="${5:-tools}"
root="$(cd "$(dirname "$0")/.." && pwd)"
mkdir -p "$build_base" && build_base="$(cd "$build_base" && pwd)"   # checked from inside SRC_DIR below
tree="$build_base/src"
case "$set_name" in
  tools)
    label="ros2 tools"; archive="src.tar.gz"; repos="ros2-jazzy-tools.repos"
    missing="no 'ros2 launch', no 'ros2' command line; the launch test tier will be skipped. Everything else works"
    # What the tools need (19 packages): the repositories hold more (tests, ros2doctor, launch_pytest, and
    # rcl_interfaces' message packages, which the wheels already provide).
    PACKAGES="launch launch_xml launch_yaml launch_testing launch_ros launch_testing_ros ros2launch
      ros2cli ros2pkg ros2run ros2topic ros2node ros2param ros2service ros2action ros2interface ros2lifecycle
      composition_interfaces rosidl_runtime_py" ;;
  nav)
    label="nav2 interfaces"; archive="nav-src.tar.gz"; repos="ros2-jazzy-nav.repos"
    missing="no nav2_msgs; make test's Nav2 backend tests will fail and say so"
    # navigation2 holds every Nav2 server (C++); only the interfaces and the Python commander are built.
    PACKAGES="geographic_msgs nav2_common nav2_msgs nav2_simple_commander" ;;
  *) echo "scripts/build_tools.sh: unknown set '$set_name' (tools or nav)" >&2; exit 2 ;;
esac

unavailable() {
  echo "== $label: $1" >&2
  echo "== $label: UNAVAILABLE: $missing. To retry: rm -rf $install_base && make setup" >&2
  exit 0
}

rm -rf "$tree"
mkdir -p "$tree"
touch "$build_base/COLCON_IGNORE"   # the workspace's own build (--base-paths . src) must not crawl into it
if [ -f "$src_dir/$archive" ]; then
  echo "== $label: checking and extracting $src_dir/$archive"
  grep -E " ${archive//./\\.}\$" "$src_dir/SHA256SUMS" > "$build_base/SHA256SUMS.src"
  if ! (cd "$src_dir" && sha256sum --quiet -c "$build_base/SHA256SUMS.src"); then
    echo "== $label: $src_dir/$archive does not match its SHA256SUMS; refusing to build it" >&2
    exit 1
  fi
  tar -xzf "$src_dir/$archive" -C "$tree"
elif command -v vcs >/dev/null 2>&1; then
  echo "== $label: $src_dir/$archive absent; vcs import from $repos"
  vcs import --shallow --input "$root/$repos" "$tree" \
    || unavailable "vcs import failed (no network?)"
else
  unavailable "$src_dir/$archive absent and vcs (python3-vcstool) not installed"
fi

echo "== colcon build of the $label (upstream Jazzy sources) into $install_base"
colcon --log-base "$log_base" build --base-paths "$tree" \
  --build-base "$build_base/build" --install-base "$install_base" \
  --packages-select $PACKAGES \
  --event-handlers console_stderr- summary+ \
  --cmake-args -DCMAKE_PROJECT_INCLUDE="$root/cmake/drop_wheel_build_paths.cmake" -DBUILD_TESTING=OFF \
  -DPython3_EXECUTABLE="$(command -v python)"
