/*
 * fuzz_replay.c — main() for the fuzz targets without libFuzzer: feeds every
 * file named on the command line (directories: every file inside) to
 * LLVMFuzzerTestOneInput once. meson builds it with gcc to replay the seed
 * corpora as a regression test (under ASan too); clang + libFuzzer is only
 * needed to find new inputs (build-fuzzers.sh).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

/* Run one file; -errno if it cannot be read. */
static int fuzz_replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *data = NULL;
	size_t len = 0, cap = 0;
	int r = 0;

	if (!f)
		return -errno;
	for (;;) {
		if (len == cap) {
			size_t ncap = cap ? cap * 2 : 4096;
			uint8_t *grown = realloc(data, ncap);
			if (!grown) {
				r = -ENOMEM;
				goto out;
			}
			data = grown;
			cap = ncap;
		}
		size_t n = fread(data + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		r = -EIO;
		goto out;
	}
	LLVMFuzzerTestOneInput(data, len);
out:
	free(data);
	fclose(f);
	return r;
}

int main(int argc, char **argv)
{
	unsigned long count = 0;

	for (int i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) < 0) {
			fprintf(stderr, "fuzz-replay: %s: %s\n", argv[i], strerror(errno));
			return 1;
		}
		if (!S_ISDIR(st.st_mode)) {
			if (fuzz_replay_file(argv[i]) < 0)
				return 1;
			count++;
			continue;
		}
		DIR *d = opendir(argv[i]);
		struct dirent *e;
		if (!d)
			return 1;
		while ((e = readdir(d)) != NULL) {
			char path[4096];
			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", argv[i], e->d_name);
			if (fuzz_replay_file(path) < 0) {
				fprintf(stderr, "fuzz-replay: cannot read %s\n", path);
				closedir(d);
				return 1;
			}
			count++;
		}
		closedir(d);
	}
	printf("fuzz-replay: %lu inputs, no property broken\n", count);
	return count ? 0 : 1;
}
