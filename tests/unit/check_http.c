/*
 * Unit tests for http.c: request parsing, the end of the head fed whole,
 * byte by byte and split, every handshake refusal in its order,
 * subprotocol selection, the accept key and the responses.  The routes
 * are built by hand; conf_route_find() is conf.c's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "http.h"

Suite	*http_suite(void);

#define LEN(s)	(sizeof(s) - 1)
#define S(s)	(s), LEN(s)
#define NELEM(a)	((int)(sizeof(a) / sizeof((a)[0])))

/*
 * The config under test:
 *  /echo    one backend, no subprotocols, any origin
 *  /chat    origins, chat.v2 and chat.v1, and a default backend
 *  /strict  origins, chat.v2 and chat.v1, no default
 */
static char	*origins[] = { "https://example.com", "https://b.example" };

static struct conf_subproto chat_subs[] = {
	{ "chat.v2",
	  { "/run/chat-v2.sock", FRAMING_FRAME, FRAMING_BINARY }, 1 },
	{ "chat.v1",
	  { "/run/chat-v1.sock", FRAMING_LINE, FRAMING_TEXT }, 2 }
};
static struct conf_subproto strict_subs[] = {
	{ "chat.v2",
	  { "/run/strict-v2.sock", FRAMING_FRAME, FRAMING_BINARY }, 3 },
	{ "chat.v1",
	  { "/run/strict-v1.sock", FRAMING_LINE, FRAMING_TEXT }, 4 }
};

static struct conf_route routes[] = {
	{ .r_path = "/echo", .r_has_backend = 1,
	  .r_backend = { "/run/echo.sock", FRAMING_LINE, FRAMING_TEXT },
	  .r_line = 1 },
	{ .r_path = "/chat", .r_origins = origins, .r_norigins = 2,
	  .r_subprotos = chat_subs, .r_nsubprotos = 2, .r_has_backend = 1,
	  .r_backend = { "/run/chat-legacy.sock", FRAMING_RAW,
	  FRAMING_BINARY }, .r_line = 2 },
	{ .r_path = "/strict", .r_origins = origins, .r_norigins = 2,
	  .r_subprotos = strict_subs, .r_nsubprotos = 2, .r_has_backend = 0,
	  .r_backend = { NULL, FRAMING_RAW, FRAMING_BINARY }, .r_line = 3 },
	{ .r_path = "/", .r_has_backend = 1,
	  .r_backend = { "/run/root.sock", FRAMING_RAW, FRAMING_BINARY },
	  .r_line = 4 }
};

static struct conf tconf = {
	.c_refs = 1,
	.c_routes = routes,
	.c_nroutes = sizeof(routes) / sizeof(routes[0])
};

#define RFC_KEY		"dGhlIHNhbXBsZSBub25jZQ=="
#define RFC_ACCEPT	"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

#define GET(p)	"GET " p " HTTP/1.1\r\n"
#define HOST	"Host: example.com\r\n"
#define UPG	"Upgrade: websocket\r\n"
#define CONN	"Connection: Upgrade\r\n"
#define KEY	"Sec-WebSocket-Key: " RFC_KEY "\r\n"
#define VER	"Sec-WebSocket-Version: 13\r\n"
#define GOOD	HOST UPG CONN KEY VER
#define ORIGIN	"Origin: https://example.com\r\n"
#define BADORIG	"Origin: https://evil.example\r\n"
#define END	"\r\n"

/* Parse raw, which must be exactly one complete head, and handshake it. */
static int
handshake(const char *raw, struct http_request *req, struct http_handshake *h)
{
	size_t	 len = strlen(raw);

	ck_assert_uint_eq(http_head_end(raw, len, 0), len);
	ck_assert_int_eq(http_parse_request(raw, len, req), 0);
	return http_handshake(req, &tconf, h);
}

/* Accept key */

static const struct {
	const char	*key;
	const char	*accept;
} accept_keys[] = {
	{ RFC_KEY, RFC_ACCEPT },		/* RFC 6455 1.3 */
	{ "AAAAAAAAAAAAAAAAAAAAAA==", "ICX+Yqv66kxgM0FcWaLWlFLwTAI=" }
};

START_TEST(test_accept_key)
{
	char	 out[HTTP_ACCEPT_LEN + 1];
	char	 longkey[201];

	http_accept_key(accept_keys[_i].key, strlen(accept_keys[_i].key), out);
	ck_assert_str_eq(out, accept_keys[_i].accept);
	ck_assert_uint_eq(strlen(out), HTTP_ACCEPT_LEN);

	/* An oversized key takes the other path; the answer is the same. */
	memset(longkey, 'x', 200);
	longkey[200] = '\0';
	http_accept_key(longkey, 200, out);
	ck_assert_str_eq(out, "2/xdrRDawKrkzT3zWJGBWn134JI=");
}
END_TEST

/* Request parser */

static const char *field_heads[] = {
	"GET /chat?room=1&x HTTP/1.1\r\nHost:example.com\r\n"
	"X-Empty:\r\nX-Blank: \t a  b \t \r\nX-Obs: caf\xc3\xa9\r\n\r\n",
	"GET /chat?room=1&x HTTP/1.1\nHost:example.com\n"
	"X-Empty:\nX-Blank: \t a  b \t \nX-Obs: caf\xc3\xa9\n\n",
	/* pipelined bytes behind the head are not looked at */
	"GET /chat?room=1&x HTTP/1.1\r\nHost:example.com\r\n"
	"X-Empty:\r\nX-Blank: \t a  b \t \r\nX-Obs: caf\xc3\xa9\r\n\r\n"
	"\x81\x85\x01\x02\x03\x04garbage\r\n\r\n"
};

START_TEST(test_parse_fields)
{
	struct http_request	 req;
	const char		*raw = field_heads[_i];

	ck_assert_int_eq(http_parse_request(raw, strlen(raw), &req), 0);
	ck_assert_uint_eq(req.method_len, 3);
	ck_assert_mem_eq(req.method, "GET", 3);
	ck_assert_uint_eq(req.target_len, LEN("/chat?room=1&x"));
	ck_assert_mem_eq(req.target, "/chat?room=1&x", req.target_len);
	ck_assert_uint_eq(req.path_len, 5);
	ck_assert_mem_eq(req.path, "/chat", 5);
	ck_assert_ptr_nonnull(req.query);
	ck_assert_uint_eq(req.query_len, LEN("room=1&x"));
	ck_assert_mem_eq(req.query, "room=1&x", req.query_len);
	ck_assert_int_eq(req.version_major, 1);
	ck_assert_int_eq(req.version_minor, 1);
	ck_assert_uint_eq(req.nheaders, 4);
	ck_assert_uint_eq(req.headers[0].name_len, 4);
	ck_assert_mem_eq(req.headers[0].name, "Host", 4);
	ck_assert_uint_eq(req.headers[0].value_len, LEN("example.com"));
	ck_assert_mem_eq(req.headers[0].value, "example.com",
	    LEN("example.com"));
	ck_assert_uint_eq(req.headers[1].value_len, 0);
	ck_assert_uint_eq(req.headers[2].value_len, LEN("a  b"));
	ck_assert_mem_eq(req.headers[2].value, "a  b", LEN("a  b"));
	ck_assert_uint_eq(req.headers[3].value_len, LEN("caf\xc3\xa9"));
}
END_TEST

static const struct {
	const char	*line;
	const char	*path;
	const char	*query;		/* NULL: none */
} targets[] = {
	{ "GET /chat HTTP/1.1", "/chat", NULL },
	{ "GET /chat? HTTP/1.1", "/chat", "" },
	{ "GET /?a?b HTTP/1.1", "/", "a?b" },
	{ "GET ws://example.com:80/chat?q HTTP/1.1", "/chat", "q" },
	{ "GET HTTP://example.com HTTP/1.1", "/", NULL },
	{ "GET http://example.com?x HTTP/1.1", "/", "x" },
	{ "OPTIONS * HTTP/1.1", "*", NULL },
	{ "GET chat HTTP/1.1", "chat", NULL },
	{ "GET ?x HTTP/1.1", "/", "x" }
};

START_TEST(test_parse_targets)
{
	struct http_request	 req;
	char			 raw[256];

	snprintf(raw, sizeof(raw), "%s\r\nHost: a\r\n\r\n", targets[_i].line);
	ck_assert_int_eq(http_parse_request(raw, strlen(raw), &req), 0);
	ck_assert_uint_eq(req.path_len, strlen(targets[_i].path));
	ck_assert_mem_eq(req.path, targets[_i].path, req.path_len);
	if (targets[_i].query == NULL)
		ck_assert_ptr_null(req.query);
	else {
		ck_assert_ptr_nonnull(req.query);
		ck_assert_uint_eq(req.query_len, strlen(targets[_i].query));
		ck_assert_mem_eq(req.query, targets[_i].query, req.query_len);
	}
}
END_TEST

static const struct {
	const char	*raw;
	size_t		 len;
	int		 status;
} parse_errors[] = {
	{ S(""), 400 },
	{ S("\r\n\r\n"), 400 },
	{ S("\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1\r\n"), 400 },		/* no empty line */
	{ S("GET / HTTP/1.1\r\nHost: a\r\n"), 400 },
	{ S("GET / HTTP/1.1\r\nHost: a\r\n\r"), 400 },
	{ S("GET  / HTTP/1.1\r\n\r\n"), 400 },
	{ S(" GET / HTTP/1.1\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1 \r\n\r\n"), 400 },
	{ S("GET /HTTP/1.1\r\n\r\n"), 400 },
	{ S("GET / \r\n\r\n"), 400 },
	{ S("GET /\r\n\r\n"), 400 },
	{ S("GET\r\n\r\n"), 400 },
	{ S("GET\t/ HTTP/1.1\r\n\r\n"), 400 },
	{ S("GET / http/1.1\r\n\r\n"), 400 },
	{ S("GET / HTTP/1\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1x\r\n\r\n"), 400 },
	{ S("GET / HTTP/11.1\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.10\r\n\r\n"), 400 },
	{ S("G(T / HTTP/1.1\r\n\r\n"), 400 },
	{ S("GET /a\x01z HTTP/1.1\r\n\r\n"), 400 },
	{ S("GET /a\0z HTTP/1.1\r\n\r\n"), 400 },
	{ S("GET /caf\xc3\xa9 HTTP/1.1\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1\r\r\n\r\n"), 400 },		/* bare CR */
	{ S("GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n"), 400 },	/* obs-fold */
	{ S("GET / HTTP/1.1\r\nX: a\r\n\tb\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1\r\n Host: a\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1\r\nHost : a\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1\r\nHost\t: a\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1\r\nHost a\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1\r\n: a\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1\r\nHo(st: a\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1\r\nH\xc3\xb6st: a\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1\r\nX: a\x01z\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1\r\nX: a\0z\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1\r\nX: a\x7fz\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1\r\nX: a\rz\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1\r\nX: a\r\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1\r\nX\0: a\r\n\r\n"), 400 },
	{ S("GET / HTTP/2.0\r\n\r\n"), 505 },
	{ S("GET / HTTP/0.9\r\nHost: a\r\n\r\n"), 505 },
	{ S("GET / HTTP/3.1\r\nHost: a\r\n\r\n"), 505 }
};

START_TEST(test_parse_errors)
{
	struct http_request	 req;

	ck_assert_int_eq(http_parse_request(parse_errors[_i].raw,
	    parse_errors[_i].len, &req), parse_errors[_i].status);
}
END_TEST

/* Build a head with n "X-N: v" headers after the request line. */
static size_t
many_headers(char *buf, size_t size, int n)
{
	size_t	 len;
	int	 i;

	len = (size_t)snprintf(buf, size, "GET / HTTP/1.1\r\n");
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(buf + len, size - len, "X-%d: v\r\n",
		    i);
	len += (size_t)snprintf(buf + len, size - len, "\r\n");
	ck_assert_uint_lt(len, size);
	return len;
}

START_TEST(test_parse_too_many_headers)
{
	struct http_request	 req;
	char			 buf[4096];
	size_t			 len;

	len = many_headers(buf, sizeof(buf), HTTP_MAX_HEADERS);
	ck_assert_int_eq(http_parse_request(buf, len, &req), 0);
	ck_assert_uint_eq(req.nheaders, HTTP_MAX_HEADERS);

	len = many_headers(buf, sizeof(buf), HTTP_MAX_HEADERS + 1);
	ck_assert_int_eq(http_parse_request(buf, len, &req), 431);
}
END_TEST

START_TEST(test_header_get)
{
	static const char raw[] = "GET / HTTP/1.1\r\nHost: a\r\n"
	    "X-Dup: one\r\nx-dup: two\r\n\r\n";
	struct http_request		 req;
	const struct http_header	*hdr;

	ck_assert_int_eq(http_parse_request(S(raw), &req), 0);
	ck_assert_ptr_nonnull(hdr = http_header_get(&req, "x-DUP"));
	ck_assert_uint_eq(hdr->value_len, 3);
	ck_assert_mem_eq(hdr->value, "one", 3);
	ck_assert_ptr_nonnull(hdr = http_header_get(&req, "HOST"));
	ck_assert_mem_eq(hdr->value, "a", 1);
	ck_assert_ptr_null(http_header_get(&req, "X-Du"));
	ck_assert_ptr_null(http_header_get(&req, "X-Dupe"));
}
END_TEST

static const struct {
	const char	*hdrs;
	const char	*name;
	const char	*token;
	int		 has;
} tokens[] = {
	{ "Connection: Upgrade\r\n", "connection", "upgrade", 1 },
	{ "Connection: keep-alive, Upgrade\r\n", "connection", "upgrade", 1 },
	{ "Connection: keep-alive,UPGRADE \r\n", "connection", "upgrade", 1 },
	{ "Connection:\tkeep-alive ,\tuPgRaDe\t\r\n", "connection",
	    "upgrade", 1 },
	{ "Connection: keep-alive\r\nconnection: upgrade\r\n", "CONNECTION",
	    "upgrade", 1 },
	{ "Connection: ,,upgrade,,\r\n", "connection", "upgrade", 1 },
	{ "Connection: keep-alive\r\n", "connection", "upgrade", 0 },
	{ "Connection: upgraded\r\n", "connection", "upgrade", 0 },
	{ "Connection: upgrade-x, xupgrade\r\n", "connection", "upgrade", 0 },
	{ "Connection: up grade\r\n", "connection", "upgrade", 0 },
	{ "Connection:\r\n", "connection", "upgrade", 0 },
	{ "X-Connection: upgrade\r\n", "connection", "upgrade", 0 },
	{ "Upgrade: h2c, WebSocket\r\n", "UPGRADE", "websocket", 1 },
	{ "Upgrade: websocket/13\r\n", "UPGRADE", "websocket", 0 },
	{ "", "connection", "upgrade", 0 }
};

START_TEST(test_header_has_token)
{
	struct http_request	 req;
	char			 raw[256];

	snprintf(raw, sizeof(raw), "GET / HTTP/1.1\r\n%s\r\n", tokens[_i].hdrs);
	ck_assert_int_eq(http_parse_request(raw, strlen(raw), &req), 0);
	ck_assert_int_eq(http_header_has_token(&req, tokens[_i].name,
	    tokens[_i].token), tokens[_i].has);
}
END_TEST

/* End of the head */

static const struct {
	const char	*buf;
	size_t		 len;
	size_t		 end;	/* 0: incomplete */
} heads[] = {
	{ S("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), 27 },
	{ S("GET / HTTP/1.1\nHost: a\n\n"), 24 },
	{ S("GET / HTTP/1.1\r\nHost: a\n\r\n"), 26 },
	{ S("GET / HTTP/1.1\r\nHost: a\r\n\n"), 26 },
	{ S("GET / HTTP/1.1\r\n\r\n\x81\x85\x01\x02\x03\x04hello\r\n\r\n"),
	    18 },
	{ S("GET / HTTP/1.1\n\n\n\n"), 16 },
	{ S("\r\n\r\n"), 4 },
	{ S("\n\n"), 2 },
	{ S("GET / HTTP/1.1\r\nHost: a\r\n"), 0 },
	{ S("GET / HTTP/1.1\r\nHost: a\r\n\r"), 0 },
	{ S("GET / HTTP/1.1\r\r\n\r\r\n"), 0 },
	{ S("GET / HTTP/1.1\r\nX: \0\r\n\r\n"), 24 },
	{ S("\n"), 0 },
	{ S(""), 0 }
};

START_TEST(test_head_end_whole)
{
	ck_assert_uint_eq(http_head_end(heads[_i].buf, heads[_i].len, 0),
	    heads[_i].end);
}
END_TEST

/* Fed one byte at a time, resuming from the previous length. */
START_TEST(test_head_end_bytewise)
{
	size_t	 len, got = 0;

	for (len = 0; len <= heads[_i].len; len++) {
		got = http_head_end(heads[_i].buf, len, len > 0 ? len - 1 : 0);
		if (got != 0)
			break;
	}
	ck_assert_uint_eq(got, heads[_i].end);
	if (heads[_i].end != 0)
		ck_assert_uint_eq(len, heads[_i].end);
}
END_TEST

/* Cut in two at every point. */
START_TEST(test_head_end_split)
{
	size_t	 k, got, want = heads[_i].end;

	for (k = 0; k <= heads[_i].len; k++) {
		got = http_head_end(heads[_i].buf, k, 0);
		if (want != 0 && want <= k) {
			ck_assert_uint_eq(got, want);
			continue;
		}
		ck_assert_uint_eq(got, 0);
		ck_assert_uint_eq(http_head_end(heads[_i].buf, heads[_i].len,
		    k), want);
	}
}
END_TEST

/* Handshake */

START_TEST(test_handshake_valid)
{
	struct http_request	 req;
	struct http_handshake	 h;

	ck_assert_int_eq(handshake(GET("/echo") GOOD END, &req, &h), 101);
	ck_assert_int_eq(h.h_status, 101);
	ck_assert_str_eq(h.h_accept, RFC_ACCEPT);
	ck_assert_ptr_eq(h.h_route, &routes[0]);
	ck_assert_ptr_eq(h.h_backend, &routes[0].r_backend);
	ck_assert_ptr_null(h.h_subprotocol);
	ck_assert_ptr_null(h.h_extra);
}
END_TEST

static const struct {
	const char	*name;
	const char	*raw;
	int		 status;
	const char	*extra;		/* expected h_extra, or NULL */
	const char	*route;		/* expected h_route's path, or NULL */
} hs_cases[] = {
	/* 404 first, whatever else is wrong */
	{ "unknown path", GET("/nope") GOOD END, 404, NULL, NULL },
	{ "unknown path, POST, no headers",
	    "POST /nope HTTP/1.0\r\n\r\n", 404, NULL, NULL },
	{ "path is case-sensitive", GET("/ECHO") GOOD END, 404, NULL, NULL },
	{ "path prefix", GET("/echo/x") GOOD END, 404, NULL, NULL },
	/* 405 */
	{ "POST", "POST /echo HTTP/1.1\r\n" GOOD END, 405, "Allow: GET\r\n",
	    "/echo" },
	{ "lowercase get", "get /echo HTTP/1.1\r\n" GOOD END, 405,
	    "Allow: GET\r\n", "/echo" },
	{ "POST, no Upgrade, HTTP/1.0", "POST /echo HTTP/1.0\r\n" END, 405,
	    "Allow: GET\r\n", "/echo" },
	/* 426 Upgrade */
	{ "plain GET", GET("/echo") HOST END, 426, "Upgrade: websocket\r\n",
	    "/echo" },
	{ "Upgrade: h2c", GET("/echo") HOST "Upgrade: h2c\r\n" CONN KEY VER
	    END, 426, "Upgrade: websocket\r\n", "/echo" },
	{ "no Upgrade, HTTP/1.0, bad key",
	    "GET /echo HTTP/1.0\r\nSec-WebSocket-Key: x\r\n" END, 426,
	    "Upgrade: websocket\r\n", "/echo" },
	/* 400 */
	{ "HTTP/1.0", "GET /echo HTTP/1.0\r\n" GOOD END, 400, NULL, "/echo" },
	{ "HTTP/1.0, bad version",
	    "GET /echo HTTP/1.0\r\n" HOST UPG CONN KEY END, 400, NULL,
	    "/echo" },
	{ "no Host", GET("/echo") UPG CONN KEY VER END, 400, NULL, "/echo" },
	{ "two Host", GET("/echo") HOST GOOD END, 400, NULL, "/echo" },
	{ "no Connection", GET("/echo") HOST UPG KEY VER END, 400, NULL,
	    "/echo" },
	{ "Connection: keep-alive",
	    GET("/echo") HOST UPG "Connection: keep-alive\r\n" KEY VER END,
	    400, NULL, "/echo" },
	{ "no key", GET("/echo") HOST UPG CONN VER END, 400, NULL, "/echo" },
	{ "two keys", GET("/echo") GOOD KEY END, 400, NULL, "/echo" },
	{ "empty key", GET("/echo") HOST UPG CONN
	    "Sec-WebSocket-Key:\r\n" VER END, 400, NULL, "/echo" },
	{ "key of 15 bytes", GET("/echo") HOST UPG CONN
	    "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAA\r\n" VER END, 400, NULL,
	    "/echo" },
	{ "key of 17 bytes", GET("/echo") HOST UPG CONN
	    "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAAA=\r\n" VER END, 400,
	    NULL, "/echo" },
	{ "key of 18 bytes", GET("/echo") HOST UPG CONN
	    "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAAAA\r\n" VER END, 400,
	    NULL, "/echo" },
	{ "key of 16 bytes unpadded", GET("/echo") HOST UPG CONN
	    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ\r\n" VER END, 400,
	    NULL, "/echo" },
	{ "key too long", GET("/echo") HOST UPG CONN
	    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ===\r\n" VER END, 400,
	    NULL, "/echo" },
	{ "key with a bad char", GET("/echo") HOST UPG CONN
	    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25j*Q==\r\n" VER END, 400,
	    NULL, "/echo" },
	{ "key in the URL-safe alphabet", GET("/echo") HOST UPG CONN
	    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25j-_==\r\n" VER END, 400,
	    NULL, "/echo" },
	{ "key with a space", GET("/echo") HOST UPG CONN
	    "Sec-WebSocket-Key: dGhlIHNhbXBs ZSBub25jZQ=\r\n" VER END, 400,
	    NULL, "/echo" },
	{ "key with '=' inside", GET("/echo") HOST UPG CONN
	    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZ===\r\n" VER END, 400,
	    NULL, "/echo" },
	{ "bad key, no version", GET("/echo") HOST UPG CONN
	    "Sec-WebSocket-Key: x\r\n" END, 400, NULL, "/echo" },
	/* 426 version */
	{ "no version", GET("/echo") HOST UPG CONN KEY END, 426,
	    "Sec-WebSocket-Version: 13\r\n", "/echo" },
	{ "version 8", GET("/echo") HOST UPG CONN KEY
	    "Sec-WebSocket-Version: 8\r\n" END, 426,
	    "Sec-WebSocket-Version: 13\r\n", "/echo" },
	{ "version 013", GET("/echo") HOST UPG CONN KEY
	    "Sec-WebSocket-Version: 013\r\n" END, 426,
	    "Sec-WebSocket-Version: 13\r\n", "/echo" },
	{ "version list", GET("/echo") HOST UPG CONN KEY
	    "Sec-WebSocket-Version: 13, 8\r\n" END, 426,
	    "Sec-WebSocket-Version: 13\r\n", "/echo" },
	{ "version twice", GET("/echo") GOOD VER END, 426,
	    "Sec-WebSocket-Version: 13\r\n", "/echo" },
	{ "bad version, bad origin", GET("/chat") HOST UPG CONN KEY BADORIG
	    END, 426, "Sec-WebSocket-Version: 13\r\n", "/chat" },
	/* 403 */
	{ "bad origin", GET("/chat") GOOD BADORIG END, 403, NULL, "/chat" },
	{ "origin differs in case", GET("/chat") GOOD
	    "Origin: https://EXAMPLE.com\r\n" END, 403, NULL, "/chat" },
	{ "origin with a trailing slash", GET("/chat") GOOD
	    "Origin: https://example.com/\r\n" END, 403, NULL, "/chat" },
	{ "origin null", GET("/chat") GOOD "Origin: null\r\n" END, 403, NULL,
	    "/chat" },
	{ "good then bad origin", GET("/chat") GOOD ORIGIN BADORIG END, 403,
	    NULL, "/chat" },
	{ "bad origin, no subprotocol", GET("/strict") GOOD BADORIG END, 403,
	    NULL, "/strict" },
	/* 400 subprotocol */
	{ "no subprotocol, no default", GET("/strict") GOOD END, 400, NULL,
	    "/strict" },
	/* 101 */
	{ "good origin", GET("/chat") GOOD ORIGIN END, 101, NULL, "/chat" },
	{ "second listed origin", GET("/chat") GOOD
	    "Origin: https://b.example\r\n" END, 101, NULL, "/chat" },
	{ "no origin on a route with origins", GET("/chat") GOOD END, 101,
	    NULL, "/chat" },
	{ "any origin on a route without", GET("/echo") GOOD BADORIG END, 101,
	    NULL, "/echo" },
	{ "query ignored", GET("/echo?x=1") GOOD END, 101, NULL, "/echo" },
	{ "absolute form", GET("ws://example.com/echo?x") GOOD END, 101,
	    NULL, "/echo" },
	{ "root", GET("/") GOOD END, 101, NULL, "/" },
	{ "HTTP/1.2", "GET /echo HTTP/1.2\r\n" GOOD END, 101, NULL, "/echo" },
	{ "empty Host", GET("/echo") "Host:\r\n" UPG CONN KEY VER END, 101,
	    NULL, "/echo" },
	{ "Upgrade mixed case", GET("/echo") HOST "Upgrade: WebSocket\r\n"
	    CONN KEY VER END, 101, NULL, "/echo" },
	{ "Upgrade list", GET("/echo") HOST "Upgrade: h2c, websocket\r\n"
	    CONN KEY VER END, 101, NULL, "/echo" },
	{ "Connection: keep-alive, Upgrade", GET("/echo") HOST UPG
	    "Connection: keep-alive, Upgrade\r\n" KEY VER END, 101, NULL,
	    "/echo" },
	{ "Connection: UPGRADE", GET("/echo") HOST UPG
	    "Connection: UPGRADE\r\n" KEY VER END, 101, NULL, "/echo" },
	{ "Connection on two lines", GET("/echo") HOST UPG
	    "Connection: keep-alive\r\nConnection: upgrade\r\n" KEY VER END,
	    101, NULL, "/echo" },
	{ "header names in any case", GET("/echo") "HOST: a\r\n"
	    "upgrade: websocket\r\nCONNECTION: upgrade\r\n"
	    "sec-websocket-key: " RFC_KEY "\r\nSEC-WEBSOCKET-VERSION: 13\r\n"
	    END, 101, NULL, "/echo" },
	{ "blanks around values", GET("/echo") "Host: a\r\n"
	    "Upgrade:\twebsocket \r\nConnection:  Upgrade\t\r\n"
	    "Sec-WebSocket-Key:   " RFC_KEY "  \r\n"
	    "Sec-WebSocket-Version: 13 \r\n" END, 101, NULL, "/echo" },
	{ "bare LF endings", "GET /echo HTTP/1.1\nHost: a\nUpgrade: websocket\n"
	    "Connection: Upgrade\nSec-WebSocket-Key: " RFC_KEY "\n"
	    "Sec-WebSocket-Version: 13\n\n", 101, NULL, "/echo" }
};

START_TEST(test_handshake_cases)
{
	struct http_request	 req;
	struct http_handshake	 h;
	int			 status;

	status = handshake(hs_cases[_i].raw, &req, &h);
	ck_assert_msg(status == hs_cases[_i].status,
	    "%s: got %d, want %d (%s)", hs_cases[_i].name, status,
	    hs_cases[_i].status, h.h_reason != NULL ? h.h_reason : "-");
	ck_assert_int_eq(h.h_status, status);
	ck_assert_ptr_nonnull(h.h_reason);
	if (hs_cases[_i].extra == NULL)
		ck_assert_ptr_null(h.h_extra);
	else {
		ck_assert_ptr_nonnull(h.h_extra);
		ck_assert_str_eq(h.h_extra, hs_cases[_i].extra);
	}
	if (hs_cases[_i].route == NULL)
		ck_assert_ptr_null(h.h_route);
	else {
		ck_assert_ptr_nonnull(h.h_route);
		ck_assert_str_eq(h.h_route->r_path, hs_cases[_i].route);
	}
	if (status == 101) {
		ck_assert_ptr_nonnull(h.h_backend);
		ck_assert_uint_eq(strlen(h.h_accept), HTTP_ACCEPT_LEN);
	} else {
		ck_assert_ptr_null(h.h_backend);
		ck_assert_ptr_null(h.h_subprotocol);
		ck_assert_uint_gt(strlen(h.h_body), 0);
		ck_assert_str_eq(h.h_accept, "");
	}
}
END_TEST

/* Subprotocol selection */

#define PROTO(v)	"Sec-WebSocket-Protocol: " v "\r\n"

static const struct {
	const char	*name;
	const char	*raw;
	int		 status;
	const char	*subproto;	/* echoed token, NULL for none */
	const char	*backend;	/* chosen backend's path */
} sp_cases[] = {
	{ "one offered", GET("/chat") GOOD PROTO("chat.v1") END, 101,
	    "chat.v1", "/run/chat-v1.sock" },
	{ "config order wins over client order", GET("/chat") GOOD
	    PROTO("chat.v1, chat.v2") END, 101, "chat.v2",
	    "/run/chat-v2.sock" },
	{ "several lines", GET("/chat") GOOD PROTO("chat.v1") PROTO("chat.v2")
	    END, 101, "chat.v2", "/run/chat-v2.sock" },
	{ "several lines, unknown first", GET("/chat") GOOD PROTO("x, y")
	    PROTO("z,chat.v1") END, 101, "chat.v1", "/run/chat-v1.sock" },
	{ "blanks around tokens", GET("/chat") GOOD
	    PROTO("foo ,\t chat.v1\t, bar") END, 101, "chat.v1",
	    "/run/chat-v1.sock" },
	{ "empty elements", GET("/chat") GOOD PROTO(",, chat.v1 ,,") END,
	    101, "chat.v1", "/run/chat-v1.sock" },
	{ "header name in any case", GET("/chat") GOOD
	    "sec-websocket-protocol: chat.v1\r\n" END, 101, "chat.v1",
	    "/run/chat-v1.sock" },
	{ "tokens are case-sensitive", GET("/chat") GOOD
	    PROTO("Chat.V2, CHAT.V1") END, 101, NULL,
	    "/run/chat-legacy.sock" },
	{ "no prefix or suffix match", GET("/chat") GOOD
	    PROTO("chat.v2x, xchat.v1, chat") END, 101, NULL,
	    "/run/chat-legacy.sock" },
	{ "no token inside a token", GET("/chat") GOOD PROTO("chat.v1 chat.v2")
	    END, 101, NULL, "/run/chat-legacy.sock" },
	{ "unknown only: default", GET("/chat") GOOD PROTO("foo, bar") END,
	    101, NULL, "/run/chat-legacy.sock" },
	{ "none offered: default", GET("/chat") GOOD END, 101, NULL,
	    "/run/chat-legacy.sock" },
	{ "empty header: default", GET("/chat") GOOD PROTO("") END, 101,
	    NULL, "/run/chat-legacy.sock" },
	{ "strict, offered", GET("/strict") GOOD PROTO("foo") PROTO("chat.v1")
	    END, 101, "chat.v1", "/run/strict-v1.sock" },
	{ "strict, case differs", GET("/strict") GOOD PROTO("chat.V1") END,
	    400, NULL, NULL },
	{ "strict, unknown only", GET("/strict") GOOD PROTO("chat.v3") END,
	    400, NULL, NULL },
	{ "strict, none offered", GET("/strict") GOOD END, 400, NULL, NULL },
	{ "no list: anything goes", GET("/echo") GOOD PROTO("chat.v2") END,
	    101, NULL, "/run/echo.sock" }
};

START_TEST(test_subprotocols)
{
	struct http_request	 req;
	struct http_handshake	 h;
	int			 status;

	status = handshake(sp_cases[_i].raw, &req, &h);
	ck_assert_msg(status == sp_cases[_i].status, "%s: got %d, want %d",
	    sp_cases[_i].name, status, sp_cases[_i].status);
	if (status != 101) {
		ck_assert_str_eq(h.h_body, "no supported subprotocol offered; "
		    "this route supports: chat.v2, chat.v1");
		ck_assert_ptr_null(h.h_backend);
		ck_assert_ptr_null(h.h_subprotocol);
		return;
	}
	if (sp_cases[_i].subproto == NULL)
		ck_assert_ptr_null(h.h_subprotocol);
	else {
		ck_assert_ptr_nonnull(h.h_subprotocol);
		ck_assert_str_eq(h.h_subprotocol, sp_cases[_i].subproto);
	}
	ck_assert_ptr_nonnull(h.h_backend);
	ck_assert_str_eq(h.h_backend->b_path, sp_cases[_i].backend);
}
END_TEST

/* The echoed token and the backend are the config's own. */
START_TEST(test_subprotocol_points_into_config)
{
	struct http_request	 req;
	struct http_handshake	 h;

	ck_assert_int_eq(handshake(GET("/chat") GOOD PROTO("chat.v1") END,
	    &req, &h), 101);
	ck_assert_ptr_eq(h.h_subprotocol, chat_subs[1].s_name);
	ck_assert_ptr_eq(h.h_backend, &chat_subs[1].s_backend);
	ck_assert_int_eq(h.h_backend->b_framing, FRAMING_LINE);
}
END_TEST

/* A long supported list is cut with "..." inside h_body. */
START_TEST(test_subprotocol_body_truncated)
{
	struct conf_subproto	 subs[30];
	struct conf_route	 r;
	struct conf		 c;
	struct http_request	 req;
	struct http_handshake	 h;
	char			 names[30][40];
	size_t			 i, len;
	static const char	 raw[] = GET("/many") GOOD END;

	memset(&r, 0, sizeof(r));
	memset(&c, 0, sizeof(c));
	for (i = 0; i < 30; i++) {
		snprintf(names[i], sizeof(names[i]),
		    "subprotocol-with-a-long-name-%02zu", i);
		memset(&subs[i], 0, sizeof(subs[i]));
		subs[i].s_name = names[i];
		subs[i].s_backend.b_path = "/run/x.sock";
	}
	r.r_path = "/many";
	r.r_subprotos = subs;
	r.r_nsubprotos = 30;
	c.c_routes = &r;
	c.c_nroutes = 1;

	ck_assert_int_eq(http_parse_request(S(raw), &req), 0);
	ck_assert_int_eq(http_handshake(&req, &c, &h), 400);
	len = strlen(h.h_body);
	ck_assert_uint_eq(len, sizeof(h.h_body) - 1);
	ck_assert_str_eq(h.h_body + len - 3, "...");
	ck_assert_ptr_nonnull(strstr(h.h_body, "this route supports: "
	    "subprotocol-with-a-long-name-00, "
	    "subprotocol-with-a-long-name-01, "));
}
END_TEST

/* A route with neither subprotocols nor backend cannot come from
 * conf_load(); if one did, the answer is 500, not a NULL backend. */
START_TEST(test_route_without_backend)
{
	struct conf_route	 r;
	struct conf		 c;
	struct http_request	 req;
	struct http_handshake	 h;
	static const char	 raw[] = GET("/none") GOOD END;

	memset(&r, 0, sizeof(r));
	memset(&c, 0, sizeof(c));
	r.r_path = "/none";
	c.c_routes = &r;
	c.c_nroutes = 1;
	ck_assert_int_eq(http_parse_request(S(raw), &req), 0);
	ck_assert_int_eq(http_handshake(&req, &c, &h), 500);
	ck_assert_ptr_null(h.h_backend);
}
END_TEST

/* Responses */

START_TEST(test_upgrade_response)
{
	static const char want[] = "HTTP/1.1 101 Switching Protocols\r\n"
	    "Upgrade: websocket\r\n"
	    "Connection: Upgrade\r\n"
	    "Sec-WebSocket-Accept: " RFC_ACCEPT "\r\n"
	    "\r\n";
	static const char want_proto[] = "HTTP/1.1 101 Switching Protocols\r\n"
	    "Upgrade: websocket\r\n"
	    "Connection: Upgrade\r\n"
	    "Sec-WebSocket-Accept: " RFC_ACCEPT "\r\n"
	    "Sec-WebSocket-Protocol: chat.v2\r\n"
	    "\r\n";
	char	 buf[512];
	size_t	 size;

	ck_assert_uint_eq(http_upgrade_response(buf, sizeof(buf), RFC_ACCEPT,
	    NULL, NULL), LEN(want));
	ck_assert_str_eq(buf, want);
	ck_assert_uint_eq(http_upgrade_response(buf, sizeof(buf), RFC_ACCEPT,
	    "chat.v2", NULL), LEN(want_proto));
	ck_assert_str_eq(buf, want_proto);

	/* It needs room for the NUL too. */
	for (size = 0; size <= LEN(want_proto); size++)
		ck_assert_uint_eq(http_upgrade_response(buf, size, RFC_ACCEPT,
		    "chat.v2", NULL), 0);
	ck_assert_uint_eq(http_upgrade_response(buf, size, RFC_ACCEPT,
	    "chat.v2", NULL), LEN(want_proto));
}
END_TEST

START_TEST(test_error_response)
{
	static const char want[] = "HTTP/1.1 426 Upgrade Required\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Length: 13\r\n"
	    "Connection: close\r\n"
	    "Sec-WebSocket-Version: 13\r\n"
	    "\r\n"
	    "bad version.\n";
	static const char want_plain[] = "HTTP/1.1 404 Not Found\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Length: 10\r\n"
	    "Connection: close\r\n"
	    "\r\n"
	    "Not Found\n";
	char	 buf[512];
	size_t	 size;

	ck_assert_uint_eq(http_error_response(buf, sizeof(buf), 426,
	    "Sec-WebSocket-Version: 13\r\n", "bad version."), LEN(want));
	ck_assert_str_eq(buf, want);
	ck_assert_uint_eq(http_error_response(buf, sizeof(buf), 404, NULL,
	    NULL), LEN(want_plain));
	ck_assert_str_eq(buf, want_plain);

	for (size = 0; size <= LEN(want); size++)
		ck_assert_uint_eq(http_error_response(buf, size, 426,
		    "Sec-WebSocket-Version: 13\r\n", "bad version."), 0);
	ck_assert_uint_eq(http_error_response(buf, size, 426,
	    "Sec-WebSocket-Version: 13\r\n", "bad version."), LEN(want));
}
END_TEST

/* What the glue sends for a refusal: Content-Length matches the body. */
START_TEST(test_error_response_from_handshake)
{
	struct http_request	 req;
	struct http_handshake	 h;
	char			 buf[1024], cl[64];
	const char		*body;
	size_t			 len;

	ck_assert_int_eq(handshake(GET("/strict") GOOD END, &req, &h), 400);
	len = http_error_response(buf, sizeof(buf), h.h_status, h.h_extra,
	    h.h_body);
	ck_assert_uint_gt(len, 0);
	ck_assert_ptr_nonnull(body = strstr(buf, "\r\n\r\n"));
	body += 4;
	ck_assert_str_eq(body, "no supported subprotocol offered; "
	    "this route supports: chat.v2, chat.v1\n");
	ck_assert_ptr_nonnull(strstr(buf, "HTTP/1.1 400 Bad Request\r\n"));
	snprintf(cl, sizeof(cl), "\r\nContent-Length: %zu\r\n", strlen(body));
	ck_assert_ptr_nonnull(strstr(buf, cl));
}
END_TEST

static const struct {
	int		 status;
	const char	*text;
} statuses[] = {
	{ 101, "Switching Protocols" },
	{ 400, "Bad Request" },
	{ 403, "Forbidden" },
	{ 404, "Not Found" },
	{ 405, "Method Not Allowed" },
	{ 408, "Request Timeout" },
	{ 426, "Upgrade Required" },
	{ 431, "Request Header Fields Too Large" },
	{ 500, "Internal Server Error" },
	{ 502, "Bad Gateway" },
	{ 503, "Service Unavailable" },
	{ 504, "Gateway Timeout" },
	{ 505, "HTTP Version Not Supported" },
	{ 418, "Error" },
	{ -1, "Error" }
};

START_TEST(test_status_text)
{

	ck_assert_str_eq(http_status_text(statuses[_i].status),
	    statuses[_i].text);
}
END_TEST

/* permessage-deflate offers (RFC 7692 7): accepted, or declined */

#define EXT(v)	"Sec-WebSocket-Extensions: " v "\r\n"
#define PMD	"permessage-deflate"

static const struct {
	const char	*headers;	/* extension header lines */
	int		 max_bits;
	const char	*want;		/* the response value; NULL: declined */
} pmd_cases[] = {
	{ "", 15, NULL },
	{ EXT(PMD), 15, PMD },
	{ EXT("Permessage-Deflate"), 15, PMD },
	{ EXT(PMD "; client_max_window_bits"), 15, PMD },
	{ EXT(PMD "; client_max_window_bits=9"), 15,
	  PMD "; client_max_window_bits=9" },
	{ EXT(PMD "; client_max_window_bits=8"), 15,
	  PMD "; client_max_window_bits=8" },
	{ EXT(PMD "; server_max_window_bits=10"), 15,
	  PMD "; server_max_window_bits=10" },
	{ EXT(PMD "; server_max_window_bits=15"), 15,
	  PMD "; server_max_window_bits=15" },
	{ EXT(PMD "; server_no_context_takeover"), 15,
	  PMD "; server_no_context_takeover" },
	{ EXT(PMD "; client_no_context_takeover"), 15,
	  PMD "; client_no_context_takeover" },
	{ EXT(PMD "; client_no_context_takeover; server_no_context_takeover; "
	  "server_max_window_bits=10; client_max_window_bits=12"), 15,
	  PMD "; server_no_context_takeover; client_no_context_takeover; "
	  "server_max_window_bits=10; client_max_window_bits=12" },
	{ EXT(PMD " ;server_max_window_bits = \"11\" "), 15,
	  PMD "; server_max_window_bits=11" },
	/* declined: the handshake goes on without the extension */
	{ EXT(PMD "; foo"), 15, NULL },
	{ EXT(PMD "; foo=1"), 15, NULL },
	{ EXT(PMD "; server_no_context_takeover; "
	  "server_no_context_takeover"), 15, NULL },
	{ EXT(PMD "; server_no_context_takeover=1"), 15, NULL },
	{ EXT(PMD "; server_max_window_bits"), 15, NULL },
	{ EXT(PMD "; server_max_window_bits=8"), 15, NULL },
	{ EXT(PMD "; server_max_window_bits=7"), 15, NULL },
	{ EXT(PMD "; server_max_window_bits=16"), 15, NULL },
	{ EXT(PMD "; server_max_window_bits=010"), 15, NULL },
	{ EXT(PMD "; server_max_window_bits=1x"), 15, NULL },
	{ EXT(PMD "; client_max_window_bits=7"), 15, NULL },
	{ EXT(PMD "; client_max_window_bits=\"1\\5\""), 15, NULL },
	{ EXT(PMD ";;"), 15, NULL },
	{ EXT(PMD "; server_max_window_bits=\"10"), 15, NULL },
	{ EXT(PMD " x"), 15, NULL },
	{ EXT("x-webkit-deflate-frame"), 15, NULL },
	{ EXT(PMD "; a=1; b=2; c=3; d=4; e=5; f=6; g=7; h=8; i=9"), 15,
	  NULL },
	/* the first acceptable offer wins, over lines and list elements */
	{ EXT("x-webkit-deflate-frame, " PMD), 15, PMD },
	{ EXT(PMD "; server_max_window_bits=8, " PMD
	  "; client_no_context_takeover"), 15,
	  PMD "; client_no_context_takeover" },
	{ EXT(PMD "; x=\"a,b\", " PMD "; server_no_context_takeover"), 15,
	  PMD "; server_no_context_takeover" },
	{ EXT(PMD "; bad") EXT(PMD "; server_max_window_bits=12"), 15,
	  PMD "; server_max_window_bits=12" },
	{ EXT(",, " PMD " ,,"), 15, PMD },
	/* a capped window */
	{ EXT(PMD), 10, NULL },
	{ EXT(PMD "; client_max_window_bits"), 10,
	  PMD "; client_max_window_bits=10" },
	{ EXT(PMD "; client_max_window_bits=9"), 10,
	  PMD "; client_max_window_bits=9" },
	{ EXT(PMD "; server_max_window_bits=12; client_max_window_bits"), 10,
	  PMD "; server_max_window_bits=10; client_max_window_bits=10" },
	{ EXT(PMD "; server_max_window_bits=9; client_max_window_bits"), 10,
	  PMD "; server_max_window_bits=9; client_max_window_bits=10" },
};

START_TEST(test_pmd_negotiate)
{
	struct http_request	 req;
	struct dfl_params	 p;
	char			 raw[1024], out[256];
	size_t			 n;

	snprintf(raw, sizeof(raw), GET("/echo") GOOD "%s" END,
	    pmd_cases[_i].headers);
	ck_assert_int_eq(http_parse_request(raw, strlen(raw), &req), 0);
	http_pmd_negotiate(&req, pmd_cases[_i].max_bits, &p);
	n = http_pmd_response(out, sizeof(out), &p);
	if (pmd_cases[_i].want == NULL) {
		ck_assert_int_eq(p.p_on, 0);
		ck_assert_uint_eq(n, 0);
		return;
	}
	ck_assert_int_eq(p.p_on, 1);
	ck_assert_uint_eq(n, strlen(out));
	ck_assert_str_eq(out, pmd_cases[_i].want);
	ck_assert_int_ge(p.p_server_bits, 9);
	ck_assert_int_le(p.p_server_bits, pmd_cases[_i].max_bits);
	ck_assert_int_le(p.p_client_bits, pmd_cases[_i].max_bits);
}
END_TEST

/* Only routes with compression negotiate; the answer carries it. */
START_TEST(test_pmd_handshake)
{
	struct http_request	 req;
	struct http_handshake	 h;
	char			 buf[512];

	ck_assert_int_eq(handshake(GET("/echo") GOOD EXT(PMD) END, &req, &h),
	    101);
	ck_assert_int_eq(h.h_pmd.p_on, 0);
	routes[0].r_compression = 1;
	ck_assert_int_eq(handshake(GET("/echo") GOOD EXT(PMD) END, &req, &h),
	    101);
	routes[0].r_compression = 0;
	ck_assert_int_eq(h.h_pmd.p_on, 1);
	ck_assert_uint_gt(http_upgrade_response(buf, sizeof(buf), RFC_ACCEPT,
	    NULL, PMD), 0);
	ck_assert_ptr_nonnull(strstr(buf,
	    "\r\nSec-WebSocket-Extensions: " PMD "\r\n\r\n"));
}
END_TEST

Suite *
http_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("http");

	tc = tcase_create("accept");
	tcase_add_loop_test(tc, test_accept_key, 0, NELEM(accept_keys));
	suite_add_tcase(s, tc);

	tc = tcase_create("parse");
	tcase_add_loop_test(tc, test_parse_fields, 0, NELEM(field_heads));
	tcase_add_loop_test(tc, test_parse_targets, 0, NELEM(targets));
	tcase_add_loop_test(tc, test_parse_errors, 0, NELEM(parse_errors));
	tcase_add_test(tc, test_parse_too_many_headers);
	tcase_add_test(tc, test_header_get);
	tcase_add_loop_test(tc, test_header_has_token, 0,
	    NELEM(tokens));
	suite_add_tcase(s, tc);

	tc = tcase_create("head_end");
	tcase_add_loop_test(tc, test_head_end_whole, 0, NELEM(heads));
	tcase_add_loop_test(tc, test_head_end_bytewise, 0, NELEM(heads));
	tcase_add_loop_test(tc, test_head_end_split, 0, NELEM(heads));
	suite_add_tcase(s, tc);

	tc = tcase_create("handshake");
	tcase_add_test(tc, test_handshake_valid);
	tcase_add_loop_test(tc, test_handshake_cases, 0, NELEM(hs_cases));
	tcase_add_test(tc, test_route_without_backend);
	suite_add_tcase(s, tc);

	tc = tcase_create("subprotocol");
	tcase_add_loop_test(tc, test_subprotocols, 0, NELEM(sp_cases));
	tcase_add_test(tc, test_subprotocol_points_into_config);
	tcase_add_test(tc, test_subprotocol_body_truncated);
	suite_add_tcase(s, tc);

	tc = tcase_create("response");
	tcase_add_test(tc, test_upgrade_response);
	tcase_add_test(tc, test_error_response);
	tcase_add_test(tc, test_error_response_from_handshake);
	tcase_add_loop_test(tc, test_status_text, 0, NELEM(statuses));
	suite_add_tcase(s, tc);

	tc = tcase_create("permessage-deflate");
	tcase_add_loop_test(tc, test_pmd_negotiate, 0, NELEM(pmd_cases));
	tcase_add_test(tc, test_pmd_handshake);
	suite_add_tcase(s, tc);

	return s;
}
