#!/usr/bin/env bash
# run.sh BUILD_DIR - run every test: unit executables, fuzz corpus replays,
# interop, ctl and browser scripts, then the integration suite (pytest, real broker, real third-party clients).
# Prints a closing "N passed, M failed" line; exit status 1 if anything failed.
set -uo pipefail
build=$(cd "${1:?usage: tests/run.sh BUILD_DIR [pytest args]}" && pwd)
shift
root=$(cd "$(dirname "$0")/.." && pwd)
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:halt_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export WARDMQ_BIN="$build/bin"
pass=0; fail=0; failed=()
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT

count() { # name output-file status
  local p f
  p=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$2" | tail -1 | awk '{print $1}')
  f=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$2" | tail -1 | awk '{print $3}')
  if [ -z "$p" ]; then p=0; f=1; fi
  if [ "$3" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  pass=$((pass + p)); fail=$((fail + f))
  if [ "$f" -ne 0 ]; then failed+=("$1"); sed 's/^/    /' "$2" | tail -40; fi
  printf '%-32s %4d passed, %d failed\n' "$1" "$p" "$f"
}

echo "== unit tests"
for t in "$build"/bin/test_*; do
  [ -x "$t" ] || continue
  name=$(basename "$t")
  timeout 300 "$t" >"$log/$name.out" 2>&1; st=$?
  count "$name" "$log/$name.out" $st
done

echo "== fuzz corpus replay"
for t in "$build"/bin/replay_*; do
  [ -x "$t" ] || continue
  name=$(basename "$t"); target=${name#replay_}
  timeout 300 "$t" "$root/fuzz/corpus/$target" >"$log/$name.out" 2>&1; st=$?
  count "$name" "$log/$name.out" $st
done

echo "== client tools against mosquitto (interop), wardmq_ctl, MQTT.js in Chromium"
for t in "$root"/tests/interop/*.sh "$root"/tests/ctl/*.sh "$root"/tests/browser/*.sh; do
  [ -x "$t" ] || continue
  name=$(basename "$t" .sh)
  timeout 900 "$t" "$build" >"$log/$name.out" 2>&1; st=$?
  count "$name" "$log/$name.out" $st
done

echo "== integration tests"
if [ -d "$root/tests/integration" ] && ls "$root"/tests/integration/test_*.py >/dev/null 2>&1; then
  (cd "$root/tests/integration" && timeout 3000 /usr/bin/python3 -m pytest -p no:cacheprovider -q \
      --junitxml="$log/junit.xml" -o junit_family=xunit2 "$@" . ) >"$log/pytest.out" 2>&1; st=$?
  tail -n 60 "$log/pytest.out" | grep -vE '^\s*$' | tail -n 40
  read -r p f < <(/usr/bin/python3 - "$log/junit.xml" <<'PY'
import sys, xml.etree.ElementTree as ET
try:
    r = ET.parse(sys.argv[1]).getroot()
    suites = [r] if r.tag == "testsuite" else list(r)
    t = sum(int(s.get("tests", 0)) for s in suites)
    f = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
    sk = sum(int(s.get("skipped", 0)) for s in suites)
    print(t - f - sk, f)
except Exception:
    print(0, 1)
PY
)
  if [ "$st" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  pass=$((pass + p)); fail=$((fail + f))
  [ "$f" -ne 0 ] && failed+=("integration")
  printf '%-32s %4d passed, %d failed\n' "integration (pytest)" "$p" "$f"
fi

echo
[ ${#failed[@]} -ne 0 ] && echo "failing: ${failed[*]}"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
