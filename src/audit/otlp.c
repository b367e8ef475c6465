/* SPDX-License-Identifier: MIT */
/*
 * The OTLP/HTTP exporter: a ring of captured audit events and one thread
 * that batches, encodes and POSTs them (see otlp.h).
 *
 * Invariants (under o->lock): the n queued records start at ring[head];
 * the counters only grow. The thread owns o->batch, o->body and the curl
 * handle. stop_deadline_ns is atomic because the curl progress callback
 * reads it mid-transfer without the lock, to abort a hung request once
 * the stop deadline has passed.
 *
 * libcurl does TLS (OpenSSL), mutual TLS, timeouts and connection reuse;
 * proxies are off (CURLOPT_PROXY "") so the environment's HTTP(S)_PROXY,
 * which may be paddock itself, never carries our own telemetry.
 */
#include "audit/otlp.h"

#include <sys/random.h>

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "audit/audit_event.h"
#include "audit/otlp_curl.h"
#include "audit/otlp_encode.h"
#include "util/buf.h"
#include "util/compiler.h"
#include "util/limits.h"
#include "util/log.h"

struct otlp {
	struct otlp_settings *s; /* owned */
	pthread_t thread;
	bool thread_started;

	/* The exporter thread's own. */
	const struct otlp_curl *cu;
	CURL *curl;
	struct curl_slist *headers;
	struct audit_event *batch; /* LIMIT_OTLP_BATCH */
	struct buf body;
	struct audit_event_meta meta;
	uint64_t rng;
	bool failing; /* the last attempt failed (logged once) */

	pthread_mutex_t lock;
	pthread_cond_t work; /* a first record, a full batch, or stopping */
	struct audit_event *ring;
	size_t cap, head, n;
	uint64_t sent, retried, dropped, failed;
	bool stopping;
	_Atomic uint64_t stop_deadline_ns; /* CLOCK_MONOTONIC; 0 = none */
};

/*
 * Settings.
 */
static int
otlp_strdup_opt(const char *in, char **ret)
{
	*ret = NULL;
	if (!in)
		return 0;
	*ret = strdup(in);
	return *ret ? 0 : -ENOMEM;
}

struct otlp_settings *
otlp_settings_new(const char *endpoint, const char *environment)
{
	struct otlp_settings *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	if (otlp_strdup_opt(endpoint, &s->endpoint) < 0 ||
	    otlp_strdup_opt(environment ? environment : "dev",
		&s->environment) < 0)
		return otlp_settings_free(s);
	return s;
}

int
otlp_settings_set_tls(struct otlp_settings *s, const char *ca_file,
    const char *cert_file, const char *key_file)
{
	free(s->ca_file);
	free(s->cert_file);
	free(s->key_file);
	if (otlp_strdup_opt(ca_file, &s->ca_file) < 0 ||
	    otlp_strdup_opt(cert_file, &s->cert_file) < 0 ||
	    otlp_strdup_opt(key_file, &s->key_file) < 0)
		return -ENOMEM;
	return 0;
}

int
otlp_settings_add_header(struct otlp_settings *s, const char *name,
    const char *value)
{
	struct buf line;
	char **nv;

	nv = reallocarray(s->headers, s->n_headers + 1, sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	s->headers = nv;
	buf_init(&line, 0);
	/* curl sends "Name:" for an empty value only as "Name;". */
	if ((value[0] ? buf_printf(&line, "%s: %s", name, value) :
			buf_printf(&line, "%s;", name)) < 0) {
		buf_done(&line);
		return -ENOMEM;
	}
	s->headers[s->n_headers++] = buf_take(&line);
	return s->headers[s->n_headers - 1] ? 0 : -ENOMEM;
}

struct otlp_settings *
otlp_settings_free(struct otlp_settings *s)
{
	if (!s)
		return NULL;
	for (size_t i = 0; i < s->n_headers; i++) {
		if (s->headers[i])
			explicit_bzero(s->headers[i], strlen(s->headers[i]));
		free(s->headers[i]);
	}
	free(s->headers);
	free(s->endpoint);
	free(s->ca_file);
	free(s->cert_file);
	free(s->key_file);
	free(s->environment);
	free(s);
	return NULL;
}

struct otlp_settings *
otlp_settings_dup(const struct otlp_settings *s)
{
	struct otlp_settings *d =
	    otlp_settings_new(s->endpoint, s->environment);

	if (!d)
		return NULL;
	d->json = s->json;
	d->queue = s->queue;
	if (otlp_settings_set_tls(d, s->ca_file, s->cert_file, s->key_file) < 0)
		return otlp_settings_free(d);
	d->headers =
	    calloc(s->n_headers ? s->n_headers : 1, sizeof(*d->headers));
	if (!d->headers)
		return otlp_settings_free(d);
	for (size_t i = 0; i < s->n_headers; i++) {
		d->headers[i] = strdup(s->headers[i]);
		if (!d->headers[i])
			return otlp_settings_free(d);
		d->n_headers++;
	}
	return d;
}

static bool
otlp_str_equal(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

bool
otlp_settings_equal(const struct otlp_settings *a,
    const struct otlp_settings *b)
{
	if (!a || !b)
		return a == b;
	if (a->json != b->json || a->queue != b->queue ||
	    a->n_headers != b->n_headers ||
	    !otlp_str_equal(a->endpoint, b->endpoint) ||
	    !otlp_str_equal(a->environment, b->environment) ||
	    !otlp_str_equal(a->ca_file, b->ca_file) ||
	    !otlp_str_equal(a->cert_file, b->cert_file) ||
	    !otlp_str_equal(a->key_file, b->key_file))
		return false;
	for (size_t i = 0; i < a->n_headers; i++)
		if (strcmp(a->headers[i], b->headers[i]) != 0)
			return false;
	return true;
}

/*
 * Time and randomness.
 */
static uint64_t
otlp_now_ns(clockid_t clock)
{
	struct timespec ts;

	(void)clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* xorshift64*, seeded from getrandom(): jitter only, not secrets. */
static uint64_t
otlp_random(struct otlp *o)
{
	uint64_t x = o->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	o->rng = x;
	return x * 0x2545f4914f6cdd1dull;
}

/* Wait on o->work until deadline_ns (CLOCK_MONOTONIC) at the latest.
 * Called with o->lock held. */
static void
otlp_wait_until(struct otlp *o, uint64_t deadline_ns)
{
	struct timespec ts = { .tv_sec = (time_t)(deadline_ns / 1000000000u),
		.tv_nsec = (long)(deadline_ns % 1000000000u) };

	(void)pthread_cond_timedwait(&o->work, &o->lock, &ts);
}

/*
 * Sending.
 */

/* Abort a transfer in flight once the stop deadline has passed. */
static int
otlp_progress_cb(void *userdata, curl_off_t dltotal, curl_off_t dlnow,
    curl_off_t ultotal, curl_off_t ulnow)
{
	struct otlp *o = userdata;
	uint64_t deadline = atomic_load(&o->stop_deadline_ns);

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return deadline && otlp_now_ns(CLOCK_MONOTONIC) >= deadline;
}

/* The collector's answer body is not needed; keep it off stdout. */
static size_t
otlp_discard_cb(char *p, size_t size, size_t n, void *userdata)
{
	(void)p;
	(void)userdata;
	return size * n;
}

static int
otlp_curl_setup(struct otlp *o)
{
	const struct otlp_settings *s = o->s;
	const struct otlp_curl *cu = o->cu;
	CURL *c = cu->easy_init();
	bool ok;

	if (!c)
		return -ENOMEM;
	o->curl = c;
	o->headers = cu->slist_append(NULL,
	    s->json ? "Content-Type: application/json" :
		      "Content-Type: application/x-protobuf");
	for (size_t i = 0; o->headers && i < s->n_headers; i++) {
		struct curl_slist *h =
		    cu->slist_append(o->headers, s->headers[i]);

		if (!h)
			return -ENOMEM;
		o->headers = h;
	}
	if (!o->headers)
		return -ENOMEM;
	ok = cu->easy_setopt(c, CURLOPT_URL, s->endpoint) == CURLE_OK &&
	    cu->easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https") ==
		CURLE_OK &&
	    cu->easy_setopt(c, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
	    cu->easy_setopt(c, CURLOPT_PROXY, "") == CURLE_OK &&
	    cu->easy_setopt(c, CURLOPT_HTTPHEADER, o->headers) == CURLE_OK &&
	    cu->easy_setopt(c, CURLOPT_TIMEOUT_MS,
		(long)LIMIT_OTLP_TIMEOUT_MS) == CURLE_OK &&
	    cu->easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
		(long)LIMIT_OTLP_CONNECT_MS) == CURLE_OK &&
	    cu->easy_setopt(c, CURLOPT_NOPROGRESS, 0L) == CURLE_OK &&
	    cu->easy_setopt(c, CURLOPT_XFERINFOFUNCTION, otlp_progress_cb) ==
		CURLE_OK &&
	    cu->easy_setopt(c, CURLOPT_XFERINFODATA, o) == CURLE_OK &&
	    cu->easy_setopt(c, CURLOPT_WRITEFUNCTION, otlp_discard_cb) ==
		CURLE_OK &&
	    cu->easy_setopt(c, CURLOPT_USERAGENT,
		"paddock/" PADDOCK_VERSION_STRING) == CURLE_OK &&
	    (!s->ca_file ||
		cu->easy_setopt(c, CURLOPT_CAINFO, s->ca_file) == CURLE_OK) &&
	    (!s->cert_file ||
		cu->easy_setopt(c, CURLOPT_SSLCERT, s->cert_file) ==
		    CURLE_OK) &&
	    (!s->key_file ||
		cu->easy_setopt(c, CURLOPT_SSLKEY, s->key_file) == CURLE_OK);
	return ok ? 0 : -EINVAL;
}

enum otlp_outcome {
	OTLP_SENT,
	OTLP_RETRY,  /* 429, 502, 503, 504, a connection error */
	OTLP_REJECT, /* any other answer: sending it again will not help */
};

/* POST o->body once. *ret_retry_after_ms is the server's Retry-After (0
 * when absent). */
static enum otlp_outcome
otlp_post(struct otlp *o, uint64_t *ret_retry_after_ms, char *why, size_t whysz)
{
	curl_off_t retry_after = 0;
	long status = 0;
	CURLcode rc;

	*ret_retry_after_ms = 0;
	(void)o->cu->easy_setopt(o->curl, CURLOPT_POSTFIELDS, o->body.data);
	(void)o->cu->easy_setopt(o->curl, CURLOPT_POSTFIELDSIZE_LARGE,
	    (curl_off_t)o->body.len);
	rc = o->cu->easy_perform(o->curl);
	if (rc != CURLE_OK) {
		(void)snprintf(why, whysz, "%s", o->cu->easy_strerror(rc));
		return OTLP_RETRY;
	}
	(void)o->cu->easy_getinfo(o->curl, CURLINFO_RESPONSE_CODE, &status);
	if (status >= 200 && status < 300)
		return OTLP_SENT;
	(void)snprintf(why, whysz, "HTTP status %ld", status);
	if (status != 429 && status != 502 && status != 503 && status != 504)
		return OTLP_REJECT;
	if (o->cu->easy_getinfo(o->curl, CURLINFO_RETRY_AFTER, &retry_after) ==
		CURLE_OK &&
	    retry_after > 0)
		*ret_retry_after_ms = (uint64_t)retry_after * 1000u;
	if (*ret_retry_after_ms > LIMIT_OTLP_RETRY_AFTER_MS)
		*ret_retry_after_ms = LIMIT_OTLP_RETRY_AFTER_MS;
	return OTLP_RETRY;
}

/* Exponential backoff with jitter: a random point in [d/2, d] where d
 * doubles from LIMIT_OTLP_BACKOFF_MIN_MS up to the maximum. */
static uint64_t
otlp_backoff_ms(struct otlp *o, unsigned attempt)
{
	uint64_t d = LIMIT_OTLP_BACKOFF_MIN_MS;

	for (unsigned i = 0; i < attempt && d < LIMIT_OTLP_BACKOFF_MAX_MS; i++)
		d *= 2;
	if (d > LIMIT_OTLP_BACKOFF_MAX_MS)
		d = LIMIT_OTLP_BACKOFF_MAX_MS;
	return d / 2 + otlp_random(o) % (d / 2 + 1);
}

static int
otlp_encode(struct otlp *o, size_t k)
{
	struct otlp_resource res = { .service_name = "paddock",
		.service_version = PADDOCK_VERSION_STRING,
		.environment = o->s->environment,
		.meta = &o->meta.meta };
	uint64_t observed = otlp_now_ns(CLOCK_REALTIME);

	buf_clear(&o->body);
	return o->s->json ?
	    otlp_encode_json(o->batch, k, &res, observed, &o->body) :
	    otlp_encode_proto(o->batch, k, &res, observed, &o->body);
}

/* Send the k records of o->batch until a collector takes them, refuses
 * them, or (stopping) the deadline passes. */
static void
otlp_send(struct otlp *o, size_t k)
{
	uint64_t retry_after_ms, wait_ms, stop;
	enum otlp_outcome out;
	char why[CURL_ERROR_SIZE + 32];
	unsigned attempt = 0;

	if (otlp_encode(o, k) < 0) {
		log_warn("otlp: out of memory; %zu records lost", k);
		(void)pthread_mutex_lock(&o->lock);
		o->failed += k;
		(void)pthread_mutex_unlock(&o->lock);
		return;
	}
	for (;;) {
		out = otlp_post(o, &retry_after_ms, why, sizeof(why));
		if (out == OTLP_SENT) {
			if (o->failing)
				log_info("otlp: export to %s works again",
				    o->s->endpoint);
			o->failing = false;
			(void)pthread_mutex_lock(&o->lock);
			o->sent += k;
			(void)pthread_mutex_unlock(&o->lock);
			return;
		}
		if (!o->failing)
			log_warn("otlp: export to %s failed (%s); %s",
			    o->s->endpoint, why,
			    out == OTLP_RETRY ? "retrying" :
						"the batch is dropped");
		o->failing = true;
		wait_ms = retry_after_ms ? retry_after_ms :
					   otlp_backoff_ms(o, attempt);
		attempt++;
		(void)pthread_mutex_lock(&o->lock);
		stop = atomic_load(&o->stop_deadline_ns);
		if (out == OTLP_REJECT ||
		    (stop &&
			otlp_now_ns(CLOCK_MONOTONIC) + wait_ms * 1000000u >=
			    stop)) {
			o->failed += k;
			(void)pthread_mutex_unlock(&o->lock);
			return;
		}
		o->retried++;
		/* A stop wakes us: the deadline is then checked again. */
		otlp_wait_until(o,
		    otlp_now_ns(CLOCK_MONOTONIC) + wait_ms * 1000000u);
		(void)pthread_mutex_unlock(&o->lock);
	}
}

/* Take up to a batch from the ring once it is worth sending: a full
 * batch, a partial one that waited LIMIT_OTLP_DELAY_MS, or anything at
 * stop. Returns how many (0: stopping with nothing left). */
static size_t
otlp_take(struct otlp *o)
{
	uint64_t due = 0;
	size_t k;

	(void)pthread_mutex_lock(&o->lock);
	for (;;) {
		uint64_t stop = atomic_load(&o->stop_deadline_ns);

		if (stop && otlp_now_ns(CLOCK_MONOTONIC) >= stop) {
			/* Out of time: what is left is lost, and counted. */
			o->failed += o->n;
			o->head = (o->head + o->n) % o->cap;
			o->n = 0;
			break;
		}
		if (o->stopping || o->n >= LIMIT_OTLP_BATCH)
			break;
		if (o->n == 0) {
			due = 0;
			(void)pthread_cond_wait(&o->work, &o->lock);
			continue;
		}
		if (!due)
			due = otlp_now_ns(CLOCK_MONOTONIC) +
			    LIMIT_OTLP_DELAY_MS * 1000000ull;
		if (otlp_now_ns(CLOCK_MONOTONIC) >= due)
			break;
		otlp_wait_until(o, due);
	}
	k = o->n < LIMIT_OTLP_BATCH ? o->n : LIMIT_OTLP_BATCH;
	for (size_t i = 0; i < k; i++) {
		o->batch[i] = o->ring[o->head];
		o->head = (o->head + 1) % o->cap;
	}
	o->n -= k;
	(void)pthread_mutex_unlock(&o->lock);
	return k;
}

static void *
otlp_thread(void *arg)
{
	struct otlp *o = arg;
	size_t k;

	while ((k = otlp_take(o)) > 0)
		otlp_send(o, k);
	return NULL;
}

/*
 * Lifecycle.
 */
/* Deadlines are CLOCK_MONOTONIC: a wall-clock step must not stretch or
 * cut a backoff. */
static int
otlp_cond_init(pthread_cond_t *c)
{
	pthread_condattr_t attr;
	int r;

	if (pthread_condattr_init(&attr) != 0)
		return -ENOMEM;
	r = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	if (r == 0)
		r = pthread_cond_init(c, &attr);
	(void)pthread_condattr_destroy(&attr);
	return r;
}

int
otlp_new(const struct otlp_settings *s, struct otlp **ret, char *reterr,
    size_t errsz)
{
	struct otlp *o;
	int r = -ENOMEM;
	const struct otlp_curl *cu;

	if (!s->endpoint || !s->environment || s->queue > LIMIT_OTLP_QUEUE_MAX)
		return -EINVAL;
	cu = otlp_curl_get(reterr, errsz);
	if (!cu)
		return -ELIBACC;
	o = calloc(1, sizeof(*o));
	if (!o)
		return -ENOMEM;
	o->cu = cu;
	if (pthread_mutex_init(&o->lock, NULL) != 0) {
		free(o);
		return -ENOMEM;
	}
	if (otlp_cond_init(&o->work) != 0) {
		(void)pthread_mutex_destroy(&o->lock);
		free(o);
		return -ENOMEM;
	}
	buf_init(&o->body, LIMIT_OTLP_BODY_BYTES);
	o->cap = s->queue ? s->queue : LIMIT_OTLP_QUEUE;
	o->s = otlp_settings_dup(s);
	o->ring = calloc(o->cap, sizeof(*o->ring));
	o->batch = calloc(LIMIT_OTLP_BATCH, sizeof(*o->batch));
	if (!o->s || !o->ring || !o->batch)
		goto fail;
	r = otlp_curl_setup(o);
	if (r < 0)
		goto fail;
	if (getrandom(&o->rng, sizeof(o->rng), GRND_NONBLOCK) != sizeof(o->rng))
		o->rng = otlp_now_ns(CLOCK_MONOTONIC);
	o->rng |= 1;
	*ret = o;
	return 0;
fail:
	otlp_free(o);
	return r;
}

int
otlp_set_meta(struct otlp *o, const struct audit_meta *meta)
{
	return audit_event_meta_set(&o->meta, meta);
}

int
otlp_start(struct otlp *o)
{
	sigset_t all, old;
	int r;

	if (o->thread_started)
		return 0;
	(void)pthread_mutex_lock(&o->lock);
	o->stopping = false;
	atomic_store(&o->stop_deadline_ns, 0);
	(void)pthread_mutex_unlock(&o->lock);
	(void)sigfillset(&all);
	(void)pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&o->thread, NULL, otlp_thread, o);
	(void)pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0)
		return -r;
	o->thread_started = true;
	return 0;
}

void
otlp_stop(struct otlp *o)
{
	struct otlp_stats st;

	if (!o->thread_started)
		return;
	(void)pthread_mutex_lock(&o->lock);
	o->stopping = true;
	atomic_store(&o->stop_deadline_ns,
	    otlp_now_ns(CLOCK_MONOTONIC) + LIMIT_OTLP_STOP_MS * 1000000ull);
	(void)pthread_cond_broadcast(&o->work);
	(void)pthread_mutex_unlock(&o->lock);
	(void)pthread_join(o->thread, NULL);
	o->thread_started = false;
	otlp_stats(o, &st);
	log_info("otlp: stopped: %" PRIu64 " records sent, %" PRIu64
		 " requests retried, %" PRIu64 " dropped (queue full), %" PRIu64
		 " failed, %" PRIu64 " left unsent",
	    st.sent, st.retried, st.dropped, st.failed, st.queued);
}

struct otlp *
otlp_free(struct otlp *o)
{
	if (!o)
		return NULL;
	otlp_stop(o);
	if (o->curl)
		o->cu->easy_cleanup(o->curl);
	o->cu->slist_free_all(o->headers);
	buf_done(&o->body);
	audit_event_meta_done(&o->meta);
	free(o->ring);
	free(o->batch);
	o->s = otlp_settings_free(o->s);
	(void)pthread_cond_destroy(&o->work);
	(void)pthread_mutex_destroy(&o->lock);
	free(o);
	return NULL;
}

void
otlp_push(struct otlp *o, const struct audit_event *ev)
{
	(void)pthread_mutex_lock(&o->lock);
	if (o->n == o->cap) {
		/* The oldest record makes room: the newest say more. */
		o->head = (o->head + 1) % o->cap;
		o->n--;
		o->dropped++;
	}
	o->ring[(o->head + o->n) % o->cap] = *ev;
	o->n++;
	/* The thread sleeps without a timer while the ring is empty, and
	 * with one until a batch is full. */
	if (o->n == 1 || o->n == LIMIT_OTLP_BATCH)
		(void)pthread_cond_signal(&o->work);
	(void)pthread_mutex_unlock(&o->lock);
}

void
otlp_stats(const struct otlp *o, struct otlp_stats *ret)
{
	struct otlp *m = (struct otlp *)(uintptr_t)o;

	(void)pthread_mutex_lock(&m->lock);
	*ret = (struct otlp_stats){ .queued = o->n,
		.sent = o->sent,
		.retried = o->retried,
		.dropped = o->dropped,
		.failed = o->failed };
	(void)pthread_mutex_unlock(&m->lock);
}

const struct otlp_settings *
otlp_get_settings(const struct otlp *o)
{
	return o->s;
}
