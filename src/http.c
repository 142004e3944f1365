/*
 * The WebSocket opening handshake (RFC 6455 section 4) over HTTP/1.1
 * (RFC 9112): a strict parser for the request head, the checks that
 * decide between 101 and a refusal, subprotocol and backend selection,
 * and the responses.  Pure: no I/O, no allocation of its own, no logging.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "http.h"

#define HTTP_WS_GUID		"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define HTTP_WS_GUID_LEN	(sizeof(HTTP_WS_GUID) - 1)
#define HTTP_KEY_LEN		24	/* base64 of 16 bytes: 22 chars "==" */
#define HTTP_EXT_PARAMS		8	/* more in one offer: declined */

/* One element of a Sec-WebSocket-Extensions list (RFC 6455 9.1). */
struct http_ext_param {
	const char	*name;
	size_t		 name_len;
	const char	*value;		/* NULL if none; quotes removed */
	size_t		 value_len;
};

struct http_ext {
	const char		*name;
	size_t			 name_len;
	struct http_ext_param	 params[HTTP_EXT_PARAMS];
	size_t			 nparams;
	int			 ok;	/* well-formed and not too long */
};

static int	http_is_tchar(unsigned char);
static int	http_is_blank(unsigned char);
static int	http_is_alpha(unsigned char);
static int	http_is_digit(unsigned char);
static int	http_is_b64(unsigned char);
static int	http_lower(unsigned char);
static int	http_caseeq(const char *, size_t, const char *, size_t);
static int	http_next_line(const char *, size_t, size_t *, const char **,
		    size_t *);
static int	http_parse_request_line(const char *, size_t,
		    struct http_request *);
static void	http_split_target(struct http_request *);
static int	http_parse_header(const char *, size_t, struct http_header *);
static int	http_list_has(const char *, size_t, const char *, size_t,
		    int);
static int	http_header_has(const struct http_request *, const char *,
		    const char *, size_t, int);
static size_t	http_header_count(const struct http_request *, const char *,
		    const struct http_header **);
static int	http_key_valid(const struct http_header *);
static int	http_origin_allowed(const struct http_request *,
		    const struct conf_route *);
static int	http_subproto(const struct http_request *,
		    const struct conf_route *, struct http_handshake *);
static int	http_refuse(struct http_handshake *, int, const char *,
		    const char *, const char *);
static int	http_ext_next(const char *, size_t, size_t *,
		    struct http_ext *);
static int	http_ext_token(const char *, size_t, size_t *);
static int	http_ext_bits(const struct http_ext_param *);
static int	http_pmd_offer(const struct http_ext *, int,
		    struct dfl_params *);

/* RFC 9110 5.6.2: tchar, the characters of a method or header name. */
static int
http_is_tchar(unsigned char c)
{
	if (http_is_alpha(c) || http_is_digit(c))
		return 1;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* OWS: space or horizontal tab. */
static int
http_is_blank(unsigned char c)
{
	return c == ' ' || c == '\t';
}

/* ASCII only, whatever the locale; <ctype.h> is not used on peer bytes. */
static int
http_is_alpha(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static int
http_is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static int
http_is_b64(unsigned char c)
{
	return http_is_alpha(c) || http_is_digit(c) || c == '+' || c == '/';
}

static int
http_lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}

/* 1 if a[0..alen) equals b[0..blen), ignoring ASCII case. */
static int
http_caseeq(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t	 i;

	if (alen != blen)
		return 0;
	for (i = 0; i < alen; i++)
		if (http_lower(a[i]) != http_lower(b[i]))
			return 0;
	return 1;
}

/*
 * The line starting at buf[*pos], without its "\n" or "\r\n", in *line
 * and *line_len; *pos moves past its "\n".  Returns -1 if no "\n" ends it.
 * A "\r" anywhere else stays in the line, where the callers refuse it.
 */
static int
http_next_line(const char *buf, size_t len, size_t *pos, const char **line,
    size_t *line_len)
{
	const char	*lf;
	size_t		 n;

	if (*pos >= len || (lf = memchr(buf + *pos, '\n', len - *pos)) == NULL)
		return -1;
	*line = buf + *pos;
	n = (size_t)(lf - *line);
	*pos += n + 1;
	if (n > 0 && (*line)[n - 1] == '\r')
		n--;
	*line_len = n;
	return 0;
}

/*
 * "METHOD SP request-target SP HTTP/D.D", nothing more: single spaces,
 * a method of tchars, a target of visible ASCII.  A well-formed version
 * other than 1.x is 505; everything else wrong is 400.
 */
static int
http_parse_request_line(const char *l, size_t n, struct http_request *req)
{
	const unsigned char	*u = (const unsigned char *)l;
	size_t			 i, start;

	for (i = 0; i < n && http_is_tchar(u[i]); i++)
		;
	if (i == 0 || i == n || u[i] != ' ')
		return 400;
	req->method = l;
	req->method_len = i;

	start = ++i;
	for (; i < n && u[i] > 0x20 && u[i] < 0x7f; i++)
		;
	if (i == start || i == n || u[i] != ' ')
		return 400;
	req->target = l + start;
	req->target_len = i - start;
	i++;

	if (n - i != 8 || memcmp(l + i, "HTTP/", 5) != 0 ||
	    !http_is_digit(u[i + 5]) || u[i + 6] != '.' ||
	    !http_is_digit(u[i + 7]))
		return 400;
	req->version_major = u[i + 5] - '0';
	req->version_minor = u[i + 7] - '0';
	http_split_target(req);
	if (req->version_major != 1)
		return 505;
	return 0;
}

/*
 * path and query from the target.  The origin form ("/chat?x") is what
 * clients send, but RFC 9112 3.2.2 says a server must accept the absolute
 * form too ("ws://host/chat?x"): its scheme and authority are skipped, and
 * an empty path there means "/".
 */
static void
http_split_target(struct http_request *req)
{
	const unsigned char	*t = (const unsigned char *)req->target;
	const char		*q;
	size_t			 n = req->target_len, i;

	if (n > 0 && http_is_alpha(t[0])) {
		for (i = 1; i < n && (http_is_alpha(t[i]) ||
		    http_is_digit(t[i]) || t[i] == '+' || t[i] == '-' ||
		    t[i] == '.'); i++)
			;
		if (n - i >= 3 && memcmp(t + i, "://", 3) == 0) {
			for (i += 3; i < n && t[i] != '/' && t[i] != '?'; i++)
				;
			t += i;
			n -= i;
		}
	}

	req->path = (const char *)t;
	req->query = NULL;
	req->query_len = 0;
	if ((q = memchr(t, '?', n)) != NULL) {
		req->path_len = (size_t)(q - req->path);
		req->query = q + 1;
		req->query_len = n - req->path_len - 1;
	} else
		req->path_len = n;
	if (req->path_len == 0) {
		req->path = "/";
		req->path_len = 1;
	}
}

/*
 * "name: value" with a tchar name directly followed by the colon, and a
 * value of visible characters, blanks and obs-text (bytes >= 0x80), with
 * the blanks around it trimmed.  A leading blank (obs-fold, RFC 9112
 * 5.2), blanks before the colon and any control character are 400.
 */
static int
http_parse_header(const char *l, size_t n, struct http_header *hdr)
{
	const unsigned char	*u = (const unsigned char *)l;
	size_t			 i, end, j;

	for (i = 0; i < n && http_is_tchar(u[i]); i++)
		;
	if (i == 0 || i == n || u[i] != ':')
		return 400;
	hdr->name = l;
	hdr->name_len = i;

	for (i++; i < n && http_is_blank(u[i]); i++)
		;
	for (end = n; end > i && http_is_blank(u[end - 1]); end--)
		;
	for (j = i; j < end; j++)
		if ((u[j] < 0x20 && u[j] != '\t') || u[j] == 0x7f)
			return 400;
	hdr->value = l + i;
	hdr->value_len = end - i;
	return 0;
}

/*
 * The head is parsed up to its first empty line; whatever follows it in
 * buf (pipelined frames) is not looked at.
 */
int
http_parse_request(const char *buf, size_t len, struct http_request *req)
{
	const char	*line;
	size_t		 pos = 0, n;
	int		 rv;

	memset(req, 0, sizeof(*req));

	if (http_next_line(buf, len, &pos, &line, &n) == -1)
		return 400;
	if ((rv = http_parse_request_line(line, n, req)) != 0)
		return rv;

	for (;;) {
		if (http_next_line(buf, len, &pos, &line, &n) == -1)
			return 400;
		if (n == 0)
			return 0;
		if (req->nheaders == HTTP_MAX_HEADERS)
			return 431;
		if ((rv = http_parse_header(line, n,
		    &req->headers[req->nheaders])) != 0)
			return rv;
		req->nheaders++;
	}
}

/*
 * The head ends at an LF followed by an empty line: "\n\n" or "\n\r\n"
 * (so "\r\n\r\n" and any mix of the two endings).  Only LFs at or after
 * from can end a head not found before; the bytes behind them that
 * complete the pattern are looked at again, nothing else is.
 */
size_t
http_head_end(const char *buf, size_t len, size_t from)
{
	const char	*lf;
	size_t		 j;

	for (j = from; j < len; j++) {
		if ((lf = memchr(buf + j, '\n', len - j)) == NULL)
			return 0;
		j = (size_t)(lf - buf);
		if (j >= 1 && buf[j - 1] == '\n')
			return j + 1;
		if (j >= 2 && buf[j - 1] == '\r' && buf[j - 2] == '\n')
			return j + 1;
	}
	return 0;
}

const struct http_header *
http_header_get(const struct http_request *req, const char *name)
{
	size_t	 i, len = strlen(name);

	for (i = 0; i < req->nheaders; i++)
		if (http_caseeq(req->headers[i].name, req->headers[i].name_len,
		    name, len))
			return &req->headers[i];
	return NULL;
}

/*
 * 1 if the comma-separated list v[0..vlen) has an element, blanks
 * trimmed, equal to tok (ASCII case ignored if icase).  Empty elements
 * ("a,,b") are skipped, as RFC 9110 5.6.1 asks.
 */
static int
http_list_has(const char *v, size_t vlen, const char *tok, size_t toklen,
    int icase)
{
	const char	*comma;
	size_t		 s, e, next;

	for (s = 0; s < vlen; s = next) {
		if ((comma = memchr(v + s, ',', vlen - s)) != NULL)
			e = (size_t)(comma - v);
		else
			e = vlen;
		next = e + 1;
		while (s < e && http_is_blank(v[s]))
			s++;
		while (e > s && http_is_blank(v[e - 1]))
			e--;
		if (e - s != toklen)
			continue;
		if (icase ? http_caseeq(v + s, toklen, tok, toklen) :
		    memcmp(v + s, tok, toklen) == 0)
			return 1;
	}
	return 0;
}

/* http_list_has() over every header called name. */
static int
http_header_has(const struct http_request *req, const char *name,
    const char *tok, size_t toklen, int icase)
{
	const struct http_header	*hdr;
	size_t				 i, len = strlen(name);

	for (i = 0; i < req->nheaders; i++) {
		hdr = &req->headers[i];
		if (http_caseeq(hdr->name, hdr->name_len, name, len) &&
		    http_list_has(hdr->value, hdr->value_len, tok, toklen,
		    icase))
			return 1;
	}
	return 0;
}

int
http_header_has_token(const struct http_request *req, const char *name,
    const char *token)
{
	return http_header_has(req, name, token, strlen(token), 1);
}

/* How many headers are called name; *first is the first one, or NULL. */
static size_t
http_header_count(const struct http_request *req, const char *name,
    const struct http_header **first)
{
	size_t	 i, n = 0, len = strlen(name);

	*first = NULL;
	for (i = 0; i < req->nheaders; i++) {
		if (!http_caseeq(req->headers[i].name, req->headers[i].name_len,
		    name, len))
			continue;
		if (n++ == 0)
			*first = &req->headers[i];
	}
	return n;
}

/*
 * RFC 6455 4.2.1: the key is 16 bytes in base64, which is always 22
 * alphabet characters and "==".  The pad bits of the last character are
 * not checked, as most decoders do not (RFC 4648 3.5 makes it optional).
 */
static int
http_key_valid(const struct http_header *key)
{
	const unsigned char	*u = (const unsigned char *)key->value;
	size_t			 i;

	if (key->value_len != HTTP_KEY_LEN)
		return 0;
	for (i = 0; i < HTTP_KEY_LEN - 2; i++)
		if (!http_is_b64(u[i]))
			return 0;
	return u[HTTP_KEY_LEN - 2] == '=' && u[HTTP_KEY_LEN - 1] == '=';
}

/*
 * A route without an origins list takes any Origin.  With one, every
 * Origin header must equal one of its entries exactly: a second Origin
 * line must not slip past the check of the first.
 */
static int
http_origin_allowed(const struct http_request *req,
    const struct conf_route *r)
{
	const struct http_header	*hdr;
	size_t				 i, j;

	if (r->r_origins == NULL)
		return 1;
	for (i = 0; i < req->nheaders; i++) {
		hdr = &req->headers[i];
		if (!http_caseeq(hdr->name, hdr->name_len, "Origin", 6))
			continue;
		for (j = 0; j < r->r_norigins; j++)
			if (strlen(r->r_origins[j]) == hdr->value_len &&
			    memcmp(r->r_origins[j], hdr->value,
			    hdr->value_len) == 0)
				break;
		if (j == r->r_norigins)
			return 0;
	}
	return 1;
}

/*
 * Pick the first of the route's subprotocols, in config order, that any
 * Sec-WebSocket-Protocol line offered (tokens are case-sensitive), else
 * the route's default backend with no subprotocol.  Returns 0, or the
 * refusal status.
 */
static int
http_subproto(const struct http_request *req, const struct conf_route *r,
    struct http_handshake *h)
{
	const struct conf_subproto	*s;
	size_t				 i, len;
	int				 n;

	for (i = 0; i < r->r_nsubprotos; i++) {
		s = &r->r_subprotos[i];
		if (http_header_has(req, "Sec-WebSocket-Protocol", s->s_name,
		    strlen(s->s_name), 0)) {
			h->h_subprotocol = s->s_name;
			h->h_backend = &s->s_backend;
			return 0;
		}
	}
	if (r->r_has_backend) {
		h->h_backend = &r->r_backend;
		return 0;
	}
	if (r->r_nsubprotos == 0)	/* conf_load() never lets this by */
		return http_refuse(h, 500, "route has no backend", NULL, NULL);

	http_refuse(h, 400, "no supported subprotocol", NULL,
	    "no supported subprotocol offered; this route supports: ");
	len = strlen(h->h_body);
	for (i = 0; i < r->r_nsubprotos; i++) {
		n = snprintf(h->h_body + len, sizeof(h->h_body) - len, "%s%s",
		    i > 0 ? ", " : "", r->r_subprotos[i].s_name);
		if (n < 0 || (size_t)n >= sizeof(h->h_body) - len) {
			/* Too many to list: end what fits with "...". */
			memcpy(h->h_body + sizeof(h->h_body) - 4, "...", 4);
			break;
		}
		len += (size_t)n;
	}
	return h->h_status;
}

/* Fill in a refusal; body NULL means the reason.  Returns status. */
static int
http_refuse(struct http_handshake *h, int status, const char *reason,
    const char *extra, const char *body)
{
	h->h_status = status;
	h->h_reason = reason;
	h->h_extra = extra;
	h->h_backend = NULL;
	h->h_subprotocol = NULL;
	(void)snprintf(h->h_body, sizeof(h->h_body), "%s",
	    body != NULL ? body : reason);
	return status;
}

int
http_handshake(const struct http_request *req, const struct conf *conf,
    struct http_handshake *h)
{
	const struct conf_route		*r;
	const struct http_header	*key, *ver, *hdr;
	size_t				 n;

	memset(h, 0, sizeof(*h));

	if ((r = conf_route_find(conf, req->path, req->path_len)) == NULL)
		return http_refuse(h, 404, "unknown path", NULL, NULL);
	h->h_route = r;

	if (req->method_len != 3 || memcmp(req->method, "GET", 3) != 0)
		return http_refuse(h, 405, "method not allowed",
		    "Allow: GET\r\n", "method not allowed; use GET");

	if (!http_header_has_token(req, "Upgrade", "websocket"))
		return http_refuse(h, 426, "not a websocket upgrade",
		    "Upgrade: websocket\r\n",
		    "this is a WebSocket endpoint; "
		    "send a WebSocket upgrade request");

	if (req->version_major < 1 ||
	    (req->version_major == 1 && req->version_minor < 1))
		return http_refuse(h, 400, "upgrade over HTTP/1.0", NULL,
		    "a WebSocket upgrade needs HTTP/1.1");
	/* RFC 9112 3.2: a missing or repeated Host is a 400. */
	if ((n = http_header_count(req, "Host", &hdr)) != 1)
		return http_refuse(h, 400,
		    n == 0 ? "missing Host" : "repeated Host", NULL, NULL);
	if (!http_header_has_token(req, "Connection", "upgrade"))
		return http_refuse(h, 400, "no upgrade in Connection", NULL,
		    NULL);
	if ((n = http_header_count(req, "Sec-WebSocket-Key", &key)) != 1)
		return http_refuse(h, 400, n == 0 ?
		    "missing Sec-WebSocket-Key" : "repeated Sec-WebSocket-Key",
		    NULL, NULL);
	if (!http_key_valid(key))
		return http_refuse(h, 400, "bad Sec-WebSocket-Key", NULL, NULL);

	if ((n = http_header_count(req, "Sec-WebSocket-Version", &ver)) == 0)
		return http_refuse(h, 426, "missing Sec-WebSocket-Version",
		    "Sec-WebSocket-Version: 13\r\n",
		    "missing Sec-WebSocket-Version; this server speaks 13");
	if (n != 1 || ver->value_len != 2 || memcmp(ver->value, "13", 2) != 0)
		return http_refuse(h, 426, "unsupported Sec-WebSocket-Version",
		    "Sec-WebSocket-Version: 13\r\n",
		    "unsupported Sec-WebSocket-Version; this server speaks 13");

	if (!http_origin_allowed(req, r))
		return http_refuse(h, 403, "origin not allowed", NULL, NULL);

	if (http_subproto(req, r, h) != 0)
		return h->h_status;
	if (r->r_compression)
		http_pmd_negotiate(req, conf->c_limits.compression_window_bits,
		    &h->h_pmd);

	http_accept_key(key->value, key->value_len, h->h_accept);
	if (h->h_accept[0] == '\0')
		return http_refuse(h, 500, "SHA-1 failed", NULL, NULL);
	h->h_status = 101;
	h->h_reason = "upgraded";
	return h->h_status;
}

/*
 * The next element of an extension list at v[*pos], into *e: 0 at the
 * end of the list, else 1 with e->ok telling whether it was well formed
 * ("name *( ; param [= token / quoted-string] )").  A malformed element
 * is skipped up to the next comma outside quotes, so that the elements
 * after it are still read.  Empty elements (",,") are skipped, as
 * RFC 9110 5.6.1 asks.
 */
static int
http_ext_next(const char *v, size_t len, size_t *pos,
    struct http_ext *e)
{
	struct http_ext_param	*p;
	size_t			 i = *pos, start;
	int			 quoted = 0;

	memset(e, 0, sizeof(*e));
	while (i < len && (http_is_blank(v[i]) || v[i] == ','))
		i++;
	if (i == len) {
		*pos = i;
		return 0;
	}
	start = i;
	if (!http_ext_token(v, len, &i))
		goto bad;
	e->name = v + start;
	e->name_len = i - start;
	for (;;) {
		while (i < len && http_is_blank(v[i]))
			i++;
		if (i == len || v[i] == ',')
			break;
		if (v[i++] != ';')
			goto bad;
		while (i < len && http_is_blank(v[i]))
			i++;
		if (e->nparams == HTTP_EXT_PARAMS)
			goto bad;
		p = &e->params[e->nparams++];
		start = i;
		if (!http_ext_token(v, len, &i))
			goto bad;
		p->name = v + start;
		p->name_len = i - start;
		while (i < len && http_is_blank(v[i]))
			i++;
		if (i == len || v[i] != '=')
			continue;
		i++;
		while (i < len && http_is_blank(v[i]))
			i++;
		if (i < len && v[i] == '"') {
			/* quoted-string: an escaped byte is declined below */
			start = ++i;
			while (i < len && v[i] != '"')
				i++;
			if (i == len)
				goto bad;
			p->value = v + start;
			p->value_len = i++ - start;
		} else {
			start = i;
			if (!http_ext_token(v, len, &i))
				goto bad;
			p->value = v + start;
			p->value_len = i - start;
		}
	}
	e->ok = 1;
	*pos = i < len ? i + 1 : i;
	return 1;

 bad:
	for (; i < len; i++) {
		if (v[i] == '"')
			quoted = !quoted;
		else if (v[i] == ',' && !quoted)
			break;
	}
	*pos = i < len ? i + 1 : i;
	e->ok = 0;
	return 1;
}

/* Skip a token at v[*i]; 0 if there is none. */
static int
http_ext_token(const char *v, size_t len, size_t *i)
{
	size_t	 start = *i;

	while (*i < len && http_is_tchar((unsigned char)v[*i]))
		(*i)++;
	return *i > start;
}

/*
 * A window size parameter's value: 8..15, digits only, no leading zero
 * (RFC 7692 7.1.2).  -1 if it is anything else.
 */
static int
http_ext_bits(const struct http_ext_param *p)
{
	if (p->value == NULL)
		return -1;
	if (p->value_len == 1 && p->value[0] >= '8' && p->value[0] <= '9')
		return p->value[0] - '0';
	if (p->value_len == 2 && p->value[0] == '1' &&
	    p->value[1] >= '0' && p->value[1] <= '5')
		return 10 + p->value[1] - '0';
	return -1;
}

/*
 * One permessage-deflate offer (RFC 7692 7.1): 1 and *p if it can be
 * accepted with windows of at most max_bits, 0 to decline it.  Declined:
 * unknown or repeated parameters, bad values, a server window below 9
 * (zlib cannot deflate with 8 bits), and, when max_bits is below 15, an
 * offer without client_max_window_bits, since the client would then use
 * a 32 KiB window the gateway has promised not to allocate.
 */
static int
http_pmd_offer(const struct http_ext *e, int max_bits, struct dfl_params *p)
{
	static const char *const names[] = { "server_no_context_takeover",
	    "client_no_context_takeover", "server_max_window_bits",
	    "client_max_window_bits" };
	const struct http_ext_param *q;
	int		 seen[4] = { 0, 0, 0, 0 }, sbits = -1, cbits = 15;
	size_t		 i, k;

	memset(p, 0, sizeof(*p));
	for (i = 0; i < e->nparams; i++) {
		q = &e->params[i];
		for (k = 0; k < 4; k++)
			if (http_caseeq(q->name, q->name_len, names[k],
			    strlen(names[k])))
				break;
		if (k == 4 || seen[k]++)
			return 0;
		switch (k) {
		case 0:
		case 1:
			if (q->value != NULL)
				return 0;
			break;
		case 2:
			if ((sbits = http_ext_bits(q)) == -1)
				return 0;
			break;
		case 3:
			if (q->value != NULL &&
			    (cbits = http_ext_bits(q)) == -1)
				return 0;
			break;
		}
	}
	p->p_server_no_context = seen[0];
	p->p_client_no_context = seen[1];
	p->p_server_bits = max_bits;
	if (sbits != -1) {
		if (sbits < max_bits)
			p->p_server_bits = sbits;
		if (p->p_server_bits < 9)
			return 0;
		p->p_server_bits_sent = 1;
	}
	if (!seen[3] && max_bits < DFL_MAX_BITS)
		return 0;
	p->p_client_bits = cbits < max_bits ? cbits : max_bits;
	p->p_client_bits_sent = seen[3] && p->p_client_bits < DFL_MAX_BITS;
	p->p_on = 1;
	return 1;
}

void
http_pmd_negotiate(const struct http_request *req, int max_bits,
    struct dfl_params *p)
{
	const struct http_header	*hdr;
	struct http_ext			 e;
	size_t				 i, pos;

	memset(p, 0, sizeof(*p));
	if (max_bits < 9 || max_bits > DFL_MAX_BITS)
		max_bits = DFL_MAX_BITS;
	for (i = 0; i < req->nheaders; i++) {
		hdr = &req->headers[i];
		if (!http_caseeq(hdr->name, hdr->name_len,
		    "Sec-WebSocket-Extensions", 24))
			continue;
		pos = 0;
		while (http_ext_next(hdr->value, hdr->value_len, &pos, &e)) {
			if (e.ok && http_caseeq(e.name, e.name_len,
			    "permessage-deflate", 18) &&
			    http_pmd_offer(&e, max_bits, p))
				return;
		}
	}
	memset(p, 0, sizeof(*p));
}

size_t
http_pmd_response(char *buf, size_t size, const struct dfl_params *p)
{
	char	 sb[32] = "", cb[32] = "";
	int	 n;

	if (!p->p_on)
		return 0;
	if (p->p_server_bits_sent)
		(void)snprintf(sb, sizeof(sb), "; server_max_window_bits=%d",
		    p->p_server_bits);
	if (p->p_client_bits_sent)
		(void)snprintf(cb, sizeof(cb), "; client_max_window_bits=%d",
		    p->p_client_bits);
	n = snprintf(buf, size, "permessage-deflate%s%s%s%s",
	    p->p_server_no_context ? "; server_no_context_takeover" : "",
	    p->p_client_no_context ? "; client_no_context_takeover" : "",
	    sb, cb);
	if (n < 0 || (size_t)n >= size)
		return 0;
	return (size_t)n;
}

/*
 * SHA1() wants the input in one piece: a real key (24 bytes) is hashed
 * from a buffer on the stack; an oversized one goes through an EVP
 * context instead, so the answer is right for any input.  out is "" if
 * libcrypto fails.
 */
void
http_accept_key(const char *key, size_t key_len,
    char out[HTTP_ACCEPT_LEN + 1])
{
	unsigned char	 in[128], md[SHA_DIGEST_LENGTH];
	EVP_MD_CTX	*ctx;
	int		 ok;

	out[0] = '\0';
	if (key_len <= sizeof(in) - HTTP_WS_GUID_LEN) {
		memcpy(in, key, key_len);
		memcpy(in + key_len, HTTP_WS_GUID, HTTP_WS_GUID_LEN);
		if (SHA1(in, key_len + HTTP_WS_GUID_LEN, md) == NULL)
			return;
	} else {
		if ((ctx = EVP_MD_CTX_new()) == NULL)
			return;
		ok = EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) == 1 &&
		    EVP_DigestUpdate(ctx, key, key_len) == 1 &&
		    EVP_DigestUpdate(ctx, HTTP_WS_GUID,
		    HTTP_WS_GUID_LEN) == 1 &&
		    EVP_DigestFinal_ex(ctx, md, NULL) == 1;
		EVP_MD_CTX_free(ctx);
		if (!ok)
			return;
	}
	(void)EVP_EncodeBlock((unsigned char *)out, md, sizeof(md));
}

size_t
http_upgrade_response(char *buf, size_t size, const char *accept,
    const char *subprotocol, const char *extensions)
{
	int	 n;

	n = snprintf(buf, size,
	    "HTTP/1.1 101 Switching Protocols\r\n"
	    "Upgrade: websocket\r\n"
	    "Connection: Upgrade\r\n"
	    "Sec-WebSocket-Accept: %s\r\n"
	    "%s%s%s"
	    "%s%s%s"
	    "\r\n",
	    accept,
	    subprotocol != NULL ? "Sec-WebSocket-Protocol: " : "",
	    subprotocol != NULL ? subprotocol : "",
	    subprotocol != NULL ? "\r\n" : "",
	    extensions != NULL ? "Sec-WebSocket-Extensions: " : "",
	    extensions != NULL ? extensions : "",
	    extensions != NULL ? "\r\n" : "");
	if (n < 0 || (size_t)n >= size)
		return 0;
	return (size_t)n;
}

size_t
http_error_response(char *buf, size_t size, int status, const char *extra,
    const char *body)
{
	int	 n;

	if (body == NULL)
		body = http_status_text(status);
	n = snprintf(buf, size,
	    "HTTP/1.1 %d %s\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Length: %zu\r\n"
	    "Connection: close\r\n"
	    "%s"
	    "\r\n"
	    "%s\n",
	    status, http_status_text(status), strlen(body) + 1,
	    extra != NULL ? extra : "", body);
	if (n < 0 || (size_t)n >= size)
		return 0;
	return (size_t)n;
}

const char *
http_status_text(int status)
{
	switch (status) {
	case 101:
		return "Switching Protocols";
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 408:
		return "Request Timeout";
	case 426:
		return "Upgrade Required";
	case 431:
		return "Request Header Fields Too Large";
	case 500:
		return "Internal Server Error";
	case 502:
		return "Bad Gateway";
	case 503:
		return "Service Unavailable";
	case 504:
		return "Gateway Timeout";
	case 505:
		return "HTTP Version Not Supported";
	default:
		return "Error";
	}
}
