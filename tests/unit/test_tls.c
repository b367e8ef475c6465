/* SPDX-License-Identifier: MIT */
/* Unit tests for src/tls: the managed CA, leaves, the cache, the bundle. */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "tls/certgen.h"
#include "tls/mitm.h"
#include "util/limits.h"

struct tls_fixture {
	char dir[64];
	char proxy[96];
	char cert[128];
	char key[128];
};

static int
tls_setup(void **state)
{
	struct tls_fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	(void)snprintf(f->dir, sizeof(f->dir), "/tmp/paddock-tls-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	(void)snprintf(f->proxy, sizeof(f->proxy), "%s/home/proxy", f->dir);
	(void)snprintf(f->cert, sizeof(f->cert), "%s/ca.pem", f->proxy);
	(void)snprintf(f->key, sizeof(f->key), "%s/ca.key", f->proxy);
	*state = f;
	return 0;
}

static int
tls_rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int
tls_teardown(void **state)
{
	struct tls_fixture *f = *state;

	assert_int_equal(nftw(f->dir, tls_rm_cb, 16, FTW_DEPTH | FTW_PHYS), 0);
	free(f);
	return 0;
}

static struct certgen_ca *
tls_ca_new(const struct tls_fixture *f)
{
	struct certgen_ca *ca = NULL;
	struct certgen_err err = { 0 };

	assert_int_equal(certgen_ca_load(f->proxy, true, &ca, &err), 1);
	assert_non_null(ca);
	return ca;
}

static mode_t
tls_mode(const char *path)
{
	struct stat st;

	assert_int_equal(lstat(path, &st), 0);
	return st.st_mode & 07777;
}

static void
test_tls_ca_is_created_then_loaded(void **state)
{
	struct tls_fixture *f = *state;
	struct certgen_ca *ca = tls_ca_new(f), *again = NULL;
	struct certgen_err err = { 0 };
	char fp1[128], fp2[128];

	assert_int_equal(tls_mode(f->key), 0600);
	assert_int_equal(tls_mode(f->cert), 0644);
	assert_int_equal(tls_mode(f->proxy), 0700);
	certgen_fingerprint(certgen_ca_get_cert(ca), fp1, sizeof(fp1));
	assert_int_equal(strlen(fp1), 32 * 3 - 1);
	assert_int_equal(certgen_ca_load(f->proxy, true, &again, &err), 0);
	certgen_fingerprint(certgen_ca_get_cert(again), fp2, sizeof(fp2));
	assert_string_equal(fp1, fp2);
	certgen_ca_free(again);
	certgen_ca_free(ca);
}

static void
test_tls_ca_has_sane_fields(void **state)
{
	struct tls_fixture *f = *state;
	struct certgen_ca *ca = tls_ca_new(f);
	X509 *x = certgen_ca_get_cert(ca);
	BASIC_CONSTRAINTS *bc;
	EVP_PKEY *pub = X509_get0_pubkey(x);
	time_t now = time(NULL);
	int day, sec;

	bc = X509_get_ext_d2i(x, NID_basic_constraints, NULL, NULL);
	assert_non_null(bc);
	assert_true(bc->ca);
	BASIC_CONSTRAINTS_free(bc);
	assert_int_equal(X509_get_key_usage(x), KU_KEY_CERT_SIGN | KU_CRL_SIGN);
	assert_non_null(X509_get0_subject_key_id(x));
	assert_true(EVP_PKEY_is_a(pub, "EC"));
	assert_int_equal(EVP_PKEY_get_bits(pub), 256);
	assert_int_equal(X509_get_signature_nid(x), NID_ecdsa_with_SHA256);
	/* Valid now, from at most a few hours ago, for about ten years. */
	assert_true(X509_cmp_time(X509_get0_notBefore(x), &now) < 0);
	assert_true(ASN1_TIME_diff(&day, &sec, X509_get0_notBefore(x),
	    X509_get0_notAfter(x)));
	assert_in_range(day, LIMIT_MITM_CA_DAYS, LIMIT_MITM_CA_DAYS + 1);
	certgen_ca_free(ca);
}

static void
test_tls_ca_serials_are_random(void **state)
{
	struct tls_fixture *f = *state;
	struct certgen_ca *a = tls_ca_new(f), *b = NULL;
	struct certgen_err err = { 0 };

	assert_int_equal(certgen_ca_rotate(f->proxy, &b, &err), 0);
	assert_int_not_equal(ASN1_INTEGER_cmp(X509_get0_serialNumber(
						  certgen_ca_get_cert(a)),
				 X509_get0_serialNumber(
				     certgen_ca_get_cert(b))),
	    0);
	certgen_ca_free(a);
	certgen_ca_free(b);
}

static void
test_tls_ca_lone_file_is_an_error(void **state)
{
	struct tls_fixture *f = *state;
	struct certgen_ca *ca = tls_ca_new(f);
	struct certgen_err err = { 0 };

	ca = certgen_ca_free(ca);
	assert_int_equal(unlink(f->key), 0);
	assert_int_equal(certgen_ca_load(f->proxy, true, &ca, &err), -ENOENT);
	assert_null(ca);
	assert_non_null(strstr(err.text, "both managed CA files must exist"));
	assert_non_null(strstr(err.text, "ca.key is missing"));
	/* Nothing was created in its place. */
	assert_int_equal(access(f->key, F_OK), -1);
}

static void
test_tls_ca_key_mode_and_type_are_checked(void **state)
{
	struct tls_fixture *f = *state;
	struct certgen_ca *ca = tls_ca_new(f);
	struct certgen_err err = { 0 };
	char moved[160];

	ca = certgen_ca_free(ca);
	assert_int_equal(chmod(f->key, 0640), 0);
	assert_int_equal(certgen_ca_load(f->proxy, true, &ca, &err), -EPERM);
	assert_non_null(strstr(err.text, "mode=640; expected <= 600"));
	assert_non_null(strstr(err.text, f->key));

	/* A symlink to a good key is refused too. */
	assert_int_equal(chmod(f->key, 0600), 0);
	(void)snprintf(moved, sizeof(moved), "%s/real.key", f->proxy);
	assert_int_equal(rename(f->key, moved), 0);
	assert_int_equal(symlink(moved, f->key), 0);
	assert_int_equal(certgen_ca_load(f->proxy, true, &ca, &err), -ELOOP);
	assert_non_null(strstr(err.text, "must not be a symlink"));

	/* A FIFO is refused without waiting for a writer. */
	assert_int_equal(unlink(f->key), 0);
	assert_int_equal(mkfifo(f->key, 0600), 0);
	assert_int_equal(certgen_ca_load(f->proxy, true, &ca, &err), -EINVAL);
	assert_non_null(strstr(err.text, "not a regular file"));
	assert_null(ca);
}

static void
test_tls_ca_mismatched_pair_is_refused(void **state)
{
	struct tls_fixture *f = *state;
	struct certgen_ca *ca = tls_ca_new(f), *other = NULL;
	struct certgen_err err = { 0 };
	char keep[160];

	ca = certgen_ca_free(ca);
	(void)snprintf(keep, sizeof(keep), "%s/old.key", f->dir);
	assert_int_equal(rename(f->key, keep), 0);
	assert_int_equal(unlink(f->cert), 0);
	other = tls_ca_new(f); /* a second CA, then the first one's key */
	other = certgen_ca_free(other);
	assert_int_equal(unlink(f->key), 0);
	assert_int_equal(rename(keep, f->key), 0);
	assert_int_equal(certgen_ca_load(f->proxy, true, &ca, &err), -EINVAL);
	assert_non_null(strstr(err.text, "does not hold the key of"));
}

static void
test_tls_ca_rotate_keeps_old_files(void **state)
{
	struct tls_fixture *f = *state;
	struct certgen_ca *ca = tls_ca_new(f), *fresh = NULL;
	struct certgen_err err = { 0 };
	char fp1[128], fp2[128], suffix[32], path[192];
	struct tm tm;

	certgen_fingerprint(certgen_ca_get_cert(ca), fp1, sizeof(fp1));
	assert_int_equal(ASN1_TIME_to_tm(X509_get0_notBefore(
					     certgen_ca_get_cert(ca)),
			     &tm),
	    1);
	assert_true(strftime(suffix, sizeof(suffix), "%Y%m%dT%H%M%SZ", &tm));
	assert_int_equal(certgen_ca_rotate(f->proxy, &fresh, &err), 0);
	certgen_fingerprint(certgen_ca_get_cert(fresh), fp2, sizeof(fp2));
	assert_string_not_equal(fp1, fp2);
	(void)snprintf(path, sizeof(path), "%s.%s", f->key, suffix);
	assert_int_equal(tls_mode(path), 0600);
	(void)snprintf(path, sizeof(path), "%s.%s", f->cert, suffix);
	assert_int_equal(tls_mode(path), 0644);
	certgen_ca_free(ca);
	certgen_ca_free(fresh);
}

static void
test_tls_san_parse_classifies_and_refuses(void **state)
{
	struct certgen_san san;
	struct certgen_err err = { 0 };
	char longname[300];

	(void)state;
	assert_int_equal(certgen_san_parse("example.com", 11, &san, &err), 0);
	assert_int_equal(san.kind, CERTGEN_SAN_DNS);
	assert_int_equal(certgen_san_parse("10.0.0.1", 8, &san, &err), 0);
	assert_int_equal(san.kind, CERTGEN_SAN_IPV4);
	assert_memory_equal(san.addr, "\x0a\x00\x00\x01", 4);
	assert_int_equal(certgen_san_parse("2001:db8::1", 11, &san, &err), 0);
	assert_int_equal(san.kind, CERTGEN_SAN_IPV6);
	assert_int_equal(certgen_san_parse("a_b.example", 11, &san, &err), 0);
	static const char *const bad[] = { "*.example.com", "a..b", ".a", "a.",
		"-a.b", "a-.b", "A.b", "a b", "a\nb", "[::1]", "" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(certgen_san_parse(bad[i], strlen(bad[i]), &san,
				     &err),
		    -EINVAL);
	assert_int_equal(certgen_san_parse("a\0b", 3, &san, &err), -EINVAL);
	memset(longname, 'a', sizeof(longname));
	longname[63] = '.';
	assert_int_equal(certgen_san_parse(longname, 64 + 63, &san, &err), 0);
	assert_int_equal(certgen_san_parse(longname, 254, &san, &err), -EINVAL);
}

static void
tls_verify_strict(X509 *ca, X509 *leaf, const char *host, bool ip)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	X509_VERIFY_PARAM *param;

	assert_non_null(store);
	assert_non_null(ctx);
	assert_int_equal(X509_STORE_add_cert(store, ca), 1);
	assert_int_equal(X509_STORE_CTX_init(ctx, store, leaf, NULL), 1);
	param = X509_STORE_CTX_get0_param(ctx);
	/* What Python 3.13's VERIFY_X509_STRICT asks of a chain. */
	X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_X509_STRICT);
	assert_int_equal(X509_VERIFY_PARAM_set_purpose(param,
			     X509_PURPOSE_SSL_SERVER),
	    1);
	if (ip)
		assert_int_equal(X509_VERIFY_PARAM_set1_ip_asc(param, host), 1);
	else
		assert_int_equal(X509_VERIFY_PARAM_set1_host(param, host, 0),
		    1);
	if (X509_verify_cert(ctx) != 1)
		fail_msg("leaf for %s does not verify: %s", host,
		    X509_verify_cert_error_string(
			X509_STORE_CTX_get_error(ctx)));
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
}

static void
test_tls_leaf_fields_verify_strictly(void **state)
{
	struct tls_fixture *f = *state;
	struct certgen_ca *ca = tls_ca_new(f);
	EVP_PKEY *key = certgen_key_new();
	struct certgen_san san;
	struct certgen_err err = { 0 };
	time_t now = time(NULL);
	const ASN1_OCTET_STRING *aki;
	X509 *leaf;
	int day, sec;

	assert_non_null(key);
	assert_int_equal(certgen_san_parse("api.example.com", 15, &san, &err),
	    0);
	leaf = certgen_leaf_new(ca, key, &san, now, &err);
	assert_non_null(leaf);
	tls_verify_strict(certgen_ca_get_cert(ca), leaf, "api.example.com",
	    false);
	assert_int_equal(X509_check_host(leaf, "other.example.com", 0, 0, NULL),
	    0);
	assert_true(X509_get_extended_key_usage(leaf) & XKU_SSL_SERVER);
	assert_int_equal(X509_get_key_usage(leaf), KU_DIGITAL_SIGNATURE);
	aki = X509_get0_authority_key_id(leaf);
	assert_non_null(aki);
	assert_int_equal(ASN1_OCTET_STRING_cmp(aki,
			     X509_get0_subject_key_id(certgen_ca_get_cert(ca))),
	    0);
	assert_non_null(X509_get0_subject_key_id(leaf));
	assert_true(X509_cmp_time(X509_get0_notBefore(leaf), &now) < 0);
	assert_true(ASN1_TIME_diff(&day, &sec, X509_get0_notBefore(leaf),
	    X509_get0_notAfter(leaf)));
	assert_int_equal(day * 86400 + sec,
	    LIMIT_MITM_LEAF_DAYS * 86400 + LIMIT_MITM_BACKDATE_S);
	X509_free(leaf);

	assert_int_equal(certgen_san_parse("192.0.2.7", 9, &san, &err), 0);
	leaf = certgen_leaf_new(ca, key, &san, now, &err);
	assert_non_null(leaf);
	tls_verify_strict(certgen_ca_get_cert(ca), leaf, "192.0.2.7", true);
	X509_free(leaf);
	assert_int_equal(certgen_san_parse("::1", 3, &san, &err), 0);
	leaf = certgen_leaf_new(ca, key, &san, now, &err);
	assert_non_null(leaf);
	tls_verify_strict(certgen_ca_get_cert(ca), leaf, "::1", true);
	X509_free(leaf);
	EVP_PKEY_free(key);
	certgen_ca_free(ca);
}

static void
test_tls_cache_hits_evicts_and_renews(void **state)
{
	struct tls_fixture *f = *state;
	struct certgen_err err = { 0 };
	struct mitm_certs *m = mitm_certs_new(tls_ca_new(f), 2, &err);
	struct mitm_cert_stats st;
	time_t now = time(NULL);
	X509 *a = NULL, *b = NULL, *c = NULL;

	assert_non_null(m);
	assert_int_equal(mitm_certs_leaf(m, "a.test", now, &a, &err), 0);
	assert_int_equal(mitm_certs_leaf(m, "a.test", now, &b, &err), 0);
	assert_ptr_equal(a, b); /* the same certificate: no new signature */
	X509_free(b);
	mitm_certs_stats(m, &st);
	assert_int_equal(st.hits, 1);
	assert_int_equal(st.misses, 1);

	/* Capacity 2: b.test and c.test push a.test out. */
	assert_int_equal(mitm_certs_leaf(m, "b.test", now, &b, &err), 0);
	assert_int_equal(mitm_certs_leaf(m, "c.test", now, &c, &err), 0);
	X509_free(b);
	X509_free(c);
	mitm_certs_stats(m, &st);
	assert_int_equal(st.entries, 2);
	assert_int_equal(st.evictions, 1);
	assert_int_equal(mitm_certs_leaf(m, "a.test", now, &b, &err), 0);
	assert_ptr_not_equal(a, b);
	X509_free(b);

	/* Close to its end, a cached leaf is minted anew. */
	now += (LIMIT_MITM_LEAF_DAYS * 86400) - LIMIT_MITM_RENEW_S + 1;
	assert_int_equal(mitm_certs_leaf(m, "c.test", now, &b, &err), 0);
	mitm_certs_stats(m, &st);
	assert_int_equal(st.misses, 5);
	assert_true(X509_cmp_time(X509_get0_notAfter(b), &now) > 0);
	X509_free(b);
	X509_free(a);

	assert_int_equal(mitm_certs_leaf(m, "*.test", now, &b, &err), -EINVAL);
	mitm_certs_free(m);
}

static char *
tls_slurp(const char *path, size_t *ret_len)
{
	FILE *fp = fopen(path, "re");
	char *data = calloc(1, 1 << 20);
	size_t n;

	assert_non_null(fp);
	assert_non_null(data);
	n = fread(data, 1, (1 << 20) - 1, fp);
	(void)fclose(fp);
	*ret_len = n;
	return data;
}

static void
test_tls_bundle_is_roots_then_ca_and_immutable(void **state)
{
	struct tls_fixture *f = *state;
	struct certgen_ca *ca = tls_ca_new(f);
	struct certgen_err err = { 0 };
	char roots[160], *path = NULL, *again = NULL, *data, *pem;
	size_t len, pemlen;
	FILE *fp;

	(void)snprintf(roots, sizeof(roots), "%s/roots.pem", f->dir);
	fp = fopen(roots, "we");
	assert_non_null(fp);
	/* No final newline: the bundle must still split the PEMs. */
	assert_true(fputs("-----BEGIN CERTIFICATE-----\nAAAA\n"
			  "-----END CERTIFICATE-----",
			fp) >= 0);
	assert_int_equal(fclose(fp), 0);

	assert_int_equal(mitm_bundle_make(f->proxy, roots, ca, &path, &err), 0);
	assert_non_null(strstr(path, "/ca-bundle-"));
	assert_int_equal(tls_mode(path), 0644);
	data = tls_slurp(path, &len);
	pem = certgen_ca_pem(ca, &pemlen);
	assert_true(len > pemlen);
	assert_memory_equal(data + len - pemlen, pem, pemlen);
	assert_true(strncmp(data,
			"-----BEGIN CERTIFICATE-----\nAAAA\n"
			"-----END CERTIFICATE-----\n",
			55) == 0);

	/* The same inputs name the same file, which is reused. */
	assert_int_equal(mitm_bundle_make(f->proxy, roots, ca, &again, &err),
	    0);
	assert_string_equal(path, again);
	free(again);

	/* A file of that name with other bytes is never trusted. */
	assert_int_equal(chmod(path, 0644), 0);
	fp = fopen(path, "ae");
	assert_non_null(fp);
	assert_true(fputs("tampered\n", fp) >= 0);
	assert_int_equal(fclose(fp), 0);
	again = NULL;
	assert_int_equal(mitm_bundle_make(f->proxy, roots, ca, &again, &err),
	    -EEXIST);
	assert_null(again);
	assert_non_null(strstr(err.text, "exists with other contents"));

	/* A roots file that is not a regular file is refused. */
	assert_int_equal(mitm_bundle_make(f->proxy, f->dir, ca, &again, &err),
	    -EINVAL);
	free(data);
	free(pem);
	free(path);
	certgen_ca_free(ca);
}

static void
test_tls_client_ssl_refuses_bad_hosts(void **state)
{
	struct tls_fixture *f = *state;
	struct certgen_err err = { 0 };
	struct mitm_certs *m = mitm_certs_new(tls_ca_new(f), 0, &err);
	SSL *ssl;
	char why[256];

	assert_non_null(m);
	ssl = mitm_certs_client_ssl(m, "example.com", &err);
	assert_non_null(ssl);
	assert_string_equal(SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name),
	    "example.com");
	/* Before any handshake there is no certificate to trust. */
	assert_non_null(mitm_verify_failure(ssl, why, sizeof(why)));
	assert_non_null(strstr(why, "upstream certificate not trusted"));
	SSL_free(ssl);
	ssl = mitm_certs_client_ssl(m, "10.1.2.3", &err);
	assert_non_null(ssl);
	assert_null(SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name));
	SSL_free(ssl);
	assert_null(mitm_certs_client_ssl(m, "bad..host", &err));
	mitm_certs_free(m);
}

#define TLS_TEST(t) cmocka_unit_test_setup_teardown(t, tls_setup, tls_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		TLS_TEST(test_tls_ca_is_created_then_loaded),
		TLS_TEST(test_tls_ca_has_sane_fields),
		TLS_TEST(test_tls_ca_serials_are_random),
		TLS_TEST(test_tls_ca_lone_file_is_an_error),
		TLS_TEST(test_tls_ca_key_mode_and_type_are_checked),
		TLS_TEST(test_tls_ca_mismatched_pair_is_refused),
		TLS_TEST(test_tls_ca_rotate_keeps_old_files),
		cmocka_unit_test(test_tls_san_parse_classifies_and_refuses),
		TLS_TEST(test_tls_leaf_fields_verify_strictly),
		TLS_TEST(test_tls_cache_hits_evicts_and_renews),
		TLS_TEST(test_tls_bundle_is_roots_then_ca_and_immutable),
		TLS_TEST(test_tls_client_ssl_refuses_bad_hosts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
