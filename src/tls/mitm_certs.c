/* SPDX-License-Identifier: MIT */
/*
 * The leaf cache and the SSL contexts of interception. The cache is an
 * LRU list plus a chained hash table over host names, under one mutex;
 * minting happens outside the lock (a signature is ~0.1 ms), and when two
 * workers mint the same host at once the first to insert wins.
 */
#include "tls/mitm.h"

#include <sys/queue.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "tls/certgen_internal.h"
#include "util/limits.h"
#include "util/strutil.h"

struct mitm_leaf {
	TAILQ_ENTRY(mitm_leaf) lru; /* most recently used first */
	struct mitm_leaf *next;     /* hash chain */
	X509 *cert;
	time_t not_after;
	uint64_t hash;
	char host[];
};

TAILQ_HEAD(mitm_leaf_list, mitm_leaf);

struct mitm_certs {
	struct certgen_ca *ca;
	EVP_PKEY *leaf_key;
	SSL_CTX *server;
	SSL_CTX *client;

	pthread_mutex_t lock;
	struct mitm_leaf_list lru;
	struct mitm_leaf **buckets;
	size_t nbuckets; /* a power of two */
	size_t entries;
	size_t capacity;
	struct mitm_cert_stats stats;
};

/* FNV-1a: host names are short and the table is private. */
static uint64_t
mitm_certs_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325u;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 0x100000001b3u;
	return h;
}

static struct mitm_leaf **
mitm_certs_slot(struct mitm_certs *m, const char *host, uint64_t hash)
{
	struct mitm_leaf **p = &m->buckets[hash & (m->nbuckets - 1)];

	while (*p && !((*p)->hash == hash && streq((*p)->host, host)))
		p = &(*p)->next;
	return p;
}

static void
mitm_certs_drop(struct mitm_certs *m, struct mitm_leaf *l)
{
	struct mitm_leaf **p = mitm_certs_slot(m, l->host, l->hash);

	*p = l->next;
	TAILQ_REMOVE(&m->lru, l, lru);
	m->entries--;
	m->stats.evictions++;
	X509_free(l->cert);
	free(l);
}

static time_t
mitm_certs_not_after(X509 *cert)
{
	struct tm tm;

	if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) != 1)
		return 0;
	return timegm(&tm);
}

/* Under the lock: a live entry's certificate (new reference), or NULL. */
static X509 *
mitm_certs_lookup(struct mitm_certs *m, const char *host, uint64_t hash,
    time_t now)
{
	struct mitm_leaf *l = *mitm_certs_slot(m, host, hash);

	if (!l)
		return NULL;
	if (l->not_after - now < LIMIT_MITM_RENEW_S) {
		mitm_certs_drop(m, l);
		return NULL;
	}
	TAILQ_REMOVE(&m->lru, l, lru);
	TAILQ_INSERT_HEAD(&m->lru, l, lru);
	(void)X509_up_ref(l->cert);
	return l->cert;
}

/* Under the lock: keep cert for host unless another thread was first. */
static void
mitm_certs_insert(struct mitm_certs *m, const char *host, uint64_t hash,
    X509 *cert)
{
	size_t len = strlen(host) + 1;
	struct mitm_leaf **slot = mitm_certs_slot(m, host, hash);
	struct mitm_leaf *l;

	if (*slot)
		return;
	l = malloc(sizeof(*l) + len);
	if (!l)
		return; /* served uncached; the next tunnel mints again */
	memcpy(l->host, host, len);
	l->hash = hash;
	l->next = NULL;
	l->cert = cert;
	l->not_after = mitm_certs_not_after(cert);
	(void)X509_up_ref(cert);
	*slot = l;
	TAILQ_INSERT_HEAD(&m->lru, l, lru);
	if (++m->entries > m->capacity)
		mitm_certs_drop(m, TAILQ_LAST(&m->lru, mitm_leaf_list));
}

int
mitm_certs_leaf(struct mitm_certs *m, const char *host, time_t now,
    X509 **ret_leaf, struct certgen_err *reterr)
{
	uint64_t hash = mitm_certs_hash(host);
	struct certgen_san san;
	X509 *cert;
	int r;

	(void)pthread_mutex_lock(&m->lock);
	cert = mitm_certs_lookup(m, host, hash, now);
	if (cert)
		m->stats.hits++;
	(void)pthread_mutex_unlock(&m->lock);
	if (cert) {
		*ret_leaf = cert;
		return 0;
	}
	r = certgen_san_parse(host, strlen(host), &san, reterr);
	if (r < 0)
		return r;
	cert = certgen_leaf_new(m->ca, m->leaf_key, &san, now, reterr);
	if (!cert)
		return -ENOMEM;
	(void)pthread_mutex_lock(&m->lock);
	m->stats.misses++;
	mitm_certs_insert(m, host, hash, cert);
	(void)pthread_mutex_unlock(&m->lock);
	*ret_leaf = cert;
	return 0;
}

void
mitm_certs_stats(struct mitm_certs *m, struct mitm_cert_stats *ret)
{
	(void)pthread_mutex_lock(&m->lock);
	*ret = m->stats;
	ret->entries = m->entries;
	(void)pthread_mutex_unlock(&m->lock);
}

const struct certgen_ca *
mitm_certs_get_ca(const struct mitm_certs *m)
{
	return m->ca;
}

/* RFC 7301: choose http/1.1 when offered; otherwise go on without ALPN
 * rather than fail a client that offers h2 alone (it will not, in
 * practice, but an HTTP/1.1 answer is still what it gets). */
static int
mitm_certs_alpn_cb(SSL *ssl, const unsigned char **out, unsigned char *outlen,
    const unsigned char *in, unsigned int inlen, void *arg)
{
	static const unsigned char h11[] = "\x08http/1.1";
	unsigned char *sel = NULL;

	(void)ssl;
	(void)arg;
	if (SSL_select_next_proto(&sel, outlen, h11, sizeof(h11) - 1, in,
		inlen) != OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_NOACK;
	*out = sel;
	return SSL_TLSEXT_ERR_OK;
}

/* The managed CA is trusted by the children, never by paddock itself: an
 * SSL_CERT_FILE that happens to hold our bundle must not let a minted leaf
 * pass as an origin. */
static int
mitm_certs_verify_cb(int ok, X509_STORE_CTX *ctx)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(ctx,
	    SSL_get_ex_data_X509_STORE_CTX_idx());
	const struct mitm_certs *m = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
	X509 *cert = X509_STORE_CTX_get_current_cert(ctx);

	if (ok && m && cert &&
	    X509_cmp(cert, certgen_ca_get_cert(m->ca)) == 0) {
		X509_STORE_CTX_set_error(ctx, X509_V_ERR_CERT_UNTRUSTED);
		return 0;
	}
	return ok;
}

static int
mitm_certs_contexts(struct mitm_certs *m)
{
	static const unsigned char h11[] = "\x08http/1.1";

	m->server = SSL_CTX_new(TLS_server_method());
	m->client = SSL_CTX_new(TLS_client_method());
	if (!m->server || !m->client)
		return -ENOMEM;
	if (SSL_CTX_set_min_proto_version(m->server, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_min_proto_version(m->client, TLS1_2_VERSION) != 1)
		return -EINVAL;
	SSL_CTX_set_alpn_select_cb(m->server, mitm_certs_alpn_cb, NULL);
	SSL_CTX_set_session_cache_mode(m->server, SSL_SESS_CACHE_SERVER);
	SSL_CTX_set_mode(m->server, SSL_MODE_RELEASE_BUFFERS);

	if (SSL_CTX_set_default_verify_paths(m->client) != 1)
		return -EINVAL;
	SSL_CTX_set_app_data(m->client, m);
	SSL_CTX_set_verify(m->client, SSL_VERIFY_PEER, mitm_certs_verify_cb);
	/* set_alpn_protos returns 0 on success. */
	if (SSL_CTX_set_alpn_protos(m->client, h11, sizeof(h11) - 1) != 0)
		return -ENOMEM;
	SSL_CTX_set_mode(m->client, SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_session_cache_mode(m->client, SSL_SESS_CACHE_OFF);
	return 0;
}

struct mitm_certs *
mitm_certs_new(struct certgen_ca *ca, size_t capacity,
    struct certgen_err *reterr)
{
	struct mitm_certs *m = calloc(1, sizeof(*m));

	if (!m) {
		certgen_ca_free(ca);
		certgen_err_set(reterr, "out of memory");
		return NULL;
	}
	m->ca = ca;
	TAILQ_INIT(&m->lru);
	(void)pthread_mutex_init(&m->lock, NULL);
	m->capacity = capacity ? capacity : LIMIT_MITM_CERT_CACHE;
	for (m->nbuckets = 16; m->nbuckets < m->capacity * 2;)
		m->nbuckets *= 2;
	m->buckets = calloc(m->nbuckets, sizeof(*m->buckets));
	m->leaf_key = certgen_key_new();
	if (!m->buckets || !m->leaf_key || mitm_certs_contexts(m) < 0) {
		certgen_err_set(reterr, "setting up TLS interception: %s",
		    certgen_ssl_reason());
		return mitm_certs_free(m);
	}
	return m;
}

struct mitm_certs *
mitm_certs_free(struct mitm_certs *m)
{
	if (!m)
		return NULL;
	while (!TAILQ_EMPTY(&m->lru))
		mitm_certs_drop(m, TAILQ_FIRST(&m->lru));
	free(m->buckets);
	SSL_CTX_free(m->server);
	SSL_CTX_free(m->client);
	EVP_PKEY_free(m->leaf_key);
	certgen_ca_free(m->ca);
	(void)pthread_mutex_destroy(&m->lock);
	free(m);
	return NULL;
}

SSL *
mitm_certs_server_ssl(struct mitm_certs *m, const char *host, time_t now,
    struct certgen_err *reterr)
{
	X509 *leaf = NULL;
	SSL *ssl;

	if (mitm_certs_leaf(m, host, now, &leaf, reterr) < 0)
		return NULL;
	ssl = SSL_new(m->server);
	if (!ssl || SSL_use_certificate(ssl, leaf) != 1 ||
	    SSL_use_PrivateKey(ssl, m->leaf_key) != 1) {
		certgen_err_set(reterr, "TLS for %s: %s", host,
		    certgen_ssl_reason());
		SSL_free(ssl);
		ssl = NULL;
	}
	X509_free(leaf);
	return ssl;
}

SSL *
mitm_certs_client_ssl(struct mitm_certs *m, const char *host,
    struct certgen_err *reterr)
{
	struct certgen_san san;
	SSL *ssl;
	int ok;

	if (certgen_san_parse(host, strlen(host), &san, reterr) < 0)
		return NULL;
	ssl = SSL_new(m->client);
	if (!ssl)
		goto fail;
	if (san.kind == CERTGEN_SAN_DNS) {
		/* SNI names a host, never an address (RFC 6066 §3). */
		ok = SSL_set_tlsext_host_name(ssl, san.text) == 1 &&
		    SSL_set1_host(ssl, san.text) == 1;
		SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	} else {
		ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl),
			 san.text) == 1;
	}
	if (!ok)
		goto fail;
	return ssl;
fail:
	certgen_err_set(reterr, "TLS to %s: %s", host, certgen_ssl_reason());
	SSL_free(ssl);
	return NULL;
}

const char *
mitm_verify_failure(SSL *ssl, char *out, size_t outsz)
{
	long v = SSL_get_verify_result(ssl);

	if (v == X509_V_OK && SSL_get0_peer_certificate(ssl))
		return NULL;
	(void)snprintf(out, outsz, "upstream certificate not trusted: %s",
	    v == X509_V_OK ? "no certificate" :
			     X509_verify_cert_error_string(v));
	return out;
}
