/*
 * wsbench: a WebSocket benchmark client for wsgated and the gateways it is
 * compared with.  See usage() below (wsbench --help) for what it measures.
 *
 * One thread, one libevent loop.  Each connection is a struct bconn; on a
 * ws:// URL its socket is driven directly (read() into one shared buffer,
 * send() straight from the frame just built, an evbuffer and a write event
 * only for what the kernel did not take), which keeps the client cheaper
 * per message than the servers it drives.  On a wss:// URL the socket is
 * wrapped in a bufferevent_openssl after the TCP connect and the same
 * conn_input()/conn_write() entry points are used, so the protocol code
 * does not know which transport it runs on.
 *
 * The WebSocket codec is wsgated's own (src/ws.c, decoding as a client:
 * masked frames refused) and so is the accept key (src/http.c).  Every
 * echoed or streamed payload is compared with the message expected
 * (bench/pattern.h); a figure is printed only when no message was lost,
 * corrupted or cut off.
 */

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>

#include "http.h"
#include "ws.h"

#include "pattern.h"

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT	24
#endif

#define WSB_RBUF	(256 * 1024)	/* one read() at most */
#define WSB_HS_MAX	8192		/* longest 101 response head */
#define WSB_FLOOD_HIGH	(256 * 1024)	/* flood: queue at most this much */
#define WSB_FLOOD_BURST	(1024 * 1024)	/* flood: bytes per pump call */
#define WSB_DRAIN_S	10.0		/* wait this long for what is in flight */
#define WSB_CLOSE_S	3.0		/* and this long for close handshakes */
#define WSB_SYNC	"wsbench-sync"
#define WSB_COUNT	"wsbench-count "
#define WSB_SOURCE	"wsbench-source "

/* Log-bucketed histogram: 32 buckets per power of two, about 3% wide. */
#define H_SUB		5
#define H_NSUB		(1 << H_SUB)
#define H_N		((64 - H_SUB + 1) * H_NSUB)

struct hist {
	uint64_t	 h_count[H_N];
	uint64_t	 h_n;
	uint64_t	 h_max;
	long double	 h_sum;
};

enum bench_mode { MODE_ECHO, MODE_CONNECT, MODE_IDLE, MODE_FLOOD };

enum bench_phase {
	PH_OPENING,	/* connections being opened */
	PH_WARMUP,	/* traffic, not counted */
	PH_MEASURE,	/* traffic, counted (idle: holding) */
	PH_DRAIN,	/* no new messages; waiting for those in flight */
	PH_CLOSING,	/* close handshakes */
	PH_DONE
};

enum conn_state {
	CS_CONNECTING,	/* TCP connect in progress */
	CS_TLS,		/* TLS handshake in progress */
	CS_HANDSHAKE,	/* upgrade request sent, reading the response */
	CS_OPEN,
	CS_SYNC,	/* flood up: sync sent, waiting for the count */
	CS_CLOSING,	/* close frame sent */
	CS_DONE		/* to be freed by conn_check() */
};

struct bench;

struct bconn {
	struct bench		*c_bench;
	TAILQ_ENTRY(bconn)	 c_entry;
	unsigned long		 c_id;
	enum conn_state		 c_state;
	evutil_socket_t		 c_fd;
	struct event		*c_rev;		/* plain: readable */
	struct event		*c_wev;		/* plain: writable / connected */
	struct bufferevent	*c_bev;		/* TLS */
	struct evbuffer		*c_out;		/* plain: what send() left over */
	char			*c_hs;		/* the 101 response so far */
	size_t			 c_hs_len;
	char			 c_key[32];
	struct ws_decoder	 c_dec;
	int			 c_close_rcvd;	/* connect: close frame in, EOF due */
	uint64_t		 c_t0;		/* message or cycle start, ns */
	uint64_t		 c_sseq;	/* next message to send */
	uint64_t		 c_rseq;	/* message being received */
	size_t			 c_roff;	/* its bytes so far */
	int			 c_bad;		/* it is already counted corrupt */
	int			 c_waiting;	/* an echo or a sync is due */
	int			 c_up;		/* counted in b_nup */
	char			 c_ctl[WS_MAX_CONTROL + 1];	/* sync reply */
	size_t			 c_ctl_len;
};

TAILQ_HEAD(bconn_list, bconn);

struct bench {
	struct event_base	*b_base;

	/* options */
	enum bench_mode		 b_mode;
	unsigned long		 b_nconns;	/* -c */
	unsigned long		 b_concurrency;	/* -K: opening at once */
	size_t			 b_size;	/* -s */
	double			 b_seconds;	/* -t */
	double			 b_warmup;	/* -w */
	int			 b_opcode;	/* WS_OP_TEXT or WS_OP_BINARY */
	const char		*b_proto;	/* -p */
	int			 b_split;	/* an echo may span messages */
	int			 b_down;	/* flood: backend to client */
	int			 b_nsources;	/* 127.0.0.x source addresses */
	int			 b_noecho;	/* idle: no echo after opening */
	int			 b_json;
	int			 b_quiet;

	/* target */
	const char		*b_url;
	int			 b_tls;
	char			*b_host;
	char			*b_hosthdr;
	char			*b_path;
	struct sockaddr_storage	 b_addr;
	socklen_t		 b_addrlen;
	SSL_CTX			*b_ssl_ctx;

	/* run */
	enum bench_phase	 b_phase;
	uint8_t			*b_pat;
	uint8_t			*b_wbuf;	/* one frame being built */
	size_t			 b_wbuf_size;
	uint8_t			*b_rbuf;	/* one read */
	struct bconn_list	 b_conns;
	unsigned long		 b_nlive;	/* bconns in b_conns */
	unsigned long		 b_started;	/* connections ever started */
	unsigned long		 b_nup;		/* opened (idle: and echoed) */
	unsigned long		 b_nwaiting;	/* conns with c_waiting */
	unsigned long		 b_next_id;
	unsigned long		 b_srcnext;
	uint64_t		 b_t_begin;
	uint64_t		 b_t_up;	/* all connections up */
	uint64_t		 b_t_measure;
	uint64_t		 b_t_end;
	uint64_t		 b_msgs;	/* in the measured window */
	uint64_t		 b_bytes;
	uint64_t		 b_sent_total;	/* flood up: all sent, warm-up too */
	struct hist		 b_hist;
	struct event		*b_timer;
	struct event		*b_sigint;
	struct event		*b_sigterm;

	/* what keeps a figure from being reported */
	uint64_t		 b_corrupt;	/* payload, size or type wrong */
	uint64_t		 b_lost;	/* never came back */
	uint64_t		 b_dropped;	/* connection ended mid-run */
	uint64_t		 b_failed;	/* connect or upgrade failed */
	uint64_t		 b_protocol;	/* frame the codec refused */
	uint64_t		 b_unclean;	/* close handshake incomplete:
						   reported, not fatal */
	char			 b_first[256];	/* the first error, in words */
};

static void	 usage(int) __attribute__((__noreturn__));
static void	 wsb_err(const char *, ...)
		    __attribute__((__format__(__printf__, 1, 2), __noreturn__));
static uint64_t	 now_ns(void);
static uint64_t	 rnd64(void);
static void	 hist_add(struct hist *, uint64_t);
static uint64_t	 hist_pct(const struct hist *, double);
static void	 bench_note(struct bench *, uint64_t *, const char *, ...)
		    __attribute__((__format__(__printf__, 3, 4)));
static void	 bench_parse_url(struct bench *, const char *);
static void	 bench_open_more(struct bench *);
static void	 bench_conn_gone(struct bench *);
static void	 bench_all_up(struct bench *);
static void	 bench_timer(struct bench *, double);
static void	 bench_timercb(evutil_socket_t, short, void *);
static void	 bench_signalcb(evutil_socket_t, short, void *);
static void	 bench_drain(struct bench *);
static void	 bench_check_drained(struct bench *);
static void	 bench_closing(struct bench *);
static int	 bench_report(struct bench *);
static struct bconn *conn_new(struct bench *);
static void	 conn_free(struct bconn *);
static void	 conn_check(struct bconn *);
static void	 conn_fail(struct bconn *, uint64_t *, const char *, ...)
		    __attribute__((__format__(__printf__, 3, 4)));
static void	 conn_connected(struct bconn *);
static void	 conn_readcb(evutil_socket_t, short, void *);
static void	 conn_writecb(evutil_socket_t, short, void *);
static void	 conn_tls_readcb(struct bufferevent *, void *);
static void	 conn_tls_writecb(struct bufferevent *, void *);
static void	 conn_tls_eventcb(struct bufferevent *, short, void *);
static int	 conn_write(struct bconn *, const void *, size_t);
static size_t	 conn_pending(struct bconn *);
static void	 conn_set_waiting(struct bconn *, int);
static void	 conn_input(struct bconn *, uint8_t *, size_t);
static size_t	 conn_hs_input(struct bconn *, const uint8_t *, size_t);
static void	 conn_ws_input(struct bconn *, uint8_t *, size_t);
static void	 conn_data(struct bconn *, const uint8_t *, size_t);
static void	 conn_msg_end(struct bconn *, int);
static void	 conn_control(struct bconn *, const struct ws_event *);
static void	 conn_eof(struct bconn *);
static void	 conn_opened(struct bconn *);
static void	 conn_send_frame(struct bconn *, int, const void *, size_t);
static void	 conn_send_msg(struct bconn *);
static void	 conn_send_close(struct bconn *);
static void	 conn_pump(struct bconn *);
static void	 conn_drained(struct bconn *);
static void	 conn_echo_done(struct bconn *);

static const char *mode_names[] = { "echo", "connect", "idle", "flood" };
static uint64_t	 rnd_state;

static void
usage(int status)
{
	FILE	*f = status == 0 ? stdout : stderr;

	fprintf(f,
"usage: wsbench [-m mode] [-c conns] [-s size] [-t seconds] [-w warmup]\n"
"               [-p protocol] [-K concurrency] [--text | --binary] [--split]\n"
"               [--down] [--sources n] [--no-echo] [--json] [-q] url\n"
"\n"
"Drives a WebSocket echo service at url (ws://host[:port]/path, or\n"
"wss://... without certificate checks) and prints what it sustained.\n"
"\n"
"Modes (-m):\n"
"  echo     Open -c connections; each sends a masked message of -s bytes\n"
"           and waits for its echo before sending the next (closed loop),\n"
"           for -t seconds after -w seconds of warm-up.  Reports messages/s,\n"
"           MB/s (10^6 payload bytes echoed per second, one direction) and\n"
"           the round-trip time percentiles p50/p90/p99/p99.9/max.\n"
"  connect  Keep -c connections in flight, each cycle: TCP connect, upgrade,\n"
"           one echo of -s bytes, close handshake; the cycle ends when the\n"
"           server closes the TCP connection (RFC 6455 7.1.1).  Reports\n"
"           handshakes/s (cycles completed per second) and cycle times.\n"
"  idle     Open -c connections, -K at a time, each doing one echo (not\n"
"           with --no-echo), print a \"ready\" line once all are up, hold\n"
"           them -t seconds (0: until SIGINT or SIGTERM), then close them.\n"
"           For measuring the server's memory per connection.\n"
"  flood    One direction only.  Default (up): each connection sends -s byte\n"
"           messages as fast as the server takes them; at the end it sends\n"
"           \"" WSB_SYNC "\" and the backend must answer \"" WSB_COUNT
"MSGS BYTES BAD\"\n"
"           (bench-backend -m flood does).  --down: it sends\n"
"           \"" WSB_SOURCE "SIZE\" and counts what the backend streams.\n"
"           Reports messages/s and MB/s relayed.\n"
"\n"
"Options:\n"
"  -m, --mode MODE          echo (default), connect, idle or flood\n"
"  -c, --connections N      connections (connect: in flight); default 100\n"
"  -s, --size BYTES         message size; default 32; suffix k or m for KiB/MiB\n"
"  -t, --time SECONDS       measured time; default 10\n"
"  -w, --warmup SECONDS     warm-up before measuring; default 2\n"
"  -p, --protocol NAME      offer this subprotocol, and require it back\n"
"  -K, --concurrency N      connections being opened at once; default 256\n"
"      --text, --binary     message type; default binary\n"
"      --split              accept an echo that comes back split over several\n"
"                           messages (raw and line backends); by default an\n"
"                           echo must be exactly one message of the same type\n"
"      --down               flood from the backend to the client\n"
"      --sources N          spread connections over source addresses\n"
"                           127.0.0.1..N (loopback IPv4 targets); default 16,\n"
"                           0 to let the kernel choose\n"
"      --no-echo            idle: only open the connections\n"
"      --json               print one JSON object (idle: and a ready line)\n"
"  -q, --quiet              no progress lines on stderr\n"
"  -h, --help               this text\n"
"\n"
"Every payload is checked against the message sent (bench/pattern.h: printable\n"
"ASCII, valid as text and as a line).  If any message was lost, corrupted,\n"
"cut short or of the wrong type, or any connection failed or dropped,\n"
"wsbench prints what went wrong instead of a figure and exits 1.\n"
"Exit status: 0 figures reported, 1 run refused, 2 usage or setup error.\n");
	exit(status);
}

static void
wsb_err(const char *fmt, ...)
{
	va_list	 ap;

	fprintf(stderr, "wsbench: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static uint64_t
now_ns(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* xorshift64*: masking keys and handshake keys need not be secret here. */
static uint64_t
rnd64(void)
{
	rnd_state ^= rnd_state >> 12;
	rnd_state ^= rnd_state << 25;
	rnd_state ^= rnd_state >> 27;
	return rnd_state * 0x2545f4914f6cdd1dULL;
}

static void
hist_add(struct hist *h, uint64_t v)
{
	size_t	 i;
	int	 e;

	if (v < H_NSUB)
		i = (size_t)v;
	else {
		e = 63 - __builtin_clzll(v);
		i = (size_t)(e - H_SUB + 1) * H_NSUB +
		    (size_t)((v >> (e - H_SUB)) & (H_NSUB - 1));
	}
	h->h_count[i]++;
	h->h_n++;
	h->h_sum += v;
	if (v > h->h_max)
		h->h_max = v;
}

/* The value below which a fraction p of the samples lie (bucket middle). */
static uint64_t
hist_pct(const struct hist *h, double p)
{
	uint64_t	 rank, seen = 0, lo, width;
	size_t		 i;
	int		 e;

	if (h->h_n == 0)
		return 0;
	rank = (uint64_t)ceil(p * (double)h->h_n);
	if (rank < 1)
		rank = 1;
	for (i = 0; i < H_N; i++) {
		seen += h->h_count[i];
		if (seen >= rank)
			break;
	}
	if (i < H_NSUB)
		return i;
	e = (int)(i / H_NSUB) + H_SUB - 1;
	lo = (uint64_t)(H_NSUB + i % H_NSUB) << (e - H_SUB);
	width = 1ULL << (e - H_SUB);
	lo += width / 2;
	return lo > h->h_max ? h->h_max : lo;
}

/* Count an error and remember the first one in words. */
static void
bench_note(struct bench *b, uint64_t *counter, const char *fmt, ...)
{
	va_list	 ap;

	if (counter != NULL)
		(*counter)++;
	if (b->b_first[0] != '\0')
		return;
	va_start(ap, fmt);
	vsnprintf(b->b_first, sizeof(b->b_first), fmt, ap);
	va_end(ap);
	if (!b->b_quiet)
		fprintf(stderr, "wsbench: %s\n", b->b_first);
}

static void
bench_parse_url(struct bench *b, const char *url)
{
	struct addrinfo	 hints, *res;
	const char	*p, *hostend, *port, *rest;
	size_t		 n;
	int		 rv;

	b->b_url = url;
	if (strncasecmp(url, "ws://", 5) == 0)
		p = url + 5;
	else if (strncasecmp(url, "wss://", 6) == 0) {
		p = url + 6;
		b->b_tls = 1;
	} else
		wsb_err("%s: not a ws:// or wss:// URL", url);

	n = strcspn(p, "/?");
	if (n == 0)
		wsb_err("%s: no host", url);
	if ((b->b_hosthdr = strndup(p, n)) == NULL)
		wsb_err("out of memory");
	rest = p + n;
	if (*rest == '\0')
		b->b_path = strdup("/");
	else if (*rest == '?') {
		if (asprintf(&b->b_path, "/%s", rest) == -1)
			b->b_path = NULL;
	} else
		b->b_path = strdup(rest);
	if (b->b_path == NULL)
		wsb_err("out of memory");

	/* [v6]:port, host:port or host */
	if (b->b_hosthdr[0] == '[') {
		if ((hostend = strchr(b->b_hosthdr, ']')) == NULL)
			wsb_err("%s: bad IPv6 address", url);
		b->b_host = strndup(b->b_hosthdr + 1,
		    (size_t)(hostend - b->b_hosthdr - 1));
		port = hostend[1] == ':' ? hostend + 2 : NULL;
	} else if ((port = strchr(b->b_hosthdr, ':')) != NULL) {
		b->b_host = strndup(b->b_hosthdr,
		    (size_t)(port - b->b_hosthdr));
		port++;
	} else
		b->b_host = strdup(b->b_hosthdr);
	if (b->b_host == NULL)
		wsb_err("out of memory");
	if (port == NULL || *port == '\0')
		port = b->b_tls ? "443" : "80";

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((rv = getaddrinfo(b->b_host, port, &hints, &res)) != 0)
		wsb_err("%s: %s", b->b_host, gai_strerror(rv));
	memcpy(&b->b_addr, res->ai_addr, res->ai_addrlen);
	b->b_addrlen = res->ai_addrlen;
	freeaddrinfo(res);
}

/* ---------------------------------------------------------------------- */
/* Connections */

static struct bconn *
conn_new(struct bench *b)
{
	struct bconn		*c;
	struct sockaddr_in	 src;
	const struct sockaddr_in *dst;
	unsigned char		 raw[16];
	uint64_t		 r;
	int			 one = 1, i;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		bench_note(b, &b->b_failed, "out of memory");
		return NULL;
	}
	c->c_bench = b;
	c->c_fd = -1;
	c->c_id = b->b_next_id++;
	c->c_state = CS_CONNECTING;
	c->c_t0 = now_ns();
	ws_decoder_init(&c->c_dec, 0, 0);
	TAILQ_INSERT_TAIL(&b->b_conns, c, c_entry);
	b->b_nlive++;
	b->b_started++;

	for (i = 0; i < 16; i += 8) {
		r = rnd64();
		memcpy(raw + i, &r, 8);
	}
	EVP_EncodeBlock((unsigned char *)c->c_key, raw, 16);

	if ((c->c_fd = socket(b->b_addr.ss_family,
	    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) == -1) {
		conn_fail(c, &b->b_failed, "socket: %s", strerror(errno));
		return c;
	}
	setsockopt(c->c_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	dst = (const struct sockaddr_in *)&b->b_addr;
	if (b->b_nsources > 0 && b->b_addr.ss_family == AF_INET &&
	    (ntohl(dst->sin_addr.s_addr) >> 24) == 127) {
		/* the port is picked at connect(), per destination */
		setsockopt(c->c_fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT,
		    &one, sizeof(one));
		memset(&src, 0, sizeof(src));
		src.sin_family = AF_INET;
		src.sin_addr.s_addr = htonl(0x7f000001 +
		    (uint32_t)(b->b_srcnext++ % (unsigned long)b->b_nsources));
		if (bind(c->c_fd, (struct sockaddr *)&src, sizeof(src)) == -1) {
			conn_fail(c, &b->b_failed, "bind: %s", strerror(errno));
			return c;
		}
	}
	if ((c->c_rev = event_new(b->b_base, c->c_fd, EV_READ | EV_PERSIST,
	    conn_readcb, c)) == NULL || (c->c_wev = event_new(b->b_base,
	    c->c_fd, EV_WRITE | EV_PERSIST, conn_writecb, c)) == NULL) {
		conn_fail(c, &b->b_failed, "event_new failed");
		return c;
	}
	if (connect(c->c_fd, (struct sockaddr *)&b->b_addr,
	    b->b_addrlen) == -1 && errno != EINPROGRESS) {
		conn_fail(c, &b->b_failed, "connect: %s", strerror(errno));
		return c;
	}
	event_add(c->c_wev, NULL);
	return c;
}

static void
conn_free(struct bconn *c)
{
	struct bench	*b = c->c_bench;

	conn_set_waiting(c, 0);
	if (c->c_up)
		b->b_nup--;
	TAILQ_REMOVE(&b->b_conns, c, c_entry);
	b->b_nlive--;
	if (c->c_rev != NULL)
		event_free(c->c_rev);
	if (c->c_wev != NULL)
		event_free(c->c_wev);
	if (c->c_bev != NULL)
		bufferevent_free(c->c_bev);	/* closes c_fd */
	else if (c->c_fd != -1)
		close(c->c_fd);
	if (c->c_out != NULL)
		evbuffer_free(c->c_out);
	free(c->c_hs);
	free(c);
}

/*
 * At the end of every callback: free a connection that is done, then let
 * the run go on (open another, or see whether the phase is over).
 */
static void
conn_check(struct bconn *c)
{
	struct bench	*b = c->c_bench;

	if (c->c_state != CS_DONE)
		return;
	conn_free(c);
	bench_conn_gone(b);
}

static void
conn_fail(struct bconn *c, uint64_t *counter, const char *fmt, ...)
{
	struct bench	*b = c->c_bench;
	char		 msg[200];
	va_list		 ap;

	if (c->c_state == CS_DONE)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	bench_note(b, counter, "connection %lu: %s", c->c_id, msg);
	c->c_state = CS_DONE;
}

static void
conn_set_waiting(struct bconn *c, int on)
{
	struct bench	*b = c->c_bench;

	if (on && !c->c_waiting)
		b->b_nwaiting++;
	else if (!on && c->c_waiting)
		b->b_nwaiting--;
	c->c_waiting = on;
}

/* TCP is up: start TLS, or send the upgrade request. */
static void
conn_connected(struct bconn *c)
{
	struct bench	*b = c->c_bench;
	char		 req[2048];
	SSL		*ssl;
	int		 n;

	if (b->b_tls && c->c_bev == NULL) {
		event_free(c->c_rev);
		event_free(c->c_wev);
		c->c_rev = c->c_wev = NULL;
		if ((ssl = SSL_new(b->b_ssl_ctx)) == NULL) {
			conn_fail(c, &b->b_failed, "SSL_new failed");
			return;
		}
		SSL_set_tlsext_host_name(ssl, b->b_host);
		if ((c->c_bev = bufferevent_openssl_socket_new(b->b_base,
		    c->c_fd, ssl, BUFFEREVENT_SSL_CONNECTING,
		    BEV_OPT_CLOSE_ON_FREE)) == NULL) {
			SSL_free(ssl);
			conn_fail(c, &b->b_failed,
			    "bufferevent_openssl_socket_new failed");
			return;
		}
		bufferevent_setcb(c->c_bev, conn_tls_readcb, conn_tls_writecb,
		    conn_tls_eventcb, c);
		bufferevent_enable(c->c_bev, EV_READ | EV_WRITE);
		c->c_state = CS_TLS;
		return;
	}

	n = snprintf(req, sizeof(req),
	    "GET %s HTTP/1.1\r\n"
	    "Host: %s\r\n"
	    "Upgrade: websocket\r\n"
	    "Connection: Upgrade\r\n"
	    "Sec-WebSocket-Key: %s\r\n"
	    "Sec-WebSocket-Version: 13\r\n"
	    "%s%s%s"
	    "\r\n", b->b_path, b->b_hosthdr, c->c_key,
	    b->b_proto ? "Sec-WebSocket-Protocol: " : "",
	    b->b_proto ? b->b_proto : "", b->b_proto ? "\r\n" : "");
	if (n < 0 || (size_t)n >= sizeof(req)) {
		conn_fail(c, &b->b_failed, "upgrade request too long");
		return;
	}
	c->c_state = CS_HANDSHAKE;
	if (c->c_bev == NULL)
		event_add(c->c_rev, NULL);
	conn_write(c, req, (size_t)n);
}

/* Which counter a failure of c counts against, from its state. */
static uint64_t *
conn_err_counter(struct bconn *c)
{
	struct bench	*b = c->c_bench;

	if (c->c_state < CS_OPEN)
		return &b->b_failed;
	if (c->c_state == CS_CLOSING)
		return &b->b_unclean;
	return &b->b_dropped;
}

static void
conn_readcb(evutil_socket_t fd, short what, void *arg)
{
	struct bconn	*c = arg;
	struct bench	*b = c->c_bench;
	ssize_t		 n;

	(void)what;
	n = read(fd, b->b_rbuf, WSB_RBUF);
	if (n > 0)
		conn_input(c, b->b_rbuf, (size_t)n);
	else if (n == 0)
		conn_eof(c);
	else if (errno != EAGAIN && errno != EINTR)
		conn_fail(c, conn_err_counter(c), "read: %s", strerror(errno));
	conn_check(c);
}

/* Connected, or the socket took what send() left over. */
static void
conn_writecb(evutil_socket_t fd, short what, void *arg)
{
	struct bconn	*c = arg;
	socklen_t	 len = sizeof(int);
	int		 err = 0;

	(void)what;
	if (c->c_state == CS_CONNECTING) {
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
			err = errno;
		event_del(c->c_wev);
		if (err != 0)
			conn_fail(c, &c->c_bench->b_failed, "connect: %s",
			    strerror(err));
		else
			conn_connected(c);
		conn_check(c);
		return;
	}
	if (c->c_out != NULL && evbuffer_get_length(c->c_out) > 0 &&
	    evbuffer_write(c->c_out, fd) == -1 && errno != EAGAIN &&
	    errno != EINTR) {
		conn_fail(c, conn_err_counter(c), "write: %s", strerror(errno));
		conn_check(c);
		return;
	}
	if (c->c_out == NULL || evbuffer_get_length(c->c_out) == 0) {
		event_del(c->c_wev);
		conn_drained(c);
	}
	conn_check(c);
}

static void
conn_tls_readcb(struct bufferevent *bev, void *arg)
{
	struct bconn	*c = arg;
	struct evbuffer	*in = bufferevent_get_input(bev);
	int		 n;

	while (c->c_state != CS_DONE &&
	    (n = evbuffer_remove(in, c->c_bench->b_rbuf, WSB_RBUF)) > 0)
		conn_input(c, c->c_bench->b_rbuf, (size_t)n);
	conn_check(c);
}

static void
conn_tls_writecb(struct bufferevent *bev, void *arg)
{
	struct bconn	*c = arg;

	(void)bev;
	conn_drained(c);
	conn_check(c);
}

static void
conn_tls_eventcb(struct bufferevent *bev, short what, void *arg)
{
	struct bconn	*c = arg;
	unsigned long	 e;

	if (what & BEV_EVENT_CONNECTED)
		conn_connected(c);
	else if (what & BEV_EVENT_EOF)
		conn_eof(c);
	else if (what & (BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) {
		e = bufferevent_get_openssl_error(bev);
		conn_fail(c, conn_err_counter(c), "%s", e != 0 ?
		    ERR_reason_error_string(e) :
		    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
	}
	conn_check(c);
}

/*
 * Send data, straight from the caller's buffer when nothing is queued;
 * whatever the kernel does not take is queued and a write event armed.
 * On failure c is marked done (freed by conn_check()) and -1 returned.
 */
static int
conn_write(struct bconn *c, const void *data, size_t len)
{
	ssize_t	 n = 0;

	if (c->c_state == CS_DONE)
		return -1;
	if (c->c_bev != NULL) {
		if (bufferevent_write(c->c_bev, data, len) == -1) {
			conn_fail(c, conn_err_counter(c), "bufferevent_write");
			return -1;
		}
		return 0;
	}
	if (c->c_out == NULL || evbuffer_get_length(c->c_out) == 0) {
		if ((n = send(c->c_fd, data, len, MSG_NOSIGNAL)) == -1) {
			if (errno != EAGAIN && errno != EINTR) {
				conn_fail(c, conn_err_counter(c), "send: %s",
				    strerror(errno));
				return -1;
			}
			n = 0;
		}
	}
	if ((size_t)n < len) {
		if ((c->c_out == NULL && (c->c_out = evbuffer_new()) == NULL) ||
		    evbuffer_add(c->c_out, (const uint8_t *)data + n,
		    len - (size_t)n) == -1) {
			conn_fail(c, &c->c_bench->b_failed, "out of memory");
			return -1;
		}
		event_add(c->c_wev, NULL);
	}
	return 0;
}

/* Bytes queued in user space towards the server. */
static size_t
conn_pending(struct bconn *c)
{
	if (c->c_bev != NULL)
		return evbuffer_get_length(bufferevent_get_output(c->c_bev));
	return c->c_out != NULL ? evbuffer_get_length(c->c_out) : 0;
}

static void
conn_input(struct bconn *c, uint8_t *buf, size_t len)
{
	size_t	 used;

	if (c->c_state == CS_HANDSHAKE) {
		used = conn_hs_input(c, buf, len);
		if (c->c_state != CS_OPEN)
			return;
		buf += used;
		len -= used;
		conn_opened(c);
	}
	if (c->c_state == CS_OPEN || c->c_state == CS_SYNC ||
	    c->c_state == CS_CLOSING)
		conn_ws_input(c, buf, len);
	else if (c->c_state != CS_DONE && len > 0)
		conn_fail(c, &c->c_bench->b_protocol,
		    "%zu bytes before the handshake", len);
}

/* Compare a header line's name; value points past ": " if it matches. */
static char *
hs_header(char *line, size_t len, const char *name)
{
	size_t	 n = strlen(name);

	if (len <= n || strncasecmp(line, name, n) != 0 || line[n] != ':')
		return NULL;
	line += n + 1;
	while (*line == ' ' || *line == '\t')
		line++;
	return line;
}

/*
 * Collect the response head; at its end check it is a 101 with the right
 * accept key and subprotocol.  Returns the bytes of buf used.
 */
static size_t
conn_hs_input(struct bconn *c, const uint8_t *buf, size_t len)
{
	struct bench	*b = c->c_bench;
	char		 accept[HTTP_ACCEPT_LEN + 1];
	char		*end, *line, *next, *v;
	const char	*want;
	size_t		 old = c->c_hs_len, take, llen;
	int		 got_accept = 0, got_proto = 0, got_upgrade = 0;

	if (c->c_hs == NULL && (c->c_hs = malloc(WSB_HS_MAX + 1)) == NULL) {
		conn_fail(c, &b->b_failed, "out of memory");
		return len;
	}
	take = len < WSB_HS_MAX - old ? len : WSB_HS_MAX - old;
	memcpy(c->c_hs + old, buf, take);
	c->c_hs_len += take;
	c->c_hs[c->c_hs_len] = '\0';
	if ((end = memmem(c->c_hs + (old > 3 ? old - 3 : 0),
	    c->c_hs_len - (old > 3 ? old - 3 : 0), "\r\n\r\n", 4)) == NULL) {
		if (c->c_hs_len == WSB_HS_MAX)
			conn_fail(c, &b->b_failed, "response head too long");
		return take;
	}
	end += 4;
	take = (size_t)(end - c->c_hs) - old;
	end[-2] = '\0';

	if (strncmp(c->c_hs, "HTTP/1.1 101 ", 13) != 0 &&
	    strncmp(c->c_hs, "HTTP/1.1 101\r", 13) != 0) {
		c->c_hs[strcspn(c->c_hs, "\r\n")] = '\0';
		conn_fail(c, &b->b_failed, "upgrade refused: \"%.80s\"",
		    c->c_hs);
		return take;
	}
	http_accept_key(c->c_key, strlen(c->c_key), accept);
	for (line = strstr(c->c_hs, "\r\n") + 2; *line != '\0'; line = next) {
		if ((next = strstr(line, "\r\n")) == NULL)
			break;
		llen = (size_t)(next - line);
		*next = '\0';
		next += 2;
		if ((v = hs_header(line, llen,
		    "Sec-WebSocket-Accept")) != NULL) {
			if (strcmp(v, accept) != 0) {
				conn_fail(c, &b->b_failed,
				    "wrong Sec-WebSocket-Accept");
				return take;
			}
			got_accept = 1;
		} else if ((v = hs_header(line, llen,
		    "Sec-WebSocket-Protocol")) != NULL) {
			want = b->b_proto != NULL ? b->b_proto : "";
			/* websockify answers an empty one */
			if (strcmp(v, want) != 0) {
				conn_fail(c, &b->b_failed,
				    "subprotocol \"%s\" chosen, not \"%s\"",
				    v, want);
				return take;
			}
			got_proto = v[0] != '\0';
		} else if ((v = hs_header(line, llen,
		    "Upgrade")) != NULL)
			got_upgrade = strcasecmp(v, "websocket") == 0;
	}
	if (!got_accept || !got_upgrade)
		conn_fail(c, &b->b_failed, "101 without %s",
		    got_accept ? "Upgrade: websocket" : "Sec-WebSocket-Accept");
	else if (b->b_proto != NULL && !got_proto)
		conn_fail(c, &b->b_failed, "subprotocol %s not chosen",
		    b->b_proto);
	else {
		free(c->c_hs);
		c->c_hs = NULL;
		c->c_state = CS_OPEN;
	}
	return take;
}

static void
conn_ws_input(struct bconn *c, uint8_t *buf, size_t len)
{
	struct ws_event	 ev;
	ssize_t		 n;

	while (c->c_state != CS_DONE) {
		n = ws_decode(&c->c_dec, buf, len, &ev);
		if (n < 0) {
			conn_fail(c, &c->c_bench->b_protocol,
			    "bad frame from the server: %s", ws_strerror((int)n));
			return;
		}
		buf += n;
		len -= (size_t)n;
		switch (ev.type) {
		case WS_EV_NONE:
			if (n == 0)
				return;
			break;
		case WS_EV_DATA:
			conn_data(c, ev.data, ev.len);
			break;
		case WS_EV_MSG_END:
			conn_msg_end(c, ev.opcode);
			break;
		default:
			conn_control(c, &ev);
			break;
		}
	}
}

static void
conn_corrupt(struct bconn *c, const char *what)
{
	struct bench	*b = c->c_bench;

	if (c->c_bad)
		return;
	c->c_bad = 1;
	bench_note(b, &b->b_corrupt, "connection %lu: message %" PRIu64
	    ": %s", c->c_id, c->c_rseq, what);
}

/* Payload bytes of the message being received. */
static void
conn_data(struct bconn *c, const uint8_t *data, size_t len)
{
	struct bench	*b = c->c_bench;
	size_t		 n;

	if (c->c_state == CS_CLOSING)
		return;
	if (c->c_state == CS_SYNC) {
		n = sizeof(c->c_ctl) - 1 - c->c_ctl_len;
		n = len < n ? len : n;
		memcpy(c->c_ctl + c->c_ctl_len, data, n);
		c->c_ctl_len += n;
		return;
	}
	if (b->b_mode == MODE_FLOOD && !b->b_down) {
		conn_corrupt(c, "data while flooding up");
		return;
	}
	if (b->b_mode != MODE_FLOOD && !c->c_waiting) {
		conn_corrupt(c, "data with no echo due");
		return;
	}
	if (c->c_roff + len > b->b_size)
		conn_corrupt(c, "longer than sent");
	else if (pat_check(b->b_pat, c->c_rseq, c->c_roff, data, len) != 0)
		conn_corrupt(c, "payload differs");
	c->c_roff += len;
}

static void
conn_msg_end(struct bconn *c, int opcode)
{
	struct bench		*b = c->c_bench;
	unsigned long long	 msgs, bytes, bad;

	if (c->c_state == CS_CLOSING)
		return;
	if (c->c_state == CS_SYNC) {
		c->c_ctl[c->c_ctl_len] = '\0';
		if (sscanf(c->c_ctl, WSB_COUNT "%llu %llu %llu", &msgs, &bytes,
		    &bad) != 3)
			bench_note(b, &b->b_corrupt, "connection %lu: "
			    "bad sync answer \"%.40s\"", c->c_id, c->c_ctl);
		else {
			if (msgs < c->c_sseq)
				bench_note(b, NULL, "connection %lu: backend "
				    "got %llu of %" PRIu64 " messages", c->c_id,
				    msgs, c->c_sseq);
			if (msgs < c->c_sseq)
				b->b_lost += c->c_sseq - msgs;
			else if (msgs > c->c_sseq)
				bench_note(b, &b->b_corrupt, "connection %lu: "
				    "backend got %llu messages, %" PRIu64
				    " sent", c->c_id, msgs, c->c_sseq);
			if (bad > 0) {
				bench_note(b, NULL, "connection %lu: backend "
				    "found %llu corrupt messages", c->c_id,
				    bad);
				b->b_corrupt += bad;
			}
		}
		c->c_state = CS_OPEN;
		conn_set_waiting(c, 0);
		bench_check_drained(b);
		return;
	}
	if (opcode != b->b_opcode && !(b->b_mode == MODE_FLOOD && b->b_down &&
	    opcode == WS_OP_BINARY))
		conn_corrupt(c, opcode == WS_OP_TEXT ? "came back as text" :
		    "came back as binary");
	if (b->b_mode == MODE_FLOOD) {
		if (c->c_roff != b->b_size)
			conn_corrupt(c, "wrong size");
		if (!c->c_bad && b->b_phase == PH_MEASURE) {
			b->b_msgs++;
			b->b_bytes += b->b_size;
		}
		c->c_rseq++;
		c->c_roff = 0;
		c->c_bad = 0;
		return;
	}
	if (!c->c_waiting)
		return;		/* counted corrupt in conn_data() */
	if (c->c_roff < b->b_size) {
		if (b->b_split && !c->c_bad)
			return;	/* the rest comes in another message */
		conn_corrupt(c, "shorter than sent");
	}
	conn_echo_done(c);
}

/* The echo of the outstanding message is complete. */
static void
conn_echo_done(struct bconn *c)
{
	struct bench	*b = c->c_bench;
	uint64_t	 t = now_ns();
	int		 bad = c->c_bad;

	conn_set_waiting(c, 0);
	c->c_roff = 0;
	c->c_bad = 0;
	switch (b->b_mode) {
	case MODE_ECHO:
		if (b->b_phase == PH_MEASURE && !bad) {
			b->b_msgs++;
			b->b_bytes += b->b_size;
			hist_add(&b->b_hist, t - c->c_t0);
		}
		if (b->b_phase == PH_WARMUP || b->b_phase == PH_MEASURE)
			conn_send_msg(c);
		else
			bench_check_drained(b);
		break;
	case MODE_IDLE:
		if (!c->c_up) {
			c->c_up = 1;
			b->b_nup++;
			if (b->b_nup == b->b_nconns)
				bench_all_up(b);
			else
				bench_open_more(b);
		}
		break;
	case MODE_CONNECT:
		conn_send_close(c);
		break;
	case MODE_FLOOD:
		break;
	}
}

static void
conn_control(struct bconn *c, const struct ws_event *ev)
{
	struct bench	*b = c->c_bench;

	switch (ev->type) {
	case WS_EV_PING:
		conn_send_frame(c, WS_OP_PONG, ev->data, ev->len);
		break;
	case WS_EV_CLOSE:
		if (c->c_state != CS_CLOSING) {
			conn_fail(c, &b->b_dropped, "server closed with %u%s"
			    "%.*s", ev->close_code, ev->reason_len ? ": " : "",
			    (int)ev->reason_len, (const char *)ev->reason);
			break;
		}
		if (b->b_mode == MODE_CONNECT) {
			/*
			 * RFC 6455 7.1.1: the server closes the TCP
			 * connection first (TIME_WAIT stays there); the
			 * cycle ends when it has.
			 */
			c->c_close_rcvd = 1;
			break;
		}
		c->c_state = CS_DONE;
		break;
	default:
		break;
	}
}

static void
conn_eof(struct bconn *c)
{
	struct bench	*b = c->c_bench;

	if (c->c_state == CS_CLOSING && c->c_close_rcvd) {
		if (b->b_phase == PH_MEASURE) {
			b->b_msgs++;
			hist_add(&b->b_hist, now_ns() - c->c_t0);
		}
		c->c_state = CS_DONE;
		return;
	}
	if (c->c_state == CS_CLOSING) {
		bench_note(b, b->b_mode == MODE_CONNECT ? &b->b_failed :
		    &b->b_unclean, "connection %lu: closed without a close "
		    "frame", c->c_id);
		c->c_state = CS_DONE;
		return;
	}
	conn_fail(c, conn_err_counter(c), "connection closed by the server");
}

/* The 101 arrived. */
static void
conn_opened(struct bconn *c)
{
	struct bench	*b = c->c_bench;

	switch (b->b_mode) {
	case MODE_ECHO:
	case MODE_FLOOD:
		c->c_up = 1;
		b->b_nup++;
		if (b->b_nup == b->b_nconns)
			bench_all_up(b);
		else
			bench_open_more(b);
		break;
	case MODE_IDLE:
		if (!b->b_noecho) {
			conn_send_msg(c);
			break;
		}
		c->c_up = 1;
		b->b_nup++;
		if (b->b_nup == b->b_nconns)
			bench_all_up(b);
		else
			bench_open_more(b);
		break;
	case MODE_CONNECT:
		conn_send_msg(c);
		break;
	}
}

/* Mask and send one frame. */
static void
conn_send_frame(struct bconn *c, int opcode, const void *payload, size_t len)
{
	struct bench	*b = c->c_bench;
	uint64_t	 r = rnd64();
	uint8_t		 mask[4];
	size_t		 h;

	memcpy(mask, &r, 4);
	h = ws_encode_header(b->b_wbuf, 1, opcode, 0, len, mask);
	memcpy(b->b_wbuf + h, payload, len);
	ws_mask(b->b_wbuf + h, len, mask, 0);
	conn_write(c, b->b_wbuf, h + len);
}

/* Send the next pattern message and wait for its echo. */
static void
conn_send_msg(struct bconn *c)
{
	struct bench	*b = c->c_bench;
	uint64_t	 r = rnd64();
	uint8_t		 mask[4];
	size_t		 h;

	memcpy(mask, &r, 4);
	c->c_rseq = c->c_sseq++;
	c->c_roff = 0;
	c->c_bad = 0;
	h = ws_encode_header(b->b_wbuf, 1, b->b_opcode, 0, b->b_size, mask);
	pat_make(b->b_pat, c->c_rseq, b->b_wbuf + h, b->b_size);
	ws_mask(b->b_wbuf + h, b->b_size, mask, 0);
	if (b->b_mode != MODE_FLOOD) {
		conn_set_waiting(c, 1);
		if (b->b_mode != MODE_CONNECT)
			c->c_t0 = now_ns();
	}
	conn_write(c, b->b_wbuf, h + b->b_size);
}

static void
conn_send_close(struct bconn *c)
{
	uint8_t	 payload[WS_MAX_CONTROL];
	size_t	 n;

	n = ws_close_payload(payload, WS_CLOSE_NORMAL, NULL, 0);
	c->c_state = CS_CLOSING;
	conn_send_frame(c, WS_OP_CLOSE, payload, n);
}

/* Flood up: queue messages until the socket pushes back. */
static void
conn_pump(struct bconn *c)
{
	struct bench	*b = c->c_bench;
	size_t		 burst = 0;

	while ((b->b_phase == PH_WARMUP || b->b_phase == PH_MEASURE) &&
	    c->c_state == CS_OPEN && conn_pending(c) < WSB_FLOOD_HIGH &&
	    burst < WSB_FLOOD_BURST) {
		conn_send_msg(c);
		b->b_sent_total++;
		if (b->b_phase == PH_MEASURE) {
			b->b_msgs++;
			b->b_bytes += b->b_size;
		}
		burst += b->b_size + WS_MAX_HEADER;
	}
	/* the kernel took it all: come back when it is writable again */
	if (c->c_state == CS_OPEN && c->c_bev == NULL && conn_pending(c) == 0)
		event_add(c->c_wev, NULL);
}

/* Everything queued was written. */
static void
conn_drained(struct bconn *c)
{
	struct bench	*b = c->c_bench;

	if (c->c_state != CS_OPEN || b->b_mode != MODE_FLOOD || b->b_down)
		return;
	if (b->b_phase == PH_WARMUP || b->b_phase == PH_MEASURE)
		conn_pump(c);
	else if (b->b_phase == PH_DRAIN && c->c_waiting) {
		c->c_state = CS_SYNC;
		c->c_ctl_len = 0;
		conn_send_frame(c, WS_OP_TEXT, WSB_SYNC, strlen(WSB_SYNC));
	}
}

/* ---------------------------------------------------------------------- */
/* The run */

static int
bench_fatal(const struct bench *b)
{
	return b->b_failed > 0 || b->b_dropped > 0 || b->b_protocol > 0;
}

/* Open connections until -c are open or opening (-K at a time). */
static void
bench_open_more(struct bench *b)
{
	struct bconn	*c;

	for (;;) {
		if (bench_fatal(b))
			return;
		if (b->b_mode == MODE_CONNECT) {
			if ((b->b_phase != PH_WARMUP &&
			    b->b_phase != PH_MEASURE) ||
			    b->b_nlive >= b->b_nconns)
				return;
		} else if (b->b_phase != PH_OPENING ||
		    b->b_started >= b->b_nconns ||
		    b->b_nlive - b->b_nup >= b->b_concurrency)
			return;
		if ((c = conn_new(b)) == NULL)
			return;
		if (c->c_state == CS_DONE) {
			conn_free(c);
			return;
		}
	}
}

/* A connection was freed. */
static void
bench_conn_gone(struct bench *b)
{
	switch (b->b_phase) {
	case PH_OPENING:
	case PH_WARMUP:
	case PH_MEASURE:
		if (bench_fatal(b))
			bench_closing(b);
		else if (b->b_mode == MODE_CONNECT)
			bench_open_more(b);
		break;
	case PH_DRAIN:
		bench_check_drained(b);
		break;
	case PH_CLOSING:
		if (b->b_nlive == 0) {
			b->b_phase = PH_DONE;
			event_base_loopbreak(b->b_base);
		}
		break;
	case PH_DONE:
		break;
	}
}

static void
bench_timer(struct bench *b, double seconds)
{
	struct timeval	 tv;

	tv.tv_sec = (time_t)seconds;
	tv.tv_usec = (suseconds_t)((seconds - (double)tv.tv_sec) * 1e6);
	evtimer_add(b->b_timer, &tv);
}

/* Every connection is open: start the traffic. */
static void
bench_all_up(struct bench *b)
{
	struct bconn	*c, *next;
	char		 req[64];
	int		 n;

	b->b_t_up = now_ns();
	if (b->b_mode == MODE_IDLE) {
		b->b_phase = PH_MEASURE;
		b->b_t_measure = b->b_t_up;
		if (b->b_json)
			printf("{\"event\": \"ready\", \"connections\": %lu, "
			    "\"open_seconds\": %.3f}\n", b->b_nconns,
			    (double)(b->b_t_up - b->b_t_begin) / 1e9);
		else
			printf("wsbench: ready: %lu connections up in %.2f s\n",
			    b->b_nconns, (double)(b->b_t_up - b->b_t_begin) /
			    1e9);
		fflush(stdout);
		evtimer_del(b->b_timer);
		if (b->b_seconds > 0)
			bench_timer(b, b->b_seconds);
		return;
	}
	b->b_phase = PH_WARMUP;
	bench_timer(b, b->b_warmup);
	n = snprintf(req, sizeof(req), WSB_SOURCE "%zu", b->b_size);
	for (c = TAILQ_FIRST(&b->b_conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, c_entry);
		if (c->c_state != CS_OPEN)
			continue;
		if (b->b_mode == MODE_ECHO)
			conn_send_msg(c);
		else if (b->b_down)
			conn_send_frame(c, WS_OP_TEXT, req, (size_t)n);
		else
			conn_pump(c);
		conn_check(c);
	}
}

static void
bench_timercb(evutil_socket_t fd, short what, void *arg)
{
	struct bench	*b = arg;

	(void)fd;
	(void)what;
	switch (b->b_phase) {
	case PH_OPENING:
		bench_note(b, &b->b_failed, "only %lu of %lu connections up "
		    "after %.0f s", b->b_nup, b->b_nconns,
		    (double)(now_ns() - b->b_t_begin) / 1e9);
		bench_closing(b);
		break;
	case PH_WARMUP:
		b->b_phase = PH_MEASURE;
		b->b_t_measure = now_ns();
		b->b_msgs = b->b_bytes = 0;
		memset(&b->b_hist, 0, sizeof(b->b_hist));
		bench_timer(b, b->b_seconds);
		break;
	case PH_MEASURE:
		bench_drain(b);
		break;
	case PH_DRAIN:
		if (b->b_mode == MODE_CONNECT) {
			bench_note(b, NULL, "%lu connect cycles did not finish",
			    b->b_nlive);
			b->b_lost += b->b_nlive;
		} else {
			bench_note(b, NULL, "%lu %s never came back",
			    b->b_nwaiting, b->b_mode == MODE_FLOOD ?
			    "sync answers" : "echoes");
			b->b_lost += b->b_nwaiting;
		}
		bench_closing(b);
		break;
	case PH_CLOSING:
		if (b->b_mode == MODE_CONNECT)
			b->b_failed += b->b_nlive;
		b->b_unclean += b->b_nlive;
		b->b_phase = PH_DONE;
		event_base_loopbreak(b->b_base);
		break;
	case PH_DONE:
		break;
	}
}

static void
bench_signalcb(evutil_socket_t sig, short what, void *arg)
{
	struct bench	*b = arg;

	(void)what;
	if (b->b_phase >= PH_CLOSING) {
		b->b_phase = PH_DONE;
		event_base_loopbreak(b->b_base);
		return;
	}
	if (b->b_mode == MODE_IDLE && b->b_phase == PH_MEASURE) {
		b->b_t_end = now_ns();
		bench_closing(b);
		return;
	}
	bench_note(b, &b->b_failed, "interrupted by signal %d", (int)sig);
	bench_closing(b);
}

/* The measured time is over: let what is in flight come back. */
static void
bench_drain(struct bench *b)
{
	struct bconn	*c, *next;

	b->b_t_end = now_ns();
	if (b->b_mode == MODE_IDLE ||
	    (b->b_mode == MODE_FLOOD && b->b_down)) {
		bench_closing(b);
		return;
	}
	b->b_phase = PH_DRAIN;
	bench_timer(b, WSB_DRAIN_S);
	if (b->b_mode == MODE_FLOOD) {
		for (c = TAILQ_FIRST(&b->b_conns); c != NULL; c = next) {
			next = TAILQ_NEXT(c, c_entry);
			if (c->c_state != CS_OPEN)
				continue;
			conn_set_waiting(c, 1);
			if (conn_pending(c) == 0)
				conn_drained(c);
			conn_check(c);
		}
	}
	bench_check_drained(b);
}

static void
bench_check_drained(struct bench *b)
{
	if (b->b_phase != PH_DRAIN)
		return;
	if (b->b_mode == MODE_CONNECT ? b->b_nlive == 0 : b->b_nwaiting == 0)
		bench_closing(b);
}

/* Close every connection, with a close handshake where one is open. */
static void
bench_closing(struct bench *b)
{
	struct bconn	*c, *next;

	if (b->b_phase >= PH_CLOSING)
		return;
	if (b->b_t_end == 0)
		b->b_t_end = now_ns();
	b->b_phase = PH_CLOSING;
	bench_timer(b, WSB_CLOSE_S);
	for (c = TAILQ_FIRST(&b->b_conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, c_entry);
		if (c->c_state == CS_OPEN || c->c_state == CS_SYNC)
			conn_send_close(c);
		else if (c->c_state != CS_CLOSING)
			c->c_state = CS_DONE;
		conn_check(c);
	}
	if (b->b_nlive == 0 && b->b_phase == PH_CLOSING) {
		b->b_phase = PH_DONE;
		event_base_loopbreak(b->b_base);
	}
}

/* s as a JSON string, quotes included. */
static void
json_str(const char *s)
{
	putchar('"');
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", (unsigned char)*s);
		else
			putchar(*s);
	}
	putchar('"');
}

static const char *
opname(int opcode)
{
	return opcode == WS_OP_TEXT ? "text" : "binary";
}

/* Print the figures, or why there are none.  Returns the exit status. */
static int
bench_report(struct bench *b)
{
	const struct hist *h = &b->b_hist;
	double		 secs, rate, mbs;
	uint64_t	 fatal;
	const char	*what;

	fatal = b->b_corrupt + b->b_lost + b->b_dropped + b->b_failed +
	    b->b_protocol;
	secs = (double)(b->b_t_end - b->b_t_measure) / 1e9;
	if (fatal == 0 && b->b_mode != MODE_IDLE && b->b_msgs == 0)
		bench_note(b, &b->b_lost, "no message completed in the "
		    "measured time");
	fatal = b->b_corrupt + b->b_lost + b->b_dropped + b->b_failed +
	    b->b_protocol;
	if (fatal > 0) {
		if (b->b_json) {
			printf("{\"ok\": false, \"mode\": \"%s\", \"error\": ",
			    mode_names[b->b_mode]);
			json_str(b->b_first);
			printf(", \"errors\": {\"corrupt\": %" PRIu64 ", "
			    "\"lost\": %" PRIu64 ", \"dropped\": %" PRIu64 ", "
			    "\"failed\": %" PRIu64 ", \"protocol\": %" PRIu64
			    ", \"unclean_close\": %" PRIu64 "}}\n", b->b_corrupt,
			    b->b_lost, b->b_dropped, b->b_failed, b->b_protocol,
			    b->b_unclean);
		}
		fprintf(stderr, "wsbench: NO FIGURES: %" PRIu64 " corrupted, %"
		    PRIu64 " lost, %" PRIu64 " dropped connections, %" PRIu64
		    " failed connections, %" PRIu64 " protocol errors; first: "
		    "%s\n", b->b_corrupt, b->b_lost, b->b_dropped, b->b_failed,
		    b->b_protocol, b->b_first);
		return 1;
	}
	if (b->b_unclean > 0 && !b->b_quiet)
		fprintf(stderr, "wsbench: warning: %" PRIu64 " close "
		    "handshakes did not complete\n", b->b_unclean);

	if (b->b_mode == MODE_IDLE) {
		if (b->b_json) {
			printf("{\"ok\": true, \"mode\": \"idle\", \"url\": ");
			json_str(b->b_url);
			printf(", \"connections\": %lu, \"open_seconds\": "
			    "%.3f, \"held_seconds\": %.3f, \"unclean_close\": %"
			    PRIu64 "}\n", b->b_nconns,
			    (double)(b->b_t_up - b->b_t_begin) / 1e9, secs,
			    b->b_unclean);
		} else
			printf("wsbench: idle %s: %lu connections held %.1f s\n",
			    b->b_url, b->b_nconns, secs);
		return 0;
	}

	rate = (double)b->b_msgs / secs;
	mbs = (double)b->b_bytes / secs / 1e6;
	what = b->b_mode == MODE_CONNECT ? "cycle" : "rtt";
	if (b->b_json) {
		printf("{\"ok\": true, \"mode\": \"%s\", \"url\": ",
		    mode_names[b->b_mode]);
		json_str(b->b_url);
		printf(", \"connections\": %lu, \"size\": %zu, \"type\": "
		    "\"%s\", \"direction\": \"%s\", \"seconds\": %.3f, "
		    "\"messages\": %" PRIu64 ", \"%s\": %.1f, "
		    "\"mb_per_sec\": %.2f", b->b_nconns, b->b_size, opname(b->b_opcode),
		    b->b_mode != MODE_FLOOD ? "both" : b->b_down ? "down" : "up",
		    secs, b->b_msgs, b->b_mode == MODE_CONNECT ?
		    "handshakes_per_sec" : "msgs_per_sec", rate, mbs);
		if (h->h_n > 0)
			printf(", \"latency\": \"%s\", \"latency_us\": "
			    "{\"p50\": %.1f, \"p90\": %.1f, \"p99\": %.1f, "
			    "\"p99.9\": %.1f, \"max\": %.1f, \"mean\": %.1f}",
			    what, hist_pct(h, 0.5) / 1e3,
			    hist_pct(h, 0.9) / 1e3, hist_pct(h, 0.99) / 1e3,
			    hist_pct(h, 0.999) / 1e3, h->h_max / 1e3,
			    (double)(h->h_sum / h->h_n) / 1e3);
		printf(", \"unclean_close\": %" PRIu64 "}\n", b->b_unclean);
		return 0;
	}
	printf("wsbench: %s %s: %lu %s, %zu-byte %s messages%s, %.1f s "
	    "after %.1f s warm-up\n", mode_names[b->b_mode], b->b_url,
	    b->b_nconns, b->b_mode == MODE_CONNECT ? "in flight" :
	    "connections", b->b_size, opname(b->b_opcode),
	    b->b_mode != MODE_FLOOD ? "" : b->b_down ? ", backend to client" :
	    ", client to backend", secs, b->b_warmup);
	if (b->b_mode == MODE_CONNECT)
		printf("  handshakes/s  %.0f\n", rate);
	else
		printf("  messages/s    %.0f\n  MB/s          %.2f\n", rate, mbs);
	if (h->h_n > 0)
		printf("  %s (us)    p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  "
		    "max %.1f\n", what, hist_pct(h, 0.5) / 1e3,
		    hist_pct(h, 0.9) / 1e3, hist_pct(h, 0.99) / 1e3,
		    hist_pct(h, 0.999) / 1e3, h->h_max / 1e3);
	return 0;
}

static size_t
parse_size(const char *s)
{
	unsigned long long	 v;
	char			*end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s)
		wsb_err("%s: bad size", s);
	if (*end == 'k' || *end == 'K') {
		v *= 1024;
		end++;
	} else if (*end == 'm' || *end == 'M') {
		v *= 1024 * 1024;
		end++;
	}
	if (*end != '\0' || v > (1ULL << 30))
		wsb_err("%s: bad size (at most 1 GiB)", s);
	return (size_t)v;
}

static unsigned long
parse_count(const char *s, unsigned long min, unsigned long max)
{
	unsigned long	 v;
	char		*end;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		wsb_err("%s: not a number from %lu to %lu", s, min, max);
	return v;
}

static double
parse_seconds(const char *s)
{
	double	 v;
	char	*end;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || v < 0 || v > 86400)
		wsb_err("%s: bad number of seconds", s);
	return v;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "mode",	 required_argument,	NULL, 'm' },
		{ "connections", required_argument,	NULL, 'c' },
		{ "size",	 required_argument,	NULL, 's' },
		{ "time",	 required_argument,	NULL, 't' },
		{ "warmup",	 required_argument,	NULL, 'w' },
		{ "protocol",	 required_argument,	NULL, 'p' },
		{ "concurrency", required_argument,	NULL, 'K' },
		{ "text",	 no_argument,		NULL, 'T' },
		{ "binary",	 no_argument,		NULL, 'B' },
		{ "split",	 no_argument,		NULL, 'S' },
		{ "down",	 no_argument,		NULL, 'D' },
		{ "sources",	 required_argument,	NULL, 'A' },
		{ "no-echo",	 no_argument,		NULL, 'N' },
		{ "json",	 no_argument,		NULL, 'J' },
		{ "quiet",	 no_argument,		NULL, 'q' },
		{ "help",	 no_argument,		NULL, 'h' },
		{ NULL,		 0,			NULL, 0 }
	};
	struct bench	 bench, *b = &bench;
	struct rlimit	 rl;
	size_t		 i;
	int		 ch, status;

	memset(b, 0, sizeof(*b));
	b->b_mode = MODE_ECHO;
	b->b_nconns = 100;
	b->b_concurrency = 256;
	b->b_size = 32;
	b->b_seconds = 10;
	b->b_warmup = 2;
	b->b_opcode = WS_OP_BINARY;
	b->b_nsources = 16;
	TAILQ_INIT(&b->b_conns);

	while ((ch = getopt_long(argc, argv, "m:c:s:t:w:p:K:qh", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'm':
			for (i = 0; i < sizeof(mode_names) /
			    sizeof(mode_names[0]); i++)
				if (strcmp(optarg, mode_names[i]) == 0)
					break;
			if (i == sizeof(mode_names) / sizeof(mode_names[0]))
				wsb_err("%s: unknown mode", optarg);
			b->b_mode = (enum bench_mode)i;
			break;
		case 'c':
			b->b_nconns = parse_count(optarg, 1, 1000000);
			break;
		case 's':
			b->b_size = parse_size(optarg);
			break;
		case 't':
			b->b_seconds = parse_seconds(optarg);
			break;
		case 'w':
			b->b_warmup = parse_seconds(optarg);
			break;
		case 'p':
			b->b_proto = optarg;
			break;
		case 'K':
			b->b_concurrency = parse_count(optarg, 1, 1000000);
			break;
		case 'T':
			b->b_opcode = WS_OP_TEXT;
			break;
		case 'B':
			b->b_opcode = WS_OP_BINARY;
			break;
		case 'S':
			b->b_split = 1;
			break;
		case 'D':
			b->b_down = 1;
			break;
		case 'A':
			b->b_nsources = (int)parse_count(optarg, 0, 254);
			break;
		case 'N':
			b->b_noecho = 1;
			break;
		case 'J':
			b->b_json = 1;
			break;
		case 'q':
			b->b_quiet = 1;
			break;
		case 'h':
			usage(0);
		default:
			usage(2);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1)
		usage(2);
	if (b->b_mode != MODE_IDLE && b->b_seconds <= 0)
		wsb_err("-t must be more than 0 in %s mode",
		    mode_names[b->b_mode]);
	if (b->b_down && b->b_mode != MODE_FLOOD)
		wsb_err("--down is for flood mode");
	bench_parse_url(b, argv[0]);

	rnd_state = now_ns() ^ ((uint64_t)getpid() << 32) ^ 0x5deece66dULL;
	signal(SIGPIPE, SIG_IGN);
	/* one descriptor per connection */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}

	if ((b->b_pat = malloc(pat_len(b->b_size))) == NULL ||
	    (b->b_rbuf = malloc(WSB_RBUF)) == NULL)
		wsb_err("out of memory");
	pat_fill(b->b_pat, pat_len(b->b_size));
	b->b_wbuf_size = WS_MAX_HEADER + (b->b_size > 256 ? b->b_size : 256);
	if ((b->b_wbuf = malloc(b->b_wbuf_size)) == NULL)
		wsb_err("out of memory");
	if (b->b_tls) {
		if ((b->b_ssl_ctx = SSL_CTX_new(TLS_client_method())) == NULL)
			wsb_err("SSL_CTX_new failed");
		/* a benchmark of the server's TLS, not a secure client */
		SSL_CTX_set_verify(b->b_ssl_ctx, SSL_VERIFY_NONE, NULL);
	}

	if ((b->b_base = event_base_new()) == NULL ||
	    (b->b_timer = evtimer_new(b->b_base, bench_timercb, b)) == NULL ||
	    (b->b_sigint = evsignal_new(b->b_base, SIGINT, bench_signalcb,
	    b)) == NULL || (b->b_sigterm = evsignal_new(b->b_base, SIGTERM,
	    bench_signalcb, b)) == NULL)
		wsb_err("libevent setup failed");
	evsignal_add(b->b_sigint, NULL);
	evsignal_add(b->b_sigterm, NULL);

	b->b_t_begin = now_ns();
	if (b->b_mode == MODE_CONNECT) {
		b->b_phase = PH_WARMUP;
		bench_timer(b, b->b_warmup);
	} else {
		b->b_phase = PH_OPENING;
		/* a connection a millisecond is slow enough to give up */
		bench_timer(b, 30.0 + (double)b->b_nconns / 1000.0);
	}
	bench_open_more(b);
	if (bench_fatal(b))
		bench_closing(b);
	if (b->b_phase != PH_DONE)
		event_base_dispatch(b->b_base);

	status = bench_report(b);

	while (!TAILQ_EMPTY(&b->b_conns))
		conn_free(TAILQ_FIRST(&b->b_conns));
	event_free(b->b_timer);
	event_free(b->b_sigint);
	event_free(b->b_sigterm);
	event_base_free(b->b_base);
	if (b->b_ssl_ctx != NULL)
		SSL_CTX_free(b->b_ssl_ctx);
	free(b->b_pat);
	free(b->b_rbuf);
	free(b->b_wbuf);
	free(b->b_host);
	free(b->b_hosthdr);
	free(b->b_path);
	return status;
}
