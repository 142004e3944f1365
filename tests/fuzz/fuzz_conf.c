/*
 * Fuzz the config loader (conf.c, through libconfig): the input is
 * written to a temporary file and loaded with conf_load(), as `wsgated -t`
 * would.  Every error must be one line naming the file; a config that
 * loads must be self-consistent and free cleanly (LeakSanitizer checks
 * the rest).
 */
#include <sys/types.h>

#include <stdio.h>
#include <unistd.h>

#include "conf.h"
#include "fuzz.h"

#define MAX_CONF	65536

int	LLVMFuzzerInitialize(int *, char ***);

static char	 path[64];
static int	 nerr_seen;

static void
fuzz_conf_cleanup(void)
{
	if (path[0] != '\0')
		(void)unlink(path);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int	 fd;

	(void)argc;
	(void)argv;
	snprintf(path, sizeof(path), "/tmp/wsgate-fuzz-conf.XXXXXX");
	if ((fd = mkstemp(path)) == -1) {
		perror("mkstemp");
		abort();
	}
	close(fd);
	atexit(fuzz_conf_cleanup);
	return 0;
}

static void
fuzz_conf_error(void *arg, const char *msg)
{
	(void)arg;
	FUZZ_ASSERT(msg != NULL);
	FUZZ_ASSERT(strncmp(msg, path, strlen(path)) == 0);
	FUZZ_ASSERT(strchr(msg, '\n') == NULL);
	nerr_seen++;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf	*c;
	FILE		*f;
	size_t		 i, j;
	int		 nerrors = -1;

	if (size > MAX_CONF)
		return 0;
	if ((f = fopen(path, "wb")) == NULL)
		abort();
	if (size > 0 && fwrite(data, 1, size, f) != size)
		abort();
	if (fclose(f) != 0)
		abort();

	nerr_seen = 0;
	c = conf_load(path, fuzz_conf_error, NULL, &nerrors);
	if (c == NULL) {
		FUZZ_ASSERT(nerrors > 0 && nerrors == nerr_seen);
		return 0;
	}
	FUZZ_ASSERT(nerr_seen == 0);
	FUZZ_ASSERT(c->c_nlistens > 0 && c->c_nroutes > 0);
	FUZZ_ASSERT(c->c_workers > 0);
	for (i = 0; i < c->c_nroutes; i++) {
		const struct conf_route *r = &c->c_routes[i];

		FUZZ_ASSERT(r->r_path != NULL && r->r_path[0] == '/');
		FUZZ_ASSERT(conf_route_find(c, r->r_path,
		    strlen(r->r_path)) != NULL);
		FUZZ_ASSERT(r->r_has_backend || r->r_nsubprotos > 0);
		if (r->r_has_backend)
			FUZZ_ASSERT(r->r_backend.b_path != NULL);
		for (j = 0; j < r->r_nsubprotos; j++) {
			FUZZ_ASSERT(r->r_subprotos[j].s_name != NULL);
			FUZZ_ASSERT(r->r_subprotos[j].s_backend.b_path != NULL);
		}
	}
	conf_ref(c);
	conf_unref(c);
	conf_unref(c);
	return 0;
}
