/* SPDX-License-Identifier: MIT */
/*
 * `paddock config schema`: a JSON Schema (draft 2020-12) generated from the
 * same table that checks every layer (config_keys.c), so the two cannot
 * drift apart. Unlike the reference's open maps it validates profile
 * contents: the filesystem key grammar through patternProperties, access
 * words, and where nested (scoped) tables are allowed.
 *
 * The reference's keys that paddock ignores are listed as open properties,
 * so an editor accepts a real codex config; anything else is flagged, like
 * the unknown_key warning does.
 */
#include "config/config_internal.h"

#include <stdio.h>
#include <string.h>

#include <jansson.h>

#define CONFIG_SCHEMA_IGNORED_DOC \
	"Read by the reference (codex); paddock accepts it and ignores it."

/* A subpath below a base: "." (the base itself) or relative components
 * without "." or ".." (spec §1.5, §3 E6). */
#define CONFIG_SCHEMA_SUBPATH \
	"^(?:\\./*|(?!/)(?!\\./)(?!(?:.*/)?\\.\\.(?:/|$)).+)$"

/* Only the path itself: "." (or "./"). */
#define CONFIG_SCHEMA_DOT "^\\./*$"

struct config_schema_ctx {
	json_t *defs;
	bool ok;
};

static json_t *config_schema_node(struct config_schema_ctx *c,
    const struct config_node *node);

/* Take v and keep track of failure, so callers can chain. */
static void
config_schema_set(struct config_schema_ctx *c, json_t *o, const char *key,
    json_t *v)
{
	if (!o || !v || json_object_set_new(o, key, v) < 0) {
		json_decref(v);
		c->ok = false;
	}
}

static json_t *
config_schema_ref(const char *name)
{
	char ref[128];

	(void)snprintf(ref, sizeof(ref), "#/$defs/%s", name);
	return json_pack("{s:s}", "$ref", ref);
}

static json_t *
config_schema_words(const char *const *words)
{
	json_t *a = json_array();

	for (; a && *words; words++)
		if (json_array_append_new(a, json_string(*words)) < 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static json_t *
config_schema_access(void)
{
	return config_schema_ref("Access");
}

/* A scoped table: subpath -> access; only "." when dot_only. */
static json_t *
config_schema_scoped(struct config_schema_ctx *c, bool dot_only)
{
	json_t *o = json_pack("{s:s}", "type", "object");

	config_schema_set(c, o, "propertyNames",
	    json_pack("{s:s}", "pattern",
		dot_only ? CONFIG_SCHEMA_DOT : CONFIG_SCHEMA_SUBPATH));
	config_schema_set(c, o, "additionalProperties", config_schema_access());
	return o;
}

static json_t *
config_schema_permission(struct config_schema_ctx *c, bool scoped,
    bool dot_only, const char *doc)
{
	json_t *any = json_array();
	json_t *o = json_object();

	config_schema_set(c, o, "description", json_string(doc));
	if (any && json_array_append_new(any, config_schema_access()) < 0)
		c->ok = false;
	if (scoped && any &&
	    json_array_append_new(any, config_schema_scoped(c, dot_only)) < 0)
		c->ok = false;
	config_schema_set(c, o, "anyOf", any);
	return o;
}

static json_t *
config_schema_fs(struct config_schema_ctx *c)
{
	json_t *o = json_pack("{s:s}", "type", "object");
	json_t *pp = json_object();

	config_schema_set(c, pp, "^:(?:root|minimal|tmpdir)$",
	    config_schema_permission(c, true, true,
		":root is the whole filesystem, :minimal the platform's "
		"default read set, :tmpdir the $TMPDIR directory. A table may "
		"only hold \".\" (the path itself)."));
	config_schema_set(c, pp, "^:project_roots$",
	    config_schema_permission(c, true, false,
		"The project roots (the session cwd), or a table of subpath "
		"-> access below them."));
	config_schema_set(c, pp, "^(?:/|~$|~/)",
	    config_schema_permission(c, true, false,
		"An absolute path, ~ or ~/...; or a table of subpath -> "
		"access below it."));
	config_schema_set(c, pp, "^:(?!(?:root|minimal|tmpdir|project_roots)$)",
	    config_schema_permission(c, true, false,
		"A special path this version does not know: accepted with a "
		"warning and ignored."));
	config_schema_set(c, o, "patternProperties", pp);
	config_schema_set(c, o, "additionalProperties", json_false());
	return o;
}

static json_t *
config_schema_table(struct config_schema_ctx *c, const struct config_node *node)
{
	json_t *o = json_pack("{s:s}", "type", "object");
	json_t *props = json_object();

	for (const struct config_key *f = node->fields; f && f->name; f++) {
		json_t *p = config_schema_node(c, f->node);

		if (p && f->doc)
			config_schema_set(c, p, "description",
			    json_string(f->doc));
		if (p && f->def)
			config_schema_set(c, p, "default",
			    json_loads(f->def, JSON_DECODE_ANY, NULL));
		config_schema_set(c, props, f->name, p);
	}
	for (const char *const *w = node->ignored; w && *w; w++)
		config_schema_set(c, props, *w,
		    json_pack("{s:s}", "description",
			CONFIG_SCHEMA_IGNORED_DOC));
	config_schema_set(c, o, "properties", props);
	config_schema_set(c, o, "additionalProperties", json_false());
	return o;
}

/* The schema of a node, inline (no $ref). */
static json_t *
config_schema_body(struct config_schema_ctx *c, const struct config_node *node)
{
	json_t *o = NULL;

	switch (node->kind) {
	case CONFIG_KIND_ANY:
		o = json_object();
		break;
	case CONFIG_KIND_BOOL:
		o = json_pack("{s:s}", "type", "boolean");
		break;
	case CONFIG_KIND_STRING:
		o = json_pack("{s:s}", "type", "string");
		break;
	case CONFIG_KIND_ENUM:
		o = json_pack("{s:s}", "type", "string");
		config_schema_set(c, o, "enum",
		    config_schema_words(node->words));
		break;
	case CONFIG_KIND_STRINGS:
		o = json_pack("{s:s,s:{s:s}}", "type", "array", "items", "type",
		    "string");
		break;
	case CONFIG_KIND_TABLE:
		o = config_schema_table(c, node);
		break;
	case CONFIG_KIND_MAP:
		o = json_pack("{s:s}", "type", "object");
		if (node->absolute_keys)
			config_schema_set(c, o, "propertyNames",
			    json_pack("{s:s}", "pattern", "^/"));
		config_schema_set(c, o, "additionalProperties",
		    config_schema_node(c, node->value));
		break;
	case CONFIG_KIND_FS_TABLE:
		o = config_schema_fs(c);
		break;
	case _CONFIG_KIND_MAX:
		break;
	}
	if (o && node->doc && !node->defname)
		config_schema_set(c, o, "description", json_string(node->doc));
	if (!o)
		c->ok = false;
	return o;
}

/* A $ref to a shared definition (added once), or the inline schema. */
static json_t *
config_schema_node(struct config_schema_ctx *c, const struct config_node *node)
{
	json_t *def;

	if (!node->defname)
		return config_schema_body(c, node);
	if (!json_object_get(c->defs, node->defname)) {
		/* Reserve the name first: definitions may refer to
		 * themselves through their children. */
		config_schema_set(c, c->defs, node->defname, json_object());
		def = config_schema_body(c, node);
		if (def && node->doc)
			config_schema_set(c, def, "description",
			    json_string(node->doc));
		config_schema_set(c, c->defs, node->defname, def);
	}
	return config_schema_ref(node->defname);
}

json_t *
config_schema(void)
{
	struct config_schema_ctx c = { .defs = json_object(), .ok = true };
	json_t *root;
	json_t *body;
	json_t *access;

	access = json_pack("{s:s,s:s}", "type", "string", "description",
	    "none: no access; read: read only; write: read and write.");
	config_schema_set(&c, access, "enum",
	    config_schema_words(config_access_words));
	config_schema_set(&c, c.defs, "Access", access);
	root = json_pack("{s:s,s:s}", "$schema",
	    "https://json-schema.org/draft/2020-12/schema", "title",
	    "paddock config.toml");
	body = config_schema_body(&c, &config_schema_root);
	if (!root || !body || json_object_update(root, body) < 0)
		c.ok = false;
	json_decref(body);
	config_schema_set(&c, root, "$defs", c.defs);
	if (!c.ok) {
		json_decref(root);
		return NULL;
	}
	return root;
}
