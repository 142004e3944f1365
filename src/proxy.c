/*
 * Client identity: the PROXY header a load balancer sends in front of a
 * client connection (listeners with proxy_protocol), and the preamble a
 * route writes to its backend before the first relayed byte.  The
 * formats are preamble.c's; this is the I/O around them.
 *
 * The PROXY header is read from the socket before anything else,
 * TLS included, and never a byte past it: each read peeks, and only the
 * bytes that belong to the header are taken off the socket (all of them
 * while it is incomplete, since a header that is not complete yet owns
 * every byte received so far).  So the bufferevent, plain or TLS, that
 * conn_client_start() creates afterwards starts exactly at the client's
 * first byte.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "http.h"
#include "log.h"
#include "preamble.h"
#include "wsgated.h"

/* A connection waiting for its balancer's PROXY header. */
struct proxy_wait {
	struct conn	*pw_conn;
	int		 pw_fd;
	struct event	*pw_read;
	struct event	*pw_timer;	/* handshake_timeout_ms */
	size_t		 pw_have;	/* header bytes already taken */
	uint8_t		 pw_buf[PREAMBLE_PROXY_MAX];
};

static void	proxy_readcb(evutil_socket_t, short, void *);
static void	proxy_timercb(evutil_socket_t, short, void *);
static void	proxy_drop(struct conn *, const char *);
static void	proxy_sockaddr(struct preamble_addr *, const struct sockaddr *);
static void	proxy_peer_name(char *, size_t, const struct preamble_addr *);
static int	proxy_mask_match(const struct conf_netmask *,
		    const struct preamble_addr *);
static int	proxy_trusted(const struct conf_listen *,
		    const struct preamble_addr *);
static int	proxy_xff_addr(const char *, size_t, struct preamble_addr *);

/*
 * Start waiting for the PROXY header on fd, the conn's accepted socket
 * (the conn owns it from now on).  The conn is freed here if that fails.
 */
void
proxy_accept(struct conn *c, int fd)
{
	struct event_base	*base = c->c_worker->w_base;
	struct proxy_wait	*pw;
	struct timeval		 tv;
	unsigned int		 ms = c->c_conf->c_limits.handshake_timeout_ms;

	if ((pw = calloc(1, sizeof(*pw))) == NULL) {
		log_warn("#%" PRIu64 " %s: PROXY wait", c->c_id, c->c_peer);
		close(fd);
		conn_check(c);
		return;
	}
	pw->pw_conn = c;
	pw->pw_fd = fd;
	c->c_proxy = pw;
	if ((pw->pw_read = event_new(base, fd, EV_READ | EV_PERSIST,
	    proxy_readcb, c)) == NULL ||
	    (pw->pw_timer = evtimer_new(base, proxy_timercb, c)) == NULL) {
		proxy_drop(c, "out of memory");
		return;
	}
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(pw->pw_timer, &tv);
	event_add(pw->pw_read, NULL);
}

/* Stop waiting: free the wait, and close the socket unless it was handed on. */
void
proxy_cancel(struct conn *c, int close_fd)
{
	struct proxy_wait	*pw = c->c_proxy;

	if (pw == NULL)
		return;
	if (pw->pw_read != NULL)
		event_free(pw->pw_read);
	if (pw->pw_timer != NULL)
		event_free(pw->pw_timer);
	if (close_fd)
		close(pw->pw_fd);
	free(pw);
	c->c_proxy = NULL;
}

/*
 * Log why, close the socket and free the conn.  A connection closed
 * before sending a byte is a balancer's plain TCP check: debug level.
 */
static void
proxy_drop(struct conn *c, const char *why)
{
	if (c->c_proxy->pw_have == 0 && strncmp(why, "closed", 6) == 0)
		log_debug("#%" PRIu64 " %s: %s", c->c_id, c->c_peer, why);
	else
		log_info("#%" PRIu64 " %s: %s, dropping", c->c_id, c->c_peer,
		    why);
	c->c_close_by = "client";
	conn_reason(c, "%s", why);
	proxy_cancel(c, 1);
	conn_check(c);
}

static void
proxy_timercb(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c = arg;

	(void)fd;
	(void)what;
	proxy_drop(c, "no PROXY header within handshake_timeout_ms");
}

static void
proxy_readcb(evutil_socket_t fd, short what, void *arg)
{
	struct conn		*c = arg;
	struct proxy_wait	*pw = c->c_proxy;
	struct preamble_proxy	 pp;
	char			 was[PEER_LEN];
	ssize_t			 n, r;
	size_t			 take;

	(void)what;
	n = recv(fd, pw->pw_buf + pw->pw_have,
	    sizeof(pw->pw_buf) - pw->pw_have, MSG_PEEK);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n == -1) {
		log_info("#%" PRIu64 " %s: reading the PROXY header: %s",
		    c->c_id, c->c_peer, strerror(errno));
		proxy_drop(c, "connection error before the PROXY header");
		return;
	}
	if (n == 0) {
		proxy_drop(c, pw->pw_have == 0 ? "closed before the PROXY "
		    "header" : "closed inside the PROXY header");
		return;
	}
	r = preamble_parse_proxy(pw->pw_buf, pw->pw_have + (size_t)n, &pp);
	if (r < 0) {
		proxy_drop(c, r == PREAMBLE_ERR_NOT_PROXY ? "no PROXY header" :
		    r == PREAMBLE_ERR_TOO_BIG ? "PROXY header too long" :
		    "malformed PROXY header");
		return;
	}
	/* Take off the socket what belongs to the header, and no more. */
	take = r == 0 ? (size_t)n : (size_t)r - pw->pw_have;
	if (recv(fd, pw->pw_buf + pw->pw_have, take, 0) != (ssize_t)take) {
		proxy_drop(c, "connection error in the PROXY header");
		return;
	}
	pw->pw_have += take;
	if (r == 0)
		return;			/* more to come */

	if (!pp.pp_local) {
		if ((c->c_origin = malloc(sizeof(*c->c_origin))) == NULL) {
			proxy_drop(c, "out of memory");
			return;
		}
		c->c_origin->o_src = pp.pp_src;
		c->c_origin->o_dst = pp.pp_dst;
		snprintf(was, sizeof(was), "%s", c->c_peer);
		proxy_peer_name(c->c_peer, sizeof(c->c_peer), &pp.pp_src);
		log_debug("#%" PRIu64 " %s: PROXY v%d from %s", c->c_id,
		    c->c_peer, pp.pp_version, was);
	} else
		log_debug("#%" PRIu64 " %s: PROXY v%d without addresses",
		    c->c_id, c->c_peer, pp.pp_version);
	proxy_cancel(c, 0);
	conn_client_start(c, (int)fd);
}

/* "ADDR:PORT" or "[ADDR6]:PORT", as conn_accept() names peers. */
static void
proxy_peer_name(char *buf, size_t size, const struct preamble_addr *a)
{
	char	 addr[INET6_ADDRSTRLEN];

	if (inet_ntop(a->pa_family, a->pa_addr, addr, sizeof(addr)) == NULL)
		snprintf(addr, sizeof(addr), "?");
	if (a->pa_family == AF_INET6)
		snprintf(buf, size, "[%s]:%u", addr, (unsigned int)a->pa_port);
	else
		snprintf(buf, size, "%s:%u", addr, (unsigned int)a->pa_port);
}

static void
proxy_sockaddr(struct preamble_addr *a, const struct sockaddr *sa)
{
	memset(a, 0, sizeof(*a));
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;

		a->pa_family = AF_INET;
		memcpy(a->pa_addr, &sin->sin_addr, 4);
		a->pa_port = ntohs(sin->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 =
		    (const struct sockaddr_in6 *)sa;

		a->pa_family = AF_INET6;
		memcpy(a->pa_addr, &sin6->sin6_addr, 16);
		a->pa_port = ntohs(sin6->sin6_port);
	} else
		a->pa_family = AF_UNSPEC;
}

/*
 * Write the route's preamble into the backend's output, before anything
 * is relayed.  req is the upgrade request (its pointers still valid).
 * Returns 0, or the HTTP status to refuse the upgrade with.
 */
int
proxy_preamble(struct conn *c, const struct http_request *req)
{
	const struct conf_route	*r = c->c_route;
	struct preamble_field	 f[HTTP_MAX_HEADERS];
	struct preamble_info	 pi;
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	uint8_t			 small[512], *buf = small;
	size_t			 i, j, len;
	int			 fd, rv;

	if (r->r_preamble == PREAMBLE_NONE)
		return 0;
	memset(&pi, 0, sizeof(pi));
	if (c->c_origin != NULL) {
		pi.pi_src = c->c_origin->o_src;
		pi.pi_dst = c->c_origin->o_dst;
	} else {
		fd = bufferevent_getfd(c->c_cbev);
		sslen = sizeof(ss);
		memset(&ss, 0, sizeof(ss));
		if (getpeername(fd, (struct sockaddr *)&ss, &sslen) == -1)
			ss.ss_family = AF_UNSPEC;
		proxy_sockaddr(&pi.pi_src, (struct sockaddr *)&ss);
		sslen = sizeof(ss);
		memset(&ss, 0, sizeof(ss));
		if (getsockname(fd, (struct sockaddr *)&ss, &sslen) == -1)
			ss.ss_family = AF_UNSPEC;
		proxy_sockaddr(&pi.pi_dst, (struct sockaddr *)&ss);
	}
	pi.pi_target = req->target;
	pi.pi_target_len = req->target_len;
	pi.pi_path = req->path;
	pi.pi_path_len = req->path_len;
	pi.pi_query = req->query;
	pi.pi_query_len = req->query_len;
	pi.pi_subproto = c->c_subproto;
	pi.pi_tls = c->c_listen != NULL && c->c_listen->l_tls != NULL;
	pi.pi_fields = f;
	for (i = 0; i < r->r_nfwd_headers; i++) {
		if (r->r_fwd_headers[i] == NULL)
			continue;
		for (j = 0; j < req->nheaders; j++) {
			if (req->headers[j].name_len !=
			    strlen(r->r_fwd_headers[i]) ||
			    strncasecmp(req->headers[j].name,
			    r->r_fwd_headers[i], req->headers[j].name_len) != 0)
				continue;
			if (pi.pi_nfields == HTTP_MAX_HEADERS)
				break;
			f[pi.pi_nfields].pf_name = r->r_fwd_headers[i];
			f[pi.pi_nfields].pf_name_len =
			    strlen(r->r_fwd_headers[i]);
			f[pi.pi_nfields].pf_value = req->headers[j].value;
			f[pi.pi_nfields].pf_value_len = req->headers[j].value_len;
			pi.pi_nfields++;
		}
	}

	/* At most the request head plus the addresses: bounded. */
	rv = preamble_encode(r->r_preamble, &pi, buf, sizeof(small), &len);
	if (rv == 0 && len > sizeof(small)) {
		if ((buf = malloc(len)) == NULL)
			return 500;
		rv = preamble_encode(r->r_preamble, &pi, buf, len, &len);
	}
	if (rv == 0 && evbuffer_add(bufferevent_get_output(c->c_bbev), buf,
	    len) == -1)
		rv = 1;
	if (buf != small)
		free(buf);
	switch (rv) {
	case 0:
		log_debug("#%" PRIu64 " %s: preamble %s, %zu bytes", c->c_id,
		    c->c_peer, preamble_name(r->r_preamble), len);
		return 0;
	case PREAMBLE_ERR_TOO_BIG:
		return 431;
	case PREAMBLE_ERR_VALUE:
		return 400;
	default:
		return 500;
	}
}

/* Is a in m (an ADDR/BITS entry, or "unix" for a client without one)? */
static int
proxy_mask_match(const struct conf_netmask *m, const struct preamble_addr *a)
{
	static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0xff, 0xff };
	const uint8_t	*p = a->pa_addr;
	int		 family = a->pa_family, bits, i;
	uint8_t		 mask;

	if (family == AF_UNSPEC)
		return m->n_family == AF_UNIX;
	/* A v4-mapped IPv6 client (dual-stack socket) is matched as IPv4. */
	if (family == AF_INET6 && m->n_family == AF_INET &&
	    memcmp(p, v4mapped, sizeof(v4mapped)) == 0) {
		family = AF_INET;
		p += 12;
	}
	if (family != m->n_family)
		return 0;
	for (i = 0, bits = m->n_bits; bits > 0; i++, bits -= 8) {
		mask = bits >= 8 ? 0xff : (uint8_t)(0xff << (8 - bits));
		if ((p[i] & mask) != (m->n_addr[i] & mask))
			return 0;
	}
	return 1;
}

static int
proxy_trusted(const struct conf_listen *l, const struct preamble_addr *a)
{
	size_t	 i;

	for (i = 0; i < l->l_ntrusted; i++)
		if (proxy_mask_match(&l->l_trusted[i], a))
			return 1;
	return 0;
}

/* One X-Forwarded-For entry: an IPv4 or IPv6 address, blanks around. */
static int
proxy_xff_addr(const char *s, size_t n, struct preamble_addr *a)
{
	char	 tmp[INET6_ADDRSTRLEN + 1];

	while (n > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n == 0 || n >= sizeof(tmp))
		return -1;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, tmp, a->pa_addr) == 1)
		a->pa_family = AF_INET;
	else if (inet_pton(AF_INET6, tmp, a->pa_addr) == 1)
		a->pa_family = AF_INET6;
	else
		return -1;
	return 0;
}

/*
 * X-Forwarded-For, from trusted proxies only.  If the connection's
 * client (the socket's peer, or the address of a PROXY header) is in the
 * listener's trusted_proxies, the client becomes the rightmost address
 * of the X-Forwarded-For headers (the last header's last entry first)
 * that is not trusted itself, or the leftmost one if all are; with port
 * 0, since the header carries none.  An entry that is not an address
 * ends the walk there: what lies left of it cannot be vouched for.
 */
void
proxy_forwarded(struct conn *c, const struct http_request *req)
{
	const struct conf_listen *l = c->c_listen;
	const struct http_header *h;
	struct preamble_addr	 peer, a, pick;
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	char			 was[PEER_LEN];
	const char		*v;
	size_t			 j, end, start;
	int			 fd, found = 0, done = 0;

	if (l == NULL || l->l_ntrusted == 0)
		return;
	if (c->c_origin != NULL)
		peer = c->c_origin->o_src;
	else {
		fd = bufferevent_getfd(c->c_cbev);
		sslen = sizeof(ss);
		memset(&ss, 0, sizeof(ss));
		if (getpeername(fd, (struct sockaddr *)&ss, &sslen) == -1)
			return;
		proxy_sockaddr(&peer, (struct sockaddr *)&ss);
	}
	if (!proxy_trusted(l, &peer))
		return;

	for (j = req->nheaders; j-- > 0 && !done;) {
		h = &req->headers[j];
		if (h->name_len != 15 ||
		    strncasecmp(h->name, "X-Forwarded-For", 15) != 0)
			continue;
		v = h->value;
		for (end = h->value_len; !done;) {
			for (start = end; start > 0 && v[start - 1] != ',';
			    start--)
				;
			if (proxy_xff_addr(v + start, end - start, &a) == -1) {
				done = 1;
				break;
			}
			pick = a;
			found = 1;
			if (!proxy_trusted(l, &a))
				done = 1;
			if (start == 0)
				break;
			end = start - 1;
		}
	}
	if (!found)
		return;
	if (c->c_origin == NULL) {
		if ((c->c_origin = malloc(sizeof(*c->c_origin))) == NULL) {
			log_warn("#%" PRIu64 " %s: X-Forwarded-For", c->c_id,
			    c->c_peer);
			return;
		}
		sslen = sizeof(ss);
		memset(&ss, 0, sizeof(ss));
		if (getsockname(bufferevent_getfd(c->c_cbev),
		    (struct sockaddr *)&ss, &sslen) == -1)
			ss.ss_family = AF_UNSPEC;
		proxy_sockaddr(&c->c_origin->o_dst, (struct sockaddr *)&ss);
	}
	c->c_origin->o_src = pick;
	snprintf(was, sizeof(was), "%s", c->c_peer);
	proxy_peer_name(c->c_peer, sizeof(c->c_peer), &pick);
	log_debug("#%" PRIu64 " %s: X-Forwarded-For from %s", c->c_id,
	    c->c_peer, was);
}
