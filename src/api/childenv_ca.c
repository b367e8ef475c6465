/* SPDX-License-Identifier: MIT */
/*
 * The CA variables of a child's environment when interception is on
 * (spec network §6.5): every variable points at an immutable bundle of
 * the system roots and the interception CA in CODEX_HOME/proxy. A
 * variable the parent already set to a bundle of its own (a company CA,
 * say) gets a bundle of that file plus the CA instead, so the child keeps
 * trusting what it trusted and also trusts interception. Bundles of ours
 * are recognised by where they live and are never wrapped again.
 */
#include "api/childenv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tls/certgen.h"
#include "tls/mitm.h"
#include "util/log.h"
#include "util/strutil.h"

static bool
childenv_ca_is_ours(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	return strncmp(path, dir, n) == 0 && path[n] == '/' &&
	    startswith(path + n + 1, "ca-bundle-") && endswith(path, ".pem");
}

int
childenv_ca_setup(struct childenv *e, const char *dir,
    const char *(*lookup)(void *userdata, const char *name), void *userdata)
{
	struct certgen_err err = { 0 };
	struct certgen_ca *ca = NULL;
	char *paths[CHILDENV_CA_VARS] = { 0 };
	char *base = NULL;
	int r;

	r = certgen_ca_load(dir, true, &ca, &err);
	if (r >= 0)
		r = mitm_bundle_make(dir, NULL, ca, &base, &err);
	if (r < 0) {
		log_err("TLS interception: %s", err.text);
		goto out;
	}
	for (size_t i = 0; i < CHILDENV_CA_VARS; i++) {
		const char *have = lookup(userdata, childenv_ca_names[i]);

		if (!have || !have[0] || childenv_ca_is_ours(have, dir))
			continue;
		/* A bundle we cannot read is not ours to vouch for: the
		 * child gets the system roots and the CA for that one. */
		if (mitm_bundle_make(dir, have, ca, &paths[i], &err) < 0)
			log_warn("%s=%s is not used: %s", childenv_ca_names[i],
			    have, err.text);
	}
	for (size_t i = 0; i < CHILDENV_CA_VARS; i++)
		if (!paths[i] && !(paths[i] = strdup(base))) {
			r = -ENOMEM;
			log_err("out of memory");
			goto out;
		}
	r = childenv_add_ca(e, (const char *const *)paths);
	if (r < 0)
		log_err("TLS interception: the CA bundle path is too long");
out:
	for (size_t i = 0; i < CHILDENV_CA_VARS; i++)
		free(paths[i]);
	free(base);
	certgen_ca_free(ca);
	return r;
}
