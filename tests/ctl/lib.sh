# SPDX-License-Identifier: MIT
# lib.sh - shared helpers of tests/ctl/ctl_test.sh and ctl_online_test.sh;
# sourced (`. "$(dirname "$0")/lib.sh"`), never run: it is not executable,
# so tests/run.sh, which runs every executable tests/ctl/*.sh, skips it.
# POSIX sh.
#
# The caller defines ctl ARGS... (wardmq_ctl pointed at its database or
# socket) and sets OUT and ERR (files for the last command's stdout and
# stderr). Sets pass and fail (the check counters). Functions:
#   ok NAME / bad NAME WHY     count and print one check (bad also shows
#                              the last command's output)
#   run NAME EXPECTED_EXIT INPUT ARGS...   ctl ARGS with INPUT (one line) on
#                              stdin ("-": nothing); check the exit status,
#                              left in $rc
#   has NAME TEXT [FILE] / lacks NAME TEXT [FILE]   fixed-string match in
#                              the last command's stdout (or FILE)
#   finish                     the closing "N passed, M failed" line; its
#                              status is 1 if anything failed
pass=0
fail=0

ok() { pass=$((pass + 1)); echo "ok $1"; }
bad() {
	fail=$((fail + 1))
	echo "FAIL $1: $2"
	sed 's/^/    stdout: /' "$OUT" | head -20
	sed 's/^/    stderr: /' "$ERR" | head -20
}

run() {
	name=$1 want=$2 input=$3
	shift 3
	if [ "$input" = "-" ]; then
		ctl "$@" >"$OUT" 2>"$ERR" </dev/null
	else
		printf '%s\n' "$input" | ctl "$@" >"$OUT" 2>"$ERR"
	fi
	rc=$?
	if [ "$rc" -eq "$want" ]; then ok "$name"; else bad "$name" "exit $rc, expected $want"; fi
}

has() {
	if grep -qF -- "$2" "${3:-$OUT}"; then ok "$1"; else bad "$1" "no \"$2\" in ${3:-stdout}"; fi
}
lacks() {
	if grep -qF -- "$2" "${3:-$OUT}"; then bad "$1" "unexpected \"$2\" in ${3:-stdout}"; else ok "$1"; fi
}

finish() {
	echo "$pass passed, $fail failed"
	[ "$fail" -eq 0 ]
}
