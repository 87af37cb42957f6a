#!/usr/bin/env bash
# Build the ROS 2 Jazzy launch and command-line tools (launch, launch_ros, launch_testing, ros2launch,
# the ros2 CLI) from upstream source into their own colcon overlay, where no ROS distro provides them.
#   scripts/build_tools.sh SRC_DIR BUILD_BASE INSTALL_BASE LOG_BASE
# Run in the env shell (scripts/env.sh). Sources, first that exists:
#   1. SRC_DIR (../shared/ros2-jazzy-tools): src.tar.gz, checked against its SHA256SUMS;
#   2. ros2-jazzy-tools.repos (the same repositories and tags) through `vcs import`, if the network allows.
# Neither: says that the launch tier and the ros2 command line are unavailable and exits 0.
# Upstream code is extracted into BUILD_BASE, never into the repository.
set -euo pipefail
src_dir="$1"; build_base="$2"; install_base="$3"; log_base="$4"
root="$(cd "$(dirname "$0")/.." && pwd)"
tree="$build_base/src"
# What the tools need (19 packages): the repositories hold more (tests, ros2doctor, launch_pytest, and
# rcl_interfaces' message packages, which the wheels already provide).
PACKAGES="launch launch_xml launch_yaml launch_testing launch_ros launch_testing_ros ros2launch
  ros2cli ros2pkg ros2run ros2topic ros2node ros2param ros2service ros2action ros2interface ros2lifecycle
  composition_interfaces rosidl_runtime_py"

unavailable() {
  echo "== ros2 tools: $1" >&2
  echo "== ros2 tools: UNAVAILABLE: no 'ros2 launch', no 'ros2' command line; the launch test tier will be" \
       "skipped. Everything else works. To retry: rm -rf $install_base && make setup" >&2
  exit 0
}

rm -rf "$tree"
mkdir -p "$tree"
touch "$build_base/COLCON_IGNORE"   # the workspace's own build (--base-paths . src) must not crawl into it
if [ -f "$src_dir/src.tar.gz" ]; then
  echo "== ros2 tools: checking and extracting $src_dir/src.tar.gz"
  grep -E ' src\.tar\.gz$' "$src_dir/SHA256SUMS" > "$build_base/SHA256SUMS.src"
  if ! (cd "$src_dir" && sha256sum --quiet -c "$build_base/SHA256SUMS.src"); then
    echo "== ros2 tools: $src_dir/src.tar.gz does not match its SHA256SUMS; refusing to build it" >&2
    exit 1
  fi
  tar -xzf "$src_dir/src.tar.gz" -C "$tree"
elif command -v vcs >/dev/null 2>&1; then
  echo "== ros2 tools: $src_dir absent; vcs import from ros2-jazzy-tools.repos"
  vcs import --shallow --input "$root/ros2-jazzy-tools.repos" "$tree" \
    || unavailable "vcs import failed (no network?)"
else
  unavailable "$src_dir absent and vcs (python3-vcstool) not installed"
fi

echo "== colcon build of the ros2 tools (upstream Jazzy sources) into $install_base"
colcon --log-base "$log_base" build --base-paths "$tree" \
  --build-base "$build_base/build" --install-base "$install_base" \
  --packages-select $PACKAGES \
  --event-handlers console_stderr- summary+ \
  --cmake-args -DCMAKE_PROJECT_INCLUDE="$root/cmake/drop_wheel_build_paths.cmake" -DBUILD_TESTING=OFF \
  -DPython3_EXECUTABLE="$(command -v python)"
