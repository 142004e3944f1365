/*
 * Configuration loader: reads a libconfig file and turns it into the
 * plain, immutable structs of conf.h, checking everything on the way.
 * This is the only file that knows about libconfig.
 *
 * Every key, at every level, is described in one of the tables below
 * with its type, its bounds, its default and where it is stored, as in
 * redis's static_configs[].  Loading walks the tables rather than the
 * file, so an unknown key is simply one not in the table.  Errors do not
 * stop the walk: -t must list every mistake in the file at once, each as
 * "FILE:LINE: message".
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <arpa/inet.h>

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <libconfig.h>

#include "conf.h"
#include "preamble.h"

/*
 * An error message waiting to be reported.  The checks do not run in the
 * order of the file (limits are checked after the whole top level, a
 * route's subprotocols after its other keys), so messages are collected
 * with the rank of their setting in the file and reported sorted, as a
 * compiler would.
 */
struct conf_msg {
	unsigned long		 m_rank;	/* setting's place in the file */
	size_t			 m_seq;		/* order of the report */
	char			*m_text;
};

/* One load in progress: where errors go and how many there were. */
struct conf_loader {
	const char		*ld_path;
	conf_error_fn		 ld_err;
	void			*ld_arg;
	int			 ld_nerrors;
	struct conf_msg		*ld_msgs;
	size_t			 ld_nmsgs;
	size_t			 ld_msgs_size;
};

enum conf_ktype {
	CONF_K_INT,		/* integer (5, or 5L): bounds checked */
	CONF_K_STRING,		/* "..." checked and stored by k_string */
	CONF_K_GROUP,		/* { key = value; ... } */
	CONF_K_LIST,		/* ( { ... }, { ... } ) */
	CONF_K_STRINGS,		/* [ "a", "b" ] or ( "a", "b" ) */
	CONF_K_BOOL		/* true or false, stored as an int */
};

/*
 * A string value's checker: on success it stores what it made of s at
 * dst (a copy, an enum, a mode) and returns 0; otherwise it reports why
 * and returns -1.
 */
typedef int (*conf_string_fn)(struct conf_loader *, const config_setting_t *,
    const char *s, void *dst);

struct conf_key {
	const char	*k_name;
	enum conf_ktype	 k_type;
	long long	 k_min;		/* CONF_K_INT: bounds, inclusive */
	long long	 k_max;
	long long	 k_default;	/* CONF_K_INT: stored before parsing */
	size_t		 k_off;		/* INT, STRING: offset in the struct */
	size_t		 k_size;	/* INT: width of the field there */
	conf_string_fn	 k_string;	/* STRING */
};

#define CONF_NOOFF		((size_t)-1)
#define CONF_NCPU		(-1LL)	/* workers default: online CPUs */
#define CONF_MAX_WORKERS	1024
#define CONF_MAX_MS		((long long)INT_MAX)	/* about 24.8 days */
#define CONF_MAX_SIZE		(1LL << 31)

#define KINT(name, st, field, min, max, def)				\
	{ name, CONF_K_INT, min, max, def, offsetof(st, field),	\
	    sizeof(((st *)0)->field), NULL }
#define KSTR(name, st, field, fn)					\
	{ name, CONF_K_STRING, 0, 0, 0, offsetof(st, field), 0, fn }
#define KAGG(name, type)						\
	{ name, type, 0, 0, 0, CONF_NOOFF, 0, NULL }
#define KBOOL(name, st, field)						\
	{ name, CONF_K_BOOL, 0, 0, 0, offsetof(st, field), 0, NULL }

static int	conf_str_address(struct conf_loader *, const config_setting_t *,
		    const char *, void *);
static int	conf_str_socket(struct conf_loader *, const config_setting_t *,
		    const char *, void *);
static int	conf_str_mode(struct conf_loader *, const config_setting_t *,
		    const char *, void *);
static int	conf_str_path(struct conf_loader *, const config_setting_t *,
		    const char *, void *);
static int	conf_str_framing(struct conf_loader *,
		    const config_setting_t *, const char *, void *);
static int	conf_str_msgtype(struct conf_loader *,
		    const config_setting_t *, const char *, void *);
static int	conf_str_token(struct conf_loader *, const config_setting_t *,
		    const char *, void *);
static int	conf_str_name(struct conf_loader *, const config_setting_t *,
		    const char *, void *);
static int	conf_str_loglevel(struct conf_loader *,
		    const config_setting_t *, const char *, void *);
static int	conf_str_prefix(struct conf_loader *,
		    const config_setting_t *, const char *, void *);
static int	conf_str_file(struct conf_loader *, const config_setting_t *,
		    const char *, void *);
static int	conf_str_tlsversion(struct conf_loader *,
		    const config_setting_t *, const char *, void *);
static int	conf_str_cipherlist(struct conf_loader *,
		    const config_setting_t *, const char *, void *);
static int	conf_str_preamble(struct conf_loader *,
		    const config_setting_t *, const char *, void *);

/* Top level. */
enum { TK_LISTEN, TK_WORKERS, TK_LIMITS, TK_ROUTES, TK_USER, TK_GROUP,
    TK_LOGLEVEL, TK_STATUS, TK_N };
static const struct conf_key conf_top_keys[TK_N] = {
	[TK_LISTEN] =	KAGG("listen", CONF_K_LIST),
	[TK_WORKERS] =	KINT("workers", struct conf, c_workers,
			    1, CONF_MAX_WORKERS, CONF_NCPU),
	[TK_LIMITS] =	KAGG("limits", CONF_K_GROUP),
	[TK_ROUTES] =	KAGG("routes", CONF_K_LIST),
	[TK_USER] =	KSTR("user", struct conf, c_user, conf_str_name),
	[TK_GROUP] =	KSTR("group", struct conf, c_group, conf_str_name),
	[TK_LOGLEVEL] =	KSTR("log_level", struct conf, c_log_level,
			    conf_str_loglevel),
	[TK_STATUS] =	KAGG("status", CONF_K_GROUP)
};

/* status = { ... }: health and metrics endpoints. */
enum { STK_PREFIX, STK_ALLOW, STK_LISTEN, STK_N };
static const struct conf_key conf_status_keys[STK_N] = {
	[STK_PREFIX] =	KSTR("path_prefix", struct conf_status, st_prefix,
			    conf_str_prefix),
	[STK_ALLOW] =	KAGG("allow", CONF_K_STRINGS),
	[STK_LISTEN] =	KAGG("listen", CONF_K_STRINGS)
};

/* limits = { ... }: every key optional; the defaults of the issue. */
#define KLIM(name, min, max, def)					\
	KINT(#name, struct conf_limits, name, min, max, def)
static const struct conf_key conf_limit_keys[] = {
	KLIM(handshake_timeout_ms,	1,	CONF_MAX_MS,	10000),
	KLIM(max_header_bytes,		256,	1048576,	8192),
	KLIM(max_message_size,		1,	CONF_MAX_SIZE,	1048576),
	KLIM(idle_timeout_ms,		0,	CONF_MAX_MS,	0),
	KLIM(ping_interval_ms,		0,	CONF_MAX_MS,	30000),
	KLIM(buffer_limit,		1024,	CONF_MAX_SIZE,	1048576),
	KLIM(max_connections,		0,	INT_MAX,	0),
	KLIM(close_timeout_ms,		1,	CONF_MAX_MS,	5000),
	KLIM(compression_level,		0,	9,		6),
	KLIM(compression_min_size,	0,	CONF_MAX_SIZE,	64),
	KLIM(compression_window_bits,	9,	15,		15)
};
#define CONF_NLIMITS	(sizeof(conf_limit_keys) / sizeof(conf_limit_keys[0]))

/* listen = ( { ... } ): TCP (address, port) or Unix (unix, mode). */
enum { LK_ADDRESS, LK_PORT, LK_UNIX, LK_MODE, LK_OWNER, LK_GROUP, LK_TLS,
    LK_PROXY, LK_TRUSTED, LK_N };
static const struct conf_key conf_listen_keys[LK_N] = {
	[LK_ADDRESS] =	KSTR("address", struct conf_listen, l_address,
			    conf_str_address),
	[LK_PORT] =	KINT("port", struct conf_listen, l_port, 1, 65535, 0),
	[LK_UNIX] =	KSTR("unix", struct conf_listen, l_unix,
			    conf_str_socket),
	[LK_MODE] =	KSTR("mode", struct conf_listen, l_mode,
			    conf_str_mode),
	[LK_OWNER] =	KSTR("owner", struct conf_listen, l_owner,
			    conf_str_name),
	[LK_GROUP] =	KSTR("group", struct conf_listen, l_group,
			    conf_str_name),
	[LK_TLS] =	KAGG("tls", CONF_K_GROUP),
	[LK_PROXY] =	KBOOL("proxy_protocol", struct conf_listen,
			    l_proxy_protocol),
	[LK_TRUSTED] =	KAGG("trusted_proxies", CONF_K_STRINGS)
};

/*
 * A listen entry's tls = { ... }: one certificate (cert, key) or several
 * (certificates), stored by conf_tls() rather than through the table.
 */
enum { TLK_CERT, TLK_KEY, TLK_CERTS, TLK_MINVER, TLK_CIPHERS, TLK_SUITES,
    TLK_N };
static const struct conf_key conf_tls_keys[TLK_N] = {
	[TLK_CERT] =	KAGG("cert", CONF_K_STRING),
	[TLK_KEY] =	KAGG("key", CONF_K_STRING),
	[TLK_CERTS] =	KAGG("certificates", CONF_K_LIST),
	[TLK_MINVER] =	KSTR("min_version", struct conf_tls, t_min_version,
			    conf_str_tlsversion),
	[TLK_CIPHERS] =	KSTR("ciphers", struct conf_tls, t_ciphers,
			    conf_str_cipherlist),
	[TLK_SUITES] =	KSTR("ciphersuites", struct conf_tls,
			    t_ciphersuites, conf_str_cipherlist)
};

/* certificates = ( { cert = ...; key = ...; }, ... ) */
enum { TCK_CERT, TCK_KEY, TCK_N };
static const struct conf_key conf_tls_cert_keys[TCK_N] = {
	[TCK_CERT] =	KSTR("cert", struct conf_tls_cert, tc_cert,
			    conf_str_file),
	[TCK_KEY] =	KSTR("key", struct conf_tls_cert, tc_key,
			    conf_str_file)
};

/* routes = ( { ... } ) */
enum { RK_PATH, RK_BACKEND, RK_FRAMING, RK_MSGTYPE, RK_ORIGINS,
    RK_PREAMBLE, RK_FWD_HEADERS, RK_SUBPROTOS, RK_COMPRESSION, RK_N };
static const struct conf_key conf_route_keys[RK_N] = {
	[RK_PATH] =	KSTR("path", struct conf_route, r_path,
			    conf_str_path),
	[RK_BACKEND] =	KSTR("backend", struct conf_route, r_backend.b_path,
			    conf_str_socket),
	[RK_FRAMING] =	KSTR("framing", struct conf_route,
			    r_backend.b_framing, conf_str_framing),
	[RK_MSGTYPE] =	KSTR("message_type", struct conf_route,
			    r_backend.b_message_type, conf_str_msgtype),
	[RK_ORIGINS] =	KAGG("origins", CONF_K_STRINGS),
	[RK_PREAMBLE] =	KSTR("preamble", struct conf_route, r_preamble,
			    conf_str_preamble),
	[RK_FWD_HEADERS] = KAGG("forward_headers", CONF_K_STRINGS),
	[RK_SUBPROTOS] = KAGG("subprotocols", CONF_K_LIST),
	[RK_COMPRESSION] = KBOOL("compression", struct conf_route,
			    r_compression)
};

/* subprotocols = ( { ... } ): what is not set is the route's. */
enum { SK_NAME, SK_BACKEND, SK_FRAMING, SK_MSGTYPE, SK_N };
static const struct conf_key conf_subproto_keys[SK_N] = {
	[SK_NAME] =	KSTR("name", struct conf_subproto, s_name,
			    conf_str_token),
	[SK_BACKEND] =	KSTR("backend", struct conf_subproto,
			    s_backend.b_path, conf_str_socket),
	[SK_FRAMING] =	KSTR("framing", struct conf_subproto,
			    s_backend.b_framing, conf_str_framing),
	[SK_MSGTYPE] =	KSTR("message_type", struct conf_subproto,
			    s_backend.b_message_type, conf_str_msgtype)
};

static void	conf_error(struct conf_loader *, const config_setting_t *,
		    const char *, ...) __attribute__((format(printf, 3, 4)));
static void	conf_error_at(struct conf_loader *, const char *, int,
		    const char *, ...) __attribute__((format(printf, 4, 5)));
static void	conf_verror(struct conf_loader *, unsigned long,
		    const char *, int, const char *, va_list)
		    __attribute__((format(printf, 5, 0)));
static void	conf_flush(struct conf_loader *);
static int	conf_msg_cmp(const void *, const void *);
static void	conf_rank(config_setting_t *, unsigned long *);
static void	conf_nomem(struct conf_loader *);
static const char *conf_quote(char *, size_t, const char *);
static const char *conf_typename(int);
static const char *conf_ktypename(enum conf_ktype);
static int	conf_line(const config_setting_t *);
static const char *conf_file(struct conf_loader *, const config_setting_t *);
static void	conf_defaults(const struct conf_key *, size_t, void *);
static void	conf_group(struct conf_loader *, const config_setting_t *,
		    const struct conf_key *, size_t, const char *, void *,
		    const config_setting_t **);
static int	conf_type_ok(const struct conf_key *,
		    const config_setting_t *);
static void	conf_store_int(struct conf_loader *, const struct conf_key *,
		    const config_setting_t *, void *);
static void	conf_put_int(const struct conf_key *, void *, long long);
static char	*conf_strdup(struct conf_loader *, const char *);
static const config_setting_t *conf_list(struct conf_loader *,
		    const config_setting_t *, const char *);
static void	conf_listens(struct conf_loader *, struct conf *,
		    const config_setting_t *);
static void	conf_listen(struct conf_loader *, struct conf_listen *,
		    const config_setting_t *);
static void	conf_tls(struct conf_loader *, struct conf_listen *,
		    const config_setting_t *);
static void	conf_tls_cert(struct conf_loader *, struct conf_tls_cert *,
		    const config_setting_t *, const config_setting_t *);
static char	*conf_at(struct conf_loader *, const config_setting_t *);
static void	conf_tls_free(struct conf_tls *);
static void	conf_routes(struct conf_loader *, struct conf *,
		    const config_setting_t *);
static void	conf_route(struct conf_loader *, struct conf_route *,
		    const config_setting_t *);
static void	conf_origins(struct conf_loader *, struct conf_route *,
		    const config_setting_t *);
static void	conf_fwd_headers(struct conf_loader *, struct conf_route *,
		    const config_setting_t *);
static void	conf_trusted(struct conf_loader *, struct conf_listen *,
		    const config_setting_t *);
static void	conf_subprotos(struct conf_loader *, struct conf_route *,
		    const config_setting_t **, const config_setting_t *);
static void	conf_subproto(struct conf_loader *, const struct conf_route *,
		    const config_setting_t **, struct conf_subproto *,
		    const config_setting_t *);
static int	conf_default_msgtype(enum framing);
static void	conf_where(char *, size_t, struct conf_loader *,
		    const config_setting_t *, const config_setting_t *);
static void	conf_free(struct conf *);
static void	conf_ids(struct conf_loader *, struct conf *,
		    const config_setting_t **);
static int	conf_uid(struct conf_loader *, const config_setting_t *,
		    const char *, uid_t *, gid_t *);
static int	conf_gid(struct conf_loader *, const config_setting_t *,
		    const char *, gid_t *);
static void	conf_listen_names(struct conf_loader *, struct conf *,
		    const config_setting_t *);
static void	conf_status(struct conf_loader *, struct conf *,
		    const config_setting_t *);
static int	conf_netmask(const char *, struct conf_netmask *);
static int	conf_canon(const char *, char *, size_t);
static int	conf_includes(struct conf_loader *, const char *, int);
static int	conf_include_one(struct conf_loader *, const char *, int,
		    const char *, int);

struct conf *
conf_load(const char *path, conf_error_fn err, void *arg, int *nerrors)
{
	struct conf_loader	 ld;
	const config_setting_t	*root, *found[TK_N];
	struct conf		*conf = NULL;
	config_t		 cfg;
	const char		*file;
	unsigned long		 rank;
	int			 saved_errno;

	memset(&ld, 0, sizeof(ld));
	ld.ld_path = path;
	ld.ld_err = err;
	ld.ld_arg = arg;

	/*
	 * No include directory: libconfig 1.5 would prefix it to absolute
	 * @include paths too, and those are the usual kind in /etc.
	 * Relative ones are then relative to the working directory.
	 */
	config_init(&cfg);

	if (conf_includes(&ld, path, 0) == -1)
		goto done;
	errno = 0;
	if (config_read_file(&cfg, path) != CONFIG_TRUE) {
		saved_errno = errno;
		if ((file = config_error_file(&cfg)) == NULL)
			file = path;
		if (config_error_type(&cfg) == CONFIG_ERR_FILE_IO)
			conf_error_at(&ld, file, 0, "cannot read: %s",
			    saved_errno != 0 ? strerror(saved_errno) :
			    config_error_text(&cfg));
		else
			conf_error_at(&ld, file, config_error_line(&cfg),
			    "%s", config_error_text(&cfg));
		goto done;
	}

	if ((conf = calloc(1, sizeof(*conf))) == NULL ||
	    (conf->c_path = strdup(path)) == NULL) {
		conf_nomem(&ld);
		goto done;
	}
	conf->c_refs = 1;
	conf->c_log_level = 2;		/* info */
	conf_defaults(conf_top_keys, TK_N, conf);
	conf_defaults(conf_limit_keys, CONF_NLIMITS, &conf->c_limits);

	rank = 0;
	conf_rank(config_root_setting(&cfg), &rank);
	root = config_root_setting(&cfg);
	conf_group(&ld, root, conf_top_keys, TK_N, NULL, conf, found);
	if (found[TK_LIMITS] != NULL &&
	    conf_type_ok(&conf_top_keys[TK_LIMITS], found[TK_LIMITS]))
		conf_group(&ld, found[TK_LIMITS], conf_limit_keys,
		    CONF_NLIMITS, "limits", &conf->c_limits, NULL);
	conf_listens(&ld, conf, found[TK_LISTEN]);
	conf_routes(&ld, conf, found[TK_ROUTES]);
	conf_ids(&ld, conf, found);
	conf_listen_names(&ld, conf, found[TK_LISTEN]);
	if (found[TK_STATUS] != NULL &&
	    conf_type_ok(&conf_top_keys[TK_STATUS], found[TK_STATUS]))
		conf_status(&ld, conf, found[TK_STATUS]);

 done:
	conf_flush(&ld);
	config_destroy(&cfg);
	if (nerrors != NULL)
		*nerrors = ld.ld_nerrors;
	if (ld.ld_nerrors > 0) {
		conf_free(conf);
		return NULL;
	}
	return conf;
}

/*
 * Report one error as "FILE:LINE: message", the file and line being those
 * of setting s (which may come from an @include), or as "FILE: message"
 * when s is NULL.  Errors are counted even when nobody listens.
 */
static void
conf_error(struct conf_loader *ld, const config_setting_t *s,
    const char *fmt, ...)
{
	va_list		 ap;

	va_start(ap, fmt);
	if (s != NULL)
		conf_verror(ld, (unsigned long)(uintptr_t)
		    config_setting_get_hook(s),
		    conf_file(ld, s), conf_line(s), fmt, ap);
	else
		conf_verror(ld, ULONG_MAX, ld->ld_path, 0, fmt, ap);
	va_end(ap);
}

/*
 * libconfig 1.5 opens @include files itself, and its scanner calls
 * exit() when a read fails: `@include "/etc"` (a directory) would end
 * the process, on a reload too, and a FIFO would block it.  So the
 * directives are found first, the way its scanner finds them (at the
 * start of a line outside comments, `@include "path"`), and each must
 * name a regular file that can be read; what that file includes is
 * checked in turn, as deep as libconfig goes.  A file that cannot be
 * opened is left to libconfig to report.  Returns -1 after reporting an
 * error.
 *
 * The path is built as its scanner builds it: runs of characters other
 * than a backslash and " are appended each as a C string (so a NUL drops
 * the rest of its run); \\ and \" append \ and ".  A backslash before anything
 * else matches none of its rules; it is taken both ways, dropped and
 * kept, and both paths are checked.
 */
#define CONF_INCLUDE_DEPTH	10	/* libconfig's MAX_INCLUDE_DEPTH */

struct conf_incpath {
	char	 p[2][PATH_MAX];	/* backslash dropped, kept */
	size_t	 len[2];
	int	 cut;			/* a NUL ended this run */
};

static void
conf_incpath_add(struct conf_incpath *ip, int which, int c)
{
	int	 i;

	for (i = 0; i < 2; i++) {
		if (which != -1 && which != i)
			continue;
		if (ip->len[i] < sizeof(ip->p[i]))
			ip->p[i][ip->len[i]] = (char)c;
		ip->len[i]++;	/* past the end: too long, libconfig's */
	}
}

static int
conf_includes(struct conf_loader *ld, const char *file, int depth)
{
	static const char kw[] = "@include";
	enum { BOL, KW, SP, PATH, ESC, LINE, QUOTE, QESC, CMT, CMTEND,
	    SLASH, SKIPLINE } st = BOL;
	struct conf_incpath ip;
	struct stat	 sb;
	FILE		*f;
	size_t		 k = 0;
	int		 c, i, line = 1, inc_line = 0, rc = 0;

	if ((f = fopen(file, "r")) == NULL)
		return 0;
	if (fstat(fileno(f), &sb) == -1 || !S_ISREG(sb.st_mode)) {
		fclose(f);		/* libconfig's error, as before */
		return 0;
	}
	while (rc == 0 && (c = getc(f)) != EOF) {
		switch (st) {
		case BOL:
			if (c == ' ' || c == '\t')
				break;
			if (c == '@') {
				st = KW;
				k = 1;
				break;
			}
			goto line;
		case KW:
			if (kw[k] != '\0' && c == kw[k]) {
				k++;
				break;
			}
			if (kw[k] == '\0' && (c == ' ' || c == '\t')) {
				st = SP;
				break;
			}
			goto line;
		case SP:
			if (c == ' ' || c == '\t')
				break;
			if (c == '"') {
				st = PATH;
				memset(&ip, 0, sizeof(ip));
				inc_line = line;
				break;
			}
			goto line;
		case ESC:
			st = PATH;
			if (c == '\\' || c == '"') {
				conf_incpath_add(&ip, -1, c);
				break;
			}
			conf_incpath_add(&ip, 1, '\\');
			goto run;
		case PATH:
			if (c == '\\') {
				st = ESC;
				ip.cut = 0;
				break;
			}
			if (c == '"') {
				st = LINE;
				ip.cut = 0;
				for (i = 0; i < 2 && rc == 0; i++) {
					if (ip.len[i] == 0 || ip.len[i] >=
					    sizeof(ip.p[i]) || (i == 1 &&
					    strcmp(ip.p[0], ip.p[1]) == 0))
						continue;
					ip.p[i][ip.len[i]] = '\0';
					rc = conf_include_one(ld, file,
					    inc_line, ip.p[i], depth);
				}
				break;
			}
		run:
			if (c == '\0')
				ip.cut = 1;
			else if (!ip.cut)
				conf_incpath_add(&ip, -1, c);
			break;
		line:
			st = LINE;
			/* FALLTHROUGH */
		case LINE:
			if (c == '"')
				st = QUOTE;
			else if (c == '#')
				st = SKIPLINE;
			else if (c == '/')
				st = SLASH;
			break;
		case SLASH:
			st = c == '*' ? CMT : c == '/' ? SKIPLINE : LINE;
			break;
		case QUOTE:
			if (c == '\\')
				st = QESC;
			else if (c == '"')
				st = LINE;
			break;
		case QESC:
			st = QUOTE;
			break;
		case CMT:
			if (c == '*')
				st = CMTEND;
			break;
		case CMTEND:
			st = c == '/' ? LINE : c == '*' ? CMTEND : CMT;
			break;
		case SKIPLINE:
			break;
		}
		if (c == '\n') {
			line++;
			if (st == LINE || st == SKIPLINE || st == SLASH ||
			    st == KW || st == SP)
				st = BOL;
		}
	}
	if (rc == 0 && ferror(f)) {
		/* the same read would be fatal to libconfig */
		conf_error_at(ld, file, 0, "cannot read: %s", strerror(errno));
		rc = -1;
	}
	fclose(f);
	return rc;
}

/* One @include of file (at line): a regular file, and its own includes. */
static int
conf_include_one(struct conf_loader *ld, const char *file, int line,
    const char *inc, int depth)
{
	struct stat	 sb;
	char		 q[PATH_MAX + 16];

	if (stat(inc, &sb) == -1)
		return 0;	/* libconfig says it cannot open it */
	if (!S_ISREG(sb.st_mode)) {
		conf_error_at(ld, file, line, "@include %s: not a regular file",
		    conf_quote(q, sizeof(q), inc));
		return -1;
	}
	if (depth + 1 >= CONF_INCLUDE_DEPTH)
		return 0;	/* libconfig reports the depth */
	return conf_includes(ld, inc, depth + 1);
}

/* The same for a given file and line (0: none), e.g. a syntax error. */
static void
conf_error_at(struct conf_loader *ld, const char *file, int line,
    const char *fmt, ...)
{
	va_list		 ap;

	va_start(ap, fmt);
	conf_verror(ld, 0, file, line, fmt, ap);
	va_end(ap);
}

/*
 * Format the message and queue it under rank; should the queue itself
 * run out of memory, the message is reported at once instead of lost.
 */
static void
conf_verror(struct conf_loader *ld, unsigned long rank, const char *file,
    int line, const char *fmt, va_list ap)
{
	struct conf_msg	*m;
	char		 buf[1024];
	size_t		 size;
	int		 n;

	ld->ld_nerrors++;
	if (ld->ld_err == NULL)
		return;
	if (line > 0)
		n = snprintf(buf, sizeof(buf), "%s:%d: ", file, line);
	else
		n = snprintf(buf, sizeof(buf), "%s: ", file);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(buf))
		n = sizeof(buf) - 1;
	vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);

	if (ld->ld_nmsgs == ld->ld_msgs_size) {
		size = ld->ld_msgs_size == 0 ? 16 : ld->ld_msgs_size * 2;
		if ((m = reallocarray(ld->ld_msgs, size, sizeof(*m))) == NULL) {
			ld->ld_err(ld->ld_arg, buf);
			return;
		}
		ld->ld_msgs = m;
		ld->ld_msgs_size = size;
	}
	m = &ld->ld_msgs[ld->ld_nmsgs];
	if ((m->m_text = strdup(buf)) == NULL) {
		ld->ld_err(ld->ld_arg, buf);
		return;
	}
	m->m_rank = rank;
	m->m_seq = ld->ld_nmsgs++;
}

/* Report the queued messages in the order of the file, and free them. */
static void
conf_flush(struct conf_loader *ld)
{
	size_t	 i;

	if (ld->ld_nmsgs == 0)
		return;
	qsort(ld->ld_msgs, ld->ld_nmsgs, sizeof(*ld->ld_msgs), conf_msg_cmp);
	for (i = 0; i < ld->ld_nmsgs; i++) {
		ld->ld_err(ld->ld_arg, ld->ld_msgs[i].m_text);
		free(ld->ld_msgs[i].m_text);
	}
	free(ld->ld_msgs);
	ld->ld_msgs = NULL;
	ld->ld_nmsgs = ld->ld_msgs_size = 0;
}

static int
conf_msg_cmp(const void *a, const void *b)
{
	const struct conf_msg	*ma = a, *mb = b;

	if (ma->m_rank != mb->m_rank)
		return ma->m_rank < mb->m_rank ? -1 : 1;
	if (ma->m_seq != mb->m_seq)
		return ma->m_seq < mb->m_seq ? -1 : 1;
	return 0;
}

/*
 * Number the settings in the order they appear in the file, includes
 * included (a depth-first walk), keeping the number in the setting's
 * hook, which is ours while we hold the config_t.  Rank 0 is for errors
 * that come before any setting, ULONG_MAX for those about the whole file.
 */
static void
conf_rank(config_setting_t *s, unsigned long *rank)
{
	int	 i, n;

	config_setting_set_hook(s, (void *)(uintptr_t)++*rank);
	if (!config_setting_is_aggregate(s))
		return;
	n = config_setting_length(s);
	for (i = 0; i < n; i++)
		conf_rank(config_setting_get_elem(s, (unsigned int)i), rank);
}

static void
conf_nomem(struct conf_loader *ld)
{
	conf_error(ld, NULL, "out of memory");
}

/* The file a setting came from: the main file, or an included one. */
static const char *
conf_file(struct conf_loader *ld, const config_setting_t *s)
{
	const char	*file;

	if (s == NULL || (file = config_setting_source_file(s)) == NULL)
		return ld->ld_path;
	return file;
}

static int
conf_line(const config_setting_t *s)
{
	return (int)config_setting_source_line(s);
}

/*
 * A string from the file, made safe to print: quoted, with quotes,
 * backslashes and bytes that are not printable ASCII escaped, and cut
 * short (with "...") to fit buf.
 */
static const char *
conf_quote(char *buf, size_t size, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	size_t		 o = 0;
	unsigned char	 c;

	buf[o++] = '"';
	for (; (c = (unsigned char)*s) != '\0'; s++) {
		if (o + 8 >= size) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		if (c == '"' || c == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)c;
		} else if (c < 0x20 || c >= 0x7f) {
			buf[o++] = '\\';
			buf[o++] = 'x';
			buf[o++] = hex[c >> 4];
			buf[o++] = hex[c & 0xf];
		} else
			buf[o++] = (char)c;
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}

static const char *
conf_typename(int type)
{
	switch (type) {
	case CONFIG_TYPE_GROUP:
		return "a group { ... }";
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		return "an integer";
	case CONFIG_TYPE_FLOAT:
		return "a float";
	case CONFIG_TYPE_STRING:
		return "a string";
	case CONFIG_TYPE_BOOL:
		return "a boolean";
	case CONFIG_TYPE_ARRAY:
		return "an array [ ... ]";
	case CONFIG_TYPE_LIST:
		return "a list ( ... )";
	default:
		return "nothing";
	}
}

/* The name of what a key expects, for "expected ..." messages. */
static const char *
conf_ktypename(enum conf_ktype type)
{
	switch (type) {
	case CONF_K_INT:
		return "an integer";
	case CONF_K_STRING:
		return "a string";
	case CONF_K_GROUP:
		return "a group { ... }";
	case CONF_K_LIST:
		return "a list ( { ... }, ... )";
	case CONF_K_STRINGS:
		return "an array of strings [ \"...\", ... ]";
	case CONF_K_BOOL:
		return "true or false";
	}
	return "?";
}

/* Store the table's integer defaults into base. */
static void
conf_defaults(const struct conf_key *keys, size_t nkeys, void *base)
{
	long long	 v;
	size_t		 i;

	for (i = 0; i < nkeys; i++) {
		if (keys[i].k_type != CONF_K_INT || keys[i].k_off == CONF_NOOFF)
			continue;
		if ((v = keys[i].k_default) == CONF_NCPU) {
			v = sysconf(_SC_NPROCESSORS_ONLN);
			if (v < keys[i].k_min)
				v = keys[i].k_min;
			if (v > keys[i].k_max)
				v = keys[i].k_max;
		}
		conf_put_int(&keys[i], base, v);
	}
}

static int
conf_type_ok(const struct conf_key *k, const config_setting_t *s)
{
	switch (k->k_type) {
	case CONF_K_INT:
		return s->type == CONFIG_TYPE_INT ||
		    s->type == CONFIG_TYPE_INT64;
	case CONF_K_STRING:
		return s->type == CONFIG_TYPE_STRING;
	case CONF_K_GROUP:
		return s->type == CONFIG_TYPE_GROUP;
	case CONF_K_LIST:
		return s->type == CONFIG_TYPE_LIST;
	case CONF_K_STRINGS:
		return s->type == CONFIG_TYPE_ARRAY ||
		    s->type == CONFIG_TYPE_LIST;
	case CONF_K_BOOL:
		return s->type == CONFIG_TYPE_BOOL;
	}
	return 0;
}

/*
 * Walk the settings of a group against its table: unknown keys and
 * wrong types are reported, integers are range-checked and strings
 * checked, and both are stored into base.  If found is not NULL, found[i]
 * is the setting for keys[i] or NULL when absent; a key that is present
 * but wrong is still "found", so that its absence is not reported again.
 * what names the group in messages (NULL at the top level).
 */
static void
conf_group(struct conf_loader *ld, const config_setting_t *group,
    const struct conf_key *keys, size_t nkeys, const char *what, void *base,
    const config_setting_t **found)
{
	const config_setting_t	*s;
	const struct conf_key	*k;
	const char		*name;
	size_t			 i;
	int			 n, j;

	if (found != NULL)
		for (i = 0; i < nkeys; i++)
			found[i] = NULL;

	n = config_setting_length(group);
	for (j = 0; j < n; j++) {
		s = config_setting_get_elem(group, (unsigned int)j);
		if ((name = config_setting_name(s)) == NULL)
			continue;
		for (i = 0; i < nkeys; i++)
			if (strcmp(keys[i].k_name, name) == 0)
				break;
		if (i == nkeys) {
			if (what != NULL)
				conf_error(ld, s, "unknown key \"%s\" in %s",
				    name, what);
			else
				conf_error(ld, s, "unknown key \"%s\"", name);
			continue;
		}
		k = &keys[i];
		if (found != NULL)
			found[i] = s;
		if (!conf_type_ok(k, s)) {
			conf_error(ld, s, "%s: expected %s, not %s", name,
			    conf_ktypename(k->k_type), conf_typename(s->type));
			continue;
		}
		if (k->k_type == CONF_K_INT && k->k_off != CONF_NOOFF)
			conf_store_int(ld, k, s, base);
		else if (k->k_type == CONF_K_STRING && k->k_string != NULL)
			(void)k->k_string(ld, s, config_setting_get_string(s),
			    (char *)base + k->k_off);
		else if (k->k_type == CONF_K_BOOL)
			*(int *)(void *)((char *)base + k->k_off) =
			    config_setting_get_bool(s);
	}
}

static void
conf_store_int(struct conf_loader *ld, const struct conf_key *k,
    const config_setting_t *s, void *base)
{
	long long	 v;

	v = config_setting_get_int64(s);
	if (v < k->k_min || v > k->k_max) {
		/*
		 * libconfig 1.5 wraps a literal above 2^31-1 without an L
		 * suffix into a 32-bit int, often a negative one.
		 */
		conf_error(ld, s, "%s = %lld is out of range (%lld..%lld)%s",
		    k->k_name, v, k->k_min, k->k_max,
		    s->type == CONFIG_TYPE_INT && v < 0 && k->k_max > INT_MAX ?
		    "; write values above 2147483647 with an L suffix" : "");
		return;
	}
	conf_put_int(k, base, v);
}

/*
 * Store v (within the key's bounds, so never negative) into a field of
 * the key's width: int or unsigned int, or size_t or uint64_t on LP64.
 */
static void
conf_put_int(const struct conf_key *k, void *base, long long v)
{
	unsigned int	 u = (unsigned int)v;
	uint64_t	 q = (uint64_t)v;

	if (k->k_size == sizeof(u))
		memcpy((char *)base + k->k_off, &u, sizeof(u));
	else if (k->k_size == sizeof(q))
		memcpy((char *)base + k->k_off, &q, sizeof(q));
}

/*
 * The list of groups s (listen, routes), or NULL after reporting that it
 * is missing or empty.  Its elements are checked to be groups by the
 * callers, one by one.
 */
static const config_setting_t *
conf_list(struct conf_loader *ld, const config_setting_t *s, const char *name)
{
	if (s == NULL) {
		conf_error(ld, NULL, "no %s defined (%s = ( { ... } );)",
		    name, name);
		return NULL;
	}
	if (s->type != CONFIG_TYPE_LIST)	/* already reported */
		return NULL;
	if (config_setting_length(s) == 0) {
		conf_error(ld, s, "%s: no entries", name);
		return NULL;
	}
	return s;
}

static void
conf_listens(struct conf_loader *ld, struct conf *conf,
    const config_setting_t *list)
{
	const config_setting_t	*s;
	size_t			 i, n;

	if ((list = conf_list(ld, list, "listen")) == NULL)
		return;
	n = (size_t)config_setting_length(list);
	if ((conf->c_listens = calloc(n, sizeof(*conf->c_listens))) == NULL) {
		conf_nomem(ld);
		return;
	}
	conf->c_nlistens = n;
	for (i = 0; i < n; i++) {
		s = config_setting_get_elem(list, (unsigned int)i);
		conf_listen(ld, &conf->c_listens[i], s);
	}
}

static void
conf_listen(struct conf_loader *ld, struct conf_listen *l,
    const config_setting_t *s)
{
	const config_setting_t	*found[LK_N];

	l->l_line = conf_line(s);
	l->l_uid = (uid_t)-1;
	l->l_gid = (gid_t)-1;
	if (s->type != CONFIG_TYPE_GROUP) {
		conf_error(ld, s, "listen entry: expected a group { ... }, "
		    "not %s", conf_typename(s->type));
		return;
	}
	conf_group(ld, s, conf_listen_keys, LK_N, "listen entry", l, found);

	if (found[LK_ADDRESS] != NULL && found[LK_UNIX] != NULL) {
		conf_error(ld, s, "listen entry has both address and unix: "
		    "use one entry for each");
		return;
	}
	if (found[LK_ADDRESS] == NULL && found[LK_UNIX] == NULL) {
		conf_error(ld, s, "listen entry needs either address and "
		    "port, or unix");
		return;
	}
	if (found[LK_ADDRESS] != NULL) {
		l->l_kind = CONF_LISTEN_TCP;
		if (found[LK_PORT] == NULL)
			conf_error(ld, s, "listen entry with an address "
			    "needs a port");
		if (found[LK_MODE] != NULL)
			conf_error(ld, found[LK_MODE], "mode is only for "
			    "unix listeners");
		if (found[LK_OWNER] != NULL)
			conf_error(ld, found[LK_OWNER], "owner is only for "
			    "unix listeners");
		if (found[LK_GROUP] != NULL)
			conf_error(ld, found[LK_GROUP], "group is only for "
			    "unix listeners");
	} else {
		l->l_kind = CONF_LISTEN_UNIX;
		l->l_has_mode = found[LK_MODE] != NULL;
		if (l->l_owner != NULL)
			(void)conf_uid(ld, found[LK_OWNER], l->l_owner,
			    &l->l_uid, NULL);
		if (l->l_group != NULL)
			(void)conf_gid(ld, found[LK_GROUP], l->l_group,
			    &l->l_gid);
		if (found[LK_PORT] != NULL)
			conf_error(ld, found[LK_PORT], "port is only for "
			    "address (TCP) listeners");
	}
	if (found[LK_TLS] != NULL &&
	    conf_type_ok(&conf_listen_keys[LK_TLS], found[LK_TLS]))
		conf_tls(ld, l, found[LK_TLS]);
	if (found[LK_TRUSTED] != NULL &&
	    conf_type_ok(&conf_listen_keys[LK_TRUSTED], found[LK_TRUSTED]))
		conf_trusted(ld, l, found[LK_TRUSTED]);
}

/* trusted_proxies = [ "ADDR", "ADDR/BITS", "unix", ... ] */
static void
conf_trusted(struct conf_loader *ld, struct conf_listen *l,
    const config_setting_t *list)
{
	const config_setting_t	*s;
	char			 q[128];
	size_t			 i, n;

	if ((n = (size_t)config_setting_length(list)) == 0) {
		conf_error(ld, list, "trusted_proxies is empty: leave it out "
		    "to ignore X-Forwarded-For");
		return;
	}
	if ((l->l_trusted = calloc(n, sizeof(*l->l_trusted))) == NULL) {
		conf_nomem(ld);
		return;
	}
	l->l_ntrusted = n;
	for (i = 0; i < n; i++) {
		s = config_setting_get_elem(list, (unsigned int)i);
		if (s->type != CONFIG_TYPE_STRING) {
			conf_error(ld, s, "trusted_proxies: expected a string, "
			    "not %s", conf_typename(s->type));
			continue;
		}
		if (conf_netmask(config_setting_get_string(s),
		    &l->l_trusted[i]) == -1)
			conf_error(ld, s, "trusted_proxies: %s is not an "
			    "address, ADDRESS/BITS or \"unix\"",
			    conf_quote(q, sizeof(q),
			    config_setting_get_string(s)));
	}
}

/*
 * tls = { cert = ...; key = ...; } or tls = { certificates = ( { cert
 * = ...; key = ...; }, ... ); }, with the optional protocol keys.  Only
 * the shape is checked here: tls.c loads the files (tls_conf_setup()).
 */
static void
conf_tls(struct conf_loader *ld, struct conf_listen *l,
    const config_setting_t *s)
{
	const config_setting_t	*found[TLK_N], *cfound[TCK_N], *list, *e;
	struct conf_tls		*t;
	size_t			 i, n;

	if ((t = calloc(1, sizeof(*t))) == NULL) {
		conf_nomem(ld);
		return;
	}
	l->l_tls = t;
	t->t_min_version = CONF_TLS_1_2;
	conf_group(ld, s, conf_tls_keys, TLK_N, "tls", t, found);
	t->t_at = conf_at(ld, s);
	if (found[TLK_CIPHERS] != NULL)
		t->t_ciphers_at = conf_at(ld, found[TLK_CIPHERS]);
	if (found[TLK_SUITES] != NULL)
		t->t_ciphersuites_at = conf_at(ld, found[TLK_SUITES]);

	if (found[TLK_CERT] != NULL || found[TLK_KEY] != NULL) {
		if (found[TLK_CERTS] != NULL) {
			conf_error(ld, found[TLK_CERTS], "tls: use either cert "
			    "and key, or certificates, not both");
			return;
		}
		if ((t->t_certs = calloc(1, sizeof(*t->t_certs))) == NULL) {
			conf_nomem(ld);
			return;
		}
		t->t_ncerts = 1;
		conf_tls_cert(ld, &t->t_certs[0], found[TLK_CERT],
		    found[TLK_KEY]);
		if (found[TLK_CERT] == NULL)
			conf_error(ld, s, "tls has a key but no cert");
		else if (found[TLK_KEY] == NULL)
			conf_error(ld, s, "tls has a cert but no key");
		return;
	}
	if ((list = found[TLK_CERTS]) == NULL) {
		conf_error(ld, s, "tls needs cert and key, or certificates = "
		    "( { cert = ...; key = ...; }, ... )");
		return;
	}
	if (list->type != CONFIG_TYPE_LIST)	/* reported already */
		return;
	if ((n = (size_t)config_setting_length(list)) == 0) {
		conf_error(ld, list, "tls: certificates is empty");
		return;
	}
	if ((t->t_certs = calloc(n, sizeof(*t->t_certs))) == NULL) {
		conf_nomem(ld);
		return;
	}
	t->t_ncerts = n;
	for (i = 0; i < n; i++) {
		e = config_setting_get_elem(list, (unsigned int)i);
		if (e->type != CONFIG_TYPE_GROUP) {
			conf_error(ld, e, "certificate: expected a group "
			    "{ cert = ...; key = ...; }, not %s",
			    conf_typename(e->type));
			continue;
		}
		conf_group(ld, e, conf_tls_cert_keys, TCK_N, "certificate",
		    &t->t_certs[i], cfound);
		if (cfound[TCK_CERT] != NULL)
			t->t_certs[i].tc_cert_at = conf_at(ld, cfound[TCK_CERT]);
		if (cfound[TCK_KEY] != NULL)
			t->t_certs[i].tc_key_at = conf_at(ld, cfound[TCK_KEY]);
		if (cfound[TCK_CERT] == NULL)
			conf_error(ld, e, "certificate has no cert");
		if (cfound[TCK_KEY] == NULL)
			conf_error(ld, e, "certificate has no key");
	}
}

/* The top-level cert and key (either may be NULL) into tc. */
static void
conf_tls_cert(struct conf_loader *ld, struct conf_tls_cert *tc,
    const config_setting_t *cert, const config_setting_t *key)
{
	if (cert != NULL) {
		tc->tc_cert_at = conf_at(ld, cert);
		if (cert->type == CONFIG_TYPE_STRING)
			(void)conf_str_file(ld, cert,
			    config_setting_get_string(cert), &tc->tc_cert);
	}
	if (key != NULL) {
		tc->tc_key_at = conf_at(ld, key);
		if (key->type == CONFIG_TYPE_STRING)
			(void)conf_str_file(ld, key,
			    config_setting_get_string(key), &tc->tc_key);
	}
}

/* "FILE:LINE" of a setting, allocated, for errors reported later. */
static char *
conf_at(struct conf_loader *ld, const config_setting_t *s)
{
	char	*p;

	if (asprintf(&p, "%s:%d", conf_file(ld, s), conf_line(s)) == -1) {
		conf_nomem(ld);
		return NULL;
	}
	return p;
}

static void
conf_routes(struct conf_loader *ld, struct conf *conf,
    const config_setting_t *list)
{
	const config_setting_t	*s, *t;
	struct conf_route	*r;
	char			 q[128], where[PATH_MAX + 32];
	size_t			 i, j, n;

	if ((list = conf_list(ld, list, "routes")) == NULL)
		return;
	n = (size_t)config_setting_length(list);
	if ((conf->c_routes = calloc(n, sizeof(*conf->c_routes))) == NULL) {
		conf_nomem(ld);
		return;
	}
	conf->c_nroutes = n;
	for (i = 0; i < n; i++) {
		s = config_setting_get_elem(list, (unsigned int)i);
		r = &conf->c_routes[i];
		conf_route(ld, r, s);
		if (r->r_path == NULL)
			continue;
		for (j = 0; j < i; j++) {
			if (conf->c_routes[j].r_path == NULL ||
			    strcmp(conf->c_routes[j].r_path, r->r_path) != 0)
				continue;
			t = config_setting_get_elem(list, (unsigned int)j);
			conf_where(where, sizeof(where), ld, s, t);
			conf_error(ld, s, "duplicate route path %s (first "
			    "defined %s)", conf_quote(q, sizeof(q), r->r_path),
			    where);
			break;
		}
	}
}

static void
conf_route(struct conf_loader *ld, struct conf_route *r,
    const config_setting_t *s)
{
	const config_setting_t	*found[RK_N];

	r->r_line = conf_line(s);
	r->r_backend.b_framing = FRAMING_RAW;
	if (s->type != CONFIG_TYPE_GROUP) {
		conf_error(ld, s, "route: expected a group { ... }, not %s",
		    conf_typename(s->type));
		return;
	}
	conf_group(ld, s, conf_route_keys, RK_N, "route", r, found);

	if (found[RK_PATH] == NULL)
		conf_error(ld, s, "route has no path");
	r->r_has_backend = found[RK_BACKEND] != NULL;
	if (found[RK_MSGTYPE] == NULL)
		r->r_backend.b_message_type =
		    conf_default_msgtype(r->r_backend.b_framing);

	if (found[RK_ORIGINS] != NULL && conf_type_ok(
	    &conf_route_keys[RK_ORIGINS], found[RK_ORIGINS]))
		conf_origins(ld, r, found[RK_ORIGINS]);

	if (found[RK_FWD_HEADERS] != NULL && conf_type_ok(
	    &conf_route_keys[RK_FWD_HEADERS], found[RK_FWD_HEADERS])) {
		if (r->r_preamble != PREAMBLE_HEADERS)
			conf_error(ld, found[RK_FWD_HEADERS], "forward_headers "
			    "needs preamble = \"headers\"");
		conf_fwd_headers(ld, r, found[RK_FWD_HEADERS]);
	}

	if (found[RK_SUBPROTOS] != NULL && conf_type_ok(
	    &conf_route_keys[RK_SUBPROTOS], found[RK_SUBPROTOS]))
		conf_subprotos(ld, r, found, found[RK_SUBPROTOS]);

	/* (a subprotocols of the wrong type was reported already) */
	if (found[RK_BACKEND] == NULL && r->r_nsubprotos == 0 &&
	    (found[RK_SUBPROTOS] == NULL ||
	    found[RK_SUBPROTOS]->type == CONFIG_TYPE_LIST))
		conf_error(ld, s, "route has no backend and no subprotocols: "
		    "nothing to relay to");
}

static void
conf_origins(struct conf_loader *ld, struct conf_route *r,
    const config_setting_t *list)
{
	const config_setting_t	*s;
	const char		*o;
	size_t			 i, n;

	n = (size_t)config_setting_length(list);
	if (n == 0) {
		conf_error(ld, list, "origins is empty: leave it out to "
		    "allow any origin");
		return;
	}
	if ((r->r_origins = calloc(n, sizeof(*r->r_origins))) == NULL) {
		conf_nomem(ld);
		return;
	}
	r->r_norigins = n;
	for (i = 0; i < n; i++) {
		s = config_setting_get_elem(list, (unsigned int)i);
		if (s->type != CONFIG_TYPE_STRING) {
			conf_error(ld, s, "origins: expected a string, not %s",
			    conf_typename(s->type));
			continue;
		}
		o = config_setting_get_string(s);
		if (*o == '\0') {
			conf_error(ld, s, "origins: empty entry");
			continue;
		}
		if ((r->r_origins[i] = strdup(o)) == NULL)
			conf_nomem(ld);
	}
}

/*
 * forward_headers = [ "Cookie", ... ]: HTTP tokens, each at most once,
 * none of the names the "headers" preamble writes itself.
 */
static void
conf_fwd_headers(struct conf_loader *ld, struct conf_route *r,
    const config_setting_t *list)
{
	static const char *const fixed[] = { "Remote-Addr", "Remote-Port",
	    "Path", "Query", "Subprotocol", "TLS" };
	const config_setting_t	*s;
	const char		*v, *p;
	char			 q[128];
	size_t			 i, j, n;

	n = (size_t)config_setting_length(list);
	if (n == 0)
		return;
	if ((r->r_fwd_headers = calloc(n, sizeof(*r->r_fwd_headers))) ==
	    NULL) {
		conf_nomem(ld);
		return;
	}
	r->r_nfwd_headers = n;
	for (i = 0; i < n; i++) {
		s = config_setting_get_elem(list, (unsigned int)i);
		if (s->type != CONFIG_TYPE_STRING) {
			conf_error(ld, s, "forward_headers: expected a string, "
			    "not %s", conf_typename(s->type));
			continue;
		}
		v = config_setting_get_string(s);
		for (p = v; *p != '\0'; p++)
			if (!((*p >= 'a' && *p <= 'z') ||
			    (*p >= 'A' && *p <= 'Z') ||
			    (*p >= '0' && *p <= '9') ||
			    strchr("!#$%&'*+-.^_`|~", *p) != NULL))
				break;
		if (*v == '\0' || *p != '\0') {
			conf_error(ld, s, "forward_headers: %s is not a header "
			    "name", conf_quote(q, sizeof(q), v));
			continue;
		}
		for (j = 0; j < sizeof(fixed) / sizeof(fixed[0]); j++)
			if (strcasecmp(v, fixed[j]) == 0)
				break;
		if (j < sizeof(fixed) / sizeof(fixed[0])) {
			conf_error(ld, s, "forward_headers: %s is written by "
			    "the preamble itself", conf_quote(q, sizeof(q), v));
			continue;
		}
		for (j = 0; j < i; j++)
			if (r->r_fwd_headers[j] != NULL &&
			    strcasecmp(v, r->r_fwd_headers[j]) == 0)
				break;
		if (j < i) {
			conf_error(ld, s, "forward_headers: %s is listed twice",
			    conf_quote(q, sizeof(q), v));
			continue;
		}
		r->r_fwd_headers[i] = conf_strdup(ld, v);
	}
}

static void
conf_subprotos(struct conf_loader *ld, struct conf_route *r,
    const config_setting_t **rfound, const config_setting_t *list)
{
	const config_setting_t	*s, *t;
	struct conf_subproto	*sp;
	char			 q[128], where[PATH_MAX + 32];
	size_t			 i, j, n;

	if ((n = (size_t)config_setting_length(list)) == 0)
		return;
	if ((r->r_subprotos = calloc(n, sizeof(*r->r_subprotos))) == NULL) {
		conf_nomem(ld);
		return;
	}
	r->r_nsubprotos = n;
	for (i = 0; i < n; i++) {
		s = config_setting_get_elem(list, (unsigned int)i);
		sp = &r->r_subprotos[i];
		conf_subproto(ld, r, rfound, sp, s);
		if (sp->s_name == NULL)
			continue;
		for (j = 0; j < i; j++) {
			if (r->r_subprotos[j].s_name == NULL ||
			    strcmp(r->r_subprotos[j].s_name, sp->s_name) != 0)
				continue;
			t = config_setting_get_elem(list, (unsigned int)j);
			conf_where(where, sizeof(where), ld, s, t);
			conf_error(ld, s, "duplicate subprotocol %s in this "
			    "route (first defined %s)",
			    conf_quote(q, sizeof(q), sp->s_name), where);
			break;
		}
	}
}

/*
 * A subprotocol takes the route's backend, framing and message_type for
 * those it does not set.  message_type is inherited only when the route
 * sets it; otherwise it is the default of the subprotocol's own framing,
 * so that a "raw" subprotocol on a "line" route is binary.
 */
static void
conf_subproto(struct conf_loader *ld, const struct conf_route *r,
    const config_setting_t **rfound, struct conf_subproto *sp,
    const config_setting_t *s)
{
	const config_setting_t	*found[SK_N];
	struct conf_backend	*b = &sp->s_backend;

	sp->s_line = conf_line(s);
	if (s->type != CONFIG_TYPE_GROUP) {
		conf_error(ld, s, "subprotocol: expected a group { ... }, "
		    "not %s", conf_typename(s->type));
		return;
	}
	conf_group(ld, s, conf_subproto_keys, SK_N, "subprotocol", sp, found);

	if (found[SK_NAME] == NULL)
		conf_error(ld, s, "subprotocol has no name");
	if (found[SK_BACKEND] == NULL) {
		if (rfound[RK_BACKEND] == NULL)
			conf_error(ld, s, "subprotocol has no backend and "
			    "its route has none to inherit");
		else if (r->r_backend.b_path != NULL &&
		    (b->b_path = strdup(r->r_backend.b_path)) == NULL)
			conf_nomem(ld);
	}
	if (found[SK_FRAMING] == NULL)
		b->b_framing = r->r_backend.b_framing;
	if (found[SK_MSGTYPE] == NULL)
		b->b_message_type = rfound[RK_MSGTYPE] != NULL ?
		    r->r_backend.b_message_type :
		    conf_default_msgtype(b->b_framing);
}

static int
conf_default_msgtype(enum framing f)
{
	return f == FRAMING_LINE ? FRAMING_TEXT : FRAMING_BINARY;
}

/*
 * "on line N" for a first definition t in the same file as s, else
 * "at FILE:N".
 */
static void
conf_where(char *buf, size_t size, struct conf_loader *ld,
    const config_setting_t *s, const config_setting_t *t)
{
	if (strcmp(conf_file(ld, s), conf_file(ld, t)) == 0)
		snprintf(buf, size, "on line %d", conf_line(t));
	else
		snprintf(buf, size, "at %s:%d", conf_file(ld, t),
		    conf_line(t));
}

static char *
conf_strdup(struct conf_loader *ld, const char *s)
{
	char	*p;

	if ((p = strdup(s)) == NULL)
		conf_nomem(ld);
	return p;
}

/*
 * String checkers, called by conf_group() through the tables.
 *
 * A numeric IPv4 or IPv6 address: no names, no DNS at startup.
 */
static int
conf_str_address(struct conf_loader *ld, const config_setting_t *s,
    const char *v, void *dst)
{
	struct in6_addr	 a6;
	struct in_addr	 a4;
	char		 q[128];

	if (inet_pton(AF_INET, v, &a4) != 1 &&
	    inet_pton(AF_INET6, v, &a6) != 1) {
		conf_error(ld, s, "address %s is not a numeric IPv4 or IPv6 "
		    "address", conf_quote(q, sizeof(q), v));
		return -1;
	}
	if ((*(char **)dst = conf_strdup(ld, v)) == NULL)
		return -1;
	return 0;
}

/*
 * A Unix socket path: it need not exist yet (a missing backend is a 502
 * at run time), but it must fit in a sockaddr_un or it never will.
 */
static int
conf_str_socket(struct conf_loader *ld, const config_setting_t *s,
    const char *v, void *dst)
{
	struct sockaddr_un	 sun;
	size_t			 len = strlen(v);

	if (len == 0) {
		conf_error(ld, s, "%s: empty socket path",
		    config_setting_name(s));
		return -1;
	}
	if (len >= sizeof(sun.sun_path)) {
		conf_error(ld, s, "%s: socket path too long (%zu bytes, at "
		    "most %zu)", config_setting_name(s), len,
		    sizeof(sun.sun_path) - 1);
		return -1;
	}
	if ((*(char **)dst = conf_strdup(ld, v)) == NULL)
		return -1;
	return 0;
}

/* An octal string such as "0660" or "600" (libconfig has no octal). */
static int
conf_str_mode(struct conf_loader *ld, const config_setting_t *s,
    const char *v, void *dst)
{
	char		 q[128];
	mode_t		 m = 0;
	size_t		 i, len = strlen(v);

	for (i = 0; i < len; i++) {
		if (v[i] < '0' || v[i] > '7')
			break;
		m = m * 8 + (mode_t)(v[i] - '0');
	}
	if (len < 3 || len > 4 || i < len || m > 0777) {
		conf_error(ld, s, "mode %s is not an octal string like "
		    "\"0660\"", conf_quote(q, sizeof(q), v));
		return -1;
	}
	*(mode_t *)dst = m;
	return 0;
}

/*
 * A route path: absolute, and only what can appear in a request-target's
 * path, so that it can ever match (the query is cut off before matching).
 */
static int
conf_str_path(struct conf_loader *ld, const config_setting_t *s,
    const char *v, void *dst)
{
	char			 q[128];
	const unsigned char	*p;

	if (v[0] != '/') {
		conf_error(ld, s, "path %s must start with \"/\"",
		    conf_quote(q, sizeof(q), v));
		return -1;
	}
	for (p = (const unsigned char *)v; *p != '\0'; p++) {
		if (*p <= ' ' || *p >= 0x7f || *p == '?' || *p == '#') {
			conf_error(ld, s, "path %s can never match a request: "
			    "it has a space, '?', '#' or a byte that is not "
			    "printable ASCII", conf_quote(q, sizeof(q), v));
			return -1;
		}
	}
	if ((*(char **)dst = conf_strdup(ld, v)) == NULL)
		return -1;
	return 0;
}

static int
conf_str_framing(struct conf_loader *ld, const config_setting_t *s,
    const char *v, void *dst)
{
	char	 q[128];
	int	 f;

	if ((f = framing_from_name(v)) == -1) {
		conf_error(ld, s, "unknown framing %s (raw, line or frame)",
		    conf_quote(q, sizeof(q), v));
		return -1;
	}
	*(enum framing *)dst = (enum framing)f;
	return 0;
}

static int
conf_str_preamble(struct conf_loader *ld, const config_setting_t *s,
    const char *v, void *dst)
{
	char	 q[128];
	int	 k;

	if ((k = preamble_kind(v)) == -1) {
		conf_error(ld, s, "unknown preamble %s (none, proxy-v1, "
		    "proxy-v2 or headers)", conf_quote(q, sizeof(q), v));
		return -1;
	}
	*(int *)dst = k;
	return 0;
}

static int
conf_str_msgtype(struct conf_loader *ld, const config_setting_t *s,
    const char *v, void *dst)
{
	char	 q[128];

	if (strcmp(v, "text") == 0)
		*(int *)dst = FRAMING_TEXT;
	else if (strcmp(v, "binary") == 0)
		*(int *)dst = FRAMING_BINARY;
	else {
		conf_error(ld, s, "unknown message_type %s (text or binary)",
		    conf_quote(q, sizeof(q), v));
		return -1;
	}
	return 0;
}

/* A subprotocol name is an HTTP token (RFC 7230 section 3.2.6). */
static int
conf_str_token(struct conf_loader *ld, const config_setting_t *s,
    const char *v, void *dst)
{
	char		 q[128];
	const char	*p;

	for (p = v; *p != '\0'; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') ||
		    strchr("!#$%&'*+-.^_`|~", *p) != NULL)
			continue;
		break;
	}
	if (*v == '\0' || *p != '\0') {
		conf_error(ld, s, "subprotocol name %s is not an HTTP token",
		    conf_quote(q, sizeof(q), v));
		return -1;
	}
	if ((*(char **)dst = conf_strdup(ld, v)) == NULL)
		return -1;
	return 0;
}

/* A user or group name: not empty; resolved after the walk. */
static int
conf_str_name(struct conf_loader *ld, const config_setting_t *s,
    const char *v, void *dst)
{
	if (*v == '\0') {
		conf_error(ld, s, "%s: empty name", config_setting_name(s));
		return -1;
	}
	if ((*(char **)dst = conf_strdup(ld, v)) == NULL)
		return -1;
	return 0;
}

/* The names of log.h's LOG_LVL_* levels, in their order. */
static int
conf_str_loglevel(struct conf_loader *ld, const config_setting_t *s,
    const char *v, void *dst)
{
	static const char *const names[] = {
		"error", "warning", "info", "debug"
	};
	char	 q[128];
	size_t	 i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(v, names[i]) == 0) {
			*(int *)dst = (int)i;
			return 0;
		}
	}
	conf_error(ld, s, "unknown log_level %s (error, warning, info or "
	    "debug)", conf_quote(q, sizeof(q), v));
	return -1;
}

/* A status path prefix: a route-like path, kept without a trailing '/'. */
static int
conf_str_prefix(struct conf_loader *ld, const config_setting_t *s,
    const char *v, void *dst)
{
	char	*p;
	size_t	 len;

	if (conf_str_path(ld, s, v, dst) == -1)
		return -1;
	p = *(char **)dst;
	len = strlen(p);
	while (len > 0 && p[len - 1] == '/')
		p[--len] = '\0';
	return 0;
}

/* A file name (certificate, key): read by tls.c, which reports errors. */
static int
conf_str_file(struct conf_loader *ld, const config_setting_t *s,
    const char *v, void *dst)
{
	if (*v == '\0') {
		conf_error(ld, s, "%s: empty file name",
		    config_setting_name(s));
		return -1;
	}
	if ((*(char **)dst = conf_strdup(ld, v)) == NULL)
		return -1;
	return 0;
}

static int
conf_str_tlsversion(struct conf_loader *ld, const config_setting_t *s,
    const char *v, void *dst)
{
	char	 q[128];

	if (strcmp(v, "TLSv1.2") == 0)
		*(enum conf_tls_version *)dst = CONF_TLS_1_2;
	else if (strcmp(v, "TLSv1.3") == 0)
		*(enum conf_tls_version *)dst = CONF_TLS_1_3;
	else {
		conf_error(ld, s, "min_version %s: expected \"TLSv1.2\" or "
		    "\"TLSv1.3\" (older versions are not supported)",
		    conf_quote(q, sizeof(q), v));
		return -1;
	}
	return 0;
}

/*
 * An OpenSSL cipher list (ciphers, ciphersuites): printable and not
 * empty here; tls.c checks that OpenSSL makes something of it.
 */
static int
conf_str_cipherlist(struct conf_loader *ld, const config_setting_t *s,
    const char *v, void *dst)
{
	const char	*p;
	char		 q[128];

	for (p = v; *p > ' ' && *p < 0x7f; p++)
		;
	if (*v == '\0' || *p != '\0') {
		conf_error(ld, s, "%s %s: expected a list like "
		    "\"NAME:NAME\" without spaces", config_setting_name(s),
		    conf_quote(q, sizeof(q), v));
		return -1;
	}
	if ((*(char **)dst = conf_strdup(ld, v)) == NULL)
		return -1;
	return 0;
}

/* Look a user up; *gid (if not NULL) gets its primary group. */
static int
conf_uid(struct conf_loader *ld, const config_setting_t *s, const char *name,
    uid_t *uid, gid_t *gid)
{
	struct passwd	*pw;
	char		 q[128];

	errno = 0;
	if ((pw = getpwnam(name)) == NULL) {
		conf_error(ld, s, "unknown user %s", conf_quote(q, sizeof(q),
		    name));
		return -1;
	}
	*uid = pw->pw_uid;
	if (gid != NULL)
		*gid = pw->pw_gid;
	return 0;
}

static int
conf_gid(struct conf_loader *ld, const config_setting_t *s, const char *name,
    gid_t *gid)
{
	struct group	*gr;
	char		 q[128];

	errno = 0;
	if ((gr = getgrnam(name)) == NULL) {
		conf_error(ld, s, "unknown group %s", conf_quote(q, sizeof(q),
		    name));
		return -1;
	}
	*gid = gr->gr_gid;
	return 0;
}

/*
 * user and group: resolved now, so that -t finds a typo and the drop
 * after binding cannot fail on a lookup.  group alone is allowed (only
 * the group is changed); user alone takes the user's primary group.
 */
static void
conf_ids(struct conf_loader *ld, struct conf *conf,
    const config_setting_t **found)
{
	conf->c_uid = (uid_t)-1;
	conf->c_gid = (gid_t)-1;
	if (conf->c_user != NULL)
		(void)conf_uid(ld, found[TK_USER], conf->c_user, &conf->c_uid,
		    &conf->c_gid);
	if (conf->c_group != NULL)
		(void)conf_gid(ld, found[TK_GROUP], conf->c_group,
		    &conf->c_gid);
}

/*
 * Canonical listener names: "ADDR:PORT" with the address as inet_ntop
 * writes it ("[ADDR]:PORT" for IPv6), or "unix:PATH".  in is such a name
 * as a user writes it; returns 0 and the canonical form in out, or -1.
 */
static int
conf_canon(const char *in, char *out, size_t size)
{
	char		 addr[INET6_ADDRSTRLEN + 2], *end;
	const char	*colon;
	uint8_t		 a[16];
	long		 port;
	size_t		 len;
	int		 af = AF_INET, n;

	if (strncmp(in, "unix:", 5) == 0) {
		n = snprintf(out, size, "%s", in);
		return in[5] != '\0' && n > 0 && (size_t)n < size ? 0 : -1;
	}
	if ((colon = strrchr(in, ':')) == NULL)
		return -1;
	len = (size_t)(colon - in);
	if (len >= 2 && in[0] == '[' && in[len - 1] == ']') {
		in++;
		len -= 2;
		af = AF_INET6;
	}
	if (len == 0 || len >= sizeof(addr))
		return -1;
	memcpy(addr, in, len);
	addr[len] = '\0';
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || errno != 0 || port < 1 ||
	    port > 65535)
		return -1;
	if (inet_pton(af, addr, a) != 1)
		return -1;
	if (inet_ntop(af, a, addr, sizeof(addr)) == NULL)
		return -1;
	n = snprintf(out, size, af == AF_INET6 ? "[%s]:%ld" : "%s:%ld", addr,
	    port);
	return n > 0 && (size_t)n < size ? 0 : -1;
}

/*
 * Give each listen entry its canonical name (how it is logged, how
 * status.listen names it and how reload and socket activation match
 * sockets to entries), and refuse the same socket twice.
 */
static void
conf_listen_names(struct conf_loader *ld, struct conf *conf,
    const config_setting_t *list)
{
	struct conf_listen	*l;
	char			 buf[PATH_MAX + 64], tmp[PATH_MAX + 64];
	char			 q[4 * (PATH_MAX + 64)];
	char			 v6[INET6_ADDRSTRLEN + 2];
	size_t			 i, j;

	if (list == NULL || list->type != CONFIG_TYPE_LIST)
		return;
	for (i = 0; i < conf->c_nlistens; i++) {
		l = &conf->c_listens[i];
		if (l->l_kind == CONF_LISTEN_UNIX && l->l_unix != NULL)
			snprintf(buf, sizeof(buf), "unix:%s", l->l_unix);
		else if (l->l_kind == CONF_LISTEN_TCP && l->l_address != NULL &&
		    l->l_port != 0) {
			if (strchr(l->l_address, ':') != NULL) {
				snprintf(v6, sizeof(v6), "[%s]", l->l_address);
				snprintf(tmp, sizeof(tmp), "%s:%d", v6,
				    l->l_port);
			} else
				snprintf(tmp, sizeof(tmp), "%s:%d",
				    l->l_address, l->l_port);
			if (conf_canon(tmp, buf, sizeof(buf)) == -1)
				continue;
		} else
			continue;	/* reported already */
		if ((l->l_name = conf_strdup(ld, buf)) == NULL)
			return;
		for (j = 0; j < i; j++) {
			if (conf->c_listens[j].l_name == NULL ||
			    strcmp(conf->c_listens[j].l_name, l->l_name) != 0)
				continue;
			conf_error(ld, config_setting_get_elem(list,
			    (unsigned int)i), "listen entry %s is a duplicate "
			    "(first defined on line %d)",
			    conf_quote(q, sizeof(q), l->l_name),
			    conf->c_listens[j].l_line);
			break;
		}
	}
}

/* "ADDR" or "ADDR/BITS" (IPv4 or IPv6), or "unix". */
static int
conf_netmask(const char *v, struct conf_netmask *m)
{
	char		 addr[INET6_ADDRSTRLEN + 1], *end;
	const char	*slash;
	size_t		 len;
	long		 bits = -1;

	memset(m, 0, sizeof(*m));
	if (strcmp(v, "unix") == 0) {
		m->n_family = AF_UNIX;
		return 0;
	}
	if ((slash = strchr(v, '/')) != NULL) {
		errno = 0;
		bits = strtol(slash + 1, &end, 10);
		if (slash[1] == '\0' || *end != '\0' || errno != 0 || bits < 0)
			return -1;
		len = (size_t)(slash - v);
	} else
		len = strlen(v);
	if (len == 0 || len >= sizeof(addr))
		return -1;
	memcpy(addr, v, len);
	addr[len] = '\0';
	if (inet_pton(AF_INET, addr, m->n_addr) == 1) {
		m->n_family = AF_INET;
		m->n_bits = bits == -1 ? 32 : (int)bits;
		return m->n_bits <= 32 ? 0 : -1;
	}
	if (inet_pton(AF_INET6, addr, m->n_addr) == 1) {
		m->n_family = AF_INET6;
		m->n_bits = bits == -1 ? 128 : (int)bits;
		return m->n_bits <= 128 ? 0 : -1;
	}
	return -1;
}

/*
 * status = { path_prefix; allow; listen; }.  Without allow, only
 * loopback and Unix-socket clients may ask; without listen, every
 * listener serves the status paths.
 */
static void
conf_status(struct conf_loader *ld, struct conf *conf,
    const config_setting_t *group)
{
	static const char *const loopback[] = { "127.0.0.0/8", "::1", "unix" };
	const config_setting_t	*found[STK_N], *s;
	struct conf_status	*st;
	struct conf_listen	*l;
	char			 q[128], name[PATH_MAX + 64];
	size_t			 i, j, n;

	if ((st = calloc(1, sizeof(*st))) == NULL) {
		conf_nomem(ld);
		return;
	}
	conf->c_status = st;
	st->st_line = conf_line(group);
	conf_group(ld, group, conf_status_keys, STK_N, "status", st, found);
	if (st->st_prefix == NULL && found[STK_PREFIX] == NULL &&
	    (st->st_prefix = conf_strdup(ld, "/_wsgate")) == NULL)
		return;

	if (found[STK_ALLOW] != NULL && conf_type_ok(
	    &conf_status_keys[STK_ALLOW], found[STK_ALLOW])) {
		n = (size_t)config_setting_length(found[STK_ALLOW]);
		if (n == 0)
			conf_error(ld, found[STK_ALLOW], "allow is empty: "
			    "leave it out for loopback only");
	} else
		n = sizeof(loopback) / sizeof(loopback[0]);
	if (n > 0 && (st->st_allow = calloc(n, sizeof(*st->st_allow))) ==
	    NULL) {
		conf_nomem(ld);
		return;
	}
	st->st_nallow = n;
	for (i = 0; i < n; i++) {
		if (found[STK_ALLOW] == NULL) {
			(void)conf_netmask(loopback[i], &st->st_allow[i]);
			continue;
		}
		s = config_setting_get_elem(found[STK_ALLOW], (unsigned int)i);
		if (s->type != CONFIG_TYPE_STRING) {
			conf_error(ld, s, "allow: expected a string, not %s",
			    conf_typename(s->type));
			continue;
		}
		if (conf_netmask(config_setting_get_string(s),
		    &st->st_allow[i]) == -1)
			conf_error(ld, s, "allow: %s is not an address, "
			    "ADDRESS/BITS or \"unix\"", conf_quote(q, sizeof(q),
			    config_setting_get_string(s)));
	}

	if (found[STK_LISTEN] == NULL || !conf_type_ok(
	    &conf_status_keys[STK_LISTEN], found[STK_LISTEN])) {
		for (i = 0; i < conf->c_nlistens; i++)
			conf->c_listens[i].l_status = 1;
		return;
	}
	n = (size_t)config_setting_length(found[STK_LISTEN]);
	if (n == 0)
		conf_error(ld, found[STK_LISTEN], "listen is empty: leave it "
		    "out to serve the status paths on every listener");
	for (i = 0; i < n; i++) {
		s = config_setting_get_elem(found[STK_LISTEN], (unsigned int)i);
		if (s->type != CONFIG_TYPE_STRING) {
			conf_error(ld, s, "listen: expected a string, not %s",
			    conf_typename(s->type));
			continue;
		}
		l = NULL;
		if (conf_canon(config_setting_get_string(s), name,
		    sizeof(name)) == 0)
			for (j = 0; j < conf->c_nlistens && l == NULL; j++)
				if (conf->c_listens[j].l_name != NULL &&
				    strcmp(conf->c_listens[j].l_name, name) == 0)
					l = &conf->c_listens[j];
		if (l == NULL) {
			conf_error(ld, s, "status listen %s names no listen "
			    "entry (write \"ADDRESS:PORT\", \"[ADDRESS]:PORT\" "
			    "or \"unix:PATH\")", conf_quote(q, sizeof(q),
			    config_setting_get_string(s)));
			continue;
		}
		l->l_status = 1;
	}
}

static void
conf_free(struct conf *conf)
{
	struct conf_route	*r;
	size_t			 i, j;

	if (conf == NULL)
		return;
	for (i = 0; i < conf->c_nlistens; i++) {
		free(conf->c_listens[i].l_address);
		free(conf->c_listens[i].l_unix);
		free(conf->c_listens[i].l_owner);
		free(conf->c_listens[i].l_group);
		free(conf->c_listens[i].l_name);
		free(conf->c_listens[i].l_trusted);
		conf_tls_free(conf->c_listens[i].l_tls);
	}
	free(conf->c_listens);
	for (i = 0; i < conf->c_nroutes; i++) {
		r = &conf->c_routes[i];
		free(r->r_path);
		for (j = 0; j < r->r_norigins; j++)
			free(r->r_origins[j]);
		free(r->r_origins);
		for (j = 0; j < r->r_nfwd_headers; j++)
			free(r->r_fwd_headers[j]);
		free(r->r_fwd_headers);
		for (j = 0; j < r->r_nsubprotos; j++) {
			free(r->r_subprotos[j].s_name);
			free(r->r_subprotos[j].s_backend.b_path);
		}
		free(r->r_subprotos);
		free(r->r_backend.b_path);
	}
	free(conf->c_routes);
	if (conf->c_status != NULL) {
		free(conf->c_status->st_prefix);
		free(conf->c_status->st_allow);
		free(conf->c_status);
	}
	free(conf->c_user);
	free(conf->c_group);
	free(conf->c_path);
	free(conf);
}

/* A listener's TLS settings, and the OpenSSL contexts tls.c built. */
static void
conf_tls_free(struct conf_tls *t)
{
	size_t	 i;

	if (t == NULL)
		return;
	if (t->t_ctx != NULL && t->t_ctx_free != NULL)
		t->t_ctx_free(t->t_ctx);
	for (i = 0; i < t->t_ncerts; i++) {
		free(t->t_certs[i].tc_cert);
		free(t->t_certs[i].tc_key);
		free(t->t_certs[i].tc_cert_at);
		free(t->t_certs[i].tc_key_at);
	}
	free(t->t_certs);
	free(t->t_ciphers);
	free(t->t_ciphersuites);
	free(t->t_at);
	free(t->t_ciphers_at);
	free(t->t_ciphersuites_at);
	free(t);
}

/*
 * Reference counting with GCC/Clang __atomic builtins on the plain int
 * c_refs (so conf.h needs no <stdatomic.h>).  The release on the way down
 * and the acquire before freeing make every thread's last reads of the
 * snapshot happen before it is freed.
 */
struct conf *
conf_ref(struct conf *conf)
{
	__atomic_fetch_add(&conf->c_refs, 1, __ATOMIC_RELAXED);
	return conf;
}

void
conf_unref(struct conf *conf)
{
	if (conf == NULL)
		return;
	if (__atomic_sub_fetch(&conf->c_refs, 1, __ATOMIC_ACQ_REL) == 0)
		conf_free(conf);
}

const struct conf_listen *
conf_listen_find(const struct conf *conf, const char *name)
{
	size_t	 i;

	for (i = 0; i < conf->c_nlistens; i++)
		if (conf->c_listens[i].l_name != NULL &&
		    strcmp(conf->c_listens[i].l_name, name) == 0)
			return &conf->c_listens[i];
	return NULL;
}

const struct conf_route *
conf_route_find(const struct conf *conf, const char *path, size_t len)
{
	size_t	 i;

	for (i = 0; i < conf->c_nroutes; i++) {
		if (strlen(conf->c_routes[i].r_path) == len &&
		    memcmp(conf->c_routes[i].r_path, path, len) == 0)
			return &conf->c_routes[i];
	}
	return NULL;
}
