/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for the whole config loader: the input is the user
 * layer. Lines at the very top of the form "#-c KEY=VALUE" (TOML
 * comments) are also passed as -c overrides, so the override parser is
 * fuzzed through the same input. A loaded config goes through every
 * output (JSON, the annotated TOML, the policy compilation), and the
 * annotated TOML must parse again. Never crashes, never leaks.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "config/config.h"
#include "fuzz.h"
#include "policy/policy.h"
#include "toml/toml.h"
#include "util/buf.h"

#define FUZZ_OVERRIDES_MAX 8

/* Collect the leading "#-c " lines of text as NUL-terminated copies. */
static size_t
fuzz_overrides(const uint8_t *data, size_t size, char *out[FUZZ_OVERRIDES_MAX])
{
	size_t n = 0, pos = 0;

	while (n < FUZZ_OVERRIDES_MAX && size - pos > 4 &&
	    memcmp(data + pos, "#-c ", 4) == 0) {
		const uint8_t *nl = memchr(data + pos, '\n', size - pos);
		size_t end = nl ? (size_t)(nl - data) : size;

		/* Not strndup(): the input has no terminator to look for. */
		out[n] = malloc(end - pos - 4 + 1);
		if (!out[n])
			break;
		memcpy(out[n], data + pos + 4, end - pos - 4);
		out[n][end - pos - 4] = '\0';
		n++;
		pos = nl ? end + 1 : size;
	}
	return n;
}

/* Everything a user of a loaded config can look at. */
static void
fuzz_outputs(const struct config *cfg, const struct config_diags *d)
{
	struct policy_settings settings;
	struct policy_error perr;
	struct policy *p = NULL;
	struct toml_value *again = NULL;
	struct toml_error terr;
	json_t *j;
	struct buf b;
	char *text;

	j = config_to_json(cfg, d);
	text = j ? json_dumps(j, 0) : NULL;
	free(text);
	json_decref(j);

	buf_init(&b, 0);
	if (config_format_toml(cfg, &b) == 0 &&
	    toml_parse(buf_str(&b), b.len, NULL, &again, &terr) == -EINVAL)
		abort(); /* config show must print valid TOML */
	toml_value_free(again);
	buf_done(&b);

	/* The loader validated every pattern: compiling cannot fail. */
	config_policy_settings(cfg, &settings);
	if (policy_new(&settings, &p, &perr) == -EINVAL)
		abort();
	policy_unref(p);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *overrides[FUZZ_OVERRIDES_MAX];
	size_t n = fuzz_overrides(data, size, overrides);
	struct config_options opts = {
		.home = "/nonexistent/paddock-fuzz/home",
		.system_file = "",
		.cwd = "/nonexistent/paddock-fuzz/project",
		.overrides = (const char *const *)overrides,
		.n_overrides = n,
		.user_text = (const char *)data,
		.user_text_len = size,
	};
	struct config_diags *d = config_diags_new();
	struct config *cfg = NULL;
	struct buf b;

	if (d && config_load(&opts, d, &cfg) == 0)
		fuzz_outputs(cfg, d);
	buf_init(&b, 0);
	for (size_t i = 0; d && i < config_diags_count(d); i++) {
		buf_clear(&b);
		(void)config_diag_format(config_diags_get(d, i), &b);
		json_decref(config_diag_to_json(config_diags_get(d, i)));
	}
	buf_done(&b);
	config_free(cfg);
	config_diags_free(d);
	for (size_t i = 0; i < n; i++)
		free(overrides[i]);
	return 0;
}
