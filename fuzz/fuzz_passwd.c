/* SPDX-License-Identifier: MIT
 * fuzz_passwd.c - libFuzzer target for password verifier parsing and the
 * mosquitto password-file importer.
 * Role: the input is used twice: (1) as one stored verifier string for
 * wmq_pw_verifier_parse(); a parsed verifier must encode, and the encoding
 * must parse to the same verifier; (2) as a mosquitto password file for
 * wmq_pw_import_mosquitto(), with every imported verifier checked the same
 * way. A fuzzed verifier may carry huge Argon2id or PBKDF2 parameters, so
 * wmq_pw_verifier_verify() runs only when they are tiny (Argon2id m <= 64
 * KiB, t <= 2, p <= 2; PBKDF2 <= 200 iterations; salted SHA-512 always);
 * a random hash must then not match the password "x" in practice, so a
 * match is reported as a bug. Any difference aborts.
 * Threading: single-threaded. Ownership: verifiers are stack values.
 * Corpus: fuzz/corpus/passwd/. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "security/password.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void roundtrip(const struct wmq_pw_verifier *v)
{
	char enc[WMQ_PW_ENCODED_MAX];
	struct wmq_pw_verifier w;
	if (wmq_pw_verifier_encode(v, enc, sizeof enc) != WMQ_OK) {
		fprintf(stderr, "parsed verifier does not encode\n");
		abort();
	}
	if (wmq_pw_verifier_parse(enc, strlen(enc), &w) != WMQ_OK) {
		fprintf(stderr, "encoding does not parse: %s\n", enc);
		abort();
	}
	if (w.scheme != v->scheme || w.salt_len != v->salt_len || w.hash_len != v->hash_len ||
	    memcmp(w.salt, v->salt, v->salt_len) != 0 || memcmp(w.hash, v->hash, v->hash_len) != 0 ||
	    (v->scheme == WMQ_PW_MOSQ_PBKDF2 && w.iterations != v->iterations) ||
	    (v->scheme == WMQ_PW_ARGON2ID &&
	     (w.argon2.m_kib != v->argon2.m_kib || w.argon2.t != v->argon2.t ||
	      w.argon2.p != v->argon2.p))) {
		fprintf(stderr, "round trip differs: %s\n", enc);
		abort();
	}
	wmq_pw_verifier_wipe(&w);
}

static bool cheap(const struct wmq_pw_verifier *v)
{
	switch (v->scheme) {
	case WMQ_PW_ARGON2ID:
		return v->argon2.m_kib <= 64 && v->argon2.t <= 2 && v->argon2.p <= 2;
	case WMQ_PW_MOSQ_PBKDF2:
		return v->iterations <= 200;
	case WMQ_PW_MOSQ_SHA512:
		return true;
	}
	return false;
}

static void try_verify(const struct wmq_pw_verifier *v)
{
	bool ok = true;
	static const uint8_t pw[] = {'x'};
	if (!cheap(v))
		return;
	wmq_err rc = wmq_pw_verifier_verify(v, (struct wmq_bytes){pw, sizeof pw}, &ok);
	if (rc == WMQ_OK && ok && v->hash_len >= 8) {
		fprintf(stderr, "fuzzed verifier matched a password\n");
		abort();
	}
}

static wmq_err on_user(void *arg, const char *username, const struct wmq_pw_verifier *v)
{
	size_t *n = arg;
	if (!username || !username[0])
		abort();
	roundtrip(v);
	try_verify(v);
	(*n)++;
	return WMQ_OK;
}

static void on_report(void *arg, const char *where_and_why)
{
	(void)arg;
	if (!where_and_why || !where_and_why[0])
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wmq_pw_verifier v;
	if (wmq_pw_verifier_parse((const char *)data, size, &v) == WMQ_OK) {
		roundtrip(&v);
		try_verify(&v);
		wmq_pw_verifier_wipe(&v);
	}
	size_t seen = 0, imported = 0, skipped = 0;
	if (wmq_pw_import_mosquitto((const char *)data, size, "fuzz.passwd", on_user, on_report, &seen, &imported,
				    &skipped) != WMQ_OK)
		abort(); /* on_user never fails, so neither may the import */
	if (seen != imported) {
		fprintf(stderr, "imported %zu but called back %zu times\n", imported, seen);
		abort();
	}
	return 0;
}
