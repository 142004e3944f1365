/*
 * Fuzz the HTTP upgrade request parser and the handshake rules (http.c).
 *
 * Input: one byte seeding the split points, then the bytes a client sent.
 * The end of the request head is searched the way conn.c does it, the
 * buffer growing as reads arrive (resuming where the last search
 * stopped), and must be found where a one-shot search finds it.  The head
 * is then parsed and run through the handshake against a fixed config
 * with origins, subprotocols and a route without a default backend; every
 * pointer handed back must lie inside the input or the config, and the
 * response that would be sent must format.
 */
#include <sys/types.h>

#include "conf.h"
#include "fuzz.h"
#include "http.h"

#define MAX_HEAD	65536

static char	*origins[] = { "https://example.com", "http://b.example:8000" };

static struct conf_subproto subs[] = {
	{ .s_name = "chat.v2", .s_backend = { .b_path = "/run/v2.sock",
	    .b_framing = FRAMING_FRAME, .b_message_type = FRAMING_BINARY } },
	{ .s_name = "chat.v1", .s_backend = { .b_path = "/run/v1.sock",
	    .b_framing = FRAMING_LINE, .b_message_type = FRAMING_TEXT } }
};

static struct conf_route routes[] = {
	{ .r_path = "/echo", .r_has_backend = 1,
	  .r_backend = { .b_path = "/run/echo.sock",
	    .b_framing = FRAMING_LINE, .b_message_type = FRAMING_TEXT } },
	{ .r_path = "/chat", .r_origins = origins, .r_norigins = 2,
	  .r_subprotos = subs, .r_nsubprotos = 2, .r_has_backend = 1,
	  .r_backend = { .b_path = "/run/legacy.sock" }, .r_compression = 1 },
	{ .r_path = "/strict", .r_origins = origins, .r_norigins = 2,
	  .r_subprotos = subs, .r_nsubprotos = 2 },
	{ .r_path = "/", .r_has_backend = 1,
	  .r_backend = { .b_path = "/run/root.sock" } }
};

static struct conf tconf = {
	.c_refs = 1,
	.c_limits = { .compression_window_bits = 12 },
	.c_routes = routes,
	.c_nroutes = sizeof(routes) / sizeof(routes[0])
};

static int
inside(const char *p, size_t n, const char *buf, size_t len)
{
	return p >= buf && p + n <= buf + len;
}

static int
known_status(int s)
{
	return s == 400 || s == 403 || s == 404 || s == 405 || s == 426 ||
	    s == 431 || s == 500 || s == 505;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_request	 req;
	struct http_handshake	 hs;
	const struct http_header *h;
	struct fuzz_rng		 rng;
	const char		*buf;
	char			 out[2048], ext[256];
	size_t			 len, end, end1, have, searched, i, n;
	int			 st, hst, j;

	if (size < 1 || size > MAX_HEAD)
		return 0;
	fuzz_rng_init(&rng, data[0]);
	buf = (const char *)data + 1;
	len = size - 1;

	/* As reads arrive: search only what is new. */
	end1 = http_head_end(buf, len, 0);
	FUZZ_ASSERT(end1 <= len);
	end = 0;
	for (have = 0, searched = 0; have < len && end == 0; ) {
		have += fuzz_rng_cut(&rng, len - have);
		end = http_head_end(buf, have, searched);
		searched = have;
	}
	FUZZ_ASSERT(end == end1);
	if (end == 0)
		return 0;

	memset(&req, 0xa5, sizeof(req));
	if ((st = http_parse_request(buf, end, &req)) != 0) {
		FUZZ_ASSERT(st == 400 || st == 431 || st == 505);
		n = http_error_response(out, sizeof(out), st, NULL, "x");
		FUZZ_ASSERT(n > 0 && n < sizeof(out));
		return 0;
	}
	FUZZ_ASSERT(inside(req.method, req.method_len, buf, end));
	FUZZ_ASSERT(inside(req.target, req.target_len, buf, end));
	/* an absolute-form target with an empty path gets a static "/" */
	FUZZ_ASSERT(inside(req.path, req.path_len, buf, end) ||
	    (req.path_len == 1 && req.path[0] == '/'));
	FUZZ_ASSERT(req.query == NULL ||
	    inside(req.query, req.query_len, buf, end));
	FUZZ_ASSERT(req.nheaders <= HTTP_MAX_HEADERS);
	for (i = 0; i < req.nheaders; i++) {
		h = &req.headers[i];
		FUZZ_ASSERT(inside(h->name, h->name_len, buf, end));
		FUZZ_ASSERT(inside(h->value, h->value_len, buf, end));
	}
	(void)http_header_get(&req, "sec-websocket-key");
	(void)http_header_has_token(&req, "connection", "upgrade");

	memset(&hs, 0, sizeof(hs));
	hst = http_handshake(&req, &tconf, &hs);
	FUZZ_ASSERT(hst == hs.h_status);
	if (hst == 101) {
		FUZZ_ASSERT(hs.h_route != NULL && hs.h_backend != NULL);
		FUZZ_ASSERT(hs.h_backend->b_path != NULL);
		FUZZ_ASSERT(strlen(hs.h_accept) == HTTP_ACCEPT_LEN);
		if (hs.h_subprotocol != NULL) {
			for (j = 0; j < 2; j++)
				if (hs.h_subprotocol == subs[j].s_name)
					break;
			FUZZ_ASSERT(j < 2);
		}
		/* permessage-deflate (/chat): within the window cap */
		if (hs.h_pmd.p_on) {
			FUZZ_ASSERT(hs.h_route == &routes[1]);
			FUZZ_ASSERT(hs.h_pmd.p_server_bits >= 9 &&
			    hs.h_pmd.p_server_bits <= 12);
			FUZZ_ASSERT(hs.h_pmd.p_client_bits >= 8 &&
			    hs.h_pmd.p_client_bits <= 12);
			FUZZ_ASSERT(http_pmd_response(ext, sizeof(ext),
			    &hs.h_pmd) > 0);
		}
		n = http_upgrade_response(out, sizeof(out), hs.h_accept,
		    hs.h_subprotocol, hs.h_pmd.p_on ? ext : NULL);
		FUZZ_ASSERT(n > 0 && n < sizeof(out));
		FUZZ_ASSERT(memcmp(out, "HTTP/1.1 101 ", 13) == 0);
	} else {
		FUZZ_ASSERT(known_status(hst));
		FUZZ_ASSERT(hs.h_reason != NULL);
		FUZZ_ASSERT(memchr(hs.h_body, '\0', sizeof(hs.h_body)) != NULL);
		n = http_error_response(out, sizeof(out), hst, hs.h_extra,
		    hs.h_body[0] != '\0' ? hs.h_body : hs.h_reason);
		FUZZ_ASSERT(n > 0 && n < sizeof(out));
	}
	return 0;
}
