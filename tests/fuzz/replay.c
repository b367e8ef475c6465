/* SPDX-License-Identifier: MIT */
/*
 * A main() for fuzz harnesses in builds without libFuzzer: feed every file
 * named on the command line (directories are walked one level deep) to
 * LLVMFuzzerTestOneInput once. The test run uses it to replay the
 * checked-in corpus under ASan and UBSan. Prints "replayed N inputs".
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

static int
replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *data = NULL;
	size_t len = 0, cap = 0;

	if (!f) {
		(void)fprintf(stderr, "replay: %s: %s\n", path,
		    strerror(errno));
		return -1;
	}
	for (;;) {
		size_t n;

		if (len == cap) {
			uint8_t *p;

			cap = cap ? cap * 2 : 4096;
			p = realloc(data, cap);
			if (!p) {
				free(data);
				(void)fclose(f);
				return -1;
			}
			data = p;
		}
		n = fread(data + len, 1, cap - len, f);
		if (n == 0)
			break;
		len += n;
	}
	(void)fclose(f);
	(void)LLVMFuzzerTestOneInput(data, len);
	free(data);
	return 0;
}

static int
replay_path(const char *path, unsigned long *count)
{
	struct stat st;
	DIR *d;
	struct dirent *de;
	int r = 0;

	if (stat(path, &st) < 0) {
		(void)fprintf(stderr, "replay: %s: %s\n", path,
		    strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		if (replay_file(path) < 0)
			return -1;
		(*count)++;
		return 0;
	}
	d = opendir(path);
	if (!d)
		return -1;
	while ((de = readdir(d))) {
		char sub[4096];

		if (de->d_name[0] == '.')
			continue;
		(void)snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
		if (stat(sub, &st) < 0 || S_ISDIR(st.st_mode))
			continue;
		if (replay_file(sub) < 0)
			r = -1;
		else
			(*count)++;
	}
	(void)closedir(d);
	return r;
}

int
main(int argc, char **argv)
{
	unsigned long count = 0;
	int r = 0;

	for (int i = 1; i < argc; i++)
		if (replay_path(argv[i], &count) < 0)
			r = 1;
	(void)printf("replayed %lu inputs\n", count);
	return r;
}
