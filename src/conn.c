/*
 * One connection's life: accept, the upgrade request, the refusal or the
 * switch to relaying, the close handshake, the drain, and conn_free().
 *
 * The state changes only through conn_set_state().  Each side (client,
 * backend) is finished by freeing its bufferevent and setting it to NULL;
 * a callback never frees the conn itself but ends with conn_check(),
 * which frees it once both sides are gone.  So no code further up the
 * stack can be left holding a freed conn.
 */
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_struct.h>
#include <event2/event.h>

#include "http.h"
#include "log.h"
#include "tls.h"
#include "wsgated.h"

static void	conn_client_readcb(struct bufferevent *, void *);
static void	conn_client_writecb(struct bufferevent *, void *);
static void	conn_client_eventcb(struct bufferevent *, short, void *);
static void	conn_timercb(evutil_socket_t, short, void *);
static void	conn_http_read(struct conn *);
static void	conn_client_flushed(struct conn *);
static void	conn_client_wrote(struct conn *);
static int	conn_flush(struct bufferevent *);
static int	conn_tls_event(struct conn *, short *);
static void	conn_tls_plain(struct conn *);
static void	conn_free(struct conn *);
static void	conn_peer_name(char *, size_t, const struct sockaddr *, int);
static void	conn_target(struct conn *, const char *, size_t);
static char	*conn_reason_buf(struct conn *);

static const char *const conn_state_names[] = {
	"http", "open", "closing", "draining"
};

static void
conn_peer_name(char *buf, size_t size, const struct sockaddr *sa, int salen)
{
	char	 addr[INET6_ADDRSTRLEN];

	if (sa->sa_family == AF_INET && salen >= (int)sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;

		inet_ntop(AF_INET, &sin->sin_addr, addr, sizeof(addr));
		snprintf(buf, size, "%s:%u", addr, ntohs(sin->sin_port));
	} else if (sa->sa_family == AF_INET6 &&
	    salen >= (int)sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;

		inet_ntop(AF_INET6, &sin6->sin6_addr, addr, sizeof(addr));
		snprintf(buf, size, "[%s]:%u", addr, ntohs(sin6->sin6_port));
	} else
		snprintf(buf, size, "unix");
}

void
conn_accept(struct worker *w, struct listener *l, int fd,
    const struct sockaddr *sa, int salen)
{
	struct gate		*g = w->w_gate;
	struct conn		*c;
	unsigned int		 n;
	int			 one = 1;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		log_warn("accept: calloc");
		close(fd);
		return;
	}
	c->c_id = atomic_fetch_add(&g->g_nextid, 1) + 1;
	c->c_worker = w;
	c->c_conf = gate_conf(g);
	c->c_listen = conf_listen_find(c->c_conf, l->l_name);
	c->c_close_by = "";
	conn_peer_name(c->c_peer, sizeof(c->c_peer), sa, salen);
	gettimeofday(&c->c_start, NULL);
	TAILQ_INSERT_TAIL(&w->w_conns, c, c_entry);
	w->w_nconns++;

	/* Every accepted socket counts, handshakes included. */
	n = atomic_fetch_add(&g->g_nconns, 1) + 1;
	if (c->c_conf->c_limits.max_connections != 0 &&
	    n > c->c_conf->c_limits.max_connections)
		c->c_over_limit = 1;

	if (sa->sa_family == AF_INET || sa->sa_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

	/*
	 * Accepted on a listener that a reload has just removed (the
	 * worker has not let go of it yet): its settings, TLS among them,
	 * are gone, so the connection is not served.
	 */
	if (c->c_listen == NULL) {
		log_info("#%" PRIu64 " %s: listener %s was removed by a reload,"
		    " dropping", c->c_id, c->c_peer, l->l_name);
		close(fd);
		conn_check(c);
		return;
	}

	/* A balancer's PROXY header comes first, before TLS (proxy.c). */
	if (c->c_listen != NULL && c->c_listen->l_proxy_protocol) {
		proxy_accept(c, fd);
		return;
	}
	conn_client_start(c, fd);
}

/*
 * The client socket fd is ready to be read as a WebSocket client (TLS or
 * not): set up the client side and wait for the upgrade request.  The
 * conn is freed here if that fails.
 */
void
conn_client_start(struct conn *c, int fd)
{
	struct worker		*w = c->c_worker;

	/* wss://: the handshake_timeout_ms deadline covers TLS too. */
	if (c->c_listen != NULL && c->c_listen->l_tls != NULL)
		c->c_cbev = tls_accept(w->w_base, fd, c->c_listen->l_tls);
	else
		c->c_cbev = conn_sock_new(w->w_base, fd);
	/* A request is small: no 64 KiB chains for it (relay_start()). */
	if (c->c_cbev != NULL && !tls_is(c->c_cbev))
		bufferevent_set_max_single_read(c->c_cbev, CONN_READ_HTTP);
	if (c->c_cbev == NULL) {
		close(fd);
		log_warnx("#%" PRIu64 " %s: cannot allocate a %sbufferevent",
		    c->c_id, c->c_peer, c->c_listen != NULL &&
		    c->c_listen->l_tls != NULL ? "TLS " : "");
		conn_check(c);
		return;
	}
	evtimer_assign(&c->c_timer, w->w_base, conn_timercb, c);
	bufferevent_setcb(c->c_cbev, conn_client_readcb, conn_client_writecb,
	    conn_client_eventcb, c);
	log_debug("#%" PRIu64 " %s: accepted", c->c_id, c->c_peer);
	conn_set_state(c, CONN_HTTP);
	bufferevent_enable(c->c_cbev, EV_READ);
}

static void
conn_timer_arm(struct conn *c, unsigned int ms)
{
	struct timeval	 tv;

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(&c->c_timer, &tv);
}

/*
 * The one place the state changes: checks the transition, logs it and
 * sets up what the new state needs (deadline, watermarks, reading).
 */
void
conn_set_state(struct conn *c, enum conn_state s)
{
	const struct conf_limits *lim = &c->c_conf->c_limits;
	enum conn_state	 old = c->c_state;

	if (s == old && s != CONN_HTTP)
		return;
	switch (s) {
	case CONN_HTTP:
		break;
	case CONN_OPEN:
		if (old != CONN_HTTP)
			fatalx("conn %s -> open", conn_state_names[old]);
		break;
	case CONN_CLOSING:
		if (old != CONN_OPEN)
			fatalx("conn %s -> closing", conn_state_names[old]);
		break;
	case CONN_DRAINING:
		break;
	}
	log_debug("#%" PRIu64 " %s: %s -> %s", c->c_id, c->c_peer,
	    conn_state_names[old], conn_state_names[s]);
	c->c_state = s;

	switch (s) {
	case CONN_HTTP:
		conn_timer_arm(c, lim->handshake_timeout_ms);
		break;
	case CONN_OPEN:
		evtimer_del(&c->c_timer);	/* relay_start() sets it again */
		break;
	case CONN_CLOSING:
	case CONN_DRAINING:
		/* One close deadline for the whole way out (no more pings). */
		if (old == CONN_HTTP || old == CONN_OPEN)
			conn_timer_arm(c, lim->close_timeout_ms);
		/*
		 * Read the client again even if it was paused: nothing it
		 * sends now is relayed, and its close frame must be seen.
		 */
		if (c->c_cbev != NULL && (c->c_cpaused || s == CONN_DRAINING)) {
			bufferevent_enable(c->c_cbev, EV_READ);
			c->c_cpaused = 0;
		}
		if (s == CONN_DRAINING && c->c_cbev != NULL) {
			/* Discard input until the peer closes. */
			bufferevent_setwatermark(c->c_cbev, EV_WRITE, 0, 0);
			conn_client_flushed(c);
		}
		break;
	}
}

/*
 * Called when the client's output may have drained: in DRAINING, shut the
 * write side once everything is out, so the peer reads our last bytes
 * and then EOF, never a reset.  Over TLS, close_notify goes first, so the
 * peer can tell our end from a cut connection.
 */
static void
conn_client_flushed(struct conn *c)
{
	if (c->c_cbev == NULL || c->c_cshut)
		return;
	if (c->c_state != CONN_DRAINING ||
	    evbuffer_get_length(bufferevent_get_output(c->c_cbev)) != 0)
		return;
	if (!tls_close_notify(c->c_cbev))
		return;		/* socket full: again on the next event */
	(void)shutdown(bufferevent_getfd(c->c_cbev), SHUT_WR);
	c->c_cshut = 1;
}

/*
 * The close reason for the access line, at most CONN_REASON_LEN - 1
 * bytes: a format of ours, or (conn_reason_peer()) peer bytes made
 * printable.  Its buffer is allocated the first time, so a conn pays
 * for it only once it is closing; without memory the line says "".
 */
static char *
conn_reason_buf(struct conn *c)
{
	if (c->c_close_reason == NULL)
		c->c_close_reason = malloc(CONN_REASON_LEN);
	return c->c_close_reason;
}

void
conn_reason(struct conn *c, const char *fmt, ...)
{
	va_list	 ap;

	if (conn_reason_buf(c) == NULL)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(c->c_close_reason, CONN_REASON_LEN, fmt, ap);
	va_end(ap);
}

void
conn_reason_peer(struct conn *c, const void *s, size_t len)
{
	if (conn_reason_buf(c) != NULL)
		log_printable(c->c_close_reason, CONN_REASON_LEN, s, len);
}

/* The request-target for the log lines, printable, in a string its size. */
static void
conn_target(struct conn *c, const char *s, size_t len)
{
	char	 buf[TARGET_LOG_LEN];

	log_printable(buf, sizeof(buf), s, len);
	free(c->c_target);
	c->c_target = strdup(buf);	/* NULL: the lines say "" */
}

/*
 * Refuse the upgrade: a short plain-text answer with Connection: close,
 * then drain and close.  Input after the request head is never read as
 * another request.
 */
void
conn_refuse(struct conn *c, int status, const char *reason,
    const char *extra, const char *body)
{
	char	 buf[1024];
	size_t	 n;

	c->c_status = status;
	metrics_handshake_failure(c->c_worker->w_metrics, status);
	conn_reason(c, "%s", reason);
	log_info("#%" PRIu64 " %s: %d %s: %s%s%s", c->c_id, c->c_peer, status,
	    http_status_text(status), reason, CONN_TARGET(c)[0] ? " " : "",
	    CONN_TARGET(c));
	if (c->c_cbev == NULL)
		return;
	n = http_error_response(buf, sizeof(buf), status, extra,
	    body != NULL ? body : reason);
	if (n > 0)
		evbuffer_add(bufferevent_get_output(c->c_cbev), buf, n);
	evbuffer_drain(bufferevent_get_input(c->c_cbev),
	    evbuffer_get_length(bufferevent_get_input(c->c_cbev)));
	conn_set_state(c, CONN_DRAINING);
}

static void
conn_http_read(struct conn *c)
{
	const struct conf_limits *lim = &c->c_conf->c_limits;
	struct evbuffer		*in = bufferevent_get_input(c->c_cbev);
	struct http_request	 req;
	struct http_handshake	 hs;
	const char		*p, *why;
	size_t			 len, n, end;
	int			 status, fd;

	len = evbuffer_get_length(in);
	n = len < lim->max_header_bytes ? len : lim->max_header_bytes;
	if ((p = (const char *)evbuffer_pullup(in, n)) == NULL && n > 0) {
		conn_refuse(c, 500, "out of memory", NULL, NULL);
		return;
	}
	if ((end = http_head_end(p, n, c->c_head_searched)) == 0) {
		if (len >= lim->max_header_bytes)
			conn_refuse(c, 431, "request head over max_header_bytes",
			    NULL, "request header fields too large");
		else
			c->c_head_searched = n;
		return;
	}

	if ((status = http_parse_request(p, end, &req)) != 0) {
		conn_refuse(c, status, "malformed request", NULL, NULL);
		return;
	}
	conn_target(c, req.target, req.target_len);
	proxy_forwarded(c, &req);	/* X-Forwarded-For, if trusted */
	if (metrics_http(c, &req))	/* the status paths */
		return;
	if (http_handshake(&req, c->c_conf, &hs) != 101) {
		conn_refuse(c, hs.h_status, hs.h_reason, hs.h_extra, hs.h_body);
		return;
	}
	if (c->c_over_limit) {
		conn_refuse(c, 503, "max_connections reached", NULL,
		    "too many connections");
		return;
	}
	c->c_route = hs.h_route;
	c->c_backend = hs.h_backend;
	c->c_subproto = hs.h_subprotocol;
	c->c_mroute = metrics_route(c->c_worker->w_metrics,
	    c->c_route->r_path);

	/* Connect first, so a dead backend is a 502, not a dropped socket. */
	if ((fd = backend_connect(c, &status, &why)) == -1) {
		if (c->c_mroute != NULL)
			metrics_add(&c->c_mroute->mr_connect_fail, 1);
		conn_refuse(c, status, why, NULL, why);
		return;
	}
	if ((c->c_bbev = conn_sock_new(c->c_worker->w_base, fd)) == NULL) {
		close(fd);
		conn_refuse(c, 500, "cannot allocate a bufferevent", NULL, NULL);
		return;
	}
	/* What the route tells the backend about the client, first. */
	if ((status = proxy_preamble(c, &req)) != 0) {
		conn_backend_done(c);
		conn_refuse(c, status, "cannot write the preamble", NULL, NULL);
		return;
	}
	evbuffer_drain(in, end);	/* pipelined frames stay */
	free(c->c_origin);		/* the preamble was its last use */
	c->c_origin = NULL;
	c->c_status = 101;
	if (c->c_mroute != NULL)
		metrics_add(&c->c_mroute->mr_opened, 1);
	relay_start(c, hs.h_accept, &hs.h_pmd);
}

static void
conn_client_readcb(struct bufferevent *bev, void *arg)
{
	struct conn	*c = arg;

	(void)bev;
	switch (c->c_state) {
	case CONN_HTTP:
		conn_http_read(c);
		break;
	case CONN_OPEN:
	case CONN_CLOSING:
		relay_client_read(c);
		break;
	case CONN_DRAINING:
		evbuffer_drain(bufferevent_get_input(c->c_cbev),
		    evbuffer_get_length(bufferevent_get_input(c->c_cbev)));
		conn_client_flushed(c);
		break;
	}
	conn_check(c);
}

/* The client's output drained (by libevent or by conn_flush()). */
static void
conn_client_wrote(struct conn *c)
{
	switch (c->c_state) {
	case CONN_HTTP:
		break;
	case CONN_OPEN:
		relay_client_drained(c);
		break;
	case CONN_CLOSING:
		break;
	case CONN_DRAINING:
		conn_client_flushed(c);
		break;
	}
}

static void
conn_client_writecb(struct bufferevent *bev, void *arg)
{
	struct conn	*c = arg;

	(void)bev;
	conn_client_wrote(c);
	conn_check(c);
}

static void
conn_client_eventcb(struct bufferevent *bev, short what, void *arg)
{
	struct conn	*c = arg;

	(void)bev;
	if (tls_is(c->c_cbev) && conn_tls_event(c, &what)) {
		conn_check(c);
		return;
	}
	if (what & BEV_EVENT_ERROR) {
		if (c->c_state != CONN_DRAINING || !c->c_cshut)
			log_info("#%" PRIu64 " %s: client error: %s", c->c_id,
			    c->c_peer,
			    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
		if (c->c_close_by[0] == '\0') {
			c->c_close_by = "client";
			conn_reason(c, "connection error");
		}
	} else if (what & BEV_EVENT_EOF) {
		if (c->c_state == CONN_HTTP || c->c_state == CONN_OPEN) {
			c->c_close_by = "client";
			conn_reason(c, "%s", c->c_state == CONN_HTTP ?
			    "closed during handshake" :
			    "closed without a close frame");
		}
	} else
		return;
	conn_client_done(c);
	conn_check(c);
}

/*
 * The TLS side of a client event.  Returns 1 if the event was handled
 * here (the handshake completed; a TLS failure, logged, the client side
 * finished), 0 to go on with *what in the generic code (an EOF, or a
 * peer that closed without close_notify, now an EOF too).
 */
static int
conn_tls_event(struct conn *c, short *what)
{
	char	 why[256], desc[256];
	int	 handshaking;

	if (*what & BEV_EVENT_CONNECTED) {
		metrics_tls_handshake(c->c_worker->w_metrics);
		if (log_getlevel() >= LOG_LVL_DEBUG) {
			tls_describe(c->c_cbev, desc, sizeof(desc));
			log_debug("#%" PRIu64 " %s: TLS %s", c->c_id,
			    c->c_peer, desc);
		}
		return 1;
	}
	if (!(*what & BEV_EVENT_ERROR))
		return 0;
	handshaking = tls_handshaking(c->c_cbev);
	switch (tls_error(c->c_cbev, why, sizeof(why))) {
	case TLS_FAIL_PLAIN_HTTP:
		conn_tls_plain(c);
		return 1;
	case TLS_FAIL_EOF:
		*what = BEV_EVENT_EOF | (*what & ~BEV_EVENT_ERROR);
		return 0;
	case TLS_FAIL_OTHER:
		break;
	}
	if (c->c_state != CONN_DRAINING || !c->c_cshut)
		log_info("#%" PRIu64 " %s: TLS %s: %s", c->c_id, c->c_peer,
		    handshaking ? "handshake failed" : "error", why);
	if (c->c_close_by[0] == '\0') {
		c->c_close_by = "client";
		conn_reason(c, "TLS %s", handshaking ? "handshake failed" : "error");
	}
	conn_client_done(c);
	return 1;
}

/*
 * Plain HTTP on a TLS port: OpenSSL saw "GET " where a ClientHello
 * belongs and sent nothing back.  Answer 400 in plain text on the same
 * socket, as nginx does, then drain and close as for any refusal.  The
 * TLS bufferevent is freed (its SSL with it) and a plain one takes over
 * a duplicate of its descriptor.
 */
static void
conn_tls_plain(struct conn *c)
{
	struct bufferevent	*bev = NULL;
	int			 fd;

	if ((fd = fcntl(bufferevent_getfd(c->c_cbev), F_DUPFD_CLOEXEC,
	    0)) == -1 || (bev = conn_sock_new(c->c_worker->w_base, fd)) ==
	    NULL) {
		if (fd != -1)
			close(fd);
		log_info("#%" PRIu64 " %s: plain HTTP sent to a TLS port",
		    c->c_id, c->c_peer);
		conn_reason(c, "plain HTTP sent to a TLS port");
		conn_client_done(c);
		return;
	}
	bufferevent_free(c->c_cbev);
	c->c_cbev = bev;
	bufferevent_setcb(bev, conn_client_readcb, conn_client_writecb,
	    conn_client_eventcb, c);
	bufferevent_enable(bev, EV_READ);
	conn_refuse(c, 400, "plain HTTP sent to a TLS port", NULL,
	    "This port speaks TLS: use https:// or wss://.");
}

static void
conn_timercb(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c = arg;

	(void)fd;
	(void)what;
	switch (c->c_state) {
	case CONN_HTTP:
		if (tls_handshaking(c->c_cbev)) {
			/* Nobody to send a 408 to: TLS is not up. */
			log_info("#%" PRIu64 " %s: TLS handshake timeout",
			    c->c_id, c->c_peer);
			conn_abort(c, "TLS handshake timeout");
			break;
		}
		conn_refuse(c, 408, "handshake timeout", NULL,
		    "request timeout");
		break;
	case CONN_OPEN:
		relay_timer(c);
		break;
	case CONN_CLOSING:
	case CONN_DRAINING:
		log_info("#%" PRIu64 " %s: close timeout, dropping", c->c_id,
		    c->c_peer);
		conn_abort(c, NULL);
		break;
	}
	conn_check(c);
}

/*
 * Start or answer the close handshake with code (0: an empty close
 * frame).  Reassembly stops, the backend is flushed and shut, and the
 * conn waits in CLOSING for the client's close frame.
 */
void
conn_ws_close(struct conn *c, uint16_t code, const char *reason,
    size_t reason_len, const char *by)
{
	uint8_t	 payload[WS_MAX_CONTROL];
	size_t	 n;

	if (c->c_close_sent)
		return;
	c->c_close_sent = 1;
	c->c_close_code = code;
	if (c->c_close_by[0] == '\0')
		c->c_close_by = by;
	if (CONN_REASON(c)[0] == '\0' && reason != NULL)
		conn_reason_peer(c, reason, reason_len);
	if (c->c_cbev != NULL) {
		n = ws_close_payload(payload, code, reason, reason_len);
		relay_send_frame(c, WS_OP_CLOSE, payload, n);
	}
	if (c->c_cmsg != NULL)
		evbuffer_drain(c->c_cmsg, evbuffer_get_length(c->c_cmsg));
	if (c->c_bmsg != NULL)
		evbuffer_drain(c->c_bmsg, evbuffer_get_length(c->c_bmsg));
	conn_backend_finish(c);
	if (c->c_state == CONN_OPEN)
		conn_set_state(c, CONN_CLOSING);
	if (c->c_close_rcvd)
		conn_set_state(c, CONN_DRAINING);
}

/* Drop both sides now, without a close handshake. */
void
conn_abort(struct conn *c, const char *reason)
{
	if (reason != NULL) {
		if (c->c_close_by[0] == '\0')
			c->c_close_by = "gateway";
		conn_reason(c, "%s", reason);
	}
	conn_client_done(c);
	conn_backend_done(c);
}

/* The client side is finished: free it, and let the backend finish. */
void
conn_client_done(struct conn *c)
{
	proxy_cancel(c, 1);
	if (c->c_cbev != NULL) {
		bufferevent_free(c->c_cbev);
		c->c_cbev = NULL;
	}
	if (c->c_bbev != NULL) {
		conn_backend_finish(c);
		if (c->c_state == CONN_OPEN)
			conn_set_state(c, CONN_CLOSING);
	}
}

/*
 * Finish the backend side gracefully: stop relaying from it, flush what is
 * queued for it, shut its write side, then wait for its EOF (discarding
 * what it still sends) under the close deadline.
 */
void
conn_backend_finish(struct conn *c)
{
	if (c->c_bbev == NULL || c->c_bfinish)
		return;
	c->c_bfinish = 1;
	bufferevent_setwatermark(c->c_bbev, EV_WRITE, 0, 0);
	if (!c->c_beof)
		bufferevent_enable(c->c_bbev, EV_READ);
	relay_backend_drained(c);
}

void
conn_backend_done(struct conn *c)
{
	if (c->c_bbev != NULL) {
		bufferevent_free(c->c_bbev);
		c->c_bbev = NULL;
	}
}

/* Graceful shutdown of the process: close 1001 to open clients. */
void
conn_shutdown(struct conn *c)
{
	switch (c->c_state) {
	case CONN_HTTP:
		c->c_close_by = "gateway";
		conn_reason(c, "shutting down");
		conn_client_done(c);
		break;
	case CONN_OPEN:
		conn_ws_close(c, WS_CLOSE_GOING_AWAY, "server shutting down",
		    strlen("server shutting down"), "gateway");
		break;
	case CONN_CLOSING:
	case CONN_DRAINING:
		break;
	}
}

/*
 * The read side of a socket bufferevent.  libevent 2.1's own read
 * callback asks the kernel how much is readable (an FIONREAD ioctl)
 * before every read, and then reads at most 4096 bytes
 * (EVBUFFER_MAX_READ), one read per turn of the loop: a 16 KiB message
 * took five turns and ten system calls.  conn_sock_new() points the
 * bufferevent's read event (bev->ev_read, public in
 * bufferevent_struct.h) at this callback instead, which reads into space
 * reserved in the input buffer until the socket is drained or the
 * bufferevent's max_single_read (CONN_READ_MORE, or one raw message) is
 * reached: a 32-byte message costs one recv, a 16 KiB one usually one.
 * Enabling and disabling EV_READ work as before, since they add and
 * delete the same event.
 *
 * As libevent would: bytes go to the read callback, an end of stream or
 * an error with nothing read disables reading and goes to the event
 * callback.  An end of stream after bytes is left for the next call to
 * find (it is sticky); an error is not (reading it clears it), so it is
 * reported right after the read callback has used the bytes before it,
 * unless that callback freed the bufferevent.
 */
static void
conn_sock_readcb(evutil_socket_t fd, short what, void *arg)
{
	struct bufferevent	*bev = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);
	struct evbuffer_iovec	 v[2];
	struct iovec		 iov[2];
	bufferevent_data_cb	 readcb;
	bufferevent_event_cb	 eventcb;
	void			*cbarg;
	size_t			 total = 0, max, want, got;
	ssize_t			 n = -1;
	int			 i, nv, err = 0;

	if (!(what & EV_READ))
		return;			/* no read timeouts are set */
	max = (size_t)bufferevent_get_max_single_read(bev);
	evbuffer_unfreeze(in, 0);	/* a socket bufferevent freezes its end */
	while (total < max) {
		want = max - total < CONN_READ_CHUNK ? max - total :
		    CONN_READ_CHUNK;
		if ((nv = evbuffer_reserve_space(in, (ev_ssize_t)want, v,
		    2)) <= 0) {
			err = ENOMEM;
			break;
		}
		for (i = 0, got = 0; i < nv && got < want; i++) {
			iov[i].iov_base = v[i].iov_base;
			iov[i].iov_len = v[i].iov_len < want - got ?
			    v[i].iov_len : want - got;
			got += iov[i].iov_len;
		}
		nv = i;
		n = nv == 1 ? recv(fd, iov[0].iov_base, iov[0].iov_len, 0) :
		    readv(fd, iov, nv);
		if (n <= 0) {
			if (n == -1 && errno != EAGAIN && errno != EINTR)
				err = errno;
			evbuffer_commit_space(in, v, 0);
			break;
		}
		for (i = 0, got = (size_t)n; i < nv; i++) {
			v[i].iov_len = iov[i].iov_len < got ? iov[i].iov_len :
			    got;
			got -= v[i].iov_len;
		}
		evbuffer_commit_space(in, v, nv > 1 && v[1].iov_len > 0 ? 2 : 1);
		total += (size_t)n;
		if ((size_t)n < want)
			break;		/* the socket is drained */
	}
	evbuffer_freeze(in, 0);

	bufferevent_getcb(bev, &readcb, NULL, &eventcb, &cbarg);
	if (total > 0) {
		if (err == 0) {
			if (readcb != NULL)
				readcb(bev, cbarg);
			return;
		}
		/* Keep bev while the read callback runs: it may free it. */
		bufferevent_incref(bev);
		if (readcb != NULL)
			readcb(bev, cbarg);
		/* bufferevent_free() clears the callbacks */
		bufferevent_getcb(bev, NULL, NULL, &eventcb, &cbarg);
		if (eventcb != NULL) {
			bufferevent_disable(bev, EV_READ);
			EVUTIL_SET_SOCKET_ERROR(err);
			eventcb(bev, BEV_EVENT_READING | BEV_EVENT_ERROR,
			    cbarg);
		}
		bufferevent_decref(bev);
		return;
	}
	if (n == -1 && err == 0)
		return;			/* nothing to read after all */
	bufferevent_disable(bev, EV_READ);
	if (eventcb == NULL)
		return;
	if (err != 0) {
		EVUTIL_SET_SOCKET_ERROR(err);
		eventcb(bev, BEV_EVENT_READING | BEV_EVENT_ERROR, cbarg);
	} else
		eventcb(bev, BEV_EVENT_READING | BEV_EVENT_EOF, cbarg);
}

/*
 * A bufferevent for the plain socket fd, read by conn_sock_readcb() and
 * written by conn_flush(): EV_WRITE starts disabled.  NULL if out of
 * memory (fd is then still the caller's).
 */
struct bufferevent *
conn_sock_new(struct event_base *base, int fd)
{
	struct bufferevent	*bev;

	if ((bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE)) ==
	    NULL)
		return NULL;
	bufferevent_disable(bev, EV_WRITE);
	bufferevent_set_max_single_read(bev, CONN_READ_MORE);
	/*
	 * Not added yet (EV_READ starts disabled), so it can be reassigned.
	 * The header is deprecated, so check that ev_read is where it was
	 * (it holds fd and bev): if not, libevent's own reading stays.
	 */
	if (event_get_fd(&bev->ev_read) == fd &&
	    event_get_callback_arg(&bev->ev_read) == bev &&
	    !event_pending(&bev->ev_read, EV_READ, NULL))
		event_assign(&bev->ev_read, base, fd, EV_READ | EV_PERSIST |
		    EV_FINALIZE, conn_sock_readcb, bev);
	return bev;
}

/*
 * Socket bufferevents start with EV_WRITE disabled: nothing is written
 * through libevent's write path until conn_flush() finds output left over.
 *
 * Write what a callback queued for bev now, instead of arming EV_WRITE
 * and writing on the loop's next turn: one send (or sendmsg, when the
 * output spans several chains) per side per callback rather than an
 * epoll_ctl to arm, a wake-up, and another epoll_ctl to disarm.  EV_WRITE
 * stays enabled only while output is left over (the socket is full, or
 * the write failed); libevent then finishes the write or reports the
 * error, and calls the write callback as usual.  Not for TLS, whose bytes
 * must go through the SSL object.  Returns 1 if it wrote.
 */
static int
conn_flush(struct bufferevent *bev)
{
	struct evbuffer		*out = bufferevent_get_output(bev);
	struct evbuffer_iovec	 v[CONN_WRITE_IOV];
	struct iovec		 iov[CONN_WRITE_IOV];
	struct msghdr		 msg;
	ssize_t			 n;
	int			 i, nv, fd;

	if (evbuffer_get_length(out) == 0) {
		/* the usual case: nothing queued, EV_WRITE already off */
		if ((bufferevent_get_enabled(bev) & EV_WRITE) && !tls_is(bev))
			bufferevent_disable(bev, EV_WRITE);
		return 0;
	}
	if (tls_is(bev))
		return 0;
	fd = bufferevent_getfd(bev);
	if ((nv = evbuffer_peek(out, -1, NULL, v, CONN_WRITE_IOV)) >
	    CONN_WRITE_IOV)
		nv = CONN_WRITE_IOV;
	if (nv == 1)
		n = send(fd, v[0].iov_base, v[0].iov_len, MSG_NOSIGNAL);
	else {
		for (i = 0; i < nv; i++) {
			iov[i].iov_base = v[i].iov_base;
			iov[i].iov_len = v[i].iov_len;
		}
		memset(&msg, 0, sizeof(msg));
		msg.msg_iov = iov;
		msg.msg_iovlen = (size_t)nv;
		n = sendmsg(fd, &msg, MSG_NOSIGNAL);
	}
	if (n > 0) {
		/* A socket bufferevent freezes the start of its output. */
		evbuffer_unfreeze(out, 1);
		evbuffer_drain(out, (size_t)n);
		evbuffer_freeze(out, 1);
	}
	/* Left over, or failed: libevent's write path takes it from here. */
	if (evbuffer_get_length(out) == 0)
		bufferevent_disable(bev, EV_WRITE);
	else
		bufferevent_enable(bev, EV_WRITE);
	return n > 0;
}

/*
 * The end of every callback: flush what it queued, and free the conn once
 * both sides are gone.  Returns 1 if it was freed.
 */
int
conn_check(struct conn *c)
{
	if (c->c_cbev != NULL && conn_flush(c->c_cbev))
		conn_client_wrote(c);
	if (c->c_bbev != NULL && conn_flush(c->c_bbev))
		relay_backend_drained(c);
	if (c->c_cbev != NULL || c->c_bbev != NULL || c->c_proxy != NULL)
		return 0;
	conn_free(c);
	return 1;
}

static void
conn_free(struct conn *c)
{
	struct worker	*w = c->c_worker;
	struct timeval	 now, d;
	unsigned int	 code;

	gettimeofday(&now, NULL);
	timersub(&now, &c->c_start, &d);
	/* The code sent; an empty close frame is 1005, none at all 1006. */
	code = !c->c_close_sent ? WS_CLOSE_ABNORMAL : c->c_close_code != 0 ?
	    c->c_close_code : WS_CLOSE_NO_STATUS;
	if (c->c_status == 101) {
		if (c->c_mroute != NULL)
			metrics_add(&c->c_mroute->mr_closed, 1);
		metrics_close_code(w->w_metrics, code);
		/* The access line: one per connection, at info level. */
		log_info("#%" PRIu64 " %s: closed route=%s target=%s"
		    " subprotocol=%s backend=%s duration=%ld.%03lds"
		    " msgs_in=%" PRIu64 " bytes_in=%" PRIu64
		    " msgs_out=%" PRIu64 " bytes_out=%" PRIu64
		    " close=%u by=%s reason=\"%s\"",
		    c->c_id, c->c_peer, c->c_route->r_path, CONN_TARGET(c),
		    c->c_subproto != NULL ? c->c_subproto : "-",
		    c->c_backend->b_path, (long)d.tv_sec,
		    (long)d.tv_usec / 1000, c->c_msgs_in, c->c_bytes_in,
		    c->c_msgs_out, c->c_bytes_out, code,
		    c->c_close_by[0] ? c->c_close_by : "-", CONN_REASON(c));
	} else
		log_debug("#%" PRIu64 " %s: closed status=%d duration=%ld.%03lds"
		    " reason=\"%s\"", c->c_id, c->c_peer, c->c_status,
		    (long)d.tv_sec, (long)d.tv_usec / 1000, CONN_REASON(c));

	if (c->c_cbev != NULL)
		bufferevent_free(c->c_cbev);
	if (c->c_bbev != NULL)
		bufferevent_free(c->c_bbev);
	if (event_initialized(&c->c_timer))
		evtimer_del(&c->c_timer);
	free(c->c_wsdec);
	free(c->c_fdec);
	if (c->c_cmsg != NULL)
		evbuffer_free(c->c_cmsg);
	if (c->c_bmsg != NULL)
		evbuffer_free(c->c_bmsg);
	if (c->c_pmd != NULL) {
		if (c->c_pmd->z_msg != NULL)
			evbuffer_free(c->c_pmd->z_msg);
		dfl_inflate_free(&c->c_pmd->z_inflate);
		dfl_deflate_free(&c->c_pmd->z_deflate);
		free(c->c_pmd);
	}
	TAILQ_REMOVE(&w->w_conns, c, c_entry);
	w->w_nconns--;
	atomic_fetch_sub(&w->w_gate->g_nconns, 1);
	free(c->c_target);
	free(c->c_close_reason);
	free(c->c_origin);
	conf_unref(c->c_conf);
	free(c);
	worker_conn_gone(w);
}
