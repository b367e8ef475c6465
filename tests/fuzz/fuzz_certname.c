/* SPDX-License-Identifier: MIT */
/*
 * Fuzz certificate-name handling: a tunnel's host -> the leaf's SAN.
 * Checks, for any input:
 *  - certgen_san_parse() accepts only a plain DNS name (no wildcard, no
 *    empty or long label) or an address literal;
 *  - a leaf minted for an accepted host verifies for exactly that host
 *    (X509_check_host / X509_check_ip_asc), and for no other name.
 * The CA is made once per process in a private temporary directory.
 */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/x509v3.h>

#include "fuzz.h"
#include "tls/certgen.h"

static struct certgen_ca *fuzz_ca;
static EVP_PKEY *fuzz_key;

static int
fuzz_rm_cb(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(path);
}

static void
fuzz_init(void)
{
	char dir[] = "/tmp/paddock-fuzz-ca-XXXXXX";
	struct certgen_err err;

	if (!mkdtemp(dir) || certgen_ca_load(dir, true, &fuzz_ca, &err) < 0)
		abort();
	(void)nftw(dir, fuzz_rm_cb, 8, FTW_DEPTH | FTW_PHYS);
	fuzz_key = certgen_key_new();
	if (!fuzz_key)
		abort();
}

static void
fuzz_check_name(const char *t)
{
	size_t n = strlen(t), label = 0;

	if (n == 0 || n > 253 || strchr(t, '*'))
		abort();
	for (size_t i = 0; i <= n; i++) {
		if (i == n || t[i] == '.') {
			if (label == 0 || label > 63 || t[i - 1] == '-')
				abort();
			label = 0;
			continue;
		}
		if (label == 0 && t[i] == '-')
			abort();
		label++;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct certgen_san san;
	struct certgen_err err;
	X509 *leaf;
	int match, other;

	if (!fuzz_ca)
		fuzz_init();
	if (certgen_san_parse((const char *)data, size, &san, &err) < 0)
		return 0;
	if (san.kind == CERTGEN_SAN_DNS)
		fuzz_check_name(san.text);
	leaf = certgen_leaf_new(fuzz_ca, fuzz_key, &san, time(NULL), &err);
	if (!leaf)
		abort();
	if (san.kind == CERTGEN_SAN_DNS) {
		match = X509_check_host(leaf, san.text, 0,
		    X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, NULL);
		other =
		    X509_check_host(leaf, "paddock-other.invalid", 0, 0, NULL);
	} else {
		match = X509_check_ip_asc(leaf, san.text, 0);
		other = X509_check_ip_asc(leaf,
		    san.kind == CERTGEN_SAN_IPV4 ? "0.0.0.1" : "::2", 0);
		if (strcmp(san.text, "0.0.0.1") == 0 ||
		    strcmp(san.text, "::2") == 0)
			other = 0;
	}
	if (match != 1 || other != 0)
		abort();
	X509_free(leaf);
	return 0;
}
