/*
 * HTTP/1.1 upgrade requests and the WebSocket opening handshake,
 * RFC 6455 section 4 (pure: no I/O, no allocation).
 *
 * http_parse_request() parses a complete request head in place;
 * http_handshake() applies the handshake rules to it against the routes
 * of a config snapshot, in the order the refusals must be checked, and
 * picks the subprotocol and backend; the http_*_response() functions
 * format what goes back.
 */
#ifndef WSGATE_HTTP_H
#define WSGATE_HTTP_H

#include <stddef.h>

#include "conf.h"
#include "deflate.h"

#define HTTP_MAX_HEADERS	100
#define HTTP_ACCEPT_LEN		28	/* base64 of a SHA-1 digest */

struct http_header {
	const char	*name;
	size_t		 name_len;
	const char	*value;		/* leading and trailing blanks trimmed */
	size_t		 value_len;
};

struct http_request {
	const char	*method;
	size_t		 method_len;
	const char	*target;	/* request-target as received */
	size_t		 target_len;
	const char	*path;		/* target up to '?' */
	size_t		 path_len;
	const char	*query;		/* after '?', NULL if there was none */
	size_t		 query_len;
	int		 version_major;
	int		 version_minor;
	struct http_header headers[HTTP_MAX_HEADERS];
	size_t		 nheaders;
};

/*
 * Parse the request head buf[0..len), which ends with the empty line
 * ("\r\n\r\n"; a bare "\n" line ending is accepted too).  Pointers in
 * *req point into buf.  Returns 0, or the HTTP status to refuse with:
 * 400 for a malformed request line or header, 431 for more than
 * HTTP_MAX_HEADERS headers, 505 for a version other than HTTP/1.x.
 */
int	http_parse_request(const char *buf, size_t len, struct http_request *);

/*
 * Offset just past the end of the request head in buf[0..len) (the empty
 * line), or 0 if it is not complete yet.  from: bytes already searched
 * (pass the previous len to resume without rescanning).
 */
size_t	http_head_end(const char *buf, size_t len, size_t from);

/* The value of the first header called name (case-insensitive), or NULL. */
const struct http_header *http_header_get(const struct http_request *,
	    const char *name);

/*
 * 1 if some header called name (case-insensitive; every occurrence is
 * looked at) has token in its comma-separated list, compared
 * case-insensitively ("keep-alive, Upgrade" contains "upgrade").
 */
int	http_header_has_token(const struct http_request *, const char *name,
	    const char *token);

struct http_handshake {
	int			 h_status;	/* 101, or the refusal status */
	const char		*h_reason;	/* refusal: short static text */
	const char		*h_extra;	/* refusal: extra header lines
						   ("Name: value\r\n"), or NULL */
	char			 h_body[512];	/* refusal: body text (for the 400 on
						   subprotocols, lists the supported ones) */
	const struct conf_route	*h_route;	/* set from the 404 check on */
	const struct conf_backend *h_backend;	/* 101: where to relay */
	const char		*h_subprotocol;	/* 101: chosen token (points into the
						   config), NULL for none */
	char			 h_accept[HTTP_ACCEPT_LEN + 1];	/* 101: NUL-terminated */
	struct dfl_params	 h_pmd;		/* 101: permessage-deflate, if
						   the route has compression */
};

/*
 * Apply RFC 6455 4.2.1 and the route rules to a parsed request, checking
 * in this order: unknown path 404; method not GET 405; no "websocket"
 * token in Upgrade 426 (h_extra "Upgrade: websocket"); HTTP/1.0, no Host,
 * no "upgrade" token in Connection, Sec-WebSocket-Key missing, repeated
 * or not 16 bytes in base64: 400; Sec-WebSocket-Version missing or not 13:
 * 426 (h_extra "Sec-WebSocket-Version: 13"); Origin present and not in
 * the route's origins 403; no offered subprotocol the route supports and
 * no default backend 400.  The subprotocol chosen is the first of the
 * route's list, in config order, that any Sec-WebSocket-Protocol header
 * offered.  Returns h->h_status.
 */
int	http_handshake(const struct http_request *, const struct conf *,
	    struct http_handshake *h);

/* Sec-WebSocket-Accept for a key: base64(SHA-1(key GUID)), NUL-terminated. */
void	http_accept_key(const char *key, size_t key_len,
	    char out[HTTP_ACCEPT_LEN + 1]);

/*
 * Format the 101 response (with Sec-WebSocket-Protocol when subprotocol
 * is not NULL, Sec-WebSocket-Extensions when extensions is not NULL)
 * into buf.  Returns its length, or 0 if size is too small.
 */
size_t	http_upgrade_response(char *buf, size_t size, const char *accept,
	    const char *subprotocol, const char *extensions);

/*
 * permessage-deflate (RFC 7692 section 7): the first offer, over every
 * Sec-WebSocket-Extensions header in order, that can be honoured with
 * LZ77 windows of at most max_bits (9..15; anything else means 15) is
 * accepted into *p
 * (p->p_on set); every other offer, and every other extension, is
 * declined.  Never a refusal: malformed offers are declined too.
 * http_handshake() calls it for routes with compression.
 */
void	http_pmd_negotiate(const struct http_request *, int max_bits,
	    struct dfl_params *p);

/*
 * The Sec-WebSocket-Extensions value that accepts *p, into buf; its
 * length, or 0 if p->p_on is not set or size is too small.
 */
size_t	http_pmd_response(char *buf, size_t size, const struct dfl_params *);

/*
 * Format a refusal: status line, Content-Type: text/plain,
 * Content-Length, Connection: close, the extra header lines, then body
 * followed by "\n".  Returns its length, or 0 if size is too small.
 */
size_t	http_error_response(char *buf, size_t size, int status,
	    const char *extra, const char *body);

/* "Not Found" for 404 and so on; "Error" for codes it does not know. */
const char *http_status_text(int status);

#endif /* WSGATE_HTTP_H */
