/* SPDX-License-Identifier: MIT
 * password.h - password verifiers: Argon2id (native), PBKDF2-SHA512 and
 * salted SHA-512 (imported from mosquitto_passwd), a dummy verifier for
 * unknown users, and a keyed cache of recent successful verifications.
 *
 * Role: everything the broker needs to answer "is this the password of this
 * user?" given the verifier string stored for the user (or none). Storage
 * formats (the text stored in the database, one per user):
 *   $argon2id$v=19$m=M,t=T,p=P$SALT$HASH   PHC string, base64 without '='
 *   $7$ITERATIONS$SALT$HASH                 mosquitto 2.x: PBKDF2-HMAC-SHA512,
 *                                           base64 with '=', 64-byte hash
 *   $6$SALT$HASH                            mosquitto 1.x: SHA-512(pw || salt)
 * New verifiers are always Argon2id; a successful login against anything
 * else (or against Argon2id parameters weaker than the configured ones)
 * reports needs_upgrade and, through wmq_pw_check(), hands back a fresh
 * Argon2id verifier for the caller to store.
 *
 * No enumeration oracle: wmq_pw_check() with no stored verifier (unknown
 * user) runs one Argon2id computation with the configured parameters
 * against a random dummy verifier, exactly like a wrong password for a user
 * with an up-to-date verifier; with pad_legacy (default) a legacy
 * verification also runs that dummy computation, so every path costs one
 * Argon2id. The counters in struct wmq_pw_stats let tests assert equal work.
 *
 * Cache (reconnect storms): after a successful, up-to-date verification the
 * context remembers MAC = HMAC-SHA256(K, len|user|len|password|verifier
 * salt|verifier hash) where K is 32 random bytes made at wmq_pw_ctx_new()
 * and never leaves the process. A later check of the same (user, password,
 * stored verifier) finds the MAC and answers without hashing. Nothing on
 * disk changes; the MAC binds the stored verifier, so a password change
 * invalidates by itself, and wmq_pw_forget_user() drops a user's entries
 * explicitly. Bounded (LRU, cache_entries) and time-limited (cache_ttl_ms,
 * counted from the verification, not refreshed by hits).
 *
 * Threading: a struct wmq_pw_ctx is shared by the auth-pool threads:
 * wmq_pw_check() is safe to call concurrently (atomic counters, the cache
 * under a mutex held only for the lookup/insert, never while hashing).
 * Verifier functions are reentrant.
 * Ownership: verifiers are plain values (no heap); wipe them with
 * wmq_pw_verifier_wipe() when done. Passwords are borrowed and never copied
 * except into libcrypto/libargon2 for the duration of a call. */
#ifndef WMQ_SECURITY_PASSWORD_H
#define WMQ_SECURITY_PASSWORD_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"
#include "crypto/argon2id.h"

/* OWASP Password Storage Cheat Sheet (2023), Argon2id option 2. */
#define WMQ_PW_DEFAULT_M_KIB 19456u
#define WMQ_PW_DEFAULT_T 2u
#define WMQ_PW_DEFAULT_P 1u
#define WMQ_PW_DEFAULT_SALT_LEN 16u
#define WMQ_PW_DEFAULT_TAG_LEN 32u
/* Longest encoded verifier, with its NUL. */
#define WMQ_PW_ENCODED_MAX 256u
/* Imported PBKDF2 iteration counts above this are refused (a hostile file
 * must not make one login cost seconds). mosquitto 2 writes 101. */
#define WMQ_PW_MAX_PBKDF2_ITER 1000000u

enum wmq_pw_scheme {
	WMQ_PW_ARGON2ID = 1,   /* native */
	WMQ_PW_MOSQ_PBKDF2 = 2, /* "$7$": mosquitto 2.x default */
	WMQ_PW_MOSQ_SHA512 = 3, /* "$6$": mosquitto 1.x */
};

struct wmq_pw_params {
	uint32_t m_kib;    /* Argon2id memory, KiB */
	uint32_t t_cost;   /* Argon2id passes */
	uint32_t parallelism;
	uint32_t salt_len; /* bytes, 8..64 */
	uint32_t tag_len;  /* bytes, 16..64 */
};

void wmq_pw_params_default(struct wmq_pw_params *p);
/* INVAL if any parameter is outside what wmq_crypto_argon2id accepts or the
 * salt/tag lengths above. */
WMQ_MUST_USE wmq_err wmq_pw_params_check(const struct wmq_pw_params *p);

struct wmq_pw_verifier {
	enum wmq_pw_scheme scheme;
	struct wmq_argon2id_params argon2; /* WMQ_PW_ARGON2ID */
	uint32_t iterations;               /* WMQ_PW_MOSQ_PBKDF2 */
	uint8_t salt[64];
	size_t salt_len;
	uint8_t hash[64];
	size_t hash_len;
};

/* Parse a stored verifier string (any of the three formats). MALFORMED on
 * bad syntax or encoding, INVAL on an unsupported scheme or out-of-bounds
 * parameters. */
WMQ_MUST_USE wmq_err wmq_pw_verifier_parse(const char *s, size_t len, struct wmq_pw_verifier *out);
/* Write the stored form of |v| (NUL-terminated). LIMIT if cap is too small. */
WMQ_MUST_USE wmq_err wmq_pw_verifier_encode(const struct wmq_pw_verifier *v, char *out, size_t cap);
/* A new Argon2id verifier for |pw| with a fresh random salt. Runs Argon2id
 * (milliseconds: call it on the auth pool). */
WMQ_MUST_USE wmq_err wmq_pw_verifier_create(const struct wmq_pw_params *prm, struct wmq_bytes pw,
					    struct wmq_pw_verifier *out);
/* Plain verification without cache, dummy or counters: *ok set, constant-
 * time comparison. For tools (wardmq_ctl); the broker uses wmq_pw_check(). */
WMQ_MUST_USE wmq_err wmq_pw_verifier_verify(const struct wmq_pw_verifier *v, struct wmq_bytes pw, bool *ok);
/* True if |v| is not Argon2id, or is Argon2id with m, t or tag length below
 * |prm| (parameters are raised on login, never lowered). */
bool wmq_pw_verifier_needs_upgrade(const struct wmq_pw_verifier *v, const struct wmq_pw_params *prm);
void wmq_pw_verifier_wipe(struct wmq_pw_verifier *v);

/* ---- verification context (dummy, counters, cache) ------------------- */

struct wmq_pw_ctx_opts {
	struct wmq_pw_params params; /* new verifiers, upgrades, and the dummy */
	size_t cache_entries;        /* 0 disables the cache; default 10000 */
	uint64_t cache_ttl_ms;       /* default 3600000 (1 h) */
	bool pad_legacy;             /* default true, see the file comment */
};

void wmq_pw_ctx_opts_default(struct wmq_pw_ctx_opts *o);

struct wmq_pw_ctx; /* opaque */

/* Creates the cache key and the dummy verifier (random salt and tag; no
 * password can match it). INVAL on bad params. Ownership: *out to caller. */
WMQ_MUST_USE wmq_err wmq_pw_ctx_new(const struct wmq_pw_ctx_opts *o, struct wmq_pw_ctx **out);
void wmq_pw_ctx_free(struct wmq_pw_ctx *ctx); /* NULL-safe; wipes the key */

struct wmq_pw_outcome {
	bool ok;            /* the password is right */
	bool cache_hit;     /* answered from the cache, no hashing */
	bool needs_upgrade; /* ok, and the stored verifier should be replaced */
	bool upgraded;      /* |upgrade| holds an Argon2id verifier for the same
			     * password with the context's parameters: store it
			     * in place of the old one */
	struct wmq_pw_verifier upgrade;
};

/* Check |password| for |username| against |stored| (NULL when the user does
 * not exist, is disabled, or has no password verifier: the dummy runs and
 * the outcome is "not ok", indistinguishable in cost from a wrong
 * password). |now_ms| is any monotonic clock, used for cache expiry.
 * Returns WMQ_OK with the outcome, or NOMEM/INTERNAL (treat as a failed
 * login). Runs Argon2id: call on the auth pool. */
WMQ_MUST_USE wmq_err wmq_pw_check(struct wmq_pw_ctx *ctx, struct wmq_bytes username,
				  const struct wmq_pw_verifier *stored, struct wmq_bytes password,
				  uint64_t now_ms, struct wmq_pw_outcome *out);
/* Drop every cached verification of |username| (password change, user
 * deleted or disabled, "logout everywhere"). */
void wmq_pw_forget_user(struct wmq_pw_ctx *ctx, struct wmq_bytes username);
void wmq_pw_forget_all(struct wmq_pw_ctx *ctx);

struct wmq_pw_stats {
	uint64_t checks;       /* wmq_pw_check() calls */
	uint64_t argon2_runs;  /* Argon2id computations, real + dummy + upgrades */
	uint64_t dummy_runs;   /* of which against the dummy verifier */
	uint64_t legacy_runs;  /* PBKDF2 / SHA-512 computations */
	uint64_t upgrades;     /* Argon2id verifiers made by upgrades */
	uint64_t cache_hits;
	uint64_t cache_entries; /* currently cached */
};
void wmq_pw_get_stats(struct wmq_pw_ctx *ctx, struct wmq_pw_stats *st);

/* ---- mosquitto_passwd import ------------------------------------------ */

/* Called per well-formed "username:verifier" line. A non-OK return stops the
 * import and is returned by wmq_pw_import_mosquitto(). */
typedef wmq_err (*wmq_pw_import_fn)(void *arg, const char *username, const struct wmq_pw_verifier *v);
/* Called per line that cannot be imported, with "source:line: message". */
typedef void (*wmq_pw_report_fn)(void *arg, const char *where_and_why);

/* Parse a mosquitto password file (|len| bytes of |text|): lines
 * "username:$6$...", "username:$7$..." or "username:$argon2id$...", blank lines and '#' comments
 * skipped, CR/LF endings. Lines that cannot be imported (plain-text
 * passwords, unknown schemes, bad encodings, empty usernames) go to |report|
 * and are counted in *skipped; the rest go to |fn|. Returns WMQ_OK, or the
 * first error |fn| returned. */
WMQ_MUST_USE wmq_err wmq_pw_import_mosquitto(const char *text, size_t len, const char *source,
					     wmq_pw_import_fn fn, wmq_pw_report_fn report, void *arg,
					     size_t *imported, size_t *skipped);

#endif
