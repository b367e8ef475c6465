/* SPDX-License-Identifier: MIT */
/*
 * Every amount a peer or a config file controls is bounded here, in one
 * place (STYLE.md §3, §7). Include as "util/limits.h"; the project never
 * puts src/util on the include path, so <limits.h> stays the system one.
 */
#pragma once

/* TOML parser. */
#define LIMIT_TOML_INPUT_BYTES (16u * 1024 * 1024) /* default maximum input */
#define LIMIT_TOML_DEPTH       128        /* nested arrays and inline tables */
#define LIMIT_TOML_VALUES      (1u << 20) /* tables, arrays, scalars */
#define LIMIT_TOML_ERROR_BYTES 256        /* one error message */

/* Config files. */
#define LIMIT_CONFIG_FILE_BYTES   LIMIT_TOML_INPUT_BYTES
#define LIMIT_CONFIG_LAYERS       256  /* system, user, project, overrides */
#define LIMIT_CONFIG_DIAGS        1000 /* kept per load; the rest counted */
#define LIMIT_CONFIG_QUOTE_BYTES  200  /* of a value quoted in a message */
#define LIMIT_CONFIG_GITDIR_BYTES 4096 /* a .git pointer file */
#define LIMIT_CONFIG_SUGGEST_DIST 3    /* edit distance of "did you mean" */
/* Watching the config files (paddock proxy): reload once no change came
 * for the settle time, and at the latest this long after the first. */
#define LIMIT_CONFIG_WATCH_SETTLE_MS 150
#define LIMIT_CONFIG_WATCH_MAX_MS    500

/* Logging: untrusted bytes are escaped and capped at this many input bytes. */
#define LIMIT_LOG_UNTRUSTED_BYTES 256

/* Policy engine: request hosts and patterns. */
#define LIMIT_POLICY_HOST_INPUT_BYTES 1024       /* a request host as sent */
#define LIMIT_POLICY_ZONE_BYTES       64         /* an IPv6 zone id ("%eth0") */
#define LIMIT_POLICY_LABEL_BYTES      63         /* one DNS label (RFC 1035) */
#define LIMIT_POLICY_PATTERN_BYTES    1024       /* one pattern as written */
#define LIMIT_POLICY_RULES            (1u << 20) /* patterns per policy */
#define LIMIT_POLICY_ALTERNATIVES     256 /* "{a,b}" expansions per pattern */
#define LIMIT_POLICY_HOSTS            (1u << 20) /* rules after expansion */

/* Audit events and the blocked-request buffer (spec network §8.3, §9). */
#define LIMIT_AUDIT_QUEUE        1024 /* records waiting for the writer */
#define LIMIT_AUDIT_METHOD_BYTES 32   /* an HTTP method as recorded */
#define LIMIT_AUDIT_CLIENT_BYTES 96   /* "ip:port" of a client */
#define LIMIT_AUDIT_META_BYTES   256  /* conversation.id and friends */
#define LIMIT_BLOCKED_RECORDS    200  /* blocked requests kept */
#define LIMIT_RUN_REPORT_ENTRIES 256  /* destinations a run's summary counts */
#define LIMIT_RUN_REPORT_SHOWN   20   /* of which it lists */

/* OTLP export (audit/otlp.h, docs/observability.md). */
#define LIMIT_OTLP_QUEUE          2048    /* records waiting for export */
#define LIMIT_OTLP_QUEUE_MAX      1048576 /* PADDOCK_OTLP_QUEUE at most */
#define LIMIT_OTLP_BATCH          512     /* records per request */
#define LIMIT_OTLP_DELAY_MS       1000    /* a partial batch waits */
#define LIMIT_OTLP_TIMEOUT_MS     10000   /* one request, all of it */
#define LIMIT_OTLP_CONNECT_MS     5000    /* its connection */
#define LIMIT_OTLP_STOP_MS        2000    /* flushing at stop */
#define LIMIT_OTLP_BACKOFF_MIN_MS 250     /* first retry, before jitter */
#define LIMIT_OTLP_BACKOFF_MAX_MS 30000   /* longest backoff */
#define LIMIT_OTLP_RETRY_AFTER_MS 60000   /* a Retry-After is capped */
#define LIMIT_OTLP_BODY_BYTES     (64u * 1024 * 1024) /* one request */

/*
 * The proxy data plane (src/proxy). Timeouts are milliseconds of monotonic
 * time. Those marked (*) are defaults a user can override per proxy
 * (paddock proxy --limit NAME=VALUE, or paddock_proxy_set_limit()).
 */

/* HTTP heads. */
#define LIMIT_HTTP_HEAD_BYTES          (64u * 1024) /* 431 beyond */
#define LIMIT_HTTP_HEADERS             100          /* 431 beyond */
#define LIMIT_HTTP_URL_BYTES           (8u * 1024)  /* 414 beyond */
#define LIMIT_HTTP_RESPONSE_HEAD_BYTES (64u * 1024) /* 502 beyond */

/* Deadlines. */
#define LIMIT_HTTP_HEAD_TIMEOUT_MS 30000  /* (*) head-timeout, 408 */
#define LIMIT_CONNECT_TIMEOUT_MS   10000  /* (*) connect-timeout, 504 */
#define LIMIT_IDLE_TIMEOUT_MS      300000 /* (*) idle-timeout */
#define LIMIT_DNS_TIMEOUT_MS       2000   /* (*) dns-timeout, fails closed */
#define LIMIT_DECIDER_TIMEOUT_MS   30000  /* (*) decider-timeout */
#define LIMIT_SHUTDOWN_GRACE_MS    5000   /* (*) shutdown-grace */
#define LIMIT_ASK_TIMEOUT_MS       30000  /* run --ask: a prompt denies */
#define LIMIT_LINGER_MS            2000   /* reading after a final answer */
#define LIMIT_ACCEPT_RETRY_MS      1000   /* a paused listener tries again */
#define LIMIT_EYEBALLS_DELAY_MS    250    /* RFC 8305 §5 attempt delay */
#define LIMIT_POOL_IDLE_MS         15000  /* idle upstream connections */
#define LIMIT_IDLE_TRIM_MS         1000   /* idle worker: free memory back */

/* Sessions, threads and queues. */
#define LIMIT_SESSIONS        32768 /* (*) sessions; listeners pause */
#define LIMIT_SESSIONS_MAX    (1u << 20)
#define LIMIT_WORKERS         64    /* worker threads (event loops) */
#define LIMIT_DECIDER_QUEUE   4096  /* requests waiting for the decider */
#define LIMIT_ASK_QUEUE       256   /* run --ask: requests waiting to ask */
#define LIMIT_LOG_QUEUE       65536 /* (*) log-queue: lines in flight */
#define LIMIT_LOG_QUEUE_BYTES (16u * 1024 * 1024) /* and their bytes */
#define LIMIT_LOG_DRAIN_MS    2000 /* writing what is left at exit */

/* Relaying. */
#define LIMIT_RELAY_HIWAT       (256u * 1024) /* stop reading the source */
#define LIMIT_RELAY_LOWAT       (64u * 1024)  /* and resume below this */
#define LIMIT_SPLICE_MIN_BYTES  (64u * 1024)  /* bodies worth splicing */
#define LIMIT_SPLICE_PIPES_IDLE 16            /* spare pipes kept per worker */
#define LIMIT_POOL_PER_DEST     16            /* idle upstream connections */
#define LIMIT_POOL_TOTAL        256 /* idle upstream connections per worker */

/* SOCKS5 (RFC 1928). The handshake shares the head-timeout deadline. A UDP
 * association judges at most _DESTS destinations, keeps each verdict for
 * _VERDICT_MS, holds at most _QUEUED datagrams per destination (and
 * _QUEUE_BYTES in all) while one is judged, and reads _BURST at a time. */
#define LIMIT_SOCKS5_UDP_DESTS       64
#define LIMIT_SOCKS5_UDP_VERDICT_MS  30000
#define LIMIT_SOCKS5_UDP_QUEUED      8
#define LIMIT_SOCKS5_UDP_QUEUE_BYTES (64u * 1024)
#define LIMIT_SOCKS5_UDP_BURST       64
#define LIMIT_SOCKS5_UDP_DATAGRAM    65535 /* the largest datagram relayed */
/* paddock run: UDP relay sockets made inside the sandbox per SOCKS5
 * listener (the UDP associations open at once). */
#define LIMIT_SOCKS5_UDP_RELAYS 16

/* paddock run's DNS server: questions being answered at once (more are
 * answered SERVFAIL), datagrams read per wake-up, the TTL of answers. */
#define LIMIT_DNSD_PENDING 128
#define LIMIT_DNSD_BURST   32
#define LIMIT_DNSD_TTL_S   30

/* Names and addresses. */
#define LIMIT_DNS_ADDRS           16   /* addresses kept per lookup */
#define LIMIT_PROXY_ENV_URL_BYTES 2048 /* an upstream proxy URL */
#define LIMIT_NO_PROXY_ENTRIES    256  /* NO_PROXY entries */

/* TLS interception (src/tls). */
#define LIMIT_MITM_PEM_BYTES    (64u * 1024) /* ca.pem or ca.key */
#define LIMIT_MITM_CA_DAYS      3650         /* a new CA's validity */
#define LIMIT_MITM_LEAF_DAYS    7            /* a minted leaf's validity */
#define LIMIT_MITM_RENEW_S      86400 /* re-issue a cached leaf this early */
#define LIMIT_MITM_BACKDATE_S   3600  /* notBefore, against clock skew */
#define LIMIT_MITM_CERT_CACHE   1024  /* leaves cached (LRU) */
#define LIMIT_MITM_BUNDLE_BYTES (4u * 1024 * 1024) /* a CA bundle read */

/* The admin API (src/proxy/admin.c): connections served at once, the time
 * one has to send its request, the largest request body (spec network
 * §8.5: 8 KiB) and the largest answer a client (paddock status) reads. */
#define LIMIT_ADMIN_CONNS       32
#define LIMIT_ADMIN_TIMEOUT_MS  10000
#define LIMIT_ADMIN_BODY_BYTES  (8u * 1024)
#define LIMIT_ADMIN_REPLY_BYTES (16u * 1024 * 1024)
