/* SPDX-License-Identifier: MIT */
/*
 * paddock ca: the managed CA that TLS interception signs leaves with
 * ($CODEX_HOME/proxy/ca.pem and ca.key, spec network §6.2).
 *
 *	paddock ca path     where the CA certificate is (or will be)
 *	paddock ca show     subject, fingerprint, validity, where it is trusted
 *	paddock ca rotate   a new CA; the old files are kept with a suffix
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/x509.h>

#include "cli/cfgopts.h"
#include "cli/cli.h"
#include "config/config.h"
#include "tls/certgen.h"
#include "tls/mitm.h"
#include "util/buf.h"
#include "util/strutil.h"

struct cmd_ca_args {
	const char *name; /* "path", "show", "rotate" */
	void (*usage)(FILE *f);
	bool json;
};

static void
cmd_ca_usage(FILE *f)
{
	(void)fprintf(f,
	    "Usage: paddock ca COMMAND [OPTIONS]\n"
	    "\n"
	    "The CA that HTTPS interception (limited mode with mitm = true) "
	    "signs\nits certificates with: $CODEX_HOME/proxy/ca.pem and "
	    "ca.key. It is\ncreated the first time interception starts.\n"
	    "\nCommands:\n"
	    "  path     print the path of the CA certificate\n"
	    "  show     subject, fingerprint, validity and where it is "
	    "trusted\n"
	    "  rotate   make a new CA; the old files are kept with a "
	    "suffix\n"
	    "\nRun 'paddock ca COMMAND --help' for its options.\n");
}

static void
cmd_ca_path_usage(FILE *f)
{
	(void)fprintf(f,
	    "Usage: paddock ca path [OPTIONS]\n"
	    "\n"
	    "Print the path of the CA certificate (whether or not it exists "
	    "yet).\n"
	    "\nOptions:\n"
	    "  -h, --help          show this help\n"
	    "\n%s",
	    cfgopts_help);
}

static void
cmd_ca_show_usage(FILE *f)
{
	(void)fprintf(f,
	    "Usage: paddock ca show [OPTIONS]\n"
	    "\n"
	    "Describe the CA: subject, SHA-256 fingerprint, validity, its "
	    "files, and\nwhere it is trusted (the bundles paddock made for "
	    "child processes, and\nthe system trust store). Exits 1 when "
	    "there is no CA yet.\n"
	    "\nOptions:\n"
	    "  --json              print one JSON object\n"
	    "  -h, --help          show this help\n"
	    "\n%s",
	    cfgopts_help);
}

static void
cmd_ca_rotate_usage(FILE *f)
{
	(void)fprintf(f,
	    "Usage: paddock ca rotate [OPTIONS]\n"
	    "\n"
	    "Replace the CA by a new one (or create the first). The old "
	    "files stay as\nca.pem.<notBefore> and ca.key.<notBefore>. "
	    "Running proxies keep the\nold CA until they restart; clients "
	    "must trust the new one.\n"
	    "\nOptions:\n"
	    "  -h, --help          show this help\n"
	    "\n%s",
	    cfgopts_help);
}

static int
cmd_ca_arg(void *userdata, int argc, char **argv, int *i)
{
	struct cmd_ca_args *a = userdata;

	(void)argc;
	if (cli_is_help(argv[*i])) {
		a->usage(stdout);
		return CLI_EXIT_OK;
	}
	if (streq(a->name, "show") && streq(argv[*i], "--json")) {
		a->json = true;
		(*i)++;
		return -1;
	}
	(void)fprintf(stderr,
	    "paddock: ca %s: unknown argument '%s'\n"
	    "Run 'paddock ca %s --help' for usage.\n",
	    a->name, argv[*i], a->name);
	return CLI_EXIT_USAGE;
}

/* Parse the arguments and load the config. Returns -1 with the proxy
 * directory in *ret_dir (caller frees), or an exit status (--help, usage
 * errors and a config that does not load are already answered). */
static int
cmd_ca_setup(struct cmd_ca_args *a, int argc, char **argv, char **ret_dir)
{
	struct config_diags *diags = NULL;
	struct config *cfg;
	struct cfgopts o;
	int rc;

	cfgopts_init(&o);
	rc = cfgopts_parse_args(&o, argc, argv, cmd_ca_arg, a);
	cfg = rc < 0 ? cfgopts_load(&o, false, &diags) : NULL;
	config_diags_free(diags);
	cfgopts_done(&o);
	if (rc >= 0)
		return rc;
	if (!cfg)
		return CLI_EXIT_FAILURE;
	rc = asprintf(ret_dir, "%s/proxy", config_get_codex_home(cfg));
	config_free(cfg);
	if (rc < 0) {
		(void)fputs("paddock: out of memory\n", stderr);
		return CLI_EXIT_FAILURE;
	}
	return -1;
}

static int
cmd_ca_path(int argc, char **argv)
{
	struct cmd_ca_args a = { "path", cmd_ca_path_usage, false };
	char *dir = NULL;
	int rc = cmd_ca_setup(&a, argc, argv, &dir);

	if (rc >= 0)
		return rc;
	(void)printf("%s/ca.pem\n", dir);
	free(dir);
	return fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
}

static void
cmd_ca_time(const ASN1_TIME *t, char *out, size_t outsz)
{
	struct tm tm;

	if (ASN1_TIME_to_tm(t, &tm) != 1 ||
	    !strftime(out, outsz, "%Y-%m-%dT%H:%M:%SZ", &tm))
		(void)snprintf(out, outsz, "?");
}

/* Whether the PEM file at path holds cert (a trust store or a bundle). */
static bool
cmd_ca_file_trusts(const char *path, X509 *cert)
{
	X509_STORE *store = X509_STORE_new();
	STACK_OF(X509_OBJECT) * objs;
	bool found = false;

	if (!store)
		return false;
	if (X509_STORE_load_file(store, path) == 1) {
		objs = X509_STORE_get0_objects(store);
		for (int i = 0; i < sk_X509_OBJECT_num(objs) && !found; i++) {
			X509 *x = X509_OBJECT_get0_X509(
			    sk_X509_OBJECT_value(objs, i));

			found = x && X509_cmp(x, cert) == 0;
		}
	}
	X509_STORE_free(store);
	return found;
}

/* The ca-bundle-*.pem files in dir that hold the CA, into arr. */
static void
cmd_ca_bundles(const char *dir, X509 *cert, json_t *arr)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		char *path = NULL;

		if (!startswith(e->d_name, "ca-bundle-") ||
		    !endswith(e->d_name, ".pem"))
			continue;
		if (asprintf(&path, "%s/%s", dir, e->d_name) < 0)
			break;
		if (cmd_ca_file_trusts(path, cert))
			(void)json_array_append_new(arr, json_string(path));
		free(path);
	}
	(void)closedir(d);
}

static json_t *
cmd_ca_describe(const struct certgen_ca *ca, const char *dir)
{
	X509 *cert = certgen_ca_get_cert(ca);
	const char *sys = X509_get_default_cert_file();
	char subject[512], fp[128], from[32], until[32];
	json_t *bundles = json_array();

	(void)X509_NAME_oneline(X509_get_subject_name(cert), subject,
	    sizeof(subject));
	certgen_fingerprint(cert, fp, sizeof(fp));
	cmd_ca_time(X509_get0_notBefore(cert), from, sizeof(from));
	cmd_ca_time(X509_get0_notAfter(cert), until, sizeof(until));
	if (bundles)
		cmd_ca_bundles(dir, cert, bundles);
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o*, s:{s:s, s:b}}",
	    "subject", subject, "sha256_fingerprint", fp, "not_before", from,
	    "not_after", until, "cert", certgen_ca_get_cert_path(ca), "key",
	    certgen_ca_get_key_path(ca), "bundles", bundles, "system_store",
	    "path", sys, "trusted", cmd_ca_file_trusts(sys, cert));
}

static void
cmd_ca_print(json_t *j)
{
	json_t *b = json_object_get(j, "bundles"), *v;
	json_t *sys = json_object_get(j, "system_store");
	size_t i;

	(void)printf("subject:     %s\n"
		     "fingerprint: SHA256 %s\n"
		     "valid:       %s to %s\n"
		     "certificate: %s\n"
		     "key:         %s\n"
		     "trusted by:\n",
	    json_string_value(json_object_get(j, "subject")),
	    json_string_value(json_object_get(j, "sha256_fingerprint")),
	    json_string_value(json_object_get(j, "not_before")),
	    json_string_value(json_object_get(j, "not_after")),
	    json_string_value(json_object_get(j, "cert")),
	    json_string_value(json_object_get(j, "key")));
	json_array_foreach(b, i, v) {
		(void)printf("  %s (children of 'paddock env' and "
			     "'paddock run')\n",
		    json_string_value(v));
	}
	if (json_array_size(b) == 0)
		(void)printf("  no bundle yet (made when a proxy with "
			     "interception starts)\n");
	(void)printf("  system store %s: %s\n",
	    json_string_value(json_object_get(sys, "path")),
	    json_is_true(json_object_get(sys, "trusted")) ? "yes" : "no");
}

static int
cmd_ca_show(int argc, char **argv)
{
	struct cmd_ca_args a = { "show", cmd_ca_show_usage, false };
	struct certgen_err err = { 0 };
	struct certgen_ca *ca = NULL;
	char *dir = NULL, *text;
	json_t *j;
	int rc = cmd_ca_setup(&a, argc, argv, &dir);

	if (rc >= 0)
		return rc;
	rc = certgen_ca_load(dir, false, &ca, &err);
	if (rc == -ENOENT && !strstr(err.text, "both managed")) {
		(void)fprintf(stderr,
		    "paddock: no CA in %s yet: the proxy makes one when it "
		    "first intercepts, or run 'paddock ca rotate'\n",
		    dir);
		free(dir);
		return CLI_EXIT_FAILURE;
	}
	if (rc < 0) {
		(void)fprintf(stderr, "paddock: %s\n", err.text);
		free(dir);
		return CLI_EXIT_FAILURE;
	}
	j = cmd_ca_describe(ca, dir);
	rc = CLI_EXIT_FAILURE;
	if (!j) {
		(void)fputs("paddock: out of memory\n", stderr);
	} else if (a.json) {
		text = json_dumps(j, JSON_INDENT(2));
		if (text)
			(void)printf("%s\n", text);
		rc = text ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
		free(text);
	} else {
		cmd_ca_print(j);
		rc = CLI_EXIT_OK;
	}
	json_decref(j);
	certgen_ca_free(ca);
	free(dir);
	if (fflush(stdout) != 0)
		rc = CLI_EXIT_FAILURE;
	return rc;
}

static int
cmd_ca_rotate(int argc, char **argv)
{
	struct cmd_ca_args a = { "rotate", cmd_ca_rotate_usage, false };
	struct certgen_err err = { 0 };
	struct certgen_ca *ca = NULL;
	char *dir = NULL, fp[128];
	int rc = cmd_ca_setup(&a, argc, argv, &dir);

	if (rc >= 0)
		return rc;
	rc = certgen_ca_rotate(dir, &ca, &err);
	free(dir);
	if (rc < 0) {
		(void)fprintf(stderr, "paddock: %s\n", err.text);
		return CLI_EXIT_FAILURE;
	}
	certgen_fingerprint(certgen_ca_get_cert(ca), fp, sizeof(fp));
	(void)printf("new CA %s\nfingerprint SHA256 %s\n",
	    certgen_ca_get_cert_path(ca), fp);
	certgen_ca_free(ca);
	return fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
}

int
cmd_ca(int argc, char **argv)
{
	static const struct cli_command subs[] = {
		{ "path", "print the CA certificate's path", cmd_ca_path },
		{ "show", "describe the CA", cmd_ca_show },
		{ "rotate", "make a new CA", cmd_ca_rotate },
		{ NULL, NULL, NULL },
	};

	return cli_dispatch(argc, argv, subs, cmd_ca_usage);
}
