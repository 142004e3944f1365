/*
 * Replay driver: runs a fuzz target over files and directories of inputs
 * without libFuzzer, so that `make check` can replay the seed and
 * regression corpora with any compiler (and under SANITIZE=1).
 *
 *	fuzz_ws-replay DIR|FILE ...
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

int	LLVMFuzzerInitialize(int *, char ***) __attribute__((weak));

static int	replay_file(const char *);
static int	replay_path(const char *);

static int	nfiles;

static int
replay_file(const char *path)
{
	FILE		*f;
	uint8_t		*buf = NULL;
	size_t		 len = 0, size = 0, n;

	if ((f = fopen(path, "rb")) == NULL) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	for (;;) {
		if (len == size) {
			size = size ? size * 2 : 4096;
			if ((buf = realloc(buf, size)) == NULL) {
				fclose(f);
				return -1;
			}
		}
		if ((n = fread(buf + len, 1, size - len, f)) == 0)
			break;
		len += n;
	}
	fclose(f);
	/* An exact-size copy, so that ASan sees any overread. */
	{
		uint8_t	*exact = malloc(len ? len : 1);

		if (exact == NULL) {
			free(buf);
			return -1;
		}
		if (len > 0)
			memcpy(exact, buf, len);
		free(buf);
		LLVMFuzzerTestOneInput(exact, len);
		free(exact);
	}
	nfiles++;
	return 0;
}

static int
replay_path(const char *path)
{
	struct stat	 st;
	struct dirent	**names;
	char		 sub[4096];
	int		 i, n, rv = 0;

	if (stat(path, &st) == -1) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return replay_file(path);
	if ((n = scandir(path, &names, NULL, alphasort)) == -1) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (names[i]->d_name[0] != '.') {
			snprintf(sub, sizeof(sub), "%s/%s", path,
			    names[i]->d_name);
			if (replay_path(sub) == -1)
				rv = -1;
		}
		free(names[i]);
	}
	free(names);
	return rv;
}

int
main(int argc, char *argv[])
{
	int	 i, rv = 0;

	if (LLVMFuzzerInitialize != NULL)
		LLVMFuzzerInitialize(&argc, &argv);
	for (i = 1; i < argc; i++)
		if (replay_path(argv[i]) == -1)
			rv = 1;
	printf("%s: %d inputs replayed\n", argv[0], nfiles);
	return rv;
}
