/* SPDX-License-Identifier: MIT */
/*
 * The CA bundle children are pointed at (spec network §6.5): trusted roots
 * plus the managed CA, named by the SHA-256 of its bytes so a file, once
 * written, never changes: a child that read a path earlier reads the same
 * bytes later, and two proxies agree on the name without coordination.
 */
#include "tls/mitm.h"

#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "tls/certgen_internal.h"
#include "util/cleanup.h"
#include "util/limits.h"
#include "util/size.h"

static int
mitm_bundle_name(const char *dir, const char *data, size_t len, char **ret)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	char hex[2 * EVP_MAX_MD_SIZE + 1];
	unsigned int n = 0;

	if (EVP_Digest(data, len, md, &n, EVP_sha256(), NULL) != 1)
		return -ENOMEM;
	for (unsigned i = 0; i < n; i++)
		(void)snprintf(hex + 2 * i, 3, "%02x", md[i]);
	if (asprintf(ret, "%s/ca-bundle-%s.pem", dir, hex) < 0)
		return -ENOMEM;
	return 0;
}

/* An existing bundle of that name is reused only if it holds exactly the
 * bytes we would write (and is a regular file, not a symlink). */
static int
mitm_bundle_reuse(const char *path, const char *data, size_t len,
    struct certgen_err *reterr)
{
	_cleanup_free_ char *have = NULL;
	size_t havelen = 0;
	int r;

	/* len is bounded by LIMIT_MITM_BUNDLE_BYTES plus one certificate. */
	r = certgen_file_read(path, len + 1, false, &have, &havelen, reterr);
	if (r < 0 && r != -EFBIG)
		return r;
	if (r < 0 || havelen != len || memcmp(have, data, len) != 0) {
		certgen_err_set(reterr,
		    "%s exists with other contents; remove it", path);
		return -EEXIST;
	}
	return 0;
}

static int
mitm_bundle_roots(const char *roots, char **ret, size_t *ret_len,
    struct certgen_err *reterr)
{
	const char *path = roots ? roots : X509_get_default_cert_file();
	struct stat st;

	/* Missing system roots leave a bundle of the CA alone; a roots file
	 * the user named must exist. */
	if (!roots && stat(path, &st) < 0 && errno == ENOENT) {
		*ret = NULL;
		*ret_len = 0;
		return 0;
	}
	return certgen_file_read(path, LIMIT_MITM_BUNDLE_BYTES, false, ret,
	    ret_len, reterr);
}

int
mitm_bundle_make(const char *dir, const char *roots,
    const struct certgen_ca *ca, char **ret_path, struct certgen_err *reterr)
{
	_cleanup_free_ char *root_pem = NULL;
	_cleanup_free_ char *ca_pem = NULL;
	_cleanup_free_ char *data = NULL;
	_cleanup_free_ char *path = NULL;
	size_t rootlen = 0, calen = 0, len;
	struct stat st;
	int r;

	r = mitm_bundle_roots(roots, &root_pem, &rootlen, reterr);
	if (r < 0)
		return r;
	ca_pem = certgen_ca_pem(ca, &calen);
	/* Both parts are bounded (LIMIT_MITM_BUNDLE_BYTES, one PEM), the
	 * checked sum only says so. */
	data =
	    ca_pem && size_add(rootlen, calen, &len) && size_add(len, 1, &len) ?
	    malloc(len) :
	    NULL;
	if (!data) {
		certgen_err_set(reterr, "out of memory building the CA bundle");
		return -ENOMEM;
	}
	/* A roots file without a final newline must not glue its last
	 * END line to our BEGIN line. */
	len = 0;
	if (rootlen) {
		memcpy(data, root_pem, rootlen);
		len = rootlen;
		if (data[len - 1] != '\n')
			data[len++] = '\n';
	}
	memcpy(data + len, ca_pem, calen);
	len += calen;

	r = mitm_bundle_name(dir, data, len, &path);
	if (r < 0) {
		certgen_err_set(reterr, "out of memory naming the CA bundle");
		return r;
	}
	if (lstat(path, &st) == 0) {
		if (S_ISLNK(st.st_mode)) {
			certgen_err_set(reterr, "%s must not be a symlink",
			    path);
			return -ELOOP;
		}
		r = mitm_bundle_reuse(path, data, len, reterr);
	} else {
		r = certgen_file_create(path, data, len, 0644, reterr);
		if (r == -EEXIST) /* another process was first */
			r = mitm_bundle_reuse(path, data, len, reterr);
	}
	if (r < 0)
		return r;
	*ret_path = path;
	path = NULL;
	return 0;
}
