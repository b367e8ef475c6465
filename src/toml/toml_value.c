/* SPDX-License-Identifier: MIT */
/*
 * Values: construction, accessors, deep copy and release. Every value owns
 * what it points to except its source name, which is borrowed from the
 * caller of toml_parse() or toml_value_set_origin().
 */
#include "toml/toml_internal.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/size.h"

static const char *const toml_type_names[_TOML_TYPE_MAX] = {
	[TOML_TABLE] = "table",
	[TOML_ARRAY] = "array",
	[TOML_STRING] = "string",
	[TOML_INTEGER] = "integer",
	[TOML_FLOAT] = "float",
	[TOML_BOOL] = "boolean",
	[TOML_DATETIME] = "offset date-time",
	[TOML_DATETIME_LOCAL] = "local date-time",
	[TOML_DATE_LOCAL] = "local date",
	[TOML_TIME_LOCAL] = "local time",
};

const char *
toml_type_name(enum toml_type t)
{
	return (unsigned)t < _TOML_TYPE_MAX ? toml_type_names[t] : "unknown";
}

struct toml_value *
toml_value_new(enum toml_type t, enum toml_def def, struct toml_pos pos,
    const char *source)
{
	struct toml_value *v = calloc(1, sizeof(*v));

	if (!v)
		return NULL;
	v->type = t;
	v->def = def;
	v->pos = pos;
	v->source = source;
	return v;
}

struct toml_value *
toml_value_new_string_take(char *s, size_t len)
{
	struct toml_value *v = toml_value_new(TOML_STRING, TOML_DEF_API,
	    (struct toml_pos){ 0 }, NULL);

	if (!v) {
		free(s);
		return NULL;
	}
	v->str.s = s;
	v->str.len = len;
	return v;
}

struct toml_value *
toml_value_free(struct toml_value *v)
{
	if (!v)
		return NULL;
	switch (v->type) {
	case TOML_TABLE:
		toml_table_done(v);
		break;
	case TOML_ARRAY:
		for (size_t i = 0; i < v->arr.n; i++)
			toml_value_free(v->arr.items[i]);
		free(v->arr.items);
		break;
	case TOML_STRING:
		free(v->str.s);
		break;
	default:
		break;
	}
	free(v);
	return NULL;
}

static int
toml_value_copy_array(struct toml_value *dst, const struct toml_value *src)
{
	if (src->arr.n == 0)
		return 0;
	dst->arr.items = calloc(src->arr.n, sizeof(*dst->arr.items));
	if (!dst->arr.items)
		return -ENOMEM;
	dst->arr.cap = src->arr.n;
	for (size_t i = 0; i < src->arr.n; i++) {
		dst->arr.items[i] = toml_value_clone(src->arr.items[i]);
		if (!dst->arr.items[i])
			return -ENOMEM;
		dst->arr.n++;
	}
	return 0;
}

struct toml_value *
toml_value_clone(const struct toml_value *v)
{
	struct toml_value *c;
	int r = 0;

	if (!v)
		return NULL;
	c = toml_value_new(v->type, v->def, v->pos, v->source);
	if (!c)
		return NULL;
	switch (v->type) {
	case TOML_TABLE:
		r = toml_table_copy(c, v);
		break;
	case TOML_ARRAY:
		r = toml_value_copy_array(c, v);
		break;
	case TOML_STRING:
		c->str.s = malloc(v->str.len + 1);
		if (!c->str.s)
			r = -ENOMEM;
		else
			memcpy(c->str.s, v->str.s, v->str.len + 1);
		c->str.len = v->str.len;
		break;
	default:
		*c = *v; /* scalars own nothing */
		break;
	}
	return r < 0 ? toml_value_free(c) : c;
}

enum toml_type
toml_value_type(const struct toml_value *v)
{
	return v->type;
}

struct toml_pos
toml_value_pos(const struct toml_value *v)
{
	return v->pos;
}

const char *
toml_value_source(const struct toml_value *v)
{
	return v->source;
}

const char *
toml_value_string(const struct toml_value *v, size_t *ret_len)
{
	assert(v->type == TOML_STRING);
	if (ret_len)
		*ret_len = v->str.len;
	return v->str.s;
}

int64_t
toml_value_integer(const struct toml_value *v)
{
	assert(v->type == TOML_INTEGER);
	return v->integer;
}

double
toml_value_float(const struct toml_value *v)
{
	assert(v->type == TOML_FLOAT);
	return v->flt;
}

bool
toml_value_bool(const struct toml_value *v)
{
	assert(v->type == TOML_BOOL);
	return v->boolean;
}

const struct toml_datetime *
toml_value_datetime(const struct toml_value *v)
{
	assert(v->type >= TOML_DATETIME && v->type <= TOML_TIME_LOCAL);
	return &v->dt;
}

size_t
toml_array_size(const struct toml_value *a)
{
	assert(a->type == TOML_ARRAY);
	return a->arr.n;
}

struct toml_value *
toml_array_get(const struct toml_value *a, size_t i)
{
	assert(a->type == TOML_ARRAY);
	return i < a->arr.n ? a->arr.items[i] : NULL;
}

struct toml_value *
toml_array_new(void)
{
	return toml_value_new(TOML_ARRAY, TOML_DEF_API, (struct toml_pos){ 0 },
	    NULL);
}

struct toml_value *
toml_string_new(const char *s, size_t len)
{
	size_t size;
	char *copy;

	if (!size_add(len, 1, &size))
		return NULL;
	copy = malloc(size);
	if (!copy)
		return NULL;
	if (len)
		memcpy(copy, s, len);
	copy[len] = '\0';
	return toml_value_new_string_take(copy, len);
}

static struct toml_value *
toml_value_new_scalar(enum toml_type t)
{
	return toml_value_new(t, TOML_DEF_API, (struct toml_pos){ 0 }, NULL);
}

struct toml_value *
toml_integer_new(int64_t i)
{
	struct toml_value *v = toml_value_new_scalar(TOML_INTEGER);

	if (v)
		v->integer = i;
	return v;
}

struct toml_value *
toml_float_new(double d)
{
	struct toml_value *v = toml_value_new_scalar(TOML_FLOAT);

	if (v)
		v->flt = d;
	return v;
}

struct toml_value *
toml_bool_new(bool b)
{
	struct toml_value *v = toml_value_new_scalar(TOML_BOOL);

	if (v)
		v->boolean = b;
	return v;
}

void
toml_value_set_origin(struct toml_value *v, struct toml_pos pos,
    const char *source, bool recursive)
{
	v->pos = pos;
	v->source = source;
	if (!recursive)
		return;
	if (v->type == TOML_ARRAY)
		for (size_t i = 0; i < v->arr.n; i++)
			toml_value_set_origin(v->arr.items[i], pos, source,
			    true);
	if (v->type == TOML_TABLE)
		for (size_t i = 0; i < v->tab.n; i++) {
			v->tab.entries[i].pos = pos;
			toml_value_set_origin(v->tab.entries[i].value, pos,
			    source, true);
		}
}

int
toml_array_append(struct toml_value *a, struct toml_value *v)
{
	struct toml_array *arr = &a->arr;

	assert(a->type == TOML_ARRAY);
	if (arr->n == arr->cap) {
		size_t cap = 4;
		struct toml_value **items;

		if (arr->cap && !size_mul(arr->cap, 2, &cap)) {
			toml_value_free(v);
			return -ENOMEM;
		}
		items = reallocarray(arr->items, cap, sizeof(*items));
		if (!items) {
			toml_value_free(v);
			return -ENOMEM;
		}
		arr->items = items;
		arr->cap = cap;
	}
	arr->items[arr->n++] = v;
	return 0;
}
