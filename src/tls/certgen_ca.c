/* SPDX-License-Identifier: MIT */
/*
 * The managed CA (spec network §6.2): load-or-create in $CODEX_HOME/proxy,
 * and rotation. Differences from the reference, on purpose: a random
 * serial, a Subject Key Identifier (so leaves can carry an Authority Key
 * Identifier), key usage keyCertSign + cRLSign only, and a validity of
 * LIMIT_MITM_CA_DAYS days instead of 1975-4096.
 */
#include "tls/certgen.h"

#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "tls/certgen_internal.h"
#include "util/cleanup.h"
#include "util/limits.h"

struct certgen_ca {
	X509 *cert;
	EVP_PKEY *key;
	char *cert_path;
	char *key_path;
};

struct certgen_ca *
certgen_ca_free(struct certgen_ca *ca)
{
	if (!ca)
		return NULL;
	X509_free(ca->cert);
	EVP_PKEY_free(ca->key); /* OpenSSL wipes key material it frees */
	free(ca->cert_path);
	free(ca->key_path);
	free(ca);
	return NULL;
}

X509 *
certgen_ca_get_cert(const struct certgen_ca *ca)
{
	return ca->cert;
}

EVP_PKEY *
certgen_ca_get_key(const struct certgen_ca *ca)
{
	return ca->key;
}

const char *
certgen_ca_get_cert_path(const struct certgen_ca *ca)
{
	return ca->cert_path;
}

const char *
certgen_ca_get_key_path(const struct certgen_ca *ca)
{
	return ca->key_path;
}

EVP_PKEY *
certgen_key_new(void)
{
	return EVP_EC_gen("P-256");
}

static char *
certgen_path_join(const char *dir, const char *name)
{
	char *p = NULL;

	if (asprintf(&p, "%s/%s", dir, name) < 0)
		return NULL;
	return p;
}

static struct certgen_ca *
certgen_ca_alloc(const char *dir)
{
	struct certgen_ca *ca = calloc(1, sizeof(*ca));

	if (!ca)
		return NULL;
	ca->cert_path = certgen_path_join(dir, "ca.pem");
	ca->key_path = certgen_path_join(dir, "ca.key");
	if (!ca->cert_path || !ca->key_path)
		return certgen_ca_free(ca);
	return ca;
}

static int
certgen_ca_check(struct certgen_ca *ca, struct certgen_err *reterr)
{
	if (X509_check_private_key(ca->cert, ca->key) != 1) {
		certgen_err_set(reterr, "%s does not hold the key of %s",
		    ca->key_path, ca->cert_path);
		return -EINVAL;
	}
	if (X509_check_ca(ca->cert) == 0) {
		certgen_err_set(reterr, "%s is not a CA certificate",
		    ca->cert_path);
		return -EINVAL;
	}
	return 0;
}

static int
certgen_ca_read(struct certgen_ca *ca, struct certgen_err *reterr)
{
	char *key = NULL;
	_cleanup_free_ char *cert = NULL;
	size_t keylen = 0, certlen = 0;
	BIO *bio;
	int r;

	r = certgen_file_read(ca->key_path, LIMIT_MITM_PEM_BYTES, true, &key,
	    &keylen, reterr);
	if (r < 0)
		return r;
	bio = BIO_new_mem_buf(key, (int)keylen);
	ca->key = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
	BIO_free(bio);
	OPENSSL_cleanse(key, keylen);
	free(key);
	if (!ca->key) {
		certgen_err_set(reterr, "%s: not a PEM private key (%s)",
		    ca->key_path, certgen_ssl_reason());
		return -EINVAL;
	}
	r = certgen_file_read(ca->cert_path, LIMIT_MITM_PEM_BYTES, false, &cert,
	    &certlen, reterr);
	if (r < 0)
		return r;
	bio = BIO_new_mem_buf(cert, (int)certlen);
	ca->cert = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
	BIO_free(bio);
	if (!ca->cert) {
		certgen_err_set(reterr, "%s: not a PEM certificate (%s)",
		    ca->cert_path, certgen_ssl_reason());
		return -EINVAL;
	}
	return certgen_ca_check(ca, reterr);
}

static int
certgen_ca_mint(struct certgen_ca *ca, struct certgen_err *reterr)
{
	X509_NAME *name;
	X509 *x;

	ca->key = certgen_key_new();
	ca->cert = x = X509_new();
	if (!ca->key || !x)
		goto fail;
	name = X509_get_subject_name(x);
	if (X509_set_version(x, X509_VERSION_3) != 1 ||
	    certgen_set_serial(x) < 0 ||
	    !X509_gmtime_adj(X509_getm_notBefore(x), -LIMIT_MITM_BACKDATE_S) ||
	    !X509_time_adj_ex(X509_getm_notAfter(x), LIMIT_MITM_CA_DAYS, 0,
		NULL) ||
	    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
		(const unsigned char *)"paddock", -1, -1, 0) != 1 ||
	    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
		(const unsigned char *)"paddock interception CA", -1, -1,
		0) != 1 ||
	    X509_set_issuer_name(x, name) != 1 ||
	    X509_set_pubkey(x, ca->key) != 1)
		goto fail;
	if (certgen_add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE") <
		0 ||
	    certgen_add_ext(x, x, NID_key_usage,
		"critical,keyCertSign,cRLSign") < 0 ||
	    certgen_add_ext(x, x, NID_subject_key_identifier, "hash") < 0 ||
	    certgen_add_ext(x, x, NID_authority_key_identifier,
		"keyid:always") < 0)
		goto fail;
	if (X509_sign(x, ca->key, EVP_sha256()) <= 0)
		goto fail;
	return 0;
fail:
	certgen_err_set(reterr, "generating the CA: %s", certgen_ssl_reason());
	return -ENOMEM;
}

static int
certgen_pem_of(int (*write)(BIO *, const void *), const void *obj, char **ret,
    size_t *ret_len)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *p = NULL, *copy;
	long n;

	if (!bio || write(bio, obj) != 1) {
		BIO_free(bio);
		return -ENOMEM;
	}
	n = BIO_get_mem_data(bio, &p);
	copy = n > 0 ? malloc((size_t)n + 1) : NULL;
	if (copy) {
		memcpy(copy, p, (size_t)n);
		copy[n] = '\0';
		*ret_len = (size_t)n;
	}
	OPENSSL_cleanse(p, n > 0 ? (size_t)n : 0);
	BIO_free(bio);
	*ret = copy;
	return copy ? 0 : -ENOMEM;
}

static int
certgen_write_cert(BIO *bio, const void *x)
{
	return PEM_write_bio_X509(bio, (X509 *)x);
}

static int
certgen_write_key(BIO *bio, const void *k)
{
	return PEM_write_bio_PrivateKey(bio, (EVP_PKEY *)k, NULL, NULL, 0, NULL,
	    NULL);
}

char *
certgen_ca_pem(const struct certgen_ca *ca, size_t *ret_len)
{
	char *pem = NULL;
	size_t len = 0;

	if (certgen_pem_of(certgen_write_cert, ca->cert, &pem, &len) < 0)
		return NULL;
	if (ret_len)
		*ret_len = len;
	return pem;
}

/* Key first, then the certificate; a certificate that cannot be written
 * takes the key with it, so the pair stays both-or-neither. */
static int
certgen_ca_store(struct certgen_ca *ca, struct certgen_err *reterr)
{
	char *key = NULL;
	_cleanup_free_ char *cert = NULL;
	size_t keylen = 0, certlen = 0;
	int r;

	r = certgen_pem_of(certgen_write_key, ca->key, &key, &keylen);
	if (r == 0)
		r = certgen_pem_of(certgen_write_cert, ca->cert, &cert,
		    &certlen);
	if (r < 0) {
		certgen_err_set(reterr, "out of memory writing the CA");
		goto out;
	}
	r = certgen_file_create(ca->key_path, key, keylen, 0600, reterr);
	if (r < 0)
		goto out;
	r = certgen_file_create(ca->cert_path, cert, certlen, 0644, reterr);
	if (r < 0)
		(void)unlink(ca->key_path);
out:
	if (key) {
		OPENSSL_cleanse(key, keylen);
		free(key);
	}
	return r;
}

static int
certgen_mkdir(const char *dir, struct certgen_err *reterr)
{
	_cleanup_free_ char *p = strdup(dir);

	if (!p)
		return -ENOMEM;
	for (char *s = p + 1;; s++) {
		bool end = *s == '\0';

		if (*s != '/' && !end)
			continue;
		*s = '\0';
		if (mkdir(p, 0700) < 0 && errno != EEXIST) {
			int e = errno;

			certgen_err_set(reterr, "creating %s: %s", p,
			    strerror(e));
			return -e;
		}
		if (end)
			return 0;
		*s = '/';
	}
}

static bool
certgen_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static int
certgen_ca_create(struct certgen_ca *ca, const char *dir,
    struct certgen_err *reterr)
{
	int r = certgen_mkdir(dir, reterr);

	if (r < 0)
		return r;
	r = certgen_ca_mint(ca, reterr);
	if (r < 0)
		return r;
	return certgen_ca_store(ca, reterr);
}

int
certgen_ca_load(const char *dir, bool create, struct certgen_ca **ret_ca,
    struct certgen_err *reterr)
{
	struct certgen_ca *ca = certgen_ca_alloc(dir);
	bool have_cert, have_key;
	int r;

	if (!ca) {
		certgen_err_set(reterr, "out of memory");
		return -ENOMEM;
	}
	have_cert = certgen_exists(ca->cert_path);
	have_key = certgen_exists(ca->key_path);
	if (have_cert != have_key) {
		certgen_err_set(reterr,
		    "both managed CA files must exist (cert=%s, key=%s); %s "
		    "is missing",
		    ca->cert_path, ca->key_path,
		    have_cert ? ca->key_path : ca->cert_path);
		r = -ENOENT;
	} else if (have_cert) {
		r = certgen_ca_read(ca, reterr);
	} else if (!create) {
		certgen_err_set(reterr, "no CA in %s yet", dir);
		r = -ENOENT;
	} else {
		r = certgen_ca_create(ca, dir, reterr);
		if (r == -EEXIST) {
			/* Another process created it first: use that one. */
			X509_free(ca->cert);
			EVP_PKEY_free(ca->key);
			ca->cert = NULL;
			ca->key = NULL;
			r = certgen_ca_read(ca, reterr);
		} else if (r == 0) {
			r = 1;
		}
	}
	if (r < 0) {
		certgen_ca_free(ca);
		return r;
	}
	*ret_ca = ca;
	return r;
}

static int
certgen_ca_suffix(X509 *cert, char *out, size_t outsz)
{
	struct tm tm;

	if (ASN1_TIME_to_tm(X509_get0_notBefore(cert), &tm) != 1)
		return -EINVAL;
	return strftime(out, outsz, "%Y%m%dT%H%M%SZ", &tm) ? 0 : -ERANGE;
}

static int
certgen_rename_aside(const char *path, const char *suffix,
    struct certgen_err *reterr)
{
	_cleanup_free_ char *to = NULL;

	if (asprintf(&to, "%s.%s", path, suffix) < 0)
		return -ENOMEM;
	/* link() + unlink(): an earlier rotation's file is never replaced. */
	if (link(path, to) < 0 || unlink(path) < 0) {
		int e = errno;

		certgen_err_set(reterr, "keeping %s as %s: %s", path, to,
		    strerror(e));
		return -e;
	}
	return 0;
}

int
certgen_ca_rotate(const char *dir, struct certgen_ca **ret_ca,
    struct certgen_err *reterr)
{
	struct certgen_ca *old = NULL;
	char suffix[32];
	int r;

	r = certgen_ca_load(dir, false, &old, reterr);
	if (r < 0 && r != -ENOENT)
		return r;
	if (old) {
		r = certgen_ca_suffix(old->cert, suffix, sizeof(suffix));
		if (r < 0) {
			certgen_err_set(reterr, "%s: unreadable notBefore",
			    old->cert_path);
			certgen_ca_free(old);
			return r;
		}
		r = certgen_rename_aside(old->key_path, suffix, reterr);
		if (r == 0) {
			r = certgen_rename_aside(old->cert_path, suffix,
			    reterr);
			if (r < 0) {
				/* Put the key back: both or neither. */
				char back[4096];

				(void)snprintf(back, sizeof(back), "%s.%s",
				    old->key_path, suffix);
				(void)rename(back, old->key_path);
			}
		}
		certgen_ca_free(old);
		if (r < 0)
			return r;
	}
	r = certgen_ca_load(dir, true, ret_ca, reterr);
	return r < 0 ? r : 0;
}

void
certgen_fingerprint(X509 *cert, char *out, size_t outsz)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	size_t at = 0;

	out[0] = '\0';
	if (X509_digest(cert, EVP_sha256(), md, &n) != 1)
		return;
	for (unsigned i = 0; i < n && at + 3 < outsz; i++)
		at += (size_t)snprintf(out + at, outsz - at, "%s%02X",
		    i ? ":" : "", md[i]);
}
