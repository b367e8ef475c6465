/* SPDX-License-Identifier: MIT */
/*
 * Paths as config writes them. Everything here is lexical: "." and ".."
 * are resolved on the text and symlinks are never followed, like the
 * reference's normalised absolute paths (spec §1.2). A path that goes
 * above "/" stays at "/".
 */
#include "config/config_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/strutil.h"

bool
config_path_is_absolute(const char *p)
{
	return p[0] == '/';
}

/* Drop the last component of the normalised prefix out[0..*n). */
static void
config_path_pop(char *out, size_t *n)
{
	while (*n > 1 && out[*n - 1] != '/')
		(*n)--;
	if (*n > 1)
		(*n)--; /* the separator, unless it is the root */
}

char *
config_path_normalize(const char *p)
{
	size_t len = strlen(p), n = 1;
	char *out;

	out = malloc(len + 2);
	if (!out)
		return NULL;
	out[0] = '/';
	for (size_t i = 0; i < len;) {
		size_t j = i;

		while (j < len && p[j] != '/')
			j++;
		if (j == i || (j - i == 1 && p[i] == '.')) {
			/* An empty component or ".": nothing. */
		} else if (j - i == 2 && p[i] == '.' && p[i + 1] == '.') {
			config_path_pop(out, &n);
		} else {
			if (n > 1)
				out[n++] = '/';
			memcpy(out + n, p + i, j - i);
			n += j - i;
		}
		i = j + 1;
	}
	out[n] = '\0';
	return out;
}

char *
config_path_join(const char *base, const char *rel)
{
	struct buf b;
	char *joined;
	char *out;

	if (config_path_is_absolute(rel))
		return config_path_normalize(rel);
	buf_init(&b, 0);
	if (buf_printf(&b, "%s/%s", base, rel) < 0) {
		buf_done(&b);
		return NULL;
	}
	joined = buf_take(&b);
	if (!joined)
		return NULL;
	out = config_path_normalize(joined);
	free(joined);
	return out;
}

int
config_path_resolve(const char *p, const char *base, const char *home,
    char **ret)
{
	char *out;

	if (streq(p, "~") || startswith(p, "~/")) {
		if (!home)
			return -ENOENT;
		out = config_path_join(home, p[1] ? p + 2 : "");
	} else {
		out = config_path_join(base, p);
	}
	if (!out)
		return -ENOMEM;
	*ret = out;
	return 0;
}

bool
config_path_has_prefix(const char *p, const char *prefix)
{
	size_t n = strlen(prefix);

	if (streq(prefix, "/"))
		return p[0] == '/';
	return strncmp(p, prefix, n) == 0 && (p[n] == '\0' || p[n] == '/');
}

char *
config_path_dirname(const char *p)
{
	const char *slash = strrchr(p, '/');

	if (!slash || slash == p)
		return strdup("/");
	return strndup(p, (size_t)(slash - p));
}

char *
config_path_tmpdir(void)
{
	const char *t = secure_getenv("TMPDIR");

	if (!t || !t[0] || !config_path_is_absolute(t))
		return NULL;
	return config_path_normalize(t);
}
