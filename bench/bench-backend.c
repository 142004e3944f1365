/*
 * bench-backend: the fast Unix-socket backend behind the gateways that
 * `make bench` compares.
 *
 *   bench-backend [-m echo|flood] socket-path
 *
 * echo (default): every byte read is written back to the connection it
 * came from.  A byte echo is a correct echo for each of wsgated's
 * framings (raw, line, frame), and is the raw echo behind websockify.
 *
 * flood: speaks wsgated's frame framing (5-byte records: type 1 text,
 * 2 binary, 8 close; 32-bit big-endian length) for wsbench -m flood.
 * Data records are checked against bench/pattern.h, message by message,
 * and counted; the text record "wsbench-sync" is answered with the text
 * record "wsbench-count MSGS BYTES BAD" (what was counted before it);
 * "wsbench-source SIZE" starts a stream of SIZE-byte binary pattern
 * records, written as fast as the socket takes them; a close record stops
 * the stream and is echoed back.
 *
 * The loop is plain epoll, level-triggered, with one shared read buffer:
 * a read and a write per message and no allocation on the steady path, so
 * the backend costs the gateway in front of it as little CPU as possible.
 * Output the socket does not take is kept per connection, and reading from
 * that connection stops until it is written.
 */

#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pattern.h"

#define BB_RBUF		(256 * 1024)
#define BB_HIGH		(1024 * 1024)	/* stop reading above this output */
#define BB_SOURCE_CHUNK	(256 * 1024)	/* flood down: bytes per write */
#define BB_MAX_RECORD	(64 * 1024 * 1024)
#define BB_EVENTS	256

#define REC_TEXT	1
#define REC_BINARY	2
#define REC_CLOSE	8
#define REC_HDR		5

enum bb_mode { BB_ECHO, BB_FLOOD };

struct bb_conn {
	int		 fd;
	uint32_t	 events;	/* registered with epoll */
	uint8_t		*out;		/* output the socket did not take */
	size_t		 out_len;
	size_t		 out_off;
	size_t		 out_cap;
	/* flood: the record being read */
	uint8_t		 hdr[REC_HDR];
	size_t		 hdr_have;
	int		 rtype;
	size_t		 rlen;
	size_t		 roff;
	int		 rbad;
	uint8_t		 small[64];	/* a short text record, whole */
	uint64_t	 rseq;		/* data records received */
	uint64_t	 nbytes;
	uint64_t	 nbad;
	/* flood: streaming */
	size_t		 src_size;	/* 0: not streaming */
	uint64_t	 src_seq;
	int		 closing;	/* close record echoed: no more input */
};

static enum bb_mode	 mode = BB_ECHO;
static int		 epfd = -1;
static uint8_t		*rbuf;
static uint8_t		*pat;
static size_t		 pat_size;
static volatile sig_atomic_t quit;

static void	 bb_log(const char *, ...)
		    __attribute__((__format__(__printf__, 1, 2)));
static void	 usage(void) __attribute__((__noreturn__));

static void
bb_log(const char *fmt, ...)
{
	va_list	 ap;

	fprintf(stderr, "bench-backend: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void
usage(void)
{
	fprintf(stderr, "usage: bench-backend [-m echo|flood] socket-path\n");
	exit(2);
}

static void
bb_quit(int sig)
{
	(void)sig;
	quit = 1;
}

static void
bb_set_events(struct bb_conn *c, uint32_t ev)
{
	struct epoll_event	 e;

	if (ev == c->events)
		return;
	e.events = ev;
	e.data.ptr = c;
	if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &e) == -1)
		bb_log("epoll_ctl: %s", strerror(errno));
	c->events = ev;
}

static void
bb_close(struct bb_conn *c)
{
	close(c->fd);
	free(c->out);
	free(c);
}

/* The pattern must cover a record of size bytes. */
static int
bb_pattern(size_t size)
{
	uint8_t	*p;

	if (pat_len(size) <= pat_size)
		return 0;
	if ((p = realloc(pat, pat_len(size))) == NULL)
		return -1;
	pat = p;
	pat_size = pat_len(size);
	pat_fill(pat, pat_size);
	return 0;
}

/* Keep what the socket did not take; -1 on allocation failure. */
static int
bb_keep(struct bb_conn *c, const uint8_t *data, size_t len)
{
	uint8_t	*p;
	size_t	 need;

	if (c->out_off > 0 && c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	need = c->out_len + len;
	if (need > c->out_cap) {
		if (c->out_off > 0) {
			memmove(c->out, c->out + c->out_off,
			    c->out_len - c->out_off);
			c->out_len -= c->out_off;
			c->out_off = 0;
			need = c->out_len + len;
		}
		if (need > c->out_cap) {
			if ((p = realloc(c->out, need)) == NULL)
				return -1;
			c->out = p;
			c->out_cap = need;
		}
	}
	memcpy(c->out + c->out_len, data, len);
	c->out_len += len;
	return 0;
}

/*
 * Write data now if nothing is queued, queue what is left.  Returns -1
 * when the connection is to be closed.
 */
static int
bb_send(struct bb_conn *c, const uint8_t *data, size_t len)
{
	ssize_t	 n = 0;

	if (c->out_len == c->out_off) {
		if ((n = write(c->fd, data, len)) == -1) {
			if (errno != EAGAIN && errno != EINTR)
				return -1;
			n = 0;
		}
		if ((size_t)n == len)
			return 0;
	}
	if (bb_keep(c, data + n, len - (size_t)n) == -1)
		return -1;
	return 0;
}

/* Which events to wait for, from what is queued. */
static void
bb_update(struct bb_conn *c)
{
	size_t		 queued = c->out_len - c->out_off;
	uint32_t	 ev = 0;

	if (queued > 0 || c->src_size > 0)
		ev |= EPOLLOUT;
	if (queued <= BB_HIGH && !c->closing)
		ev |= EPOLLIN;
	bb_set_events(c, ev);
}

static void
bb_put_record(uint8_t *p, int type, size_t len)
{
	p[0] = (uint8_t)type;
	p[1] = (uint8_t)(len >> 24);
	p[2] = (uint8_t)(len >> 16);
	p[3] = (uint8_t)(len >> 8);
	p[4] = (uint8_t)len;
}

static int
bb_send_text(struct bb_conn *c, const char *s)
{
	uint8_t	 buf[REC_HDR + 128];
	size_t	 n = strlen(s);

	if (n > 128)
		n = 128;
	bb_put_record(buf, REC_TEXT, n);
	memcpy(buf + REC_HDR, s, n);
	return bb_send(c, buf, REC_HDR + n);
}

/* A short text record is complete: a command, or data. */
static int
bb_command(struct bb_conn *c)
{
	char		 text[sizeof(c->small) + 1], reply[128];
	unsigned long	 size;
	char		*end;

	memcpy(text, c->small, c->rlen);
	text[c->rlen] = '\0';
	if (strcmp(text, "wsbench-sync") == 0) {
		snprintf(reply, sizeof(reply), "wsbench-count %" PRIu64 " %"
		    PRIu64 " %" PRIu64, c->rseq, c->nbytes, c->nbad);
		return bb_send_text(c, reply);
	}
	if (strncmp(text, "wsbench-source ", 15) == 0) {
		size = strtoul(text + 15, &end, 10);
		if (*end != '\0' || size == 0 || size > BB_MAX_RECORD ||
		    bb_pattern(size) == -1)
			return bb_send_text(c, "wsbench-error bad size");
		c->src_size = size;
		return 0;
	}
	/* an ordinary short text message */
	if (pat_check(pat, c->rseq, 0, c->small, c->rlen) != 0)
		c->nbad++;
	c->rseq++;
	c->nbytes += c->rlen;
	return 0;
}

/* Flood: consume records from buf; -1 to close. */
static int
bb_flood_input(struct bb_conn *c, const uint8_t *buf, size_t len)
{
	size_t	 n;

	while (len > 0) {
		if (c->hdr_have < REC_HDR) {
			n = REC_HDR - c->hdr_have;
			n = len < n ? len : n;
			memcpy(c->hdr + c->hdr_have, buf, n);
			c->hdr_have += n;
			buf += n;
			len -= n;
			if (c->hdr_have < REC_HDR)
				return 0;
			c->rtype = c->hdr[0];
			c->rlen = (size_t)c->hdr[1] << 24 |
			    (size_t)c->hdr[2] << 16 |
			    (size_t)c->hdr[3] << 8 | c->hdr[4];
			c->roff = 0;
			c->rbad = 0;
			if (c->rlen > BB_MAX_RECORD) {
				bb_log("record of %zu bytes", c->rlen);
				return -1;
			}
			if (c->rtype == REC_CLOSE) {
				/* echo the close record whole: it is short */
				if (c->rlen > sizeof(c->small))
					return -1;
			} else if (c->rtype != REC_TEXT &&
			    c->rtype != REC_BINARY) {
				bb_log("record type %d", c->rtype);
				return -1;
			} else if (bb_pattern(c->rlen) == -1)
				return -1;
		}
		n = c->rlen - c->roff;
		n = len < n ? len : n;
		if ((c->rtype == REC_TEXT || c->rtype == REC_CLOSE) &&
		    c->rlen <= sizeof(c->small))
			memcpy(c->small + c->roff, buf, n);
		else if (!c->rbad &&
		    pat_check(pat, c->rseq, c->roff, buf, n) != 0)
			c->rbad = 1;
		c->roff += n;
		buf += n;
		len -= n;
		if (c->roff < c->rlen)
			return 0;
		/* a whole record */
		c->hdr_have = 0;
		if (c->rtype == REC_CLOSE) {
			uint8_t	 rec[REC_HDR + sizeof(c->small)];

			bb_put_record(rec, REC_CLOSE, c->rlen);
			memcpy(rec + REC_HDR, c->small, c->rlen);
			c->src_size = 0;
			c->closing = 1;
			return bb_send(c, rec, REC_HDR + c->rlen);
		}
		if (c->rtype == REC_TEXT && c->rlen <= sizeof(c->small)) {
			if (bb_command(c) == -1)
				return -1;
			continue;
		}
		c->nbad += c->rbad;
		c->rseq++;
		c->nbytes += c->rlen;
	}
	return 0;
}

/* Flood down: queue the next chunk of pattern records. */
static int
bb_source(struct bb_conn *c)
{
	static uint8_t	*chunk;
	static size_t	 chunk_size;
	size_t		 rec = REC_HDR + c->src_size, n, len = 0;

	n = rec > BB_SOURCE_CHUNK ? 1 : BB_SOURCE_CHUNK / rec;
	if (chunk_size < n * rec) {
		free(chunk);
		if ((chunk = malloc(n * rec)) == NULL) {
			chunk_size = 0;
			return -1;
		}
		chunk_size = n * rec;
	}
	while (n-- > 0) {
		bb_put_record(chunk + len, REC_BINARY, c->src_size);
		pat_make(pat, c->src_seq++, chunk + len + REC_HDR, c->src_size);
		len += rec;
	}
	return bb_send(c, chunk, len);
}

static void
bb_readable(struct bb_conn *c)
{
	ssize_t	 n;
	int	 rv;

	if ((n = read(c->fd, rbuf, BB_RBUF)) == -1) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		bb_close(c);
		return;
	}
	if (n == 0) {
		/* the gateway is done with this connection */
		bb_close(c);
		return;
	}
	if (mode == BB_ECHO)
		rv = bb_send(c, rbuf, (size_t)n);
	else
		rv = bb_flood_input(c, rbuf, (size_t)n);
	if (rv == -1) {
		bb_close(c);
		return;
	}
	bb_update(c);
}

static void
bb_writable(struct bb_conn *c)
{
	ssize_t	 n;

	if (c->out_len > c->out_off) {
		n = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);
		if (n == -1) {
			if (errno != EAGAIN && errno != EINTR) {
				bb_close(c);
				return;
			}
			n = 0;
		}
		c->out_off += (size_t)n;
	}
	if (c->out_len == c->out_off) {
		c->out_len = c->out_off = 0;
		/* a big flood's buffer is not kept once drained */
		if (c->out_cap > BB_RBUF) {
			free(c->out);
			c->out = NULL;
			c->out_cap = 0;
		}
		if (c->src_size > 0 && bb_source(c) == -1) {
			bb_close(c);
			return;
		}
	}
	bb_update(c);
}

static void
bb_accept(int lfd)
{
	struct epoll_event	 e;
	struct bb_conn		*c;
	int			 fd;

	for (;;) {
		if ((fd = accept4(lfd, NULL, NULL,
		    SOCK_NONBLOCK | SOCK_CLOEXEC)) == -1) {
			if (errno == EMFILE || errno == ENFILE) {
				bb_log("accept: %s", strerror(errno));
				usleep(10000);
			}
			return;
		}
		if ((c = calloc(1, sizeof(*c))) == NULL) {
			close(fd);
			continue;
		}
		c->fd = fd;
		c->events = EPOLLIN;
		e.events = EPOLLIN;
		e.data.ptr = c;
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &e) == -1) {
			bb_log("epoll_ctl: %s", strerror(errno));
			bb_close(c);
		}
	}
}

int
main(int argc, char *argv[])
{
	struct epoll_event	 e, evs[BB_EVENTS];
	struct sockaddr_un	 sun;
	struct sigaction	 sa;
	struct bb_conn		*c;
	const char		*path;
	int			 ch, lfd, i, n;

	while ((ch = getopt(argc, argv, "m:")) != -1) {
		switch (ch) {
		case 'm':
			if (strcmp(optarg, "echo") == 0)
				mode = BB_ECHO;
			else if (strcmp(optarg, "flood") == 0)
				mode = BB_FLOOD;
			else
				usage();
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1)
		usage();
	path = argv[0];

	signal(SIGPIPE, SIG_IGN);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = bb_quit;	/* no SA_RESTART: epoll_wait returns */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	if ((rbuf = malloc(BB_RBUF)) == NULL || bb_pattern(4096) == -1) {
		bb_log("out of memory");
		return 1;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		bb_log("%s: socket path too long", path);
		return 1;
	}
	strncpy(sun.sun_path, path, sizeof(sun.sun_path) - 1);
	unlink(path);
	if ((lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1 || bind(lfd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    listen(lfd, 4096) == -1) {
		bb_log("listen on %s: %s", path, strerror(errno));
		return 1;
	}
	if ((epfd = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		bb_log("epoll_create1: %s", strerror(errno));
		return 1;
	}
	e.events = EPOLLIN;
	e.data.ptr = NULL;	/* the listener */
	epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &e);
	bb_log("%s mode, listening on %s", mode == BB_ECHO ? "echo" : "flood",
	    path);

	while (!quit) {
		if ((n = epoll_wait(epfd, evs, BB_EVENTS, -1)) == -1) {
			if (errno == EINTR)
				continue;
			bb_log("epoll_wait: %s", strerror(errno));
			break;
		}
		for (i = 0; i < n; i++) {
			if ((c = evs[i].data.ptr) == NULL) {
				bb_accept(lfd);
				continue;
			}
			/*
			 * One event per connection per round, so a closed
			 * connection is never touched again.
			 */
			if (evs[i].events & EPOLLOUT)
				bb_writable(c);
			else if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
				bb_readable(c);
		}
	}
	unlink(path);
	return 0;
}
