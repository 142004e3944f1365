/*
 * ws-echo: a small, fast WebSocket echo server, the reference points of
 * `make bench` that are not gateways.
 *
 *   ws-echo -p port | -u socket-path
 *
 * It listens on 127.0.0.1:port (TCP) or on a Unix socket, answers the
 * HTTP/1.1 upgrade and echoes every message back.  make bench runs it in
 * two roles: on TCP with wsbench connecting to it directly ("direct": a
 * WebSocket server with no backend hop, the upper bound a gateway can
 * approach), and on a Unix socket as the WebSocket backend nginx proxies
 * to ("nginx": one hop, like wsgated).
 *
 * Echo is frame by frame: each data frame goes back with the same opcode,
 * FIN bit and payload, unmasked, so a fragmented message comes back
 * fragmented the same way.  Payload is streamed: a frame's header is sent
 * as soon as it is read and its payload as it arrives, so there is no
 * reassembly buffer and no size limit.  A ping is answered with a pong, a
 * pong is dropped, a close is echoed and the TCP connection closed once
 * the echo is written (RFC 6455 7.1.1: the server closes first).
 * Unmasked client frames, reserved bits, unknown opcodes, a continuation
 * outside a message or a data frame inside one, and long or fragmented
 * control frames are protocol errors: close 1002.  Text is not checked for
 * UTF-8 (what comes back is what was sent; the client checks it).
 *
 * The loop is plain epoll, level-triggered, single-threaded, like
 * bench-backend's: one read of up to 256 KiB per readable event into a
 * shared buffer, every whole or partial frame in it decoded and unmasked
 * a machine word at a time into a shared output buffer, then one write.
 * Output the socket does not take is kept per connection and reading
 * stops above 1 MiB of it.  An idle connection holds only its struct.
 */

#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#define WE_RBUF		(256 * 1024)
#define WE_OBUF		(WE_RBUF + 1024)	/* see we_frames() */
#define WE_HIGH		(1024 * 1024)	/* stop reading above this output */
#define WE_REQ_MAX	8192		/* longest upgrade request */
#define WE_EVENTS	256
#define WE_GUID		"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

#define OP_CONT		0x0
#define OP_TEXT		0x1
#define OP_BINARY	0x2
#define OP_CLOSE	0x8
#define OP_PING		0x9
#define OP_PONG		0xa

#define CLOSE_PROTOCOL	1002

struct we_conn {
	TAILQ_ENTRY(we_conn)	 entry;
	int		 fd;
	uint32_t	 events;	/* registered with epoll */
	int		 upgraded;	/* 101 sent: frames from here on */
	char		*req;		/* a request that came in pieces */
	size_t		 req_len;
	/* the frame being read */
	uint8_t		 hdr[14];
	size_t		 hdr_have;
	size_t		 hdr_need;	/* 2 until the length byte is in */
	uint8_t		 op;
	uint8_t		 fin;
	uint8_t		 mask[4];
	unsigned int	 mpos;		/* payload offset mod 4 */
	uint64_t	 left;		/* payload bytes still to come */
	int		 in_payload;
	int		 in_message;	/* a fragmented message is open */
	uint8_t		 ctl[125];	/* a control frame's payload */
	size_t		 ctl_len;
	int		 closing;	/* close sent: no more input; close
					   the socket once output is written */
	/* output the socket did not take */
	uint8_t		*out;
	size_t		 out_len;
	size_t		 out_off;
	size_t		 out_cap;
};

static TAILQ_HEAD(, we_conn) conns = TAILQ_HEAD_INITIALIZER(conns);
static int		 epfd = -1;
static int		 is_tcp;
static uint8_t		*rbuf;
static uint8_t		*obuf;
static volatile sig_atomic_t quit;

static void	 we_log(const char *, ...)
		    __attribute__((__format__(__printf__, 1, 2)));
static void	 usage(void) __attribute__((__noreturn__));

static void
we_log(const char *fmt, ...)
{
	va_list	 ap;

	fprintf(stderr, "ws-echo: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void
usage(void)
{
	fprintf(stderr, "usage: ws-echo -p port | -u socket-path\n");
	exit(2);
}

static void
we_quit(int sig)
{
	(void)sig;
	quit = 1;
}

static void
we_set_events(struct we_conn *c, uint32_t ev)
{
	struct epoll_event	 e;

	if (ev == c->events)
		return;
	e.events = ev;
	e.data.ptr = c;
	if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &e) == -1)
		we_log("epoll_ctl: %s", strerror(errno));
	c->events = ev;
}

static void
we_close(struct we_conn *c)
{
	TAILQ_REMOVE(&conns, c, entry);
	close(c->fd);
	free(c->req);
	free(c->out);
	free(c);
}

/* Keep what the socket did not take; -1 on allocation failure. */
static int
we_keep(struct we_conn *c, const uint8_t *data, size_t len)
{
	uint8_t	*p;
	size_t	 need;

	if (c->out_off > 0) {
		memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
		c->out_len -= c->out_off;
		c->out_off = 0;
	}
	need = c->out_len + len;
	if (need > c->out_cap) {
		if ((p = realloc(c->out, need)) == NULL)
			return -1;
		c->out = p;
		c->out_cap = need;
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
we_send(struct we_conn *c, const uint8_t *data, size_t len)
{
	ssize_t	 n = 0;

	if (len == 0)
		return 0;
	if (c->out_len == c->out_off) {
		if ((n = write(c->fd, data, len)) == -1) {
			if (errno != EAGAIN && errno != EINTR)
				return -1;
			n = 0;
		}
		if ((size_t)n == len)
			return 0;
	}
	return we_keep(c, data + n, len - (size_t)n);
}

/*
 * Which events to wait for, from what is queued.  Returns -1 when the
 * connection is done: close echoed and written.
 */
static int
we_update(struct we_conn *c)
{
	size_t		 queued = c->out_len - c->out_off;
	uint32_t	 ev = 0;

	if (queued == 0) {
		if (c->closing)
			return -1;
		/* a big echo's buffer is not kept once drained */
		if (c->out_cap > 0) {
			free(c->out);
			c->out = NULL;
			c->out_cap = c->out_len = c->out_off = 0;
		}
	}
	if (queued > 0)
		ev |= EPOLLOUT;
	if (queued <= WE_HIGH && !c->closing)
		ev |= EPOLLIN;
	we_set_events(c, ev);
	return 0;
}

/* A frame header for payload len; returns its size (2, 4 or 10). */
static size_t
we_put_header(uint8_t *p, uint8_t b0, uint64_t len)
{
	int	 i;

	p[0] = b0;
	if (len < 126) {
		p[1] = (uint8_t)len;
		return 2;
	}
	if (len <= 0xffff) {
		p[1] = 126;
		p[2] = (uint8_t)(len >> 8);
		p[3] = (uint8_t)len;
		return 4;
	}
	p[1] = 127;
	for (i = 0; i < 8; i++)
		p[2 + i] = (uint8_t)(len >> (56 - 8 * i));
	return 10;
}

/* dst = src ^ mask, the mask starting at offset pos; 8 bytes a step. */
static void
we_unmask(uint8_t *dst, const uint8_t *src, size_t len,
    const uint8_t mask[4], unsigned int pos)
{
	uint8_t		 m[8];
	uint64_t	 mw, w;
	size_t		 i;

	for (i = 0; i < 8; i++)
		m[i] = mask[(pos + i) & 3];
	memcpy(&mw, m, sizeof(mw));
	for (i = 0; i + 8 <= len; i += 8) {
		memcpy(&w, src + i, sizeof(w));
		w ^= mw;
		memcpy(dst + i, &w, sizeof(w));
	}
	for (; i < len; i++)
		dst[i] = src[i] ^ m[i & 7];
}

/* Close 1002 and stop reading. */
static size_t
we_protocol_error(struct we_conn *c, uint8_t *out)
{
	size_t	 n;

	n = we_put_header(out, 0x80 | OP_CLOSE, 2);
	out[n++] = CLOSE_PROTOCOL >> 8;
	out[n++] = CLOSE_PROTOCOL & 0xff;
	c->closing = 1;
	return n;
}

/* A whole frame header is in c->hdr: check it; -1 on a protocol error. */
static int
we_header(struct we_conn *c)
{
	uint8_t		*h = c->hdr;
	size_t		 off;
	int		 i;

	c->fin = h[0] & 0x80;
	c->op = h[0] & 0x0f;
	if ((h[0] & 0x70) != 0)
		return -1;	/* no extension was negotiated */
	switch (h[1] & 0x7f) {
	case 126:
		c->left = (uint64_t)h[2] << 8 | h[3];
		off = 4;
		break;
	case 127:
		c->left = 0;
		for (i = 0; i < 8; i++)
			c->left = c->left << 8 | h[2 + i];
		if (c->left >> 63)
			return -1;
		off = 10;
		break;
	default:
		c->left = h[1] & 0x7f;
		off = 2;
	}
	memcpy(c->mask, h + off, 4);
	c->mpos = 0;
	switch (c->op) {
	case OP_CONT:
		if (!c->in_message)
			return -1;
		break;
	case OP_TEXT:
	case OP_BINARY:
		if (c->in_message)
			return -1;
		break;
	case OP_CLOSE:
	case OP_PING:
	case OP_PONG:
		if (!c->fin || c->left > sizeof(c->ctl) ||
		    (c->op == OP_CLOSE && c->left == 1))
			return -1;
		c->ctl_len = 0;
		return 0;
	default:
		return -1;
	}
	c->in_message = !c->fin;
	return 0;
}

/* A control frame is complete: the reply, if any, goes to out. */
static size_t
we_control(struct we_conn *c, uint8_t *out)
{
	size_t	 n;

	if (c->op == OP_PONG)
		return 0;
	n = we_put_header(out, 0x80 | (c->op == OP_PING ? OP_PONG : OP_CLOSE),
	    c->ctl_len);
	memcpy(out + n, c->ctl, c->ctl_len);
	if (c->op == OP_CLOSE)
		c->closing = 1;
	return n + c->ctl_len;
}

/*
 * Decode len bytes of frames from in, writing the echo to out; returns
 * the bytes written.  Each frame's echo is at most as long as the frame
 * (its header is 4 bytes shorter: no mask), except that a header or a
 * control frame read partly in an earlier call is written whole in this
 * one: out needs len + 2 + 125 + 4 bytes at most (WE_OBUF).
 */
static size_t
we_frames(struct we_conn *c, const uint8_t *in, size_t len, uint8_t *out)
{
	size_t	 o = 0, n;

	while (len > 0 && !c->closing) {
		if (!c->in_payload) {
			if (c->hdr_have == 0)
				c->hdr_need = 2;
			n = c->hdr_need - c->hdr_have;
			n = len < n ? len : n;
			memcpy(c->hdr + c->hdr_have, in, n);
			c->hdr_have += n;
			in += n;
			len -= n;
			if (c->hdr_have < c->hdr_need)
				break;
			if (c->hdr_need == 2) {
				/* unmasked: no mask to wait for */
				if ((c->hdr[1] & 0x80) == 0)
					return o + we_protocol_error(c,
					    out + o);
				/* the length byte says how long the header is */
				c->hdr_need = 2 + 4 + ((c->hdr[1] & 0x7f) ==
				    126 ? 2 : (c->hdr[1] & 0x7f) == 127 ? 8 : 0);
				continue;
			}
			c->hdr_have = 0;
			if (we_header(c) == -1)
				return o + we_protocol_error(c, out + o);
			if (c->op < OP_CLOSE)
				o += we_put_header(out + o, c->fin | c->op,
				    c->left);
			c->in_payload = 1;
		}
		n = c->left < len ? (size_t)c->left : len;
		if (c->op >= OP_CLOSE) {
			we_unmask(c->ctl + c->ctl_len, in, n, c->mask, c->mpos);
			c->ctl_len += n;
		} else {
			we_unmask(out + o, in, n, c->mask, c->mpos);
			o += n;
		}
		c->mpos = (c->mpos + (unsigned int)n) & 3;
		c->left -= n;
		in += n;
		len -= n;
		if (c->left > 0)
			break;
		c->in_payload = 0;
		if (c->op >= OP_CLOSE)
			o += we_control(c, out + o);
	}
	return o;
}

#define WE_ACCEPT_LEN	(4 * ((SHA_DIGEST_LENGTH + 2) / 3))

/* Sec-WebSocket-Accept for key into accept (WE_ACCEPT_LEN + 1 bytes). */
static int
we_accept_key(const char *key, size_t key_len, char *accept)
{
	unsigned char	 md[SHA_DIGEST_LENGTH];
	char		 src[128];

	if (key_len == 0 || key_len + sizeof(WE_GUID) > sizeof(src))
		return -1;
	memcpy(src, key, key_len);
	memcpy(src + key_len, WE_GUID, sizeof(WE_GUID) - 1);
	SHA1((const unsigned char *)src, key_len + sizeof(WE_GUID) - 1, md);
	EVP_EncodeBlock((unsigned char *)accept, md, SHA_DIGEST_LENGTH);
	return 0;
}

/*
 * The upgrade request's head (head bytes of req) is whole: answer it
 * into obuf.  Returns the response's length, or 0 after writing a 400.
 */
static size_t
we_upgrade(struct we_conn *c, const char *req, size_t head)
{
	static const char	 name[] = "sec-websocket-key:";
	char			 accept[WE_ACCEPT_LEN + 1];
	const char		*p, *end, *eol, *key = NULL;
	size_t			 key_len = 0;
	int			 n;

	end = req + head;
	if (strncmp(req, "GET ", 4) != 0)
		goto bad;
	for (p = memchr(req, '\n', head); p != NULL && p + 1 < end;
	    p = eol) {
		p++;
		if ((eol = memchr(p, '\n', (size_t)(end - p))) == NULL)
			break;
		if ((size_t)(eol - p) > sizeof(name) - 1 &&
		    strncasecmp(p, name, sizeof(name) - 1) == 0) {
			key = p + sizeof(name) - 1;
			while (key < eol && (*key == ' ' || *key == '\t'))
				key++;
			key_len = (size_t)(eol - key);
			while (key_len > 0 && (key[key_len - 1] == '\r' ||
			    key[key_len - 1] == ' ' || key[key_len - 1] == '\t'))
				key_len--;
		}
	}
	if (key == NULL || we_accept_key(key, key_len, accept) == -1)
		goto bad;
	n = snprintf((char *)obuf, WE_OBUF, "HTTP/1.1 101 Switching Protocols"
	    "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Accept: %s\r\n\r\n", accept);
	return (size_t)n;
bad:
	n = snprintf((char *)obuf, WE_OBUF, "HTTP/1.1 400 Bad Request\r\n"
	    "Connection: close\r\nContent-Length: 0\r\n\r\n");
	(void)we_send(c, obuf, (size_t)n);
	c->closing = 1;
	return 0;
}

/* Find the blank line that ends the request head; its end, or 0. */
static size_t
we_head_end(const char *buf, size_t len, size_t from)
{
	size_t	 i;

	i = from > 3 ? from - 3 : 0;
	for (; i + 4 <= len; i++)
		if (memcmp(buf + i, "\r\n\r\n", 4) == 0)
			return i + 4;
	return 0;
}

/*
 * Read the upgrade request and answer it.  A request that comes whole in
 * its first read is parsed in the shared read buffer; only one that does
 * not gets a buffer of its own.  Returns -1 when the connection is to be
 * closed.
 */
static int
we_read_request(struct we_conn *c)
{
	char	*buf;
	ssize_t	 n;
	size_t	 head, o;

	buf = c->req != NULL ? c->req : (char *)rbuf;
	n = read(c->fd, buf + c->req_len, WE_REQ_MAX - c->req_len);
	if (n == -1)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	if (n == 0)
		return -1;
	c->req_len += (size_t)n;
	if ((head = we_head_end(buf, c->req_len,
	    c->req_len - (size_t)n)) == 0) {
		if (c->req_len == WE_REQ_MAX)
			return -1;
		if (c->req == NULL) {
			if ((c->req = malloc(WE_REQ_MAX)) == NULL)
				return -1;
			memcpy(c->req, rbuf, c->req_len);
		}
		return 0;
	}
	if ((o = we_upgrade(c, buf, head)) == 0)
		return 0;
	/* frames the client sent right behind the request */
	o += we_frames(c, (uint8_t *)buf + head, c->req_len - head, obuf + o);
	free(c->req);
	c->req = NULL;
	c->upgraded = 1;
	return we_send(c, obuf, o);
}

static void
we_readable(struct we_conn *c)
{
	ssize_t	 n;
	size_t	 o;

	if (!c->upgraded) {
		if (we_read_request(c) == -1 || we_update(c) == -1)
			we_close(c);
		return;
	}
	if ((n = read(c->fd, rbuf, WE_RBUF)) == -1) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		we_close(c);
		return;
	}
	if (n == 0) {
		we_close(c);
		return;
	}
	o = we_frames(c, rbuf, (size_t)n, obuf);
	if (we_send(c, obuf, o) == -1 || we_update(c) == -1)
		we_close(c);
}

static void
we_writable(struct we_conn *c)
{
	ssize_t	 n;

	n = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);
	if (n == -1) {
		if (errno != EAGAIN && errno != EINTR) {
			we_close(c);
			return;
		}
		n = 0;
	}
	c->out_off += (size_t)n;
	if (we_update(c) == -1)
		we_close(c);
}

static void
we_accept(int lfd)
{
	struct epoll_event	 e;
	struct we_conn		*c;
	int			 fd, one = 1;

	for (;;) {
		if ((fd = accept4(lfd, NULL, NULL,
		    SOCK_NONBLOCK | SOCK_CLOEXEC)) == -1) {
			if (errno == EMFILE || errno == ENFILE) {
				we_log("accept: %s", strerror(errno));
				usleep(10000);
			}
			return;
		}
		if (is_tcp)
			(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
			    sizeof(one));
		if ((c = calloc(1, sizeof(*c))) == NULL) {
			close(fd);
			continue;
		}
		c->fd = fd;
		c->events = EPOLLIN;
		TAILQ_INSERT_TAIL(&conns, c, entry);
		e.events = EPOLLIN;
		e.data.ptr = c;
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &e) == -1) {
			we_log("epoll_ctl: %s", strerror(errno));
			we_close(c);
		}
	}
}

static int
we_listen_tcp(const char *port)
{
	struct sockaddr_in	 sin;
	char			*end;
	unsigned long		 p;
	int			 fd, one = 1;

	p = strtoul(port, &end, 10);
	if (*port == '\0' || *end != '\0' || p == 0 || p > 65535) {
		we_log("%s: bad port", port);
		return -1;
	}
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)p);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1)
		return -1;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(fd, 4096) == -1) {
		we_log("listen on 127.0.0.1:%lu: %s", p, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int
we_listen_unix(const char *path)
{
	struct sockaddr_un	 sun;
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		we_log("%s: socket path too long", path);
		return -1;
	}
	strncpy(sun.sun_path, path, sizeof(sun.sun_path) - 1);
	unlink(path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1)
		return -1;
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    listen(fd, 4096) == -1) {
		we_log("listen on %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int
main(int argc, char *argv[])
{
	struct epoll_event	 e, evs[WE_EVENTS];
	struct sigaction	 sa;
	struct we_conn		*c;
	const char		*port = NULL, *path = NULL;
	int			 ch, lfd, i, n;

	while ((ch = getopt(argc, argv, "hp:u:")) != -1) {
		switch (ch) {
		case 'p':
			port = optarg;
			break;
		case 'u':
			path = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || (port == NULL) == (path == NULL))
		usage();

	signal(SIGPIPE, SIG_IGN);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = we_quit;	/* no SA_RESTART: epoll_wait returns */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	if ((rbuf = malloc(WE_RBUF)) == NULL ||
	    (obuf = malloc(WE_OBUF)) == NULL) {
		we_log("out of memory");
		return 1;
	}
	/*
	 * OpenSSL 3 sets up its digests on first use, about a megabyte of
	 * library pages: do it now, so it is not counted per connection.
	 */
	(void)we_accept_key("x", 1, (char *)obuf);
	is_tcp = port != NULL;
	if ((lfd = is_tcp ? we_listen_tcp(port) : we_listen_unix(path)) == -1)
		return 1;
	if ((epfd = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		we_log("epoll_create1: %s", strerror(errno));
		return 1;
	}
	e.events = EPOLLIN;
	e.data.ptr = NULL;	/* the listener */
	epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &e);
	if (is_tcp)
		we_log("listening on 127.0.0.1:%s", port);
	else
		we_log("listening on %s", path);

	while (!quit) {
		if ((n = epoll_wait(epfd, evs, WE_EVENTS, -1)) == -1) {
			if (errno == EINTR)
				continue;
			we_log("epoll_wait: %s", strerror(errno));
			break;
		}
		for (i = 0; i < n; i++) {
			if ((c = evs[i].data.ptr) == NULL) {
				we_accept(lfd);
				continue;
			}
			/*
			 * One event per connection per round, so a closed
			 * connection is never touched again.
			 */
			if (evs[i].events & EPOLLOUT)
				we_writable(c);
			else if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
				we_readable(c);
		}
	}
	while ((c = TAILQ_FIRST(&conns)) != NULL)
		we_close(c);
	free(rbuf);
	free(obuf);
	if (path != NULL)
		unlink(path);
	return 0;
}
