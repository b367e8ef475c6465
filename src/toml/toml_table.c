/* SPDX-License-Identifier: MIT */
/*
 * Tables: entries in insertion order, plus an open-addressing hash index
 * once a table outgrows a short linear search. The index maps a key's hash
 * to entry index + 1 (0 marks a free slot) and is kept at most half full,
 * so lookups and inserts cost O(1) on average; entries are never removed,
 * so no tombstones are needed.
 *
 * The hash is SipHash-1-3 (Aumasson and Bernstein, "SipHash: a fast
 * short-input PRF", 2012) under a key drawn once per process from the
 * kernel. Keys come from untrusted files; with a secret key nobody can
 * prepare a document whose keys all collide and turn parsing quadratic.
 */
#include "toml/toml_internal.h"

#include <sys/random.h>

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/size.h"

/* Tables up to this size are searched linearly and have no index. */
#define TOML_TABLE_LINEAR 8

static uint64_t toml_table_sipkey[2];
static pthread_once_t toml_table_sipkey_once = PTHREAD_ONCE_INIT;

static void
toml_table_sipkey_init(void)
{
	struct timespec ts;

	if (getentropy(toml_table_sipkey, sizeof(toml_table_sipkey)) == 0)
		return;
	/* No entropy (a very early boot, a seccomp jail): a weaker key is
	 * still better than a fixed one. */
	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	toml_table_sipkey[0] = (uint64_t)ts.tv_nsec ^ (uint64_t)ts.tv_sec << 32;
	toml_table_sipkey[1] =
	    (uint64_t)(uintptr_t)&toml_table_sipkey ^ 0x9e3779b97f4a7c15u;
}

static inline uint64_t
toml_table_rotl(uint64_t x, int b)
{
	return x << b | x >> (64 - b);
}

static inline void
toml_table_sipround(uint64_t v[4])
{
	v[0] += v[1];
	v[1] = toml_table_rotl(v[1], 13) ^ v[0];
	v[0] = toml_table_rotl(v[0], 32);
	v[2] += v[3];
	v[3] = toml_table_rotl(v[3], 16) ^ v[2];
	v[0] += v[3];
	v[3] = toml_table_rotl(v[3], 21) ^ v[0];
	v[2] += v[1];
	v[1] = toml_table_rotl(v[1], 17) ^ v[2];
	v[2] = toml_table_rotl(v[2], 32);
}

static uint64_t
toml_table_load_le(const unsigned char *p, size_t n)
{
	uint64_t m = 0;

	for (size_t i = 0; i < n; i++)
		m |= (uint64_t)p[i] << (8 * i);
	return m;
}

static uint64_t
toml_table_hash(const char *key, size_t len)
{
	const unsigned char *p = (const unsigned char *)key;
	uint64_t v[4], m;
	size_t i;

	(void)pthread_once(&toml_table_sipkey_once, toml_table_sipkey_init);
	v[0] = toml_table_sipkey[0] ^ 0x736f6d6570736575u;
	v[1] = toml_table_sipkey[1] ^ 0x646f72616e646f6du;
	v[2] = toml_table_sipkey[0] ^ 0x6c7967656e657261u;
	v[3] = toml_table_sipkey[1] ^ 0x7465646279746573u;
	for (i = 0; i + 8 <= len; i += 8) {
		m = toml_table_load_le(p + i, 8);
		v[3] ^= m;
		toml_table_sipround(v);
		v[0] ^= m;
	}
	m = toml_table_load_le(p + i, len - i) | (uint64_t)(len & 0xff) << 56;
	v[3] ^= m;
	toml_table_sipround(v);
	v[0] ^= m;
	v[2] ^= 0xff;
	toml_table_sipround(v);
	toml_table_sipround(v);
	toml_table_sipround(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

static bool
toml_table_entry_is(const struct toml_entry *en, const char *key, size_t len)
{
	return en->len == len && (len == 0 || memcmp(en->key, key, len) == 0);
}

/* Slot of entry number idx (0-based) in a fresh or growing index. */
static void
toml_table_index_put(size_t *slots, size_t nslots, uint64_t hash, size_t idx)
{
	size_t mask = nslots - 1, s = (size_t)hash & mask;

	while (slots[s] != 0)
		s = (s + 1) & mask;
	slots[s] = idx + 1;
}

/* Make sure the index can take entry number t->n (the next one). */
static int
toml_table_index_reserve(struct toml_table *t)
{
	size_t want, nslots;
	size_t *slots;

	if (t->n + 1 <= TOML_TABLE_LINEAR)
		return 0;
	if (!size_mul(t->n + 1, 2, &want))
		return -ENOMEM;
	if (t->nslots >= want)
		return 0;
	nslots = t->nslots ? t->nslots : 32;
	while (nslots < want)
		if (!size_mul(nslots, 2, &nslots))
			return -ENOMEM;
	slots = calloc(nslots, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < t->n; i++)
		toml_table_index_put(slots, nslots, t->entries[i].hash, i);
	free(t->slots);
	t->slots = slots;
	t->nslots = nslots;
	return 0;
}

static int
toml_table_entries_reserve(struct toml_table *t)
{
	struct toml_entry *e;
	size_t cap;

	if (t->n < t->cap)
		return 0;
	cap = 4;
	if (t->cap && !size_mul(t->cap, 2, &cap))
		return -ENOMEM;
	e = reallocarray(t->entries, cap, sizeof(*e));
	if (!e)
		return -ENOMEM;
	t->entries = e;
	t->cap = cap;
	return 0;
}

static ssize_t
toml_table_index_of(const struct toml_table *t, const char *key, size_t len)
{
	size_t mask, s;
	uint64_t hash;

	if (t->nslots == 0) {
		for (size_t i = 0; i < t->n; i++)
			if (toml_table_entry_is(&t->entries[i], key, len))
				return (ssize_t)i;
		return -1;
	}
	hash = toml_table_hash(key, len);
	mask = t->nslots - 1;
	for (s = (size_t)hash & mask; t->slots[s] != 0; s = (s + 1) & mask) {
		const struct toml_entry *en = &t->entries[t->slots[s] - 1];

		if (en->hash == hash && toml_table_entry_is(en, key, len))
			return (ssize_t)(t->slots[s] - 1);
	}
	return -1;
}

struct toml_entry *
toml_table_lookup(const struct toml_value *t, const char *key, size_t len)
{
	ssize_t i;

	assert(t->type == TOML_TABLE);
	i = toml_table_index_of(&t->tab, key, len);
	return i < 0 ? NULL : &t->tab.entries[i];
}

int
toml_table_append_take(struct toml_value *t, char *key, size_t len,
    struct toml_pos pos, struct toml_value *v)
{
	struct toml_table *tab = &t->tab;
	uint64_t hash = toml_table_hash(key, len);
	int r;

	assert(t->type == TOML_TABLE);
	r = toml_table_entries_reserve(tab);
	if (r == 0)
		r = toml_table_index_reserve(tab);
	if (r < 0) {
		free(key);
		toml_value_free(v);
		return r;
	}
	tab->entries[tab->n] = (struct toml_entry){
		.key = key,
		.len = len,
		.hash = hash,
		.pos = pos,
		.value = v,
	};
	if (tab->nslots)
		toml_table_index_put(tab->slots, tab->nslots, hash, tab->n);
	tab->n++;
	return 0;
}

void
toml_table_done(struct toml_value *t)
{
	struct toml_table *tab = &t->tab;

	for (size_t i = 0; i < tab->n; i++) {
		free(tab->entries[i].key);
		toml_value_free(tab->entries[i].value);
	}
	free(tab->entries);
	free(tab->slots);
	*tab = (struct toml_table){ 0 };
}

static char *
toml_table_keydup(const char *key, size_t len)
{
	size_t size;
	char *k;

	if (!size_add(len, 1, &size))
		return NULL;
	k = malloc(size);
	if (!k)
		return NULL;
	if (len)
		memcpy(k, key, len);
	k[len] = '\0';
	return k;
}

int
toml_table_copy(struct toml_value *dst, const struct toml_value *src)
{
	assert(dst->type == TOML_TABLE && dst->tab.n == 0);
	for (size_t i = 0; i < src->tab.n; i++) {
		const struct toml_entry *en = &src->tab.entries[i];
		char *key = toml_table_keydup(en->key, en->len);
		struct toml_value *v = toml_value_clone(en->value);
		int r;

		if (!key || !v) {
			free(key);
			toml_value_free(v);
			return -ENOMEM;
		}
		r = toml_table_append_take(dst, key, en->len, en->pos, v);
		if (r < 0)
			return r;
	}
	return 0;
}

struct toml_value *
toml_table_new(void)
{
	return toml_value_new(TOML_TABLE, TOML_DEF_API, (struct toml_pos){ 0 },
	    NULL);
}

size_t
toml_table_size(const struct toml_value *t)
{
	assert(t->type == TOML_TABLE);
	return t->tab.n;
}

const char *
toml_table_key(const struct toml_value *t, size_t i, size_t *ret_len)
{
	assert(t->type == TOML_TABLE);
	if (i >= t->tab.n)
		return NULL;
	if (ret_len)
		*ret_len = t->tab.entries[i].len;
	return t->tab.entries[i].key;
}

struct toml_pos
toml_table_key_pos(const struct toml_value *t, size_t i)
{
	assert(t->type == TOML_TABLE);
	if (i >= t->tab.n)
		return (struct toml_pos){ 0 };
	return t->tab.entries[i].pos;
}

struct toml_value *
toml_table_value(const struct toml_value *t, size_t i)
{
	assert(t->type == TOML_TABLE);
	return i < t->tab.n ? t->tab.entries[i].value : NULL;
}

struct toml_value *
toml_table_get(const struct toml_value *t, const char *key, size_t len)
{
	struct toml_entry *en = toml_table_lookup(t, key, len);

	return en ? en->value : NULL;
}

struct toml_value *
toml_table_get_str(const struct toml_value *t, const char *key)
{
	return toml_table_get(t, key, strlen(key));
}

ssize_t
toml_table_find(const struct toml_value *t, const char *key, size_t len)
{
	assert(t->type == TOML_TABLE);
	return toml_table_index_of(&t->tab, key, len);
}

int
toml_table_set(struct toml_value *t, const char *key, size_t len,
    struct toml_pos key_pos, struct toml_value *v)
{
	struct toml_entry *en = toml_table_lookup(t, key, len);
	char *k;

	if (en) {
		if (en->value != v)
			toml_value_free(en->value);
		en->value = v;
		en->pos = key_pos;
		return 0;
	}
	k = toml_table_keydup(key, len);
	if (!k) {
		toml_value_free(v);
		return -ENOMEM;
	}
	return toml_table_append_take(t, k, len, key_pos, v);
}
