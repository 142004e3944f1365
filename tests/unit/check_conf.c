/*
 * Config loading: a complete good file with every value checked, the
 * defaults and the inheritance of subprotocols, and one bad file per kind
 * of mistake, each with the exact "FILE:LINE: message" lines it must
 * produce.  The fixtures live in tests/unit/conf/; they are found from
 * the top of the source tree, which is $srcdir if set, else the current
 * directory (make unit runs the tests from there).
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "conf.h"

Suite	*conf_suite(void);

#define MAX_ERRS	32

struct errs {
	int	 n;
	char	*msg[MAX_ERRS];
};

static struct errs	 errs;

static void
errs_collect(void *arg, const char *msg)
{
	struct errs	*e = arg;

	ck_assert_int_lt(e->n, MAX_ERRS);
	ck_assert_ptr_nonnull(e->msg[e->n] = strdup(msg));
	e->n++;
}

static void
errs_setup(void)
{
	memset(&errs, 0, sizeof(errs));
}

static void
errs_teardown(void)
{
	int	 i;

	for (i = 0; i < errs.n; i++)
		free(errs.msg[i]);
	memset(&errs, 0, sizeof(errs));
}

/* A file under the top of the source tree, in a static buffer. */
static const char *
srcpath(const char *dir, const char *name)
{
	static char	 buf[PATH_MAX];
	const char	*top;
	int		 n;

	if ((top = getenv("srcdir")) == NULL || *top == '\0')
		top = ".";
	n = snprintf(buf, sizeof(buf), "%s/%s/%s", top, dir, name);
	ck_assert(n > 0 && (size_t)n < sizeof(buf));
	return buf;
}

static const char *
fixture(const char *name)
{
	return srcpath("tests/unit/conf", name);
}

/* Load a file that must be good: no errors, a snapshot. */
static struct conf *
load_good(const char *path)
{
	struct conf	*conf;
	int		 n = -1, i;

	conf = conf_load(path, errs_collect, &errs, &n);
	for (i = 0; i < errs.n; i++)
		fprintf(stderr, "unexpected: %s\n", errs.msg[i]);
	ck_assert_int_eq(errs.n, 0);
	ck_assert_int_eq(n, 0);
	ck_assert_ptr_nonnull(conf);
	ck_assert_int_eq(conf->c_refs, 1);
	ck_assert_str_eq(conf->c_path, path);
	return conf;
}

START_TEST(test_good)
{
	struct conf		*conf;
	const struct conf_route	*r;
	const struct conf_subproto *sp;
	const struct conf_listen *l;

	conf = load_good(fixture("good.conf"));

	ck_assert_uint_eq(conf->c_nlistens, 4);
	l = &conf->c_listens[0];
	ck_assert_int_eq(l->l_kind, CONF_LISTEN_TCP);
	ck_assert_str_eq(l->l_address, "127.0.0.1");
	ck_assert_int_eq(l->l_port, 8080);
	ck_assert_ptr_null(l->l_unix);
	ck_assert_int_eq(l->l_has_mode, 0);
	ck_assert_int_eq(l->l_line, 3);
	l = &conf->c_listens[1];
	ck_assert_int_eq(l->l_kind, CONF_LISTEN_TCP);
	ck_assert_str_eq(l->l_address, "::1");
	ck_assert_int_eq(l->l_port, 65535);
	ck_assert_int_eq(l->l_line, 4);
	l = &conf->c_listens[2];
	ck_assert_int_eq(l->l_kind, CONF_LISTEN_UNIX);
	ck_assert_ptr_null(l->l_address);
	ck_assert_str_eq(l->l_unix, "/run/wsgate/front.sock");
	ck_assert_int_eq(l->l_has_mode, 1);
	ck_assert_uint_eq(l->l_mode, 0660);
	ck_assert_int_eq(l->l_line, 5);
	l = &conf->c_listens[3];
	ck_assert_int_eq(l->l_kind, CONF_LISTEN_UNIX);
	ck_assert_str_eq(l->l_unix, "/run/wsgate/other.sock");
	ck_assert_int_eq(l->l_has_mode, 0);

	ck_assert_int_eq(conf->c_workers, 3);
	ck_assert_uint_eq(conf->c_limits.handshake_timeout_ms, 2000);
	ck_assert_uint_eq(conf->c_limits.max_header_bytes, 4096);
	ck_assert_uint_eq(conf->c_limits.max_message_size, 2147483648ULL);
	ck_assert_uint_eq(conf->c_limits.idle_timeout_ms, 60000);
	ck_assert_uint_eq(conf->c_limits.ping_interval_ms, 0);
	ck_assert_uint_eq(conf->c_limits.buffer_limit, 65536);
	ck_assert_uint_eq(conf->c_limits.max_connections, 100);
	ck_assert_uint_eq(conf->c_limits.close_timeout_ms, 1);

	ck_assert_uint_eq(conf->c_nroutes, 5);

	/* a plain line route: text by default */
	r = &conf->c_routes[0];
	ck_assert_str_eq(r->r_path, "/echo");
	ck_assert_int_eq(r->r_line, 20);
	ck_assert_int_eq(r->r_has_backend, 1);
	ck_assert_str_eq(r->r_backend.b_path, "/run/echo.sock");
	ck_assert_int_eq(r->r_backend.b_framing, FRAMING_LINE);
	ck_assert_int_eq(r->r_backend.b_message_type, FRAMING_TEXT);
	ck_assert_ptr_null(r->r_origins);
	ck_assert_uint_eq(r->r_norigins, 0);
	ck_assert_ptr_null(r->r_subprotos);
	ck_assert_uint_eq(r->r_nsubprotos, 0);

	/* the issue's /chat: origins, subprotocols and a default backend */
	r = &conf->c_routes[1];
	ck_assert_str_eq(r->r_path, "/chat");
	ck_assert_int_eq(r->r_line, 21);
	ck_assert_uint_eq(r->r_norigins, 2);
	ck_assert_str_eq(r->r_origins[0], "https://example.com");
	ck_assert_str_eq(r->r_origins[1], "http://localhost:8080");
	ck_assert_int_eq(r->r_has_backend, 1);
	ck_assert_str_eq(r->r_backend.b_path, "/run/chat-legacy.sock");
	ck_assert_int_eq(r->r_backend.b_framing, FRAMING_RAW);
	ck_assert_int_eq(r->r_backend.b_message_type, FRAMING_BINARY);
	ck_assert_uint_eq(r->r_nsubprotos, 3);
	sp = &r->r_subprotos[0];
	ck_assert_str_eq(sp->s_name, "chat.v2");
	ck_assert_int_eq(sp->s_line, 24);
	ck_assert_str_eq(sp->s_backend.b_path, "/run/chat-v2.sock");
	ck_assert_int_eq(sp->s_backend.b_framing, FRAMING_FRAME);
	ck_assert_int_eq(sp->s_backend.b_message_type, FRAMING_BINARY);
	sp = &r->r_subprotos[1];
	ck_assert_str_eq(sp->s_name, "chat.v1");
	ck_assert_int_eq(sp->s_line, 25);
	ck_assert_str_eq(sp->s_backend.b_path, "/run/chat-v1.sock");
	ck_assert_int_eq(sp->s_backend.b_framing, FRAMING_LINE);
	ck_assert_int_eq(sp->s_backend.b_message_type, FRAMING_BINARY);
	sp = &r->r_subprotos[2];	/* inherits all three */
	ck_assert_str_eq(sp->s_name, "chat.legacy");
	ck_assert_int_eq(sp->s_line, 27);
	ck_assert_str_eq(sp->s_backend.b_path, "/run/chat-legacy.sock");
	ck_assert_ptr_ne(sp->s_backend.b_path, r->r_backend.b_path);
	ck_assert_int_eq(sp->s_backend.b_framing, FRAMING_RAW);
	ck_assert_int_eq(sp->s_backend.b_message_type, FRAMING_BINARY);

	/*
	 * A line route: framing is inherited; message_type, not set on the
	 * route, is the default of the subprotocol's own framing.
	 */
	r = &conf->c_routes[2];
	ck_assert_str_eq(r->r_path, "/lines");
	ck_assert_uint_eq(r->r_nsubprotos, 3);
	sp = &r->r_subprotos[0];
	ck_assert_str_eq(sp->s_name, "inherit");
	ck_assert_str_eq(sp->s_backend.b_path, "/run/lines.sock");
	ck_assert_int_eq(sp->s_backend.b_framing, FRAMING_LINE);
	ck_assert_int_eq(sp->s_backend.b_message_type, FRAMING_TEXT);
	sp = &r->r_subprotos[1];
	ck_assert_str_eq(sp->s_name, "raw");
	ck_assert_str_eq(sp->s_backend.b_path, "/run/lines.sock");
	ck_assert_int_eq(sp->s_backend.b_framing, FRAMING_RAW);
	ck_assert_int_eq(sp->s_backend.b_message_type, FRAMING_BINARY);
	sp = &r->r_subprotos[2];
	ck_assert_str_eq(sp->s_name, "frame");
	ck_assert_str_eq(sp->s_backend.b_path, "/run/f.sock");
	ck_assert_int_eq(sp->s_backend.b_framing, FRAMING_FRAME);
	ck_assert_int_eq(sp->s_backend.b_message_type, FRAMING_BINARY);

	/* A route's explicit message_type is inherited as such. */
	r = &conf->c_routes[3];
	ck_assert_str_eq(r->r_path, "/typed");
	ck_assert_int_eq(r->r_backend.b_framing, FRAMING_RAW);
	ck_assert_int_eq(r->r_backend.b_message_type, FRAMING_TEXT);
	sp = &r->r_subprotos[0];
	ck_assert_str_eq(sp->s_name, "framed");
	ck_assert_int_eq(sp->s_backend.b_framing, FRAMING_FRAME);
	ck_assert_int_eq(sp->s_backend.b_message_type, FRAMING_TEXT);
	sp = &r->r_subprotos[1];
	ck_assert_str_eq(sp->s_name, "bin");
	ck_assert_int_eq(sp->s_backend.b_framing, FRAMING_RAW);
	ck_assert_int_eq(sp->s_backend.b_message_type, FRAMING_BINARY);

	/* No default backend: only the listed subprotocols are served. */
	r = &conf->c_routes[4];
	ck_assert_str_eq(r->r_path, "/only-subprotocols");
	ck_assert_int_eq(r->r_has_backend, 0);
	ck_assert_ptr_null(r->r_backend.b_path);
	ck_assert_uint_eq(r->r_nsubprotos, 1);
	ck_assert_str_eq(r->r_subprotos[0].s_backend.b_path, "/run/a.sock");
	ck_assert_int_eq(r->r_subprotos[0].s_backend.b_framing, FRAMING_RAW);

	conf_unref(conf);
}
END_TEST

START_TEST(test_defaults)
{
	struct conf		*conf;
	const struct conf_route	*r;
	long			 ncpu;

	conf = load_good(fixture("minimal.conf"));
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	if (ncpu < 1)
		ncpu = 1;
	if (ncpu > 1024)
		ncpu = 1024;
	ck_assert_int_eq(conf->c_workers, ncpu);
	ck_assert_uint_eq(conf->c_limits.handshake_timeout_ms, 10000);
	ck_assert_uint_eq(conf->c_limits.max_header_bytes, 8192);
	ck_assert_uint_eq(conf->c_limits.max_message_size, 1048576);
	ck_assert_uint_eq(conf->c_limits.idle_timeout_ms, 0);
	ck_assert_uint_eq(conf->c_limits.ping_interval_ms, 30000);
	ck_assert_uint_eq(conf->c_limits.buffer_limit, 1048576);
	ck_assert_uint_eq(conf->c_limits.max_connections, 0);
	ck_assert_uint_eq(conf->c_limits.close_timeout_ms, 5000);
	ck_assert_uint_eq(conf->c_limits.compression_level, 6);
	ck_assert_uint_eq(conf->c_limits.compression_min_size, 64);
	ck_assert_uint_eq(conf->c_limits.compression_window_bits, 15);

	ck_assert_uint_eq(conf->c_nlistens, 1);
	ck_assert_str_eq(conf->c_listens[0].l_address, "0.0.0.0");
	ck_assert_int_eq(conf->c_listens[0].l_port, 80);
	ck_assert_uint_eq(conf->c_nroutes, 1);
	r = &conf->c_routes[0];
	ck_assert_str_eq(r->r_path, "/");
	ck_assert_int_eq(r->r_has_backend, 1);
	ck_assert_str_eq(r->r_backend.b_path, "/run/b.sock");
	ck_assert_int_eq(r->r_backend.b_framing, FRAMING_RAW);
	ck_assert_int_eq(r->r_backend.b_message_type, FRAMING_BINARY);
	ck_assert_ptr_null(r->r_origins);
	ck_assert_uint_eq(r->r_nsubprotos, 0);
	ck_assert_int_eq(r->r_compression, 0);
	conf_unref(conf);
}
END_TEST

START_TEST(test_ref)
{
	struct conf	*conf;

	conf = load_good(fixture("minimal.conf"));
	ck_assert_ptr_eq(conf_ref(conf), conf);
	ck_assert_int_eq(conf->c_refs, 2);
	ck_assert_ptr_eq(conf_ref(conf), conf);
	ck_assert_int_eq(conf->c_refs, 3);
	conf_unref(conf);
	conf_unref(conf);
	ck_assert_int_eq(conf->c_refs, 1);
	conf_unref(conf);		/* freed: LeakSanitizer would tell */
	conf_unref(NULL);
}
END_TEST

START_TEST(test_route_find)
{
	struct conf		*conf;
	const struct conf_route	*r;
	const char		*req = "/chat?x=1";

	conf = load_good(fixture("good.conf"));
	ck_assert_ptr_eq(conf_route_find(conf, "/echo", 5), &conf->c_routes[0]);
	ck_assert_ptr_eq(conf_route_find(conf, req, 5), &conf->c_routes[1]);
	ck_assert_ptr_null(conf_route_find(conf, "/ech", 4));
	ck_assert_ptr_null(conf_route_find(conf, "/echo/", 6));
	ck_assert_ptr_null(conf_route_find(conf, "/ECHO", 5));
	ck_assert_ptr_null(conf_route_find(conf, "/echo\0x", 7));
	ck_assert_ptr_null(conf_route_find(conf, "", 0));
	ck_assert_ptr_null(conf_route_find(conf, "/", 1));
	r = conf_route_find(conf, "/only-subprotocols", 18);
	ck_assert_ptr_eq(r, &conf->c_routes[4]);
	conf_unref(conf);

	conf = load_good(fixture("minimal.conf"));
	ck_assert_ptr_eq(conf_route_find(conf, "/", 1), &conf->c_routes[0]);
	ck_assert_ptr_null(conf_route_find(conf, "/a", 2));
	conf_unref(conf);
}
END_TEST

/*
 * Errors in an @include'd file carry its name and line; written here
 * because the include must be an absolute path (see conf.c).
 */
START_TEST(test_include)
{
	char	 inc[PATH_MAX], tmp[] = "/tmp/check_conf.XXXXXX";
	char	 want[PATH_MAX + 64];
	FILE	*fp;
	int	 fd, n = -1;

	ck_assert_ptr_nonnull(realpath(fixture("include.inc"), inc));
	ck_assert_int_ge(fd = mkstemp(tmp), 0);
	ck_assert_ptr_nonnull(fp = fdopen(fd, "w"));
	fprintf(fp, "listen = ( { address = \"::\"; port = 1; } );\n"
	    "@include \"%s\"\nworkers = 0;\n", inc);
	ck_assert_int_eq(fclose(fp), 0);

	ck_assert_ptr_null(conf_load(tmp, errs_collect, &errs, &n));
	unlink(tmp);
	ck_assert_int_eq(n, 2);
	ck_assert_int_eq(errs.n, 2);
	snprintf(want, sizeof(want), "%s:2: unknown key \"bogus\" in route",
	    inc);
	ck_assert_str_eq(errs.msg[0], want);
	snprintf(want, sizeof(want), "%s:3: workers = 0 is out of range "
	    "(1..1024)", tmp);
	ck_assert_str_eq(errs.msg[1], want);
}
END_TEST

/*
 * Write text (len bytes, NULs and all) to file, load it, and check that
 * it fails with one error more, want.
 */
static void
write_file(const char *file, const char *text, size_t len)
{
	FILE	*fp;

	ck_assert_ptr_nonnull(fp = fopen(file, "w"));
	ck_assert_uint_eq(fwrite(text, 1, len, fp), len);
	ck_assert_int_eq(fclose(fp), 0);
}

static void
include_case(const char *file, const char *text, size_t len,
    const char *want)
{
	int	 n = -1, before = errs.n;

	write_file(file, text, len);
	ck_assert_ptr_null(conf_load(file, errs_collect, &errs, &n));
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(errs.n, before + 1);
	ck_assert_str_eq(errs.msg[before], want);
}

/*
 * An @include naming a directory (or a FIFO, a device) is an error of
 * ours: libconfig 1.5's scanner would exit() on the failed read.  Found
 * in included files too; not in comments.
 */
START_TEST(test_include_not_regular)
{
	static const char nested[] = "# @include \"/\"\n"
	    "workers = 2; /* @include \"/\"\n"
	    "@include \"/\" */ s = \"@include \\\"/\";\n"
	    "  @include \"/tmp\"\n";
	/* the path ends at a NUL, as libconfig's does */
	static const char nul[] = "@include \"/dev/null\0x\"\n";
	/*
	 * A backslash before anything but \\ or " matches no rule of
	 * libconfig's scanner and is dropped (its path is "/"); and a NUL
	 * ends only its run of characters.
	 */
	static const char esc[] = "@include \"/\\\0x\"\n";
	char	 top[] = "/tmp/check_conf.XXXXXX";
	char	 sub[] = "/tmp/check_conf.XXXXXX";
	char	 dir[] = "/tmp/check_conf.XXXXXX", path[PATH_MAX];
	char	 text[PATH_MAX + 64], want[PATH_MAX + 64];
	int	 fd, n;

	ck_assert_int_ge(fd = mkstemp(sub), 0);
	ck_assert_int_eq(close(fd), 0);
	ck_assert_int_ge(fd = mkstemp(top), 0);
	ck_assert_int_eq(close(fd), 0);
	write_file(sub, nested, sizeof(nested) - 1);
	n = snprintf(text, sizeof(text), "listen = ( { address = \"::\"; "
	    "port = 1; } );\n@include \"%s\"\n", sub);
	snprintf(want, sizeof(want), "%s:4: @include \"/tmp\": not a "
	    "regular file", sub);
	ck_assert(n > 0 && (size_t)n < sizeof(text));
	include_case(top, text, (size_t)n, want);
	ck_assert_int_eq(unlink(sub), 0);

	snprintf(want, sizeof(want), "%s:1: @include \"/dev/null\": not a "
	    "regular file", top);
	include_case(top, nul, sizeof(nul) - 1, want);
	snprintf(want, sizeof(want), "%s:1: @include \"/\": not a regular "
	    "file", top);
	include_case(top, esc, sizeof(esc) - 1, want);

	/* "D/a", NUL, "junk", \\, "b": libconfig opens D/a\b, a directory */
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/a\\b", dir);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	n = snprintf(text, sizeof(text), "@include \"%s/a%cjunk\\\\b\"\n", dir,
	    '\0');
	snprintf(want, sizeof(want), "%s:1: @include \"%s/a\\\\b\": not a "
	    "regular file", top, dir);	/* quoted: a\\b */
	include_case(top, text, (size_t)n, want);
	ck_assert_int_eq(rmdir(path), 0);

	/* a path is quoted in the message: one line, whatever it holds */
	snprintf(path, sizeof(path), "%s/a\nb", dir);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	n = snprintf(text, sizeof(text), "@include \"%s\"\n", path);
	snprintf(want, sizeof(want), "%s:1: @include \"%s/a\\x0ab\": not a "
	    "regular file", top, dir);
	include_case(top, text, (size_t)n, want);
	ck_assert_int_eq(rmdir(path), 0);
	ck_assert_int_eq(rmdir(dir), 0);

	/* a regular file whose read fails is no better */
	n = snprintf(text, sizeof(text), "@include \"/proc/self/mem\"\n");
	snprintf(want, sizeof(want), "/proc/self/mem: cannot read: %s",
	    strerror(EIO));
	include_case(top, text, (size_t)n, want);
	ck_assert_int_eq(unlink(top), 0);
}
END_TEST

START_TEST(test_missing_file)
{
	char		 want[PATH_MAX + 64];
	const char	*path = fixture("does-not-exist.conf");
	int		 n = -1;

	ck_assert_ptr_null(conf_load(path, errs_collect, &errs, &n));
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(errs.n, 1);
	snprintf(want, sizeof(want), "%s: cannot read: %s", path,
	    strerror(ENOENT));
	ck_assert_str_eq(errs.msg[0], want);
}
END_TEST

/* Without a callback errors go nowhere, but they are still counted. */
START_TEST(test_null_callback)
{
	int	 n = -1;

	ck_assert_ptr_null(conf_load(fixture("many.conf"), NULL, NULL, &n));
	ck_assert_int_eq(n, 12);
	ck_assert_ptr_null(conf_load(fixture("syntax.conf"), NULL, NULL, &n));
	ck_assert_int_eq(n, 1);
	ck_assert_ptr_null(conf_load(fixture("many.conf"), NULL, NULL, NULL));
}
END_TEST

/*
 * TLS groups: the shape only (tls.c reads the files), with "FILE:LINE"
 * of each setting kept for tls.c's errors.
 */
START_TEST(test_tls)
{
	const struct conf_tls	*t;
	struct conf		*conf;
	char			 at[PATH_MAX + 16];
	const char		*path = fixture("tls.conf");

	conf = load_good(path);
	ck_assert_uint_eq(conf->c_nlistens, 3);
	ck_assert_ptr_null(conf->c_listens[2].l_tls);

	ck_assert_ptr_nonnull(t = conf->c_listens[0].l_tls);
	ck_assert_uint_eq(t->t_ncerts, 1);
	ck_assert_str_eq(t->t_certs[0].tc_cert, "/etc/wsgate/a.pem");
	ck_assert_str_eq(t->t_certs[0].tc_key, "/etc/wsgate/a.key");
	snprintf(at, sizeof(at), "%s:4", path);
	ck_assert_str_eq(t->t_certs[0].tc_cert_at, at);
	snprintf(at, sizeof(at), "%s:5", path);
	ck_assert_str_eq(t->t_certs[0].tc_key_at, at);
	ck_assert_int_eq(t->t_min_version, CONF_TLS_1_2);
	ck_assert_ptr_null(t->t_ciphers);
	ck_assert_ptr_null(t->t_ciphersuites);
	ck_assert_ptr_null(t->t_ctx);

	ck_assert_ptr_nonnull(t = conf->c_listens[1].l_tls);
	ck_assert_uint_eq(t->t_ncerts, 2);
	ck_assert_str_eq(t->t_certs[0].tc_cert, "/etc/wsgate/b.pem");
	ck_assert_str_eq(t->t_certs[1].tc_cert, "c.pem");
	ck_assert_str_eq(t->t_certs[1].tc_key, "c.key");
	snprintf(at, sizeof(at), "%s:11", path);
	ck_assert_str_eq(t->t_certs[1].tc_key_at, at);
	ck_assert_int_eq(t->t_min_version, CONF_TLS_1_3);
	ck_assert_str_eq(t->t_ciphers, "ECDHE-ECDSA-AES128-GCM-SHA256");
	ck_assert_str_eq(t->t_ciphersuites, "TLS_AES_128_GCM_SHA256");
	snprintf(at, sizeof(at), "%s:14", path);
	ck_assert_str_eq(t->t_ciphers_at, at);
	conf_unref(conf);
}
END_TEST

/* The shipped example configs must load, or make demo would not run. */
START_TEST(test_examples)
{
	struct conf	*conf;
	struct dirent	*de;
	DIR		*dir;
	char		 path[PATH_MAX];
	size_t		 len;
	int		 nfiles = 0;

	conf = load_good(srcpath("conf", "wsgated.conf"));
	ck_assert_ptr_nonnull(conf_route_find(conf, "/echo", 5));
	ck_assert_ptr_nonnull(conf_route_find(conf, "/frame", 6));
	conf_unref(conf);

	snprintf(path, sizeof(path), "%s", srcpath("conf", "examples"));
	ck_assert_ptr_nonnull(dir = opendir(path));
	while ((de = readdir(dir)) != NULL) {
		len = strlen(de->d_name);
		if (len < 5 || strcmp(de->d_name + len - 5, ".conf") != 0)
			continue;
		conf = load_good(srcpath("conf/examples", de->d_name));
		conf_unref(conf);
		nfiles++;
	}
	closedir(dir);
	ck_assert_int_ge(nfiles, 2);
}
END_TEST

/*
 * Bad files: every error expected, in file order, with its line (0: the
 * message is about the whole file, "FILE: message").
 */
struct bad_error {
	int		 line;
	const char	*msg;
};

struct bad_file {
	const char		*file;
	struct bad_error	 errors[16];
};

static const struct bad_file bad_files[] = {
	{ "syntax.conf", {
		{ 4, "syntax error" } } },
	{ "tls-bad.conf", {
		{ 2, "tls has a cert but no key" },
		{ 3, "tls has a key but no cert" },
		{ 4, "tls needs cert and key, or certificates = ( { cert = "
		    "...; key = ...; }, ... )" },
		{ 6, "tls: use either cert and key, or certificates, not "
		    "both" },
		{ 7, "tls: certificates is empty" },
		{ 8, "certificate has no key" },
		{ 9, "certificate has no cert" },
		{ 9, "certificate: expected a group { cert = ...; key = ...; "
		    "}, not a string" },
		{ 10, "cert: empty file name" },
		{ 11, "min_version \"TLSv1.1\": expected \"TLSv1.2\" or "
		    "\"TLSv1.3\" (older versions are not supported)" },
		{ 11, "ciphers \"A B\": expected a list like \"NAME:NAME\" "
		    "without spaces" },
		{ 11, "ciphersuites: expected a string, not an integer" },
		{ 12, "unknown key \"sni\" in tls" },
		{ 13, "tls: expected a group { ... }, not a string" } } },
	{ "unknown-key.conf", {
		{ 2, "unknown key \"reuseport\" in listen entry" },
		{ 5, "unknown key \"max_frame_size\" in limits" },
		{ 9, "unknown key \"priority\" in subprotocol" },
		{ 10, "unknown key \"timeout\" in route" },
		{ 13, "unknown key \"tls\"" } } },
	{ "wrong-type.conf", {
		{ 2, "port: expected an integer, not a string" },
		{ 4, "workers: expected an integer, not a string" },
		{ 6, "max_message_size: expected an integer, not a float" },
		{ 7, "buffer_limit: expected an integer, not a boolean" },
		{ 10, "path: expected a string, not an integer" },
		{ 11, "origins: expected an array of strings "
		    "[ \"...\", ... ], not a string" } } },
	{ "not-a-list.conf", {
		{ 1, "listen: expected a list ( { ... }, ... ), "
		    "not a group { ... }" },
		{ 2, "limits: expected a group { ... }, not an integer" },
		{ 3, "route: expected a group { ... }, not a string" } } },
	{ "listen-both.conf", {
		{ 3, "listen entry has both address and unix: "
		    "use one entry for each" } } },
	{ "listen-neither.conf", {
		{ 4, "listen entry needs either address and port, "
		    "or unix" } } },
	{ "listen-noport.conf", {
		{ 2, "listen entry with an address needs a port" } } },
	{ "listen-mixed.conf", {
		{ 3, "mode is only for unix listeners" },
		{ 5, "port is only for address (TCP) listeners" } } },
	{ "port-range.conf", {
		{ 2, "port = 0 is out of range (1..65535)" },
		{ 5, "port = 65536 is out of range (1..65535)" } } },
	{ "address.conf", {
		{ 2, "address \"localhost\" is not a numeric IPv4 or IPv6 "
		    "address" },
		{ 4, "address \"127.0.0.256\" is not a numeric IPv4 or IPv6 "
		    "address" } } },
	{ "mode.conf", {
		{ 2, "mode \"rw-rw----\" is not an octal string like "
		    "\"0660\"" },
		{ 4, "mode \"0999\" is not an octal string like \"0660\"" },
		{ 6, "mode \"04755\" is not an octal string like "
		    "\"0660\"" } } },
	{ "workers.conf", {
		{ 3, "workers = 0 is out of range (1..1024)" } } },
	{ "workers-big.conf", {
		{ 2, "workers = 1025 is out of range (1..1024)" } } },
	{ "limits.conf", {
		{ 3, "handshake_timeout_ms = 0 is out of range "
		    "(1..2147483647)" },
		{ 4, "max_header_bytes = 255 is out of range (256..1048576)" },
		{ 5, "max_message_size = 0 is out of range "
		    "(1..2147483648)" },
		{ 6, "idle_timeout_ms = -1 is out of range (0..2147483647)" },
		{ 7, "ping_interval_ms = -5 is out of range "
		    "(0..2147483647)" },
		{ 8, "buffer_limit = 1023 is out of range (1024..2147483648)" },
		{ 9, "max_connections = -1 is out of range (0..2147483647)" },
		{ 10, "close_timeout_ms = 0 is out of range "
		    "(1..2147483647)" } } },
	{ "limits-big.conf", {
		{ 3, "max_header_bytes = 1048577 is out of range "
		    "(256..1048576)" },
		{ 4, "max_message_size = 2147483649 is out of range "
		    "(1..2147483648)" },
		{ 5, "buffer_limit = -1294967296 is out of range "
		    "(1024..2147483648); write values above 2147483647 "
		    "with an L suffix" } } },
	{ "path-slash.conf", {
		{ 4, "path \"echo\" must start with \"/\"" },
		{ 5, "path \"\" must start with \"/\"" } } },
	{ "path-chars.conf", {
		{ 3, "path \"/a b\" can never match a request: it has a "
		    "space, '?', '#' or a byte that is not printable ASCII" },
		{ 4, "path \"/a?x=1\" can never match a request: it has a "
		    "space, '?', '#' or a byte that is not printable ASCII" },
		{ 5, "path \"/caf\\xc3\\xa9\" can never match a request: it "
		    "has a space, '?', '#' or a byte that is not printable "
		    "ASCII" } } },
	{ "no-path.conf", {
		{ 4, "route has no path" } } },
	{ "dup-path.conf", {
		{ 7, "duplicate route path \"/a\" (first defined on line 3)" },
		{ 8, "duplicate route path \"/a\" (first defined on "
		    "line 3)" } } },
	{ "framing.conf", {
		{ 3, "unknown framing \"lines\" (raw, line or frame)" },
		{ 5, "unknown framing \"RAW\" (raw, line or frame)" } } },
	{ "message-type.conf", {
		{ 3, "unknown message_type \"utf8\" (text or binary)" },
		{ 5, "unknown message_type \"Binary\" (text or binary)" } } },
	{ "dup-subprotocol.conf", {
		{ 7, "duplicate subprotocol \"chat\" in this route (first "
		    "defined on line 5)" } } },
	{ "token.conf", {
		{ 5, "subprotocol name \"chat v1\" is not an HTTP token" },
		{ 6, "subprotocol name \"\" is not an HTTP token" },
		{ 7, "subprotocol name \"a,b\" is not an HTTP token" },
		{ 9, "subprotocol has no name" } } },
	{ "origins.conf", {
		{ 5, "origins: empty entry" },
		{ 6, "origins is empty: leave it out to allow any origin" },
		{ 7, "origins: expected a string, not an integer" } } },
	{ "no-backend.conf", {
		{ 4, "route has no backend and no subprotocols: "
		    "nothing to relay to" },
		{ 5, "route has no backend and no subprotocols: "
		    "nothing to relay to" } } },
	{ "no-backend-subprotocol.conf", {
		{ 6, "subprotocol has no backend and its route has none "
		    "to inherit" } } },
	{ "socket-path.conf", {
		{ 2, "unix: socket path too long (119 bytes, at most 107)" },
		{ 5, "backend: empty socket path" } } },
	{ "no-listen.conf", {
		{ 0, "no listen defined (listen = ( { ... } );)" } } },
	{ "no-routes.conf", {
		{ 0, "no routes defined (routes = ( { ... } );)" } } },
	{ "empty-lists.conf", {
		{ 1, "listen: no entries" },
		{ 3, "routes: no entries" } } },
	{ "many.conf", {
		{ 3, "port = 80000 is out of range (1..65535)" },
		{ 4, "mode \"rw\" is not an octal string like \"0660\"" },
		{ 6, "workers: expected an integer, not a string" },
		{ 8, "max_header_bytes = 10 is out of range (256..1048576)" },
		{ 9, "unknown key \"idle_timeout\" in limits" },
		{ 12, "unknown framing \"lines\" (raw, line or frame)" },
		{ 13, "duplicate route path \"/echo\" (first defined on "
		    "line 12)" },
		{ 16, "subprotocol has no backend and its route has none "
		    "to inherit" },
		{ 17, "duplicate subprotocol \"v1\" in this route (first "
		    "defined on line 16)" },
		{ 20, "route has no backend and no subprotocols: "
		    "nothing to relay to" },
		{ 20, "path \"nope\" must start with \"/\"" },
		{ 22, "unknown key \"colour\"" } } }
};

START_TEST(test_bad)
{
	const struct bad_file	*bf = &bad_files[_i];
	char			 path[PATH_MAX], want[PATH_MAX + 512];
	int			 i, nwant, n = -1;

	snprintf(path, sizeof(path), "%s", fixture(bf->file));
	for (nwant = 0; bf->errors[nwant].msg != NULL; nwant++)
		;
	ck_assert_ptr_null(conf_load(path, errs_collect, &errs, &n));
	if (errs.n != nwant)
		for (i = 0; i < errs.n; i++)
			fprintf(stderr, "got: %s\n", errs.msg[i]);
	ck_assert_int_eq(n, nwant);
	ck_assert_int_eq(errs.n, nwant);
	for (i = 0; i < nwant; i++) {
		if (bf->errors[i].line > 0)
			snprintf(want, sizeof(want), "%s:%d: %s", path,
			    bf->errors[i].line, bf->errors[i].msg);
		else
			snprintf(want, sizeof(want), "%s: %s", path,
			    bf->errors[i].msg);
		ck_assert_str_eq(errs.msg[i], want);
	}
}
END_TEST

Suite *
conf_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("conf");

	tc = tcase_create("good");
	tcase_add_checked_fixture(tc, errs_setup, errs_teardown);
	tcase_add_test(tc, test_good);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_ref);
	tcase_add_test(tc, test_route_find);
	tcase_add_test(tc, test_tls);
	tcase_add_test(tc, test_examples);
	suite_add_tcase(s, tc);

	tc = tcase_create("bad");
	tcase_add_checked_fixture(tc, errs_setup, errs_teardown);
	tcase_add_loop_test(tc, test_bad, 0,
	    sizeof(bad_files) / sizeof(bad_files[0]));
	tcase_add_test(tc, test_include);
	tcase_add_test(tc, test_include_not_regular);
	tcase_add_test(tc, test_missing_file);
	tcase_add_test(tc, test_null_callback);
	suite_add_tcase(s, tc);

	return s;
}
