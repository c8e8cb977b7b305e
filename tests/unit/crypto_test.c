/* SPDX-License-Identifier: MIT
 * crypto_test.c - SHA-2, HMAC (RFC 4231), PBKDF2-HMAC-SHA512 (published
 * vectors), Argon2id (RFC 9106 §5.3), PHC strings, hex/base64 (RFC 4648 §10),
 * constant-time compare and random. */
#include <string.h>

#include "common/alloc.h"
#include "crypto/argon2id.h"
#include "crypto/crypto.h"
#include "crypto/encode.h"
#include "test.h"

static void check_hex(const uint8_t *got, size_t n, const char *want_hex)
{
	uint8_t want[128];
	size_t wn = test_hex(want_hex, want, sizeof want);
	ASSERT_EQ(wn, n);
	ASSERT_MEMEQ(got, want, n);
}

TEST(sha2_vectors)
{
	uint8_t d[64];
	/* FIPS 180-2 appendix B.1 / C.1: "abc" */
	ASSERT_EQ(wmq_crypto_sha256("abc", 3, d), WMQ_OK);
	check_hex(d, 32, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	ASSERT_EQ(wmq_crypto_sha512("abc", 3, d), WMQ_OK);
	check_hex(d, 64,
		  "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
		  "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
	ASSERT_EQ(wmq_crypto_sha256("", 0, d), WMQ_OK);
	check_hex(d, 32, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	/* multi-part equals one-shot */
	struct wmq_bytes parts[3] = {WMQ_BYTES_STR("a"), WMQ_BYTES_STR(""), WMQ_BYTES_STR("bc")};
	ASSERT_EQ(wmq_crypto_digest(WMQ_MD_SHA256, parts, 3, d), WMQ_OK);
	check_hex(d, 32, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	ASSERT_EQ(wmq_crypto_md_len(WMQ_MD_SHA512), 64);
	ASSERT_EQ(wmq_crypto_digest((enum wmq_md)7, parts, 1, d), WMQ_ERR_INVAL);
}

/* RFC 4231 §4: test cases 1, 2, 3, 4, 6, 7 (case 5 is a truncated output). */
TEST(hmac_rfc4231)
{
	static const struct {
		const char *key, *data, *sha256, *sha512;
	} v[] = {
		{"0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "4869205468657265",
		 "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
		 "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde"
		 "daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854"},
		{"4a656665", "7768617420646f2079612077616e7420666f72206e6f7468696e673f",
		 "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
		 "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
		 "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"},
		{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		 "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
		 "dddddddddddddddddddddddddddddddddddd",
		 "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
		 "fa73b0089d56a284efb0f0756c890be9b1b5dbdd8ee81a3655f83e33b2279d39"
		 "bf3e848279a722c806b485a47e67c807b946a337bee8942674278859e13292fb"},
		{"0102030405060708090a0b0c0d0e0f10111213141516171819",
		 "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd"
		 "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd",
		 "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
		 "b0ba465637458c6990e5a8c5f61d4af7e576d97ff94b872de76f8050361ee3db"
		 "a91ca5c11aa25eb4d679275cc5788063a5f19741120c4f2de2adebeb10a298dd"},
		{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		 "aaaaaa",
		 "54657374205573696e67204c6172676572205468616e20426c6f636b2d53697a"
		 "65204b6579202d2048617368204b6579204669727374",
		 "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
		 "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f352"
		 "6b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598"},
	};
	uint8_t key[160], data[200], mac[64];
	for (size_t i = 0; i < WMQ_ARRAY_LEN(v); i++) {
		size_t kn = test_hex(v[i].key, key, sizeof key);
		size_t dn = test_hex(v[i].data, data, sizeof data);
		struct wmq_bytes b = {data, dn};
		ASSERT_EQ(wmq_crypto_hmac(WMQ_MD_SHA256, key, kn, &b, 1, mac), WMQ_OK);
		check_hex(mac, 32, v[i].sha256);
		ASSERT_EQ(wmq_crypto_hmac(WMQ_MD_SHA512, key, kn, &b, 1, mac), WMQ_OK);
		check_hex(mac, 64, v[i].sha512);
		/* split input gives the same MAC */
		struct wmq_bytes two[2] = {{data, dn / 2}, {data + dn / 2, dn - dn / 2}};
		ASSERT_EQ(wmq_crypto_hmac(WMQ_MD_SHA512, key, kn, two, 2, mac), WMQ_OK);
		check_hex(mac, 64, v[i].sha512);
	}
	/* RFC 4231 test case 7 (SHA-256 only here: long key and long data) */
	static const char data7[] = "This is a test using a larger than block-size key and a larger than "
				    "block-size data. The key needs to be hashed before being used by the "
				    "HMAC algorithm.";
	size_t kn = test_hex(v[4].key, key, sizeof key);
	struct wmq_bytes b7 = {(const uint8_t *)data7, sizeof data7 - 1};
	ASSERT_EQ(wmq_crypto_hmac(WMQ_MD_SHA256, key, kn, &b7, 1, mac), WMQ_OK);
	check_hex(mac, 32, "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
	/* empty key is legal HMAC */
	ASSERT_EQ(wmq_crypto_hmac(WMQ_MD_SHA256, NULL, 0, &b7, 1, mac), WMQ_OK);
}

/* PBKDF2-HMAC-SHA512: the RFC 6070 inputs with SHA-512 (the widely published
 * vectors, e.g. in the Go x/crypto and Python test suites). */
TEST(pbkdf2_sha512_vectors)
{
	static const struct {
		const char *pw, *salt;
		size_t pwlen, saltlen;
		uint32_t iter;
		size_t dklen;
		const char *dk;
	} v[] = {
		{"password", "salt", 8, 4, 1, 64,
		 "867f70cf1ade02cff3752599a3a53dc4af34c7a669815ae5d513554e1c8cf252"
		 "c02d470a285a0501bad999bfe943c08f050235d7d68b1da55e63f73b60a57fce"},
		{"password", "salt", 8, 4, 2, 64,
		 "e1d9c16aa681708a45f5c7c4e215ceb66e011a2e9f0040713f18aefdb866d53c"
		 "f76cab2868a39b9f7840edce4fef5a82be67335c77a6068e04112754f27ccf4e"},
		{"password", "salt", 8, 4, 4096, 64,
		 "d197b1b33db0143e018b12f3d1d1479e6cdebdcc97c5c0f87f6902e072f457b5"
		 "143f30602641b3d55cd335988cb36b84376060ecd532e039b742a239434af2d5"},
		{"passwordPASSWORDpassword", "saltSALTsaltSALTsaltSALTsaltSALTsalt", 24, 36, 4096, 64,
		 "8c0511f4c6e597c6ac6315d8f0362e225f3c501495ba23b868c005174dc4ee71"
		 "115b59f9e60cd9532fa33e0f75aefe30225c583a186cd82bd4daea9724a3d3b8"},
		{"pass\0word", "sa\0lt", 9, 5, 4096, 16, "9d9e9c4cd21fe4be24d5b8244c759665"},
	};
	uint8_t dk[64];
	for (size_t i = 0; i < WMQ_ARRAY_LEN(v); i++) {
		ASSERT_EQ(wmq_crypto_pbkdf2(WMQ_MD_SHA512, v[i].pw, v[i].pwlen, v[i].salt, v[i].saltlen,
					    v[i].iter, dk, v[i].dklen),
			  WMQ_OK);
		check_hex(dk, v[i].dklen, v[i].dk);
	}
	ASSERT_EQ(wmq_crypto_pbkdf2(WMQ_MD_SHA512, "p", 1, "s", 1, 0, dk, 64), WMQ_ERR_INVAL);
	/* RFC 7677 SCRAM-SHA-256 uses PBKDF2-SHA256; RFC 6070 style check */
	ASSERT_EQ(wmq_crypto_pbkdf2(WMQ_MD_SHA256, "password", 8, "salt", 4, 1, dk, 32), WMQ_OK);
	check_hex(dk, 32, "120fb6cffcf8b32c43e7225256c4f837a86548c92ccc35480805987cb70be17b");
}

/* RFC 9106 §5.3: Argon2id, version 0x13, m = 32 KiB, t = 3, p = 4,
 * P = 32 x 0x01, S = 16 x 0x02, K = 8 x 0x03, X = 12 x 0x04, T = 32 bytes. */
TEST(argon2id_rfc9106)
{
	uint8_t pw[32], salt[16], secret[8], ad[12], tag[32];
	memset(pw, 1, sizeof pw);
	memset(salt, 2, sizeof salt);
	memset(secret, 3, sizeof secret);
	memset(ad, 4, sizeof ad);
	struct wmq_argon2id_params prm = {.m_kib = 32, .t = 3, .p = 4};
	ASSERT_EQ(wmq_crypto_argon2id(&prm, pw, sizeof pw, salt, sizeof salt, secret, sizeof secret, ad,
				      sizeof ad, tag, sizeof tag),
		  WMQ_OK);
	check_hex(tag, 32, "0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659");
	/* out-of-bounds parameters are refused before any work */
	struct wmq_argon2id_params bad = {.m_kib = 16, .t = 1, .p = 4}; /* m < 8p */
	ASSERT_EQ(wmq_crypto_argon2id(&bad, pw, 1, salt, 16, NULL, 0, NULL, 0, tag, 32), WMQ_ERR_INVAL);
	bad = (struct wmq_argon2id_params){.m_kib = 64, .t = 0, .p = 1};
	ASSERT_EQ(wmq_crypto_argon2id(&bad, pw, 1, salt, 16, NULL, 0, NULL, 0, tag, 32), WMQ_ERR_INVAL);
	ASSERT_EQ(wmq_crypto_argon2id(&prm, pw, 1, salt, 4, NULL, 0, NULL, 0, tag, 32), WMQ_ERR_INVAL);
	/* the matrix allocation goes through wmq_malloc: NOMEM is reported */
	wmq_alloc_fail_after(1);
	ASSERT_EQ(wmq_crypto_argon2id(&prm, pw, 1, salt, 16, NULL, 0, NULL, 0, tag, 32), WMQ_ERR_NOMEM);
	wmq_alloc_fail_after(0);
}

TEST(argon2id_phc)
{
	/* produced by the reference implementation (libargon2
	 * argon2id_hash_encoded, t=2, m=64, p=1, "password", "somesalt") */
	static const char ref[] =
		"$argon2id$v=19$m=64,t=2,p=1$c29tZXNhbHQ$FqGkmHNGCd0BRW2kBt6fPZ2pPmyGwwChL8FGUhTOSSI";
	struct wmq_argon2id_phc phc;
	ASSERT_EQ(wmq_crypto_argon2id_phc_parse(ref, strlen(ref), &phc), WMQ_OK);
	ASSERT_EQ(phc.prm.m_kib, 64);
	ASSERT_EQ(phc.prm.t, 2);
	ASSERT_EQ(phc.prm.p, 1);
	ASSERT_EQ(phc.salt_len, 8);
	ASSERT_MEMEQ(phc.salt, "somesalt", 8);
	ASSERT_EQ(phc.hash_len, 32);
	bool ok = false;
	ASSERT_EQ(wmq_crypto_argon2id_verify(&phc, "password", 8, &ok), WMQ_OK);
	ASSERT(ok);
	ASSERT_EQ(wmq_crypto_argon2id_verify(&phc, "passwore", 8, &ok), WMQ_OK);
	ASSERT(!ok);
	char enc[WMQ_ARGON2_PHC_MAX];
	ASSERT_EQ(wmq_crypto_argon2id_phc_encode(&phc, enc, sizeof enc), WMQ_OK);
	ASSERT_STREQ(enc, ref);
	ASSERT_EQ(wmq_crypto_argon2id_phc_encode(&phc, enc, 20), WMQ_ERR_LIMIT);
	ASSERT_EQ(wmq_crypto_argon2id_phc_encode(&phc, enc, strlen(ref)), WMQ_ERR_LIMIT);
	ASSERT_EQ(wmq_crypto_argon2id_phc_encode(&phc, enc, strlen(ref) + 1), WMQ_OK);

	static const struct {
		const char *s;
		wmq_err want;
	} bad[] = {
		{"", WMQ_ERR_MALFORMED},
		{"$6$abc$def", WMQ_ERR_MALFORMED},
		{"$argon2i$v=19$m=64,t=2,p=1$c29tZXNhbHQ$FqGkmHNGCd0BRW2kBt6fPZ2pPmyGwwChL8FGUhTOSSI", WMQ_ERR_INVAL},
		{"$argon2id$v=16$m=64,t=2,p=1$c29tZXNhbHQ$FqGkmHNGCd0BRW2kBt6fPZ2pPmyGwwChL8FGUhTOSSI", WMQ_ERR_INVAL},
		{"$argon2id$m=64,t=2,p=1$c29tZXNhbHQ$FqGkmHNGCd0BRW2kBt6fPZ2pPmyGwwChL8FGUhTOSSI", WMQ_ERR_INVAL},
		{"$argon2id$v=19$t=2,m=64,p=1$c29tZXNhbHQ$FqGkmHNGCd0BRW2kBt6fPZ2pPmyGwwChL8FGUhTOSSI", WMQ_ERR_MALFORMED},
		{"$argon2id$v=19$m=064,t=2,p=1$c29tZXNhbHQ$FqGkmHNGCd0BRW2kBt6fPZ2pPmyGwwChL8FGUhTOSSI", WMQ_ERR_MALFORMED},
		{"$argon2id$v=19$m=64,t=2,p=1$c29tZXNhbHQ=$FqGkmHNGCd0BRW2kBt6fPZ2pPmyGwwChL8FGUhTOSSI", WMQ_ERR_MALFORMED},
		{"$argon2id$v=19$m=64,t=2,p=1$c29tZXNhbHQ$FqGkmHNGCd0BRW2kBt6fPZ2pPmyGwwChL8FGUhTOSSI$", WMQ_ERR_MALFORMED},
		{"$argon2id$v=19$m=64,t=2,p=1$c29tZXNhbHQ", WMQ_ERR_MALFORMED},
		{"$argon2id$v=19$m=64,t=2,p=1$c2!tZXNhbHQ$FqGkmHNGCd0BRW2kBt6fPZ2pPmyGwwChL8FGUhTOSSI", WMQ_ERR_MALFORMED},
		{"$argon2id$v=19$m=4294967295,t=2,p=1$c29tZXNhbHQ$FqGkmHNGCd0BRW2kBt6fPZ2pPmyGwwChL8FGUhTOSSI", WMQ_ERR_INVAL},
		{"$argon2id$v=19$m=4294967296,t=2,p=1$c29tZXNhbHQ$FqGkmHNGCd0BRW2kBt6fPZ2pPmyGwwChL8FGUhTOSSI", WMQ_ERR_MALFORMED},
		{"$argon2id$v=19$m=64,t=0,p=1$c29tZXNhbHQ$FqGkmHNGCd0BRW2kBt6fPZ2pPmyGwwChL8FGUhTOSSI", WMQ_ERR_INVAL},
		{"$argon2id$v=19$m=64,t=2,p=1$c2FsdA$FqGkmHNGCd0BRW2kBt6fPZ2pPmyGwwChL8FGUhTOSSI", WMQ_ERR_INVAL},
		{"$argon2id$v=19$m=64,t=2,p=1,keyid=x$c29tZXNhbHQ$FqGkmHNGCd0BRW2kBt6fPZ2pPmyGwwChL8FGUhTOSSI", WMQ_ERR_MALFORMED},
	};
	for (size_t i = 0; i < WMQ_ARRAY_LEN(bad); i++) {
		wmq_err got = wmq_crypto_argon2id_phc_parse(bad[i].s, strlen(bad[i].s), &phc);
		if (got != bad[i].want)
			TEST_FAIL_("case %zu (%s): got %d want %d", i, bad[i].s, got, bad[i].want);
	}
}

/* RFC 4648 §10 test vectors, both paddings, and strictness. */
TEST(base64_hex)
{
	static const char *plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
	static const char *padded[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
	static const char *bare[] = {"", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy"};
	char out[32];
	uint8_t raw[32];
	size_t n;
	for (size_t i = 0; i < WMQ_ARRAY_LEN(plain); i++) {
		size_t len = strlen(plain[i]);
		ASSERT_EQ(wmq_crypto_b64_encode((const uint8_t *)plain[i], len, true, out, sizeof out), WMQ_OK);
		ASSERT_STREQ(out, padded[i]);
		ASSERT_EQ(wmq_crypto_b64_len(len, true), strlen(padded[i]));
		ASSERT_EQ(wmq_crypto_b64_encode((const uint8_t *)plain[i], len, false, out, sizeof out), WMQ_OK);
		ASSERT_STREQ(out, bare[i]);
		ASSERT_EQ(wmq_crypto_b64_len(len, false), strlen(bare[i]));
		ASSERT_EQ(wmq_crypto_b64_decode(padded[i], strlen(padded[i]), raw, sizeof raw, &n), WMQ_OK);
		ASSERT_EQ(n, len);
		ASSERT_MEMEQ(raw, plain[i], n);
		ASSERT_EQ(wmq_crypto_b64_decode(bare[i], strlen(bare[i]), raw, sizeof raw, &n), WMQ_OK);
		ASSERT_EQ(n, len);
		ASSERT_MEMEQ(raw, plain[i], n);
	}
	static const char *bad[] = {"Z", "Zg=", "Zg=a", "Zh==", "Zm9=", "Zm 9v", "Zm9v\n", "=", "Zg===",
				    "Z===", "Zm9vYg=", "Zm-v"};
	for (size_t i = 0; i < WMQ_ARRAY_LEN(bad); i++) {
		if (wmq_crypto_b64_decode(bad[i], strlen(bad[i]), raw, sizeof raw, &n) != WMQ_ERR_MALFORMED)
			TEST_FAIL_("accepted bad base64 \"%s\"", bad[i]);
	}
	ASSERT_EQ(wmq_crypto_b64_decode("Zm9vYmFy", 8, raw, 5, &n), WMQ_ERR_LIMIT);
	ASSERT_EQ(wmq_crypto_b64_encode((const uint8_t *)"foo", 3, true, out, 4), WMQ_ERR_LIMIT);
	ASSERT_EQ(wmq_crypto_b64_encode((const uint8_t *)"foo", 3, true, out, 5), WMQ_OK);

	uint8_t b[] = {0x00, 0x7f, 0x80, 0xff, 0xab};
	ASSERT_EQ(wmq_crypto_hex_encode(b, sizeof b, out, sizeof out), WMQ_OK);
	ASSERT_STREQ(out, "007f80ffab");
	ASSERT_EQ(wmq_crypto_hex_encode(b, sizeof b, out, 10), WMQ_ERR_LIMIT);
	ASSERT_EQ(wmq_crypto_hex_decode("007F80FFab", 10, raw, sizeof raw, &n), WMQ_OK);
	ASSERT_EQ(n, 5);
	ASSERT_MEMEQ(raw, b, 5);
	ASSERT_EQ(wmq_crypto_hex_decode("abc", 3, raw, sizeof raw, &n), WMQ_ERR_MALFORMED);
	ASSERT_EQ(wmq_crypto_hex_decode("zz", 2, raw, sizeof raw, &n), WMQ_ERR_MALFORMED);
	ASSERT_EQ(wmq_crypto_hex_decode("0011", 4, raw, 1, &n), WMQ_ERR_LIMIT);
}

TEST(compare_random_wipe)
{
	uint8_t a[32], b[32];
	ASSERT_EQ(wmq_crypto_random(a, sizeof a), WMQ_OK);
	ASSERT_EQ(wmq_crypto_random(b, sizeof b), WMQ_OK);
	ASSERT(!wmq_crypto_memeq(a, b, sizeof a)); /* 2^-256 */
	memcpy(b, a, sizeof a);
	ASSERT(wmq_crypto_memeq(a, b, sizeof a));
	b[31] ^= 1;
	ASSERT(!wmq_crypto_memeq(a, b, sizeof a));
	ASSERT(wmq_crypto_memeq(a, b, 0));
	wmq_crypto_wipe(a, sizeof a);
	uint8_t z[32] = {0};
	ASSERT_MEMEQ(a, z, 32);
	wmq_crypto_wipe(NULL, 0);
}

static const struct wmq_test tests[] = {
	{"sha2_vectors", sha2_vectors},
	{"hmac_rfc4231", hmac_rfc4231},
	{"pbkdf2_sha512_vectors", pbkdf2_sha512_vectors},
	{"argon2id_rfc9106", argon2id_rfc9106},
	{"argon2id_phc", argon2id_phc},
	{"base64_hex", base64_hex},
	{"compare_random_wipe", compare_random_wipe},
};
WMQ_TEST_MAIN(tests)
