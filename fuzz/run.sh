#!/usr/bin/env bash
# run.sh BUILD_DIR SECONDS [TARGET...] - run libFuzzer targets and grow the
# committed corpora.
#
# For each target T (default: every BUILD_DIR/bin/fuzz_*): fuzz a scratch copy
# of fuzz/corpus/T for SECONDS, then merge the inputs that add coverage back
# into fuzz/corpus/T (-merge=1 keeps the corpus minimal: only new features
# are added). Crashes, leaks and timeouts are written to fuzz/crash-* etc.
# (git-ignored); the script exits 1 if any target found one.
# Build first: CC=clang cmake -S . -B BUILD_DIR -DWMQ_FUZZ=ON -DWMQ_SANITIZE=ON
set -uo pipefail
build=$(cd "${1:?usage: fuzz/run.sh BUILD_DIR SECONDS [TARGET...]}" && pwd)
secs=${2:-60}
shift 2 2>/dev/null || shift $#
here=$(cd "$(dirname "$0")" && pwd)
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:halt_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for b in "$build"/bin/fuzz_*; do
    [ -x "$b" ] && targets+=("$(basename "$b" | sed 's/^fuzz_//')")
  done
fi
if [ ${#targets[@]} -eq 0 ]; then
  echo "no fuzz_* binaries in $build/bin (configure with -DWMQ_FUZZ=ON)" >&2
  exit 2
fi

status=0
for t in "${targets[@]}"; do
  bin="$build/bin/fuzz_$t"
  corpus="$here/corpus/$t"
  [ -x "$bin" ] || { echo "missing $bin" >&2; status=1; continue; }
  mkdir -p "$corpus"
  work=$(mktemp -d)
  cp -a "$corpus/." "$work/" 2>/dev/null || true
  dict=()
  [ -f "$here/$t.dict" ] && dict=(-dict="$here/$t.dict")
  echo "== fuzz_$t: ${secs}s on $(ls "$work" | wc -l) inputs"
  log="$work.log"
  "$bin" "$work" "${dict[@]}" -max_total_time="$secs" -max_len=4096 -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$here/" >"$log" 2>&1
  st=$?
  grep -E '^#[0-9]+' "$log" | tail -n 1
  grep -E '^(stat::|Done|==[0-9]+==ERROR|SUMMARY)' "$log" | head -n 20
  if [ $st -ne 0 ]; then
    echo "fuzz_$t: FAILED (exit $st); log tail:" >&2
    tail -n 60 "$log" >&2
    status=1
  fi
  before=$(ls "$corpus" | wc -l)
  "$bin" -merge=1 "$corpus" "$work" >/dev/null 2>&1 || echo "fuzz_$t: merge failed" >&2
  echo "fuzz_$t: corpus $before -> $(ls "$corpus" | wc -l) files"
  rm -rf "$work" "$log"
done
exit $status
