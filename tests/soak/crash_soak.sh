#!/usr/bin/env bash
# crash_soak.sh [ITERATIONS] [SEED] - the kill -9 durability test for longer
# than make test runs it (20 iterations there). Needs a build-asan build
# (make test builds one). Example: tests/soak/crash_soak.sh 300 7
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
export WARDMQ_BIN=${WARDMQ_BIN:-$root/build-asan/bin}
export WMQ_CRASH_ITERATIONS=${1:-200}
export WMQ_CRASH_SEED=${2:-$RANDOM}
echo "crash soak: $WMQ_CRASH_ITERATIONS iterations, seed $WMQ_CRASH_SEED"
cd "$root/tests/integration"
exec /usr/bin/python3 -m pytest -p no:cacheprovider -q \
  "test_30_store.py::test_kill9_during_stream_loses_no_acknowledged_message"
