#!/usr/bin/env bash
# Create (if needed) the project venv and install the pinned dependencies.
#   scripts/setup_venv.sh VENV PYTHON LOCKFILE...
# With a ROS distro sourced (ROS_DISTRO set) the venv is made with --system-site-packages so the
# distro's rclpy and message packages stay visible, and numpy is left to the distro (its message
# packages are compiled against the distro's numpy).
set -euo pipefail
venv="$1"; python="$2"; shift 2

if ! command -v "$python" >/dev/null 2>&1; then
  echo "setup: $python not found; install Python 3.11 (or run make PYTHON=python3.x)" >&2
  exit 1
fi

if [ ! -x "$venv/bin/python" ]; then
  echo "== creating $venv"
  if [ -n "${ROS_DISTRO:-}" ]; then
    "$python" -m venv --system-site-packages "$venv"
  else
    "$python" -m venv "$venv"
  fi
fi

# The ROS wheels' .pth bootstrap re-execs every interpreter; pip itself needs no ROS environment.
export _ROS_WHEELS_BOOTSTRAP_COMPLETE=1
echo "== installing pinned dependencies: $*"
args=()
for lock in "$@"; do
  if [ -n "${ROS_DISTRO:-}" ]; then
    filtered="$(mktemp)"
    grep -v -E '^numpy==' "$lock" > "$filtered"
    args+=(-r "$filtered")
  else
    args+=(-r "$lock")
  fi
done
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input "${args[@]}"
