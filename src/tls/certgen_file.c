/* SPDX-License-Identifier: MIT */
/*
 * Files of the managed CA: read with the checks spec §6.2 asks for, and
 * created so that an existing file is never replaced (two proxies starting
 * at once agree on one CA: the loser of the race finds the winner's files).
 */
#include "tls/certgen_internal.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "util/cleanup.h"
#include "util/strutil.h"

const char *
certgen_ssl_reason(void)
{
	unsigned long e = ERR_peek_last_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;

	ERR_clear_error();
	return r ? r : "unknown error";
}

int
certgen_file_read(const char *path, size_t max, bool private, char **ret_data,
    size_t *ret_len, struct certgen_err *reterr)
{
	_cleanup_close_ int fd = -1;
	struct stat st;
	char *data;
	size_t got = 0;

	fd = open(path,
	    O_RDONLY | O_CLOEXEC | O_NONBLOCK | (private ? O_NOFOLLOW : 0));
	if (fd < 0) {
		int e = errno;

		if (e == ELOOP && private)
			certgen_err_set(reterr, "%s must not be a symlink",
			    path);
		else
			certgen_err_set(reterr, "%s: %s", path, strerror(e));
		return -e;
	}
	if (fstat(fd, &st) < 0) {
		int e = errno;

		certgen_err_set(reterr, "%s: %s", path, strerror(e));
		return -e;
	}
	if (!S_ISREG(st.st_mode)) {
		certgen_err_set(reterr, "%s is not a regular file", path);
		return -EINVAL;
	}
	if (private && (st.st_mode & 077)) {
		certgen_err_set(reterr,
		    "%s must not be group/world accessible (mode=%03o; "
		    "expected <= 600)",
		    path, (unsigned)(st.st_mode & 0777));
		return -EPERM;
	}
	if ((uint64_t)st.st_size > max) {
		certgen_err_set(reterr, "%s is larger than %zu bytes", path,
		    max);
		return -EFBIG;
	}
	data = malloc((size_t)st.st_size + 1);
	if (!data) {
		certgen_err_set(reterr, "out of memory reading %s", path);
		return -ENOMEM;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, data + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = n < 0 ? errno : EIO;

			OPENSSL_cleanse(data, got);
			free(data);
			certgen_err_set(reterr, "%s: %s", path,
			    n < 0 ? strerror(e) : "changed while read");
			return -e;
		}
		got += (size_t)n;
	}
	data[got] = '\0';
	*ret_data = data;
	*ret_len = got;
	return 0;
}

static int
certgen_file_sync_dir(const char *path)
{
	_cleanup_free_ char *dir = strdup(path);
	_cleanup_close_ int fd = -1;
	char *slash;

	if (!dir)
		return -ENOMEM;
	slash = strrchr(dir, '/');
	if (slash == dir)
		slash[1] = '\0';
	else if (slash)
		*slash = '\0';
	else
		(void)strlcpy(dir, ".", 2);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) < 0)
		return -errno;
	return 0;
}

static int
certgen_file_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return fsync(fd) < 0 ? -errno : 0;
}

int
certgen_file_create(const char *path, const void *data, size_t len, mode_t mode,
    struct certgen_err *reterr)
{
	char tmp[4096];
	struct timespec ts;
	const char *base = strrchr(path, '/');
	int dirlen = base ? (int)(base - path + 1) : 0;
	int fd, r;

	base = base ? base + 1 : path;
	(void)clock_gettime(CLOCK_REALTIME, &ts);
	r = snprintf(tmp, sizeof(tmp), "%.*s.%s.tmp.%ld.%ld", dirlen, path,
	    base, (long)getpid(), (long)ts.tv_nsec);
	if (r < 0 || (size_t)r >= sizeof(tmp)) {
		certgen_err_set(reterr, "%s: path too long", path);
		return -ENAMETOOLONG;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
	    mode);
	if (fd < 0) {
		r = -errno;
		certgen_err_set(reterr, "%s: %s", tmp, strerror(-r));
		return r;
	}
	/* The umask must not widen or narrow what spec §6.2 asks for. */
	r = fchmod(fd, mode) < 0 ? -errno : 0;
	if (r == 0)
		r = certgen_file_write_all(fd, data, len);
	(void)close(fd);
	if (r == 0) {
		/* link() fails with EEXIST rather than replace a file. */
		r = link(tmp, path) < 0 ? -errno : 0;
	}
	(void)unlink(tmp);
	if (r < 0) {
		certgen_err_set(reterr, "%s: %s", path, strerror(-r));
		return r;
	}
	r = certgen_file_sync_dir(path);
	if (r < 0) {
		certgen_err_set(reterr, "%s: syncing its directory: %s", path,
		    strerror(-r));
		return r;
	}
	return 0;
}

int
certgen_set_serial(X509 *cert)
{
	uint8_t raw[16];
	BIGNUM *bn;
	int ok;

	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return -EIO;
	raw[0] &= 0x7f; /* positive (RFC 5280 §4.1.2.2) */
	raw[0] |= 0x40; /* and of a constant length */
	bn = BN_bin2bn(raw, sizeof(raw), NULL);
	ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert));
	BN_free(bn);
	return ok ? 0 : -ENOMEM;
}

int
certgen_add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (!ext)
		return -EINVAL;
	ok = X509_add_ext(cert, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? 0 : -ENOMEM;
}
