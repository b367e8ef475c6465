/* SPDX-License-Identifier: MIT */
/*
 * [otel]: the reference's table for OpenTelemetry export, read from the
 * merged tree into a plain struct config_otel (docs/observability.md).
 *
 * exporter is either the word "none" or a table with exactly one key,
 * otlp-http or otlp-grpc, so the schema walker (which knows no "either")
 * leaves it to this file: every problem is reported here with the
 * file:line:col of the value, like every other table. otlp-grpc is an
 * error, not silence: there is no sound C gRPC library in Debian.
 *
 * Header values expand ${VAR} from the environment now, at load, so a
 * missing variable is a config error naming it and a running exporter
 * never reads the environment. An expanded value may be a secret: it is
 * kept here and in the exporter only, never in a message or in `config
 * show`.
 */
#include "config/config_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "toml/toml.h"
#include "util/buf.h"
#include "util/strutil.h"

static const char
    *const config_otel_exporter_names[_CONFIG_OTEL_EXPORTER_MAX] = {
	    [CONFIG_OTEL_EXPORTER_NONE] = "none",
	    [CONFIG_OTEL_EXPORTER_OTLP_HTTP] = "otlp-http",
    };

static const char
    *const config_otel_protocol_names[_CONFIG_OTEL_PROTOCOL_MAX] = {
	    [CONFIG_OTEL_PROTOCOL_BINARY] = "binary",
	    [CONFIG_OTEL_PROTOCOL_JSON] = "json",
    };

const char *
config_otel_exporter_name(enum config_otel_exporter e)
{
	return (unsigned)e < _CONFIG_OTEL_EXPORTER_MAX ?
	    config_otel_exporter_names[e] :
	    "invalid";
}

const char *
config_otel_protocol_name(enum config_otel_protocol p)
{
	return (unsigned)p < _CONFIG_OTEL_PROTOCOL_MAX ?
	    config_otel_protocol_names[p] :
	    "invalid";
}

const struct config_otel *
config_get_otel(const struct config *cfg)
{
	return &cfg->otel;
}

struct config_otel_ctx {
	struct config *cfg;
	struct config_diags *d;
	struct config_keypath kp;
	int r; /* -ENOMEM once out of memory */
};

static void
config_otel_error(struct config_otel_ctx *c, const struct toml_value *v,
    const char *code, const char *msg)
{
	struct config_origin o = config_origin_of(v);

	config_diags_add(c->d, CONFIG_SEVERITY_ERROR, code, &o, &c->kp, "%s",
	    msg);
}

static void
config_otel_mismatch(struct config_otel_ctx *c, const struct toml_value *v,
    const char *expected)
{
	struct config_origin o = config_origin_of(v);

	config_diags_add(c->d, CONFIG_SEVERITY_ERROR, "type_mismatch", &o,
	    &c->kp, "expected %s, found %s", expected, toml_value_phrase(v));
}

/* A string value without NUL, or NULL (reported). */
static const char *
config_otel_string(struct config_otel_ctx *c, const struct toml_value *v)
{
	size_t len;
	const char *s;

	if (toml_value_type(v) != TOML_STRING) {
		config_otel_mismatch(c, v, "a string");
		return NULL;
	}
	s = toml_value_string(v, &len);
	if (strlen(s) != len) {
		config_otel_error(c, v, "invalid_value",
		    "the value contains a NUL character");
		return NULL;
	}
	return s;
}

static void
config_otel_unknown(struct config_otel_ctx *c, const struct toml_value *t,
    size_t i)
{
	struct config_origin o = config_origin_of_key(t, i);

	config_diags_add(c->d, CONFIG_SEVERITY_WARNING, "unknown_key", &o,
	    &c->kp, "unknown key, ignored");
}

static bool
config_otel_dup(struct config_otel_ctx *c, const char *s, char **ret)
{
	free(*ret);
	*ret = strdup(s);
	if (!*ret)
		c->r = -ENOMEM;
	return *ret != NULL;
}

/* RFC 9110 §5.6.2: a header name is a token. */
static bool
config_otel_is_token(const char *s)
{
	static const char extra[] = "!#$%&'*+-.^_`|~";

	if (!s[0])
		return false;
	for (; *s; s++)
		if (!(ascii_isdigit(*s) || ascii_isalpha(*s)) &&
		    !strchr(extra, *s))
			return false;
	return true;
}

/*
 * Expand ${NAME} in in from the environment. Returns 0 with *ret (caller
 * frees), -ENOENT with the missing name in b (as the message), -EINVAL
 * for an unterminated or empty reference, or -ENOMEM.
 */
static int
config_otel_expand(const char *in, char **ret, struct buf *why)
{
	struct buf out;
	int r = 0;

	buf_init(&out, 0);
	while (r >= 0 && *in) {
		const char *end, *val;
		char name[256];
		size_t n;

		if (in[0] != '$' || in[1] != '{') {
			r = buf_append_char(&out, *in++);
			continue;
		}
		end = strchr(in + 2, '}');
		n = end ? (size_t)(end - in - 2) : 0;
		if (!end || n == 0 || n >= sizeof(name)) {
			r = buf_printf(why, "%s",
			    !end ?
				"an unterminated ${ in a header value" :
				"an empty or overlong ${} in a header value");
			if (r >= 0)
				r = -EINVAL;
			break;
		}
		memcpy(name, in + 2, n);
		name[n] = '\0';
		val = secure_getenv(name);
		if (!val) {
			r = buf_append_str(why, "the environment variable ");
			if (r >= 0)
				r = config_quote(why, name, n);
			if (r >= 0)
				r = buf_append_str(why,
				    " in a header value is not set");
			if (r >= 0)
				r = -ENOENT;
			break;
		}
		r = buf_append_str(&out, val);
		in = end + 1;
	}
	if (r >= 0) {
		*ret = strdup(buf_str(&out));
		r = *ret ? 0 : -ENOMEM;
	}
	buf_done(&out);
	return r;
}

static void
config_otel_header(struct config_otel_ctx *c, const char *name,
    const struct toml_value *v)
{
	struct config_otel *o = &c->cfg->otel;
	struct config_otel_header *nh;
	const char *raw = config_otel_string(c, v);
	char *value = NULL;
	struct buf why;
	int r;

	if (!raw)
		return;
	if (!config_otel_is_token(name)) {
		config_otel_error(c, v, "invalid_value",
		    "not a valid HTTP header name");
		return;
	}
	buf_init(&why, 0);
	r = config_otel_expand(raw, &value, &why);
	if (r == -ENOMEM) {
		c->r = -ENOMEM;
	} else if (r < 0) {
		config_otel_error(c, v,
		    r == -ENOENT ? "undefined_variable" : "invalid_value",
		    buf_str(&why));
	} else if (strpbrk(value, "\r\n")) {
		/* The message must not show the value: it may be a secret. */
		config_otel_error(c, v, "invalid_value",
		    "the header value (after ${VAR} expansion) contains a line "
		    "break");
	} else {
		nh = reallocarray(o->headers, o->n_headers + 1,
		    sizeof(*o->headers));
		if (nh) {
			o->headers = nh;
			nh[o->n_headers].name = strdup(name);
			nh[o->n_headers].value = value;
			if (nh[o->n_headers].name) {
				o->n_headers++;
				value = NULL;
			}
		}
		if (value)
			c->r = -ENOMEM;
	}
	if (value)
		explicit_bzero(value, strlen(value));
	free(value);
	buf_done(&why);
}

static void
config_otel_headers(struct config_otel_ctx *c, const struct toml_value *t)
{
	if (toml_value_type(t) != TOML_TABLE) {
		config_otel_mismatch(c, t, "a table of header name = value");
		return;
	}
	for (size_t i = 0; i < toml_table_size(t) && c->r >= 0; i++) {
		size_t len;
		const char *key = toml_table_key(t, i, &len);

		config_keypath_push(&c->kp, key, len);
		if (strlen(key) != len)
			config_otel_error(c, toml_table_value(t, i),
			    "invalid_value", "not a valid HTTP header name");
		else
			config_otel_header(c, key, toml_table_value(t, i));
		config_keypath_pop(&c->kp);
	}
}

/* One TLS file: relative to CODEX_HOME, ~ expanded. */
static void
config_otel_tls_file(struct config_otel_ctx *c, const struct toml_value *v,
    char **ret)
{
	const char *p = config_otel_string(c, v);
	int r;

	if (!p)
		return;
	if (!p[0]) {
		config_otel_error(c, v, "invalid_value", "the path is empty");
		return;
	}
	free(*ret);
	*ret = NULL;
	r = config_path_resolve(p, c->cfg->home, c->cfg->user_home, ret);
	if (r == -ENOENT)
		config_otel_error(c, v, "home_unavailable",
		    "cannot expand ~: HOME is not set");
	else if (r < 0)
		c->r = r;
}

static void
config_otel_tls(struct config_otel_ctx *c, const struct toml_value *t)
{
	struct config_otel *o = &c->cfg->otel;

	if (toml_value_type(t) != TOML_TABLE) {
		config_otel_mismatch(c, t, "a table");
		return;
	}
	for (size_t i = 0; i < toml_table_size(t) && c->r >= 0; i++) {
		size_t len;
		const char *key = toml_table_key(t, i, &len);
		const struct toml_value *v = toml_table_value(t, i);

		config_keypath_push(&c->kp, key, len);
		if (streq(key, "ca-certificate"))
			config_otel_tls_file(c, v, &o->ca_certificate);
		else if (streq(key, "client-certificate"))
			config_otel_tls_file(c, v, &o->client_certificate);
		else if (streq(key, "client-private-key"))
			config_otel_tls_file(c, v, &o->client_private_key);
		else
			config_otel_unknown(c, t, i);
		config_keypath_pop(&c->kp);
	}
	if (!o->client_certificate != !o->client_private_key)
		config_otel_error(c, t, "invalid_value",
		    "client-certificate and client-private-key go together "
		    "(mutual TLS needs both)");
}

/* http:// or https://, a host, no whitespace or control bytes. */
static bool
config_otel_endpoint_ok(const char *s)
{
	size_t skip;

	if (strncasecmp(s, "http://", 7) == 0)
		skip = 7;
	else if (strncasecmp(s, "https://", 8) == 0)
		skip = 8;
	else
		return false;
	if (!s[skip] || s[skip] == '/' || s[skip] == ':')
		return false;
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || *s == 0x7f)
			return false;
	return true;
}

static void
config_otel_http(struct config_otel_ctx *c, const struct toml_value *t)
{
	struct config_otel *o = &c->cfg->otel;
	const struct toml_value *endpoint = NULL;

	if (toml_value_type(t) != TOML_TABLE) {
		config_otel_mismatch(c, t, "a table");
		return;
	}
	for (size_t i = 0; i < toml_table_size(t) && c->r >= 0; i++) {
		size_t len;
		const char *key = toml_table_key(t, i, &len);
		const struct toml_value *v = toml_table_value(t, i);
		const char *s;

		config_keypath_push(&c->kp, key, len);
		if (streq(key, "endpoint")) {
			endpoint = v;
			s = config_otel_string(c, v);
			if (s && !config_otel_endpoint_ok(s))
				config_otel_error(c, v, "invalid_value",
				    "expected an http:// or https:// URL "
				    "such as "
				    "\"https://otel.example.com/v1/logs\"");
			else if (s)
				(void)config_otel_dup(c, s, &o->endpoint);
		} else if (streq(key, "protocol")) {
			s = config_otel_string(c, v);
			if (s && streq(s, "binary"))
				o->protocol = CONFIG_OTEL_PROTOCOL_BINARY;
			else if (s && streq(s, "json"))
				o->protocol = CONFIG_OTEL_PROTOCOL_JSON;
			else if (s)
				config_otel_error(c, v, "invalid_value",
				    "not a valid protocol; expected "
				    "\"binary\" or \"json\"");
		} else if (streq(key, "headers")) {
			config_otel_headers(c, v);
		} else if (streq(key, "tls")) {
			config_otel_tls(c, v);
		} else {
			config_otel_unknown(c, t, i);
		}
		config_keypath_pop(&c->kp);
	}
	if (!endpoint)
		config_otel_error(c, t, "missing_key",
		    "otlp-http needs an endpoint, e.g. "
		    "\"https://otel.example.com/v1/logs\"");
	if (c->r >= 0 && o->endpoint)
		o->exporter = CONFIG_OTEL_EXPORTER_OTLP_HTTP;
}

static void
config_otel_exporter(struct config_otel_ctx *c, const struct toml_value *v)
{
	const char *word;
	size_t len;

	if (toml_value_type(v) == TOML_STRING) {
		word = config_otel_string(c, v);
		if (word && !streq(word, "none"))
			config_otel_error(c, v, "invalid_value",
			    "expected \"none\" or a table { otlp-http = { "
			    "endpoint = ..., protocol = ... } }");
		return;
	}
	if (toml_value_type(v) != TOML_TABLE || toml_table_size(v) != 1) {
		config_otel_error(c, v,
		    toml_value_type(v) == TOML_TABLE ? "invalid_value" :
						       "type_mismatch",
		    "expected \"none\" or a table with one key, otlp-http");
		return;
	}
	word = toml_table_key(v, 0, &len);
	config_keypath_push(&c->kp, word, len);
	if (streq(word, "otlp-http"))
		config_otel_http(c, toml_table_value(v, 0));
	else if (streq(word, "otlp-grpc"))
		config_otel_error(c, toml_table_value(v, 0),
		    "unsupported_exporter",
		    "otlp-grpc is not supported: Debian has no C gRPC library "
		    "meant for direct use (libgrpc's core API is internal to "
		    "its language bindings); use otlp-http, which every OTLP "
		    "collector also serves");
	else
		config_otel_error(c, toml_table_value(v, 0), "invalid_value",
		    "unknown exporter; expected otlp-http");
	config_keypath_pop(&c->kp);
}

int
config_otel_load(struct config *cfg, struct config_diags *d)
{
	struct config_otel_ctx c = { .cfg = cfg, .d = d };
	const struct toml_value *t = config_get_table(cfg->tree, "otel");
	const struct toml_value *v;
	const char *env;

	cfg->otel = (struct config_otel){ 0 };
	env = config_get_string(t, "environment", NULL);
	if (!config_otel_dup(&c, env ? env : "dev", &cfg->otel.environment))
		return -ENOMEM;
	v = t ? toml_table_get_str(t, "exporter") : NULL;
	if (v) {
		config_keypath_push(&c.kp, "otel", 4);
		config_keypath_push(&c.kp, "exporter", 8);
		config_otel_exporter(&c, v);
	}
	return c.r;
}

void
config_otel_done(struct config_otel *o)
{
	for (size_t i = 0; i < o->n_headers; i++) {
		free(o->headers[i].name);
		explicit_bzero(o->headers[i].value,
		    strlen(o->headers[i].value));
		free(o->headers[i].value);
	}
	free(o->headers);
	free(o->environment);
	free(o->endpoint);
	free(o->ca_certificate);
	free(o->client_certificate);
	free(o->client_private_key);
	*o = (struct config_otel){ 0 };
}
