#!/bin/sh
# SPDX-License-Identifier: MIT
# ctl_test.sh BUILD_DIR - end-to-end test of wardmq_ctl's offline mode on a
# temporary database: users with passwords from stdin, list/show/check,
# passwd, groups and roles, rules, acl explain (allow and deny, exit codes),
# import of the mosquitto fixtures with its report, the audit log (verify a
# good and a tampered file), bans with expiry, client bindings, PSK
# identities, JSON output, help and usage errors; lock-outs refused offline.
#
# Builds nothing: BUILD_DIR must hold bin/wardmq_ctl. Prints one line per
# check and "N passed, M failed" last; exits 1 if anything failed.
set -u

B=${1:?usage: ctl_test.sh BUILD_DIR}
CTL="$B/bin/wardmq_ctl"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
FIX="$ROOT/tests/fixtures"
[ -x "$CTL" ] || { echo "no $CTL (build the wardmq_ctl target first)"; echo "0 passed, 1 failed"; exit 1; }

T=$(mktemp -d "${TMPDIR:-/tmp}/wmq_ctl_XXXXXX")
trap 'rm -rf "$T"' EXIT INT TERM
DB="$T/w.db"
AUD="$T/audit.log"
OUT="$T/out"
ERR="$T/err"
. "$(dirname "$0")/lib.sh"

# wardmq_ctl on the database $DB (lib.sh's run, has, lacks use it)
ctl() { "$CTL" --db "$DB" "$@"; }

# ---- users -------------------------------------------------------------------
run "user add from stdin" 0 's3cret-pw' --audit "$AUD" user add alice
has "user add says so" "user alice added"
run "user add disabled" 0 'bob-pw' --audit "$AUD" user add bob --disabled
run "user add without password" 0 - user add carol --no-password
run "user add existing: exit 4" 4 'x' user add alice
has "user add existing: message" 'exists' "$ERR"
run "user add empty password: exit 2" 2 '' user add dave
run "password never from argv: exit 2" 2 - user add eve s3cret
run "user list" 0 - user list
has "user list: alice argon2id" "alice  argon2id"
has "user list: bob disabled" "yes"
has "user list: carol no password" "none"
run "user list --json" 0 - --json user list
has "user list --json: object" '"name":"alice","password":"argon2id","disabled":false'
if command -v python3 >/dev/null 2>&1; then
	if python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$OUT" 2>/dev/null; then
		ok "user list --json: valid JSON"
	else
		bad "user list --json: valid JSON" "python3 cannot parse it"
	fi
fi
lacks "no plaintext password in the database" "s3cret-pw" "$DB"
run "user check right password" 0 's3cret-pw' user check alice
run "user check wrong password: exit 1" 1 'nope' user check alice
run "user passwd from stdin" 0 'n3w-pw' --audit "$AUD" user passwd alice
run "old password no longer works" 1 's3cret-pw' user check alice
run "new password works" 0 'n3w-pw' user check alice
run "user show" 0 - user show alice
has "user show: argon2id parameters" "argon2id (m=19456 KiB, t=2, p=1)"
run "user show unknown: exit 3" 3 - user show zed

# ---- groups, roles, rules ------------------------------------------------------
run "group add" 0 - --audit "$AUD" group add ops
run "group member add" 0 - --audit "$AUD" group member add ops alice
run "group member add unknown user: exit 3" 3 - group member add ops zed
run "role add" 0 - role add writer
run "role grant to group" 0 - --audit "$AUD" role grant writer group ops
run "rule 1" 0 - --audit "$AUD" rule add user alice allow all 'sensors/alice/#'
has "rule add prints the id" "rule #1 added"
run "rule 2 (qos cap)" 0 - rule add group ops allow read 'metrics/#' --qos 1
run "rule 3 (KIND:NAME form)" 0 - rule add group:ops deny read 'metrics/secret/#'
run "rule 4 (role)" 0 - rule add role writer allow publish,retain 'retained/#'
run "rule 5 (%c)" 0 - rule add all allow publish 'devices/%c/out'
run "rule 6 (anonymous)" 0 - rule add anonymous allow read 'public/#'
run "rule with invalid filter: exit 2" 2 - rule add user alice allow read 'a/#/b'
run "rule with bad actions: exit 2" 2 - rule add user alice allow frob 'a'
run "rule list" 0 - rule list
has "rule list shows rule 3" "metrics/secret/#"
run "rule list of one principal" 0 - rule list group ops
lacks "rule list filtered" "sensors/alice"
run "policy version" 0 - --json policy version
v1=$(sed 's/[^0-9]//g' "$OUT")

# ---- acl explain -----------------------------------------------------------------
run "explain: receive allowed at capped QoS" 0 - acl explain alice c1 receive metrics/a 2
has "explain: granted QoS 1" "granted QoS 1"
run "explain: subscribe metrics/# denied" 1 - acl explain alice c1 subscribe 'metrics/#' 1
has "explain: names the deciding rule" "rule #3"
has "explain: shows the uncovered topic" "metrics/secret"
run "explain: publish through a group's role" 0 - acl explain alice c1 publish retained/x
has "explain: role rule" "role:writer"
run "explain: %c for its own client id" 0 - acl explain alice c1 publish devices/c1/out
run "explain: %c for another client id: deny" 1 - acl explain alice c2 publish devices/c1/out
run "explain: anonymous" 0 - acl explain - dev subscribe 'public/+'
run "explain: anonymous rule is not for users" 1 - acl explain bob dev receive public/x
has "explain: notes a disabled user" "is disabled"
run "explain: \$SYS not matched by #" 1 - acl explain alice c1 receive '$SYS/broker/load'
run "explain --json" 1 - --json acl explain alice c1 subscribe 'metrics/#'
has "explain --json: decision" '"decision":"deny"'
run "explain: bad action: exit 2" 2 - acl explain alice c1 read x
run "rule del" 0 - --audit "$AUD" rule del 3
run "rule del again: exit 3" 3 - rule del 3
run "explain after the deny rule is gone" 0 - acl explain alice c1 subscribe 'metrics/#' 1
run "policy version grew" 0 - --json policy version
v2=$(sed 's/[^0-9]//g' "$OUT")
if [ "$v2" -gt "$v1" ]; then ok "policy version $v1 -> $v2"; else bad "policy version" "$v1 -> $v2"; fi

# ---- client bindings and PSK identities ---------------------------------------------
run "client bind" 0 - --audit "$AUD" client bind dev-1 alice
run "client bind again: exit 4" 4 - client bind dev-1 bob
run "client bind unknown user: exit 3" 3 - client bind dev-2 zed
run "explain: notes a client id bound to someone else" 1 - acl explain bob dev-1 publish x
has "explain: binding note" "bound to user alice"
run "psk add (key from stdin)" 0 '00112233445566778899aabbccddeeff' --audit "$AUD" psk add dev-1 --user alice
run "psk list" 0 - psk list
has "psk list: identity" "dev-1"
lacks "psk list never shows the key" "00112233"
run "psk add short key: exit 2" 2 '0011' psk add dev-2
run "psk add --generate" 0 - --audit "$AUD" psk add dev-gen --generate
GENKEY=$(grep -o 'key (shown once): [0-9a-f]*' "$OUT" | sed 's/.*: //')
if [ ${#GENKEY} -eq 64 ]; then ok "psk add --generate prints a 32-byte key once"
else bad "psk add --generate prints a 32-byte key once" "$(cat "$OUT")"; fi
run "psk add existing identity: exit 4" 4 - psk add dev-gen --generate
run "psk list after --generate" 0 - psk list
has "psk list: generated identity" "dev-gen"
lacks "psk list never shows the generated key" "${GENKEY:-nokey}"
run "psk del" 0 - --audit "$AUD" psk del dev-gen
run "psk del again: exit 3" 3 - psk del dev-gen
run "psk list after del" 0 - psk list
lacks "psk list: deleted identity gone" "dev-gen"
run "client unbind" 0 - client unbind dev-1

# ---- bans ------------------------------------------------------------------------
run "ban add with expiry" 0 - --audit "$AUD" ban add clientid bad-dev --for 3s --reason loops
run "ban add address (normalised)" 0 - ban add address 10.1.2.3/8
run "ban add permanent username" 0 - ban add username mallory
run "ban add bad address: exit 2" 2 - ban add address 10.0.0.300
run "ban add bad duration: exit 2" 2 - ban add username x --for 1h30
run "ban list" 0 - ban list
has "ban list: client id" "bad-dev"
has "ban list: CIDR" "10.0.0.0/8"
has "ban list: reason" "loops"
sleep 4
run "ban list after expiry" 0 - ban list
lacks "expired ban not listed" "bad-dev"
run "ban list --all" 0 - ban list --all
has "ban list --all shows the expired ban" "bad-dev"
run "ban purge" 0 - ban purge
has "ban purge count" "1 expired"
run "ban del (same network, other spelling)" 0 - --audit "$AUD" ban del address 10.9.9.9/8
run "ban del again: exit 3" 3 - ban del address 10.0.0.0/8
run "ban del lockout offline: exit 2" 2 - --audit "$AUD" ban del lockout 127.0.0.1 alice
has "ban del lockout offline: use --socket" "lock-outs live in the running broker: use --socket" "$ERR"
run "ban del lockout of a range: exit 2" 2 - ban del lockout 10.0.0.0/8
run "ban del username with a second value: exit 2" 2 - ban del username mallory extra
run "ban list offline notes the lock-outs" 0 - ban list
has "ban list offline: lock-outs only online" "running broker" "$ERR"

# ---- audit log -----------------------------------------------------------------------
run "user del" 0 - --audit "$AUD" user del alice
has "user del warns about rules naming the user" "still name user alice" "$ERR"
run "deleted user is gone" 3 - user show alice
run "audit verify (intact)" 0 - audit verify "$AUD"
has "audit verify: intact" "intact"
has "audit: user.add line" '"event":"user.add"' "$AUD"
has "audit: ban line" '"kind":"ban"' "$AUD"
lacks "audit: no password in the log" "n3w-pw" "$AUD"
lacks "audit: no PSK key in the log" "00112233" "$AUD"
lacks "audit: no generated PSK key in the log" "${GENKEY:-nokey}" "$AUD"
n=$(wc -l <"$AUD")
if [ "$n" -ge 10 ]; then ok "audit: one line per change ($n)"; else bad "audit: one line per change" "$n lines"; fi
sed '3s/"event":"[a-z.]*"/"event":"forged"/' "$AUD" >"$T/tampered.log"
run "audit verify (edited line 3): exit 1" 1 - audit verify "$T/tampered.log"
has "audit verify: reports line 4" "tampered.log:4:"
sed '5d' "$AUD" >"$T/deleted.log"
run "audit verify (deleted line 5): exit 1" 1 - audit verify "$T/deleted.log"
has "audit verify: reports line 5" "deleted.log:5:"
run "audit verify missing file: exit 6" 6 - audit verify "$T/nope.log"
run "audit log that cannot be opened: exit 6" 6 - --audit "$T/nodir/a.log" group add g2
run "nothing changed without the audit line" 0 - group list
lacks "group g2 not added" "g2"

# ---- import from mosquitto ----------------------------------------------------------------
DB="$T/m.db"
run "import-mosquitto" 0 - --audit "$T/m.log" import-mosquitto --passwd "$FIX/mosquitto_passwd.txt" \
	--acl "$FIX/mosquitto_acl.txt"
has "import: users" "4 users added"
has "import: rules" "13 rules added"
has "import: report count" "3 line(s) not translated"
has "import: report with file:line" "mosquitto_acl.txt:23: unsupported directive"
has "import: report bad access type" "mosquitto_acl.txt:24:"
has "import: report bad filter" "mosquitto_acl.txt:25:"
run "imported PBKDF2 hash kept (alice)" 0 'correct horse' user check alice
run "imported PBKDF2 hash kept (bob smith)" 0 'p@ss:w0rd$' user check 'bob smith'
run "imported SHA-512 hash kept (carol)" 0 'hunter2' user check carol
run "imported hash rejects a wrong password" 1 'hunter3' user check carol
run "imported user show" 0 - user show alice
has "imported verifier is marked for upgrade" "upgraded to argon2id at the next login"
run "imported rules: user deny beats user allow" 1 - acl explain alice c publish cmd/reactor
has "imported rules: origin file:line" "mosquitto_acl.txt:9"
run "imported rules: user allow" 0 - acl explain alice c publish cmd/pump
run "imported rules: pattern %c" 0 - acl explain carl dev7 receive devices/dev7/in
run "imported rules: subscribe is checked" 1 - acl explain - anon subscribe 'public/#'
run "imported rules: anonymous read" 0 - acl explain - anon receive public/news
run "re-import keeps existing users" 0 - import-mosquitto --passwd "$FIX/mosquitto_passwd.txt"
has "re-import: kept" "4 kept"
run "re-import --json" 0 - --json import-mosquitto --passwd "$FIX/mosquitto_passwd.txt" --replace
has "re-import --replace: replaced" '"users_replaced":4'
run "rule count before a rejected import" 0 - --json rule list
before=$(grep -o '"id":' "$OUT" | wc -l)
printf 'topic read a/#\ntopic deny a/#/b\n' >"$T/bad_acl.txt"
run "ACL with an untranslatable deny line: exit 6" 6 - import-mosquitto --acl "$T/bad_acl.txt"
has "rejected import: report" "bad_acl.txt:2:"
run "rule count after the rejected import" 0 - --json rule list
after=$(grep -o '"id":' "$OUT" | wc -l)
if [ "$before" -eq "$after" ]; then ok "rejected import changed nothing"; else bad "rejected import" "$before -> $after rules"; fi
run "import of a missing file: exit 6" 6 - import-mosquitto --passwd "$T/none.txt"
run "import without files: exit 2" 2 - import-mosquitto
run "audit verify of the import log" 0 - audit verify "$T/m.log"
has "import audit line" '"event":"import.mosquitto"' "$T/m.log"

# ---- native policy import ---------------------------------------------------------------
printf '%s\n' 'allow read group:ops "$SYS/#"' 'deny all user:mallory # priority=1000' >"$T/policy.txt"
run "rule import --replace" 0 - rule import "$T/policy.txt" --replace
has "rule import: 2 rules" "2 rules added"
run "rule list after replace" 0 - --json rule list
n=$(grep -o '"id":' "$OUT" | wc -l)
if [ "$n" -eq 2 ]; then ok "rule import --replace replaced every rule"; else bad "rule import --replace" "$n rules"; fi
printf 'allow read all a/#\nbogus line\n' >"$T/badpolicy.txt"
run "rule import of a bad file: exit 6" 6 - rule import "$T/badpolicy.txt"
has "rule import: file:line" "badpolicy.txt:2" "$ERR"

# ---- help, usage, database errors ------------------------------------------------------------
run "--help" 0 - --help
has "--help lists exit codes" "Exit status"
run "group help" 0 - ban --help
has "group help lists ban add" "ban add"
run "unknown command: exit 2" 2 - frobnicate
run "unknown option: exit 2" 2 - user list --bogus
run "option of another command: exit 2" 2 - user list --qos 1
run "wrong argument count: exit 2" 2 - group add
"$CTL" user list >"$OUT" 2>"$ERR" </dev/null
rc=$?
if [ "$rc" -eq 2 ]; then ok "no --db and no WARDMQ_DB: exit 2"; else bad "no --db" "exit $rc"; fi
DB="$T/missing/dir/x.db"
run "database in a missing directory: exit 5" 5 - user list
DB="$T/not-there.db"
run "read command on a missing database: exit 5" 5 - user list
printf 'this is not a database, just text that is long enough to look like one\n' >"$T/garbage.db"
DB="$T/garbage.db"
run "garbage database: exit 5" 5 - user list
has "garbage database: explains" "not a WardMQ database" "$ERR"

finish
