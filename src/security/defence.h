/* SPDX-License-Identifier: MIT
 * defence.h - brute-force and flood defences: failed-login back-off per
 * (source address, username) and per source address with temporary
 * lock-outs, administrative bans (client id, username, address/CIDR; IPv4
 * and IPv6; with expiry), and a per-address connection rate limit.
 *
 * Model:
 *   - Back-off. Each failed login adds one failure to the (address,
 *     username) entry and to the address entry; one failure is forgotten per
 *     decay_ms without failures. With f failures beyond the free allowance,
 *     the next attempt is allowed only after min(base_ms * 2^(f-1), cap_ms);
 *     wmq_defence_check_login() answers BACKOFF with the wait. At ban_after
 *     failures the entry is locked out for ban_ms (answer BANNED). A
 *     successful login clears the (address, username) entry only, so an
 *     attacker cannot reset the address counter with an account of its own.
 *   - Bans are administrative (wardmq_ctl ban add, persisted by the caller):
 *     exact client id, exact username, or an address range; optional expiry.
 *   - Connection rate: a token bucket per address (conn_rate_per_s refill,
 *     conn_burst size), checked at accept.
 *   IPv6 addresses are grouped by their first ipv6_prefix bits (default /64:
 *   one customer network) for back-off and rate, since one host can use a
 *   whole /64. IPv4-mapped IPv6 addresses count as IPv4.
 * Memory: the three tables (pairs, addresses, rate buckets) are LRU-bounded
 * at max_tracked entries each; active attackers are touched on every
 * attempt and stay resident. Bans are bounded by max_bans.
 * Time: every call takes |now_ms| from the caller: use the wall clock
 * (wmq_wall_ms) so ban expiries survive restarts; tests pass any value.
 * Threading: one struct wmq_defence is shared by all workers; every call
 * takes its mutex (short, no I/O).
 * Reason codes for the broker: BANNED -> CONNACK 0x8A (v5) / 0x05 (3.1.1),
 * RATE_LIMITED -> 0x9F (v5) or close before CONNACK, BACKOFF -> hold the
 * CONNECT for wait_ms before verifying (or refuse with 0x86 when the wait
 * exceeds what the listener tolerates). */
#ifndef WMQ_SECURITY_DEFENCE_H
#define WMQ_SECURITY_DEFENCE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"

struct sockaddr;

struct wmq_addr {
	uint8_t family; /* 4 or 6 */
	uint8_t b[16];  /* IPv4 in b[0..3] */
};

/* Parse "192.0.2.1", "2001:db8::1" or "::ffff:192.0.2.1" (-> IPv4). */
WMQ_MUST_USE wmq_err wmq_addr_parse(const char *s, struct wmq_addr *out);
/* From an AF_INET / AF_INET6 socket address. */
WMQ_MUST_USE wmq_err wmq_addr_from_sockaddr(const struct sockaddr *sa, size_t len, struct wmq_addr *out);
/* Text form (inet_ntop); at least 46 bytes. */
void wmq_addr_format(const struct wmq_addr *a, char *out, size_t cap);

struct wmq_cidr {
	struct wmq_addr net; /* host bits cleared */
	uint8_t prefix;      /* 0..32 or 0..128 */
};

/* "10.0.0.0/8", "2001:db8::/32", or a plain address (/32, /128). Host bits
 * below the prefix are cleared. INVAL on bad syntax or prefix. */
WMQ_MUST_USE wmq_err wmq_cidr_parse(const char *s, struct wmq_cidr *out);
bool wmq_cidr_contains(const struct wmq_cidr *c, const struct wmq_addr *a);

struct wmq_defence_opts {
	size_t max_tracked;       /* entries per table; default 65536 */
	/* back-off per (address, username) */
	uint32_t pair_free;       /* failures without delay; default 1 */
	uint32_t pair_base_ms;    /* default 1000 */
	uint32_t pair_cap_ms;     /* default 60000 */
	uint32_t pair_ban_after;  /* lock-out after this many; 0 = never; default 10 */
	uint32_t pair_ban_ms;     /* default 900000 (15 min) */
	/* back-off per address */
	uint32_t addr_free;       /* default 5 */
	uint32_t addr_base_ms;    /* default 500 */
	uint32_t addr_cap_ms;     /* default 30000 */
	uint32_t addr_ban_after;  /* default 50; 0 = never */
	uint32_t addr_ban_ms;     /* default 3600000 (1 h) */
	uint32_t decay_ms;        /* one failure forgotten per quiet period; default 60000 */
	/* connections per address */
	uint32_t conn_rate_per_s; /* default 10; 0 = no limit */
	uint32_t conn_burst;      /* default 20 */
	uint8_t ipv6_prefix;      /* grouping of IPv6 sources; default 64 */
	size_t max_bans;          /* default 10000 */
};

void wmq_defence_opts_default(struct wmq_defence_opts *o);

enum wmq_defence_verdict {
	WMQ_DEFENCE_OK = 0,
	WMQ_DEFENCE_BANNED = 1,       /* ban or lock-out: see struct wmq_defence_hit */
	WMQ_DEFENCE_RATE_LIMITED = 2, /* connection rate exceeded */
	WMQ_DEFENCE_BACKOFF = 3,      /* too soon after failures: wait_ms */
};

enum wmq_ban_kind {
	WMQ_BAN_CLIENT_ID = 0,
	WMQ_BAN_USERNAME = 1,
	WMQ_BAN_ADDRESS = 2,  /* CIDR */
	WMQ_BAN_LOCKOUT_PAIR = 3, /* automatic: (address, username) failures */
	WMQ_BAN_LOCKOUT_ADDR = 4, /* automatic: address failures */
};

/* What stopped a client (for the reason code and the audit line). */
struct wmq_defence_hit {
	enum wmq_ban_kind kind;
	int64_t until_ms; /* 0 = no expiry */
	uint64_t wait_ms; /* BACKOFF: how long until an attempt is allowed */
	char reason[128]; /* ban reason as given to ban_add */
};

struct wmq_defence; /* opaque */

WMQ_MUST_USE wmq_err wmq_defence_new(const struct wmq_defence_opts *o, struct wmq_defence **out);
void wmq_defence_free(struct wmq_defence *d); /* NULL-safe */
/* Reload: new delays, thresholds and rates for the calls that follow;
 * max_tracked, ipv6_prefix and max_bans keep their values (the tables are
 * sized by them), as do the entries already tracked. INVAL as _new. */
WMQ_MUST_USE wmq_err wmq_defence_set_opts(struct wmq_defence *d, const struct wmq_defence_opts *o);

/* At accept, before reading anything: address bans, address lock-out, and
 * the connection rate (one token per call). */
enum wmq_defence_verdict wmq_defence_on_connect(struct wmq_defence *d, const struct wmq_addr *a, int64_t now_ms,
						struct wmq_defence_hit *hit);
/* At CONNECT, before verifying credentials: bans on client id, username
 * (p == NULL: none given) and address, lock-outs, back-off. |hit| may be
 * NULL. */
enum wmq_defence_verdict wmq_defence_check_login(struct wmq_defence *d, const struct wmq_addr *a,
						 struct wmq_bytes client_id, struct wmq_bytes username,
						 int64_t now_ms, struct wmq_defence_hit *hit);

/* Result of recording a failure. */
struct wmq_defence_failure {
	uint32_t pair_failures, addr_failures; /* after this one (decayed) */
	uint64_t next_wait_ms;                 /* back-off now in force */
	bool locked_out;                       /* this failure started a lock-out */
	enum wmq_ban_kind lockout_kind;        /* LOCKOUT_PAIR or LOCKOUT_ADDR */
	int64_t lockout_until_ms;
};
/* After a failed authentication (wrong password, unknown user, bad token). */
void wmq_defence_login_failed(struct wmq_defence *d, const struct wmq_addr *a, struct wmq_bytes username,
			      int64_t now_ms, struct wmq_defence_failure *out);
/* After a successful authentication: forget the (address, username) entry. */
void wmq_defence_login_succeeded(struct wmq_defence *d, const struct wmq_addr *a, struct wmq_bytes username);

/* Administrative bans. |value| is the client id, the username, or the
 * address/CIDR text. expires_ms 0 = permanent. Re-adding replaces expiry and
 * reason. When max_bans is reached, expired bans (at now_ms) are purged
 * first. INVAL (bad CIDR, empty value), LIMIT (max_bans), NOMEM. */
WMQ_MUST_USE wmq_err wmq_defence_ban_add(struct wmq_defence *d, enum wmq_ban_kind kind, const char *value,
					 int64_t expires_ms, const char *reason, int64_t now_ms);
/* NOTFOUND if no such ban. For addresses the CIDR text is normalised
 * ("10.1.2.3/8" deletes "10.0.0.0/8"). */
WMQ_MUST_USE wmq_err wmq_defence_ban_del(struct wmq_defence *d, enum wmq_ban_kind kind, const char *value);
/* Forget the (address, username) entry and the address entry: every
 * lock-out and back-off of that username from that address. */
void wmq_defence_unlock(struct wmq_defence *d, const struct wmq_addr *a, struct wmq_bytes username);
/* Lift exactly one lock-out as wmq_defence_ban_list shows it (wardmq_ctl
 * ban del lockout): kind LOCKOUT_PAIR is the (a, username) entry,
 * LOCKOUT_ADDR the address entry of |a| (IPv6: its ipv6_prefix group;
 * |username| ignored). The entry is forgotten with its failures, so the
 * next attempt has neither lock-out nor back-off from it; the other table
 * is left alone. Returns false, changing nothing, when that entry is not
 * locked out at now_ms (no entry, only a back-off, or an expired lock-out)
 * or |kind| is not a lock-out kind. */
bool wmq_defence_lift(struct wmq_defence *d, enum wmq_ban_kind kind, const struct wmq_addr *a,
		      struct wmq_bytes username, int64_t now_ms);

/* Visit every unexpired ban (administrative first, then lock-outs). The
 * value is the client id, username, CIDR text, or "ADDR" / "ADDR user".
 * Expired bans are dropped on the way. Returns the number visited. */
typedef void (*wmq_defence_ban_fn)(void *arg, enum wmq_ban_kind kind, const char *value, int64_t until_ms,
				   const char *reason);
size_t wmq_defence_ban_list(struct wmq_defence *d, int64_t now_ms, wmq_defence_ban_fn fn, void *arg);

struct wmq_defence_stats {
	size_t pairs, addrs, buckets, bans; /* current entries */
	uint64_t evictions;                 /* LRU evictions, all tables */
};
void wmq_defence_get_stats(struct wmq_defence *d, struct wmq_defence_stats *st);

#endif
