/* SPDX-License-Identifier: MIT */
/*
 * Merging layers (spec §5.2): a table merges into a table key by key,
 * recursively; any other value in the higher layer replaces the lower one,
 * arrays included. Copies keep the source and position they were written
 * at, so every value of the merged tree still names its file:line:col.
 */
#include "config/config_internal.h"

#include <errno.h>

#include "toml/toml.h"

int
config_merge(struct toml_value *dst, const struct toml_value *src)
{
	for (size_t i = 0; i < toml_table_size(src); i++) {
		size_t len;
		const char *key = toml_table_key(src, i, &len);
		const struct toml_value *sv = toml_table_value(src, i);
		struct toml_value *dv = toml_table_get(dst, key, len);
		struct toml_value *copy;
		int r;

		if (dv && toml_value_type(dv) == TOML_TABLE &&
		    toml_value_type(sv) == TOML_TABLE) {
			r = config_merge(dv, sv);
			if (r < 0)
				return r;
			continue;
		}
		copy = toml_value_clone(sv);
		if (!copy)
			return -ENOMEM;
		r = toml_table_set(dst, key, len, toml_table_key_pos(src, i),
		    copy);
		if (r < 0)
			return r;
	}
	return 0;
}
