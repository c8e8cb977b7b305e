#!/bin/sh
# SPDX-License-Identifier: MIT
# ctl_online_test.sh BUILD_DIR - end-to-end test of wardmq_ctl's online mode:
# a real broker (--db on a temporary database, admin_socket and audit_file
# in a temporary configuration) and wardmq_ctl --socket: users, groups,
# roles, rules, acl explain, bans, client bindings, PSK identities,
# import-mosquitto and rule import (transactions over the socket), the same
# exit codes as offline, JSON output, WARDMQ_SOCKET, usage errors, audit
# lines marked via "socket"; the socket's mode 0600, and a peer with
# another uid refused (by the file mode, and by SO_PEERCRED when the mode is
# loosened; needs root for setpriv, skipped with a note otherwise). Last:
# SIGTERM stops the broker cleanly and removes the socket.
#
# Builds nothing: BUILD_DIR must hold bin/wardmq and bin/wardmq_ctl. Prints
# one line per check and "N passed, M failed" last; exits 1 if anything
# failed.
set -u

B=${1:?usage: ctl_online_test.sh BUILD_DIR}
B=$(cd "$B" && pwd)
CTL="$B/bin/wardmq_ctl"
BROKER="$B/bin/wardmq"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
FIX="$ROOT/tests/fixtures"
for x in "$CTL" "$BROKER"; do
	[ -x "$x" ] || { echo "no $x (build first)"; echo "0 passed, 1 failed"; exit 1; }
done

T=$(mktemp -d "${TMPDIR:-/tmp}/wmq_ctlon_XXXXXX")
chmod 700 "$T"
BPID=
cleanup() {
	[ -n "$BPID" ] && kill "$BPID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT INT TERM
SOCK="$T/adm.sock"
DB="$T/w.db"
AUD="$T/audit.log"
OUT="$T/out"
ERR="$T/err"
LOG="$T/broker.log"
. "$(dirname "$0")/lib.sh"

# wardmq_ctl on the broker's admin socket $SOCK (lib.sh's run, has, lacks
# use it)
ctl() { "$CTL" --socket "$SOCK" "$@"; }

# ---- start the broker ----------------------------------------------------------
printf 'listener 0 127.0.0.1\nallow_anonymous false\nadmin_socket %s\naudit_file %s\nlog_level info\n' \
	"$SOCK" "$AUD" >"$T/wardmq.conf"
"$BROKER" -c "$T/wardmq.conf" --db "$DB" >"$LOG" 2>&1 &
BPID=$!
i=0
while [ ! -S "$SOCK" ] && [ $i -lt 150 ]; do # at most 15 s
	sleep 0.1
	i=$((i + 1))
done
if [ -S "$SOCK" ]; then ok "broker created the admin socket"; else
	bad "broker created the admin socket" "no socket after 15 s"
	cat "$LOG"
	echo "$pass passed, $fail failed"
	exit 1
fi
mode=$(stat -c %a "$SOCK")
if [ "$mode" = "600" ]; then ok "socket mode 0600"; else bad "socket mode 0600" "mode $mode"; fi

# ---- users ------------------------------------------------------------------------
run "user add (password from stdin)" 0 's3cret-pw' user add alice
has "user add says so" "user alice added"
run "user add disabled" 0 'bob-pw' user add bob --disabled
run "user add existing: exit 4" 4 'x' user add alice
has "user add existing: message" 'exists' "$ERR"
run "password never from argv: exit 2" 2 - user add eve s3cret
run "user list" 0 - user list
has "user list: table" "alice  argon2id"
run "user list --json" 0 - --json user list
has "user list --json" '"name":"alice","password":"argon2id","disabled":false'
run "user check right" 0 's3cret-pw' user check alice
run "user check wrong: exit 1" 1 'nope' user check alice
run "user show missing: exit 3" 3 - user show zed
run "user passwd" 0 'n3w-pw' user passwd alice
run "user check new password" 0 'n3w-pw' user check alice
run "user enable" 0 - user enable bob

# ---- groups, roles, rules --------------------------------------------------------------
run "group add" 0 - group add ops
run "group member add" 0 - group member add ops alice
run "role add" 0 - role add admin
run "role grant to group" 0 - role grant admin group ops
run "rule add" 0 - rule add all allow read '$SYS/#'
run "rule add for a role" 0 - rule add role:admin allow all 'cmd/#' --qos 1
run "rule add invalid filter: exit 2" 2 - rule add all allow read 'a/#/b'
run "rule list" 0 - rule list
has "rule list: role rule" "role:admin"
run "user show" 0 - user show alice
has "user show: group" "ops"
run "acl explain allow" 0 - acl explain alice c1 publish cmd/x
run "acl explain deny: exit 1" 1 - acl explain bob c1 publish cmd/x
has "acl explain: decision" "deny"

# ---- bans, bindings, PSK ----------------------------------------------------------------
run "ban add" 0 - ban add username mallory --reason spam
run "ban add with expiry" 0 - ban add clientid bad-dev --for 1h
run "ban list" 0 - ban list
has "ban list: mallory" "mallory"
run "ban del" 0 - ban del username mallory
run "ban del again: exit 3" 3 - ban del username mallory
run "ban list online has a source column" 0 - ban list
has "ban list online: source" "SOURCE"
run "ban del lockout not in force: exit 3" 3 - ban del lockout 127.0.0.1 nobody
has "ban del lockout not in force: says so" "no lock-out of 127.0.0.1 nobody in force" "$ERR"
run "client bind" 0 - client bind dev-1 alice
run "client bind again: exit 4" 4 - client bind dev-1 bob
run "client list" 0 - client list
has "client list: dev-1" "dev-1"
run "psk add (key from stdin)" 0 '00112233445566778899aabbccddeeff' psk add dev-1 --user alice
run "psk list" 0 - psk list
lacks "psk list never shows the key" "00112233"

# ---- imports: transactions over the socket ------------------------------------------------
run "import-mosquitto online" 0 - import-mosquitto --passwd "$FIX/mosquitto_passwd.txt" --acl "$FIX/mosquitto_acl.txt"
has "import report" "users added"
run "imported user exists" 0 - user show carol
printf 'allow read all a/#\nbogus line\n' >"$T/badpolicy.txt"
run "rule list before a rejected import" 0 - --json rule list
before=$(grep -o '"id":' "$OUT" | wc -l)
run "rule import of a bad file: exit 6" 6 - rule import "$T/badpolicy.txt"
run "rule list after the rejected import" 0 - --json rule list
after=$(grep -o '"id":' "$OUT" | wc -l)
if [ "$before" -eq "$after" ]; then ok "rejected import changed nothing"; else bad "rejected import" "$before -> $after"; fi
printf '%s\n' 'allow read group:ops "$SYS/#"' 'deny all user:mallory # priority=1000' >"$T/policy.txt"
run "rule import --replace" 0 - rule import "$T/policy.txt" --replace
has "rule import: 2 rules" "2 rules added"

# ---- online and offline agree -----------------------------------------------------------
run "rule list --json online" 0 - --json rule list
cp "$OUT" "$T/online.json"
"$CTL" --db "$DB" --json rule list >"$OUT" 2>"$ERR"
if cmp -s "$OUT" "$T/online.json"; then ok "offline and online rule list are identical"; else
	bad "offline and online rule list" "differ"; fi

# ---- global options -----------------------------------------------------------------------
WARDMQ_SOCKET="$SOCK" "$CTL" user list >"$OUT" 2>"$ERR" </dev/null
rc=$?
if [ "$rc" -eq 0 ] && grep -qF alice "$OUT"; then ok "WARDMQ_SOCKET"; else bad "WARDMQ_SOCKET" "exit $rc"; fi
run "--audit with --socket: exit 2" 2 - --audit "$T/x.log" user list
"$CTL" --socket "$SOCK" --db "$DB" user list >"$OUT" 2>"$ERR" </dev/null
rc=$?
if [ "$rc" -eq 2 ]; then ok "--socket and --db: exit 2"; else bad "--socket and --db" "exit $rc"; fi
"$CTL" --socket "$T/none.sock" user list >"$OUT" 2>"$ERR" </dev/null
rc=$?
if [ "$rc" -eq 6 ]; then ok "no broker on the socket: exit 6"; else bad "no broker on the socket" "exit $rc"; fi
has "no broker: explains" "cannot connect" "$ERR"

# ---- audit ------------------------------------------------------------------------------------
has "audit: user.add via socket" '"event":"user.add"' "$AUD"
has "audit: via socket" '"via":"socket"' "$AUD"
has "audit: import summary" '"event":"import.mosquitto"' "$AUD"
lacks "audit: no password" "s3cret-pw" "$AUD"
lacks "log: no password" "s3cret-pw" "$LOG"
"$CTL" audit verify "$AUD" >"$OUT" 2>"$ERR"
rc=$?
if [ "$rc" -eq 0 ]; then ok "audit verify: intact"; else bad "audit verify" "exit $rc"; fi

# ---- other users ------------------------------------------------------------------------------
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null 2>&1; then
	chmod 755 "$T" # let nobody reach the socket; the socket itself stays 0600
	setpriv --reuid=65534 --regid=65534 --clear-groups "$CTL" --socket "$SOCK" user list >"$OUT" 2>"$ERR" </dev/null
	rc=$?
	if [ "$rc" -eq 6 ] && grep -qF "Permission denied" "$ERR"; then ok "uid nobody: refused by the file mode"; else
		bad "uid nobody: refused by the file mode" "exit $rc"; fi
	chmod 666 "$SOCK" # loosened: SO_PEERCRED must still refuse
	setpriv --reuid=65534 --regid=65534 --clear-groups "$CTL" --socket "$SOCK" user list >"$OUT" 2>"$ERR" </dev/null
	rc=$?
	chmod 600 "$SOCK"
	chmod 700 "$T"
	if [ "$rc" -eq 6 ] && grep -qF "permission denied: uid 65534" "$ERR"; then
		ok "uid nobody: refused by SO_PEERCRED"
	else
		bad "uid nobody: refused by SO_PEERCRED" "exit $rc"
	fi
	lacks "uid nobody: saw no user" "alice"
	has "uid nobody: audited" '"event":"admin.connect"' "$AUD"
	has "uid nobody: audit actor" '"actor":"uid:65534"' "$AUD"
else
	echo "note: not root (or no setpriv): the other-uid checks are skipped"
fi

# ---- stop --------------------------------------------------------------------------------------
kill -TERM "$BPID"
i=0
while kill -0 "$BPID" 2>/dev/null && [ $i -lt 150 ]; do
	sleep 0.1
	i=$((i + 1))
done
if kill -0 "$BPID" 2>/dev/null; then
	bad "broker stops on SIGTERM" "still running"
	kill -KILL "$BPID"
else
	wait "$BPID"
	rc=$?
	if [ "$rc" -eq 0 ]; then ok "broker stops on SIGTERM: exit 0"; else bad "broker stops on SIGTERM" "exit $rc"; fi
fi
BPID=
if [ -e "$SOCK" ]; then bad "socket removed at stop" "still there"; else ok "socket removed at stop"; fi
if grep -q "Sanitizer\|runtime error" "$LOG"; then bad "no sanitizer report" "see the broker log"; cat "$LOG"; else
	ok "no sanitizer report"; fi

finish
