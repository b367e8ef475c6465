/* SPDX-License-Identifier: MIT */
/*
 * Leaf certificates for intercepted tunnels (spec network §6.3), with what
 * the reference lacks: an Authority Key Identifier (Python 3.13's strict
 * verification requires it), a Subject Key Identifier, a random serial
 * and a validity of days starting slightly in the past (clock skew).
 */
#include "tls/certgen.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/x509v3.h>

#include "tls/certgen_internal.h"
#include "util/limits.h"

static int
certgen_leaf_san(X509 *x, const struct certgen_san *san)
{
	GENERAL_NAMES *names = sk_GENERAL_NAME_new_null();
	GENERAL_NAME *gn = GENERAL_NAME_new();
	int ok = 0;

	if (!names || !gn)
		goto out;
	if (san->kind == CERTGEN_SAN_DNS) {
		ASN1_IA5STRING *s = ASN1_IA5STRING_new();

		if (!s || !ASN1_STRING_set(s, san->text, -1)) {
			ASN1_IA5STRING_free(s);
			goto out;
		}
		GENERAL_NAME_set0_value(gn, GEN_DNS, s);
	} else {
		ASN1_OCTET_STRING *ip = ASN1_OCTET_STRING_new();
		int n = san->kind == CERTGEN_SAN_IPV4 ? 4 : 16;

		if (!ip || !ASN1_OCTET_STRING_set(ip, san->addr, n)) {
			ASN1_OCTET_STRING_free(ip);
			goto out;
		}
		GENERAL_NAME_set0_value(gn, GEN_IPADD, ip);
	}
	if (!sk_GENERAL_NAME_push(names, gn))
		goto out;
	gn = NULL;
	ok = X509_add1_ext_i2d(x, NID_subject_alt_name, names, 0, 0) == 1;
out:
	GENERAL_NAME_free(gn);
	GENERAL_NAMES_free(names);
	return ok ? 0 : -ENOMEM;
}

static int
certgen_leaf_subject(X509 *x, const struct certgen_san *san)
{
	X509_NAME *name = X509_get_subject_name(x);

	if (X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
		(const unsigned char *)"paddock", -1, -1, 0) != 1)
		return -ENOMEM;
	/* A CN holds at most 64 bytes (RFC 5280 ub-common-name); clients
	 * match the SAN anyway. */
	if (strlen(san->text) <= 64 &&
	    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
		(const unsigned char *)san->text, -1, -1, 0) != 1)
		return -ENOMEM;
	return 0;
}

X509 *
certgen_leaf_new(const struct certgen_ca *ca, EVP_PKEY *leaf_key,
    const struct certgen_san *san, time_t now, struct certgen_err *reterr)
{
	X509 *issuer = certgen_ca_get_cert(ca);
	X509 *x = X509_new();

	if (!x)
		goto fail;
	if (X509_set_version(x, X509_VERSION_3) != 1 ||
	    certgen_set_serial(x) < 0 ||
	    !X509_time_adj_ex(X509_getm_notBefore(x), 0, -LIMIT_MITM_BACKDATE_S,
		&now) ||
	    !X509_time_adj_ex(X509_getm_notAfter(x), LIMIT_MITM_LEAF_DAYS, 0,
		&now) ||
	    X509_set_issuer_name(x, X509_get_subject_name(issuer)) != 1 ||
	    certgen_leaf_subject(x, san) < 0 ||
	    X509_set_pubkey(x, leaf_key) != 1 || certgen_leaf_san(x, san) < 0)
		goto fail;
	if (certgen_add_ext(x, issuer, NID_basic_constraints,
		"critical,CA:FALSE") < 0 ||
	    certgen_add_ext(x, issuer, NID_key_usage,
		"critical,digitalSignature") < 0 ||
	    certgen_add_ext(x, issuer, NID_ext_key_usage, "serverAuth") < 0 ||
	    certgen_add_ext(x, issuer, NID_subject_key_identifier, "hash") <
		0 ||
	    certgen_add_ext(x, issuer, NID_authority_key_identifier,
		"keyid:always") < 0)
		goto fail;
	if (X509_sign(x, certgen_ca_get_key(ca), EVP_sha256()) <= 0)
		goto fail;
	return x;
fail:
	certgen_err_set(reterr, "minting a certificate for %s: %s", san->text,
	    certgen_ssl_reason());
	X509_free(x);
	return NULL;
}
