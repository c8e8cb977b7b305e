#!/usr/bin/env bash
# deps.sh - install the Debian packages WardMQ needs that are missing.
# Usage: scripts/deps.sh build|test|bench|all
# Checks with dpkg-query first, so a machine that has everything does no
# network access; otherwise runs apt-get update once and installs.
set -euo pipefail
build_pkgs=(gcc make cmake pkg-config libssl-dev libsqlite3-dev sqlite3 libargon2-dev)
test_pkgs=(clang libclang-rt-14-dev mosquitto mosquitto-clients python3 python3-paho-mqtt
           python3-pytest openssl chromium nodejs npm)
bench_pkgs=(mosquitto)
want=()
case "${1:-all}" in
  build) want=("${build_pkgs[@]}") ;;
  test)  want=("${build_pkgs[@]}" "${test_pkgs[@]}") ;;
  bench) want=("${build_pkgs[@]}" "${bench_pkgs[@]}") ;;
  all)   want=("${build_pkgs[@]}" "${test_pkgs[@]}" "${bench_pkgs[@]}") ;;
  *) echo "usage: $0 build|test|bench|all" >&2; exit 2 ;;
esac
# A package that provides a command counts as present when the command is
# there: Node.js from another source (NodeSource's nodejs bundles npm and
# conflicts with Debian's npm package) serves the browser test as well.
provides() {
  case "$1" in
    nodejs) command -v node >/dev/null 2>&1 ;;
    npm) command -v npm >/dev/null 2>&1 ;;
    *) return 1 ;;
  esac
}
missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" && ! provides "$p"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "deps: installing ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
# The Debian mosquitto package starts a system service on 1883; WardMQ's
# `make run` wants that port, and tests/benchmarks start their own mosquitto
# on other ports. Stop the service if the package just started it.
if printf '%s\n' "${missing[@]}" | grep -qx mosquitto; then
  ($SUDO systemctl disable --now mosquitto 2>/dev/null || $SUDO service mosquitto stop 2>/dev/null || \
   $SUDO pkill -x mosquitto 2>/dev/null || true) >/dev/null 2>&1
fi
