/* SPDX-License-Identifier: MIT */
/*
 * `paddock run --ask`; see run_ask.h. The asking thread owns the terminal:
 * it writes the prompt, waits (poll) for an answer, the timeout or the
 * stop, and completes the decision handle. The terminal is shared with
 * the command, which may be writing to it (or, when it reads its own
 * stdin on the same terminal, read keystrokes meant for the prompt).
 */
#include "api/run_ask.h"

#include <sys/eventfd.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "proxy/proxy.h"
#include "util/limits.h"
#include "util/log.h"
#include "util/strutil.h"

enum run_ask_answer {
	RUN_ASK_ONCE,
	RUN_ASK_RUN,
	RUN_ASK_DENY,
	RUN_ASK_TIMEOUT,
	RUN_ASK_STOP,
	RUN_ASK_NO_TTY,
};

struct run_ask_job {
	struct run_ask_job *next;
	struct paddock_decision *decision; /* completed exactly once */
	char key[300];                     /* "host:port" */
	char protocol[16];
	char method[24];
};

/* The host:ports answered "for this run". */
struct run_ask_allowed {
	struct run_ask_allowed *next;
	char key[300];
};

struct run_ask {
	uint64_t timeout_ms;
	int tty; /* /dev/tty, or -1 */
	int tty_errno;
	int wakeup; /* eventfd: stop */
	pthread_t thread;
	bool thread_running;

	pthread_mutex_t lock; /* everything below */
	pthread_cond_t cond;
	bool quit;
	bool said_no_tty;
	struct run_ask_job *head, *tail;
	size_t n_jobs;
	struct run_ask_allowed *allowed;
};

static const char *
run_ask_protocol(enum paddock_protocol p)
{
	switch (p) {
	case PADDOCK_PROTOCOL_HTTPS_CONNECT:
		return "https-connect";
	case PADDOCK_PROTOCOL_SOCKS5_TCP:
		return "socks5-tcp";
	case PADDOCK_PROTOCOL_SOCKS5_UDP:
		return "socks5-udp";
	case PADDOCK_PROTOCOL_HTTPS:
		return "https";
	case PADDOCK_PROTOCOL_HTTP:
	default:
		return "http";
	}
}

/* Copy text for the terminal: printable ASCII only. */
static void
run_ask_copy(char *dst, size_t sz, const char *src)
{
	size_t i = 0;

	for (; src && src[i] && i + 1 < sz; i++)
		dst[i] = src[i] > 0x20 && src[i] < 0x7f ? src[i] : '?';
	dst[i] = '\0';
}

/* Called with the lock held. */
static bool
run_ask_is_allowed(const struct run_ask *a, const char *key)
{
	for (const struct run_ask_allowed *x = a->allowed; x; x = x->next)
		if (streq(x->key, key))
			return true;
	return false;
}

static void
run_ask_complete(struct paddock_decision *d, enum run_ask_answer answer)
{
	if (answer == RUN_ASK_ONCE || answer == RUN_ASK_RUN)
		paddock_decision_allow(d);
	else
		paddock_decision_deny(d, NULL);
}

void
run_ask_decider(const struct paddock_request *req, struct paddock_decision *d,
    void *userdata)
{
	struct run_ask *a = userdata;
	struct run_ask_job *job = calloc(1, sizeof(*job));
	char host[256];

	if (!job) {
		paddock_decision_deny(d, NULL);
		return;
	}
	run_ask_copy(host, sizeof(host), req->host);
	(void)snprintf(job->key, sizeof(job->key),
	    strchr(host, ':') ? "[%s]:%u" : "%s:%u", host, req->port);
	(void)strlcpy(job->protocol, run_ask_protocol(req->protocol),
	    sizeof(job->protocol));
	run_ask_copy(job->method, sizeof(job->method), req->method);
	job->decision = d;
	(void)pthread_mutex_lock(&a->lock);
	if (run_ask_is_allowed(a, job->key)) {
		(void)pthread_mutex_unlock(&a->lock);
		paddock_decision_allow(d);
		free(job);
		return;
	}
	if (a->tty < 0 || a->quit || a->n_jobs >= LIMIT_ASK_QUEUE) {
		bool say = a->tty < 0 && !a->said_no_tty;

		a->said_no_tty = a->said_no_tty || a->tty < 0;
		(void)pthread_mutex_unlock(&a->lock);
		if (say)
			log_warn("--ask: no terminal to ask on (/dev/tty: %s); "
				 "requests outside the allowlist are denied, "
				 "starting with %s",
			    strerror(a->tty_errno), job->key);
		paddock_decision_deny(d, NULL);
		free(job);
		return;
	}
	if (a->tail)
		a->tail->next = job;
	else
		a->head = job;
	a->tail = job;
	a->n_jobs++;
	(void)pthread_cond_signal(&a->cond);
	(void)pthread_mutex_unlock(&a->lock);
}

static uint64_t
run_ask_now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
run_ask_say(const struct run_ask *a, const char *text)
{
	size_t len = strlen(text);

	while (len > 0) {
		ssize_t n = write(a->tty, text, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		text += n;
		len -= (size_t)n;
	}
}

/* The answer a key stands for, or -1 for none. */
static int
run_ask_key(char c)
{
	switch (c) {
	case 'o':
	case 'O':
	case 'y':
	case 'Y':
		return RUN_ASK_ONCE;
	case 'r':
	case 'R':
	case 'a':
	case 'A':
		return RUN_ASK_RUN;
	case 'd':
	case 'D':
	case 'n':
	case 'N':
		return RUN_ASK_DENY;
	default:
		return -1;
	}
}

/* Ask about job on the terminal and wait for the answer. */
static enum run_ask_answer
run_ask_prompt(struct run_ask *a, const struct run_ask_job *job)
{
	uint64_t deadline = run_ask_now_ms() + a->timeout_ms;
	char text[512];

	/* Keys typed before the question are not its answer. */
	(void)tcflush(a->tty, TCIFLUSH);
	(void)snprintf(text, sizeof(text),
	    "\r\npaddock: %s is not in the allowlist (%s%s%s).\r\n"
	    "  allow [o]nce, allow for this [r]un, or [d]eny? "
	    "(denied in %llu s) ",
	    job->key, job->protocol, job->method[0] ? " " : "", job->method,
	    (unsigned long long)((a->timeout_ms + 999) / 1000));
	run_ask_say(a, text);
	for (;;) {
		struct pollfd pf[2] = { { a->tty, POLLIN, 0 },
			{ a->wakeup, POLLIN, 0 } };
		uint64_t now = run_ask_now_ms();
		char buf[64];
		ssize_t n;
		int r;

		if (now >= deadline)
			return RUN_ASK_TIMEOUT;
		r = poll(pf, 2,
		    (int)(deadline - now > 60000 ? 60000 : deadline - now));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 || (pf[1].revents & POLLIN))
			return RUN_ASK_STOP;
		if (r == 0)
			continue;
		n = read(a->tty, buf, sizeof(buf));
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		/* EIO: paddock is not in the terminal's foreground (SIGTTIN
		 * is blocked here), or the terminal hung up. */
		if (n <= 0)
			return RUN_ASK_NO_TTY;
		for (ssize_t i = 0; i < n; i++) {
			int k = run_ask_key(buf[i]);

			if (k >= 0)
				return (enum run_ask_answer)k;
			if (buf[i] != '\n' && buf[i] != '\r' && buf[i] != ' ' &&
			    buf[i] != '\t') {
				run_ask_say(a, "\r\n  o, r or d? ");
				break;
			}
		}
	}
}

static void
run_ask_outcome(struct run_ask *a, enum run_ask_answer answer)
{
	static const char *const said[] = {
		[RUN_ASK_ONCE] = "allowed once\r\n",
		[RUN_ASK_RUN] = "allowed for this run\r\n",
		[RUN_ASK_DENY] = "denied\r\n",
		[RUN_ASK_TIMEOUT] = "\r\n  no answer: denied\r\n",
		[RUN_ASK_STOP] = "\r\n  the run ended: denied\r\n",
		[RUN_ASK_NO_TTY] = "\r\n  cannot read the terminal: denied\r\n",
	};

	run_ask_say(a, said[answer]);
}

static void *
run_ask_main(void *arg)
{
	struct run_ask *a = arg;
	sigset_t tt;

	(void)pthread_setname_np(pthread_self(), "paddock-ask");
	/* A background paddock reading its terminal gets EIO instead of
	 * being stopped. */
	(void)sigemptyset(&tt);
	(void)sigaddset(&tt, SIGTTIN);
	(void)sigaddset(&tt, SIGTTOU);
	(void)pthread_sigmask(SIG_BLOCK, &tt, NULL);
	(void)pthread_mutex_lock(&a->lock);
	for (;;) {
		struct run_ask_job *job;
		enum run_ask_answer answer;

		while (!a->head && !a->quit)
			(void)pthread_cond_wait(&a->cond, &a->lock);
		if (a->quit)
			break;
		job = a->head;
		a->head = job->next;
		if (!a->head)
			a->tail = NULL;
		a->n_jobs--;
		if (run_ask_is_allowed(a, job->key)) {
			(void)pthread_mutex_unlock(&a->lock);
			answer = RUN_ASK_RUN;
		} else {
			(void)pthread_mutex_unlock(&a->lock);
			answer = run_ask_prompt(a, job);
			run_ask_outcome(a, answer);
		}
		if (answer == RUN_ASK_RUN) {
			struct run_ask_allowed *x = calloc(1, sizeof(*x));

			(void)pthread_mutex_lock(&a->lock);
			if (x && !run_ask_is_allowed(a, job->key)) {
				(void)strlcpy(x->key, job->key, sizeof(x->key));
				x->next = a->allowed;
				a->allowed = x;
				x = NULL;
			}
			(void)pthread_mutex_unlock(&a->lock);
			free(x);
		}
		run_ask_complete(job->decision, answer);
		free(job);
		(void)pthread_mutex_lock(&a->lock);
	}
	(void)pthread_mutex_unlock(&a->lock);
	return NULL;
}

int
run_ask_new(uint64_t timeout_ms, struct run_ask **ret)
{
	struct run_ask *a = calloc(1, sizeof(*a));
	int r;

	if (!a)
		return -ENOMEM;
	a->timeout_ms = timeout_ms;
	a->tty = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	a->tty_errno = a->tty < 0 ? errno : 0;
	a->wakeup = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	(void)pthread_mutex_init(&a->lock, NULL);
	(void)pthread_cond_init(&a->cond, NULL);
	if (a->wakeup < 0) {
		r = -errno;
		goto fail;
	}
	r = -pthread_create(&a->thread, NULL, run_ask_main, a);
	if (r < 0)
		goto fail;
	a->thread_running = true;
	*ret = a;
	return 0;
fail:
	run_ask_free(a);
	return r;
}

struct run_ask *
run_ask_free(struct run_ask *a)
{
	uint64_t one = 1;

	if (!a)
		return NULL;
	(void)pthread_mutex_lock(&a->lock);
	a->quit = true;
	(void)pthread_cond_broadcast(&a->cond);
	(void)pthread_mutex_unlock(&a->lock);
	if (a->wakeup >= 0 && write(a->wakeup, &one, sizeof(one)) < 0)
		log_debug("--ask: cannot wake the asking thread");
	if (a->thread_running)
		(void)pthread_join(a->thread, NULL);
	while (a->head) {
		struct run_ask_job *job = a->head;

		a->head = job->next;
		paddock_decision_deny(job->decision, NULL);
		free(job);
	}
	while (a->allowed) {
		struct run_ask_allowed *x = a->allowed;

		a->allowed = x->next;
		free(x);
	}
	if (a->tty >= 0)
		(void)close(a->tty);
	if (a->wakeup >= 0)
		(void)close(a->wakeup);
	(void)pthread_cond_destroy(&a->cond);
	(void)pthread_mutex_destroy(&a->lock);
	free(a);
	return NULL;
}

int
run_ask_timeout_from_env(uint64_t *ret)
{
	const char *v = secure_getenv("PADDOCK_ASK_TIMEOUT");
	struct proxy_limits l;

	*ret = LIMIT_ASK_TIMEOUT_MS;
	if (!v || !*v)
		return 0;
	proxy_limits_init(&l);
	if (proxy_limits_set(&l, "decider-timeout", v) < 0 ||
	    l.decider_timeout_ms == 0)
		return -EINVAL;
	*ret = l.decider_timeout_ms;
	return 0;
}
