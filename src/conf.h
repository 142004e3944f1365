/*
 * Configuration: one immutable snapshot, loaded and fully validated from
 * a libconfig file by conf_load().  conf.c is the only file that includes
 * <libconfig.h>; everything else reads these plain structs.
 *
 * A snapshot is reference-counted: the process holds one, and every
 * connection holds a reference to the snapshot it started with, so a
 * reload can swap in a new one while old connections finish on the old.
 */
#ifndef WSGATE_CONF_H
#define WSGATE_CONF_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "framing.h"

enum conf_listen_kind {
	CONF_LISTEN_TCP = 0,
	CONF_LISTEN_UNIX
};

/*
 * One certificate of a TLS listener: a PEM chain (leaf first) and its
 * private key.  The *_at strings are "FILE:LINE" of the settings, for
 * the errors tls_conf_setup() reports about the files.
 */
struct conf_tls_cert {
	char			*tc_cert;	/* PEM chain file */
	char			*tc_key;	/* PEM private key file */
	char			*tc_cert_at;	/* "FILE:LINE" of cert = */
	char			*tc_key_at;	/* "FILE:LINE" of key = */
};

enum conf_tls_version {
	CONF_TLS_1_2 = 0,			/* the default */
	CONF_TLS_1_3
};

/*
 * tls = { ... } of a listener.  conf.c checks the shape; tls.c loads the
 * files and builds the OpenSSL contexts into t_ctx (tls_conf_setup()),
 * which the snapshot owns: conf_free() calls t_ctx_free(t_ctx).
 */
struct conf_tls {
	struct conf_tls_cert	*t_certs;	/* [0] is the default */
	size_t			 t_ncerts;
	enum conf_tls_version	 t_min_version;
	char			*t_ciphers;	/* TLS 1.2 list, NULL: default */
	char			*t_ciphersuites; /* TLS 1.3, NULL: default */
	char			*t_at;		/* "FILE:LINE" of the group */
	char			*t_ciphers_at;
	char			*t_ciphersuites_at;
	void			*t_ctx;		/* tls.c's, or NULL */
	void			(*t_ctx_free)(void *);
};

struct conf_listen {
	enum conf_listen_kind	 l_kind;
	char			*l_address;	/* TCP: numeric IPv4 or IPv6 address */
	int			 l_port;	/* TCP: 1..65535 */
	char			*l_unix;	/* UNIX: socket path */
	mode_t			 l_mode;	/* UNIX: permissions */
	int			 l_has_mode;	/* UNIX: mode was given */
	char			*l_owner;	/* UNIX: owner user name, or NULL */
	char			*l_group;	/* UNIX: group name, or NULL */
	uid_t			 l_uid;		/* UNIX: (uid_t)-1 if no owner */
	gid_t			 l_gid;		/* UNIX: (gid_t)-1 if no group */
	char			*l_name;	/* canonical: "127.0.0.1:80",
						   "[::1]:80", "unix:/path"; unique */
	int			 l_status;	/* status paths served here */
	struct conf_tls		*l_tls;		/* NULL: plain (ws://) */
	int			 l_proxy_protocol; /* a PROXY header first */
	struct conf_netmask	*l_trusted;	/* trusted_proxies: whose
						   X-Forwarded-For counts */
	size_t			 l_ntrusted;
	int			 l_line;	/* where it was defined */
};

/* Where and how a chosen route or subprotocol is relayed. */
struct conf_backend {
	char			*b_path;	/* Unix stream socket path */
	enum framing		 b_framing;	/* default FRAMING_RAW */
	int			 b_message_type; /* FRAMING_TEXT or FRAMING_BINARY:
						    raw default binary, line text */
};

struct conf_subproto {
	char			*s_name;	/* token, compared case-sensitively */
	struct conf_backend	 s_backend;	/* after inheriting the route's */
	int			 s_line;
};

struct conf_route {
	char			*r_path;	/* matched exactly, query ignored */
	char		       **r_origins;	/* allow-list, NULL if any origin */
	size_t			 r_norigins;
	struct conf_subproto	*r_subprotos;	/* in config order */
	size_t			 r_nsubprotos;
	int			 r_has_backend;	/* r_backend is a usable default */
	struct conf_backend	 r_backend;
	int			 r_preamble;	/* enum preamble_kind */
	char		       **r_fwd_headers;	/* forward_headers: names */
	size_t			 r_nfwd_headers;
	int			 r_compression;	/* offer permessage-deflate */
	int			 r_line;
};

struct conf_limits {
	unsigned int		 handshake_timeout_ms;	/* 10000 */
	size_t			 max_header_bytes;	/* 8192 */
	uint64_t		 max_message_size;	/* 1048576 */
	unsigned int		 idle_timeout_ms;	/* 0 = off */
	unsigned int		 ping_interval_ms;	/* 30000; 0 = off */
	size_t			 buffer_limit;		/* 1048576 */
	unsigned int		 max_connections;	/* 0 = unlimited */
	unsigned int		 close_timeout_ms;	/* 5000 */
	unsigned int		 compression_level;	/* 6, zlib's 0..9 */
	size_t			 compression_min_size;	/* 64: smaller ones go
							   uncompressed */
	unsigned int		 compression_window_bits; /* 15: caps both
							   LZ77 windows */
};

/* An allow-list entry of the status group: an address and prefix length. */
struct conf_netmask {
	int			 n_family;	/* AF_INET, AF_INET6, or AF_UNIX
						   for "unix" (any Unix client) */
	uint8_t			 n_addr[16];	/* network byte order */
	int			 n_bits;	/* prefix length */
};

/* status = { ... }: the health and metrics endpoints. */
struct conf_status {
	char			*st_prefix;	/* "/_wsgate", no trailing '/' */
	struct conf_netmask	*st_allow;	/* who may ask */
	size_t			 st_nallow;
	int			 st_line;
};

struct conf {
	int			 c_refs;	/* atomic; see conf_ref() */
	char			*c_path;	/* the file it came from */
	struct conf_listen	*c_listens;
	size_t			 c_nlistens;
	struct conf_route	*c_routes;
	size_t			 c_nroutes;
	int			 c_workers;	/* default: number of online CPUs */
	struct conf_limits	 c_limits;
	char			*c_user;	/* drop to this user, or NULL */
	char			*c_group;	/* and this group, or NULL */
	uid_t			 c_uid;		/* resolved at load */
	gid_t			 c_gid;		/* c_group's, else c_user's */
	int			 c_log_level;	/* 0 error .. 3 debug (LOG_LVL_*);
						   default 2, info */
	struct conf_status	*c_status;	/* NULL: no status endpoints */
};

/*
 * Called once per error with a complete "FILE:LINE: message" (or
 * "FILE: message" when there is no line), without a newline.
 */
typedef void (*conf_error_fn)(void *arg, const char *msg);

/*
 * Load and validate path.  On success returns a snapshot with one
 * reference (the caller's).  On failure returns NULL after reporting every
 * error found (syntax errors stop at the first, as libconfig does; all
 * semantic errors are reported) through err, and returns the number of
 * errors in *nerrors if it is not NULL.
 */
struct conf	*conf_load(const char *path, conf_error_fn err, void *arg,
		    int *nerrors);

/* Take and drop a reference (thread-safe).  The last unref frees it all. */
struct conf	*conf_ref(struct conf *);
void		 conf_unref(struct conf *);

/* The listen entry whose canonical l_name is name, or NULL. */
const struct conf_listen *conf_listen_find(const struct conf *,
		    const char *name);

/* The route whose path equals path[0..len), or NULL. */
const struct conf_route *conf_route_find(const struct conf *,
		    const char *path, size_t len);

#endif /* WSGATE_CONF_H */
