#!/usr/bin/env bash
# Install the Debian/Ubuntu tools the tests use, if missing (idempotent, fast when present):
#   check_urdf (liburdfdom-tools)  — robot description checks
#   ign sdf (ignition-tools, libsdformat-dev) — Gazebo world / URDF->SDF validation
#   Mesa EGL (libegl1, libegl-mesa0, libgl1-mesa-dri) — simulator camera rendering
#   chromium — the base station's browser tests (Playwright with executable_path)
set -euo pipefail
need=()
command -v check_urdf >/dev/null 2>&1 || need+=(liburdfdom-tools)
command -v ign >/dev/null 2>&1 || need+=(ignition-tools libsdformat-dev)
command -v chromium >/dev/null 2>&1 || need+=(chromium)   # base-station page tests (Playwright drives it)
# MuJoCo's offscreen camera rendering (MUJOCO_GL=egl) through Mesa's software EGL
ldconfig -p 2>/dev/null | grep -q 'libEGL_mesa.so.0' || need+=(libegl1 libegl-mesa0 libgl1-mesa-dri)   # ign sdf -k: Gazebo SDF checks (~20 s)
[ ${#need[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "setup: missing system packages: ${need[*]}; install them (e.g. sudo apt-get install ${need[*]})" >&2
  exit 1
fi
echo "== apt-get install ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
