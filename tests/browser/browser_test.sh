#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# browser_test.sh BUILD_DIR - MQTT.js in headless Chromium against WardMQ's
# WebSocket listeners (see browser_test.js for what is checked).
#
# Needs node, npm, /usr/bin/chromium and mosquitto_pub/mosquitto_sub
# (scripts/deps.sh test). Installs the npm packages from the committed
# package-lock.json with `npm ci` when node_modules is missing; Playwright
# never downloads a browser (PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1): it drives
# the system Chromium. Prints "N passed, M failed" as its last line.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$(cd "${1:-$root/build-asan}" && pwd)
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
for b in node npm mosquitto_sub mosquitto_pub; do
  if ! command -v "$b" >/dev/null; then echo "missing: $b (scripts/deps.sh test)"; echo "0 passed, 1 failed"; exit 1; fi
done
if [ ! -d "$here/node_modules/mqtt" ] || [ ! -d "$here/node_modules/playwright-core" ]; then
  (cd "$here" && timeout 600 npm ci --no-audit --no-fund) || { echo "npm ci failed"; echo "0 passed, 1 failed"; exit 1; }
fi
# The broker may be an ASan build: report leaks and stop at the first error.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
exec timeout 200 node "$here/browser_test.js" "$build"
