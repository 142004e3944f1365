/*
 * echo-backend: a demo and test backend for wsgated.
 *
 * Listens on a Unix stream socket and writes every byte it reads back to
 * the connection it came from.  A byte echo is a correct echo for every
 * framing wsgated speaks (raw, line and frame), so this one program is
 * the backend of the demo and of most integration tests.
 *
 * Each connection is one bufferevent.  When more than ECHO_HIGH bytes are
 * queued towards a peer that does not read, reading from it stops until
 * the queue drains below ECHO_LOW, so memory stays bounded.  When the
 * peer shuts down its write side, what is queued is written out before
 * the connection is closed.
 */

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#define ECHO_HIGH	(1024 * 1024)	/* stop reading above this much output */
#define ECHO_LOW	(256 * 1024)	/* and resume below this */
#define ECHO_BACKLOG	1024
#define ECHO_RETRY_MS	100		/* accept retry after EMFILE */

struct echo_conn {
	TAILQ_ENTRY(echo_conn)	 ec_entry;
	struct bufferevent	*ec_bev;
	struct echo		*ec_echo;
};

struct echo {
	struct event_base	*e_base;
	struct evconnlistener	*e_listener;
	struct event		*e_retry;	/* re-enables accept */
	const char		*e_path;
	TAILQ_HEAD(, echo_conn)	 e_conns;
	unsigned long		 e_nconns;
};

static void	 echo_log(const char *, ...)
		    __attribute__((__format__(__printf__, 1, 2)));
static void	 echo_readcb(struct bufferevent *, void *);
static void	 echo_writecb(struct bufferevent *, void *);
static void	 echo_drainedcb(struct bufferevent *, void *);
static void	 echo_eventcb(struct bufferevent *, short, void *);
static void	 echo_close(struct echo_conn *);
static void	 echo_acceptcb(struct evconnlistener *, evutil_socket_t,
		    struct sockaddr *, int, void *);
static void	 echo_accept_errorcb(struct evconnlistener *, void *);
static void	 echo_retrycb(evutil_socket_t, short, void *);
static void	 echo_signalcb(evutil_socket_t, short, void *);
static int	 echo_socket_live(const struct sockaddr_un *);
static int	 echo_listen(struct echo *, mode_t, int);
static void	 usage(void) __attribute__((__noreturn__));

static void
echo_log(const char *fmt, ...)
{
	va_list	 ap;

	fprintf(stderr, "echo-backend: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void
usage(void)
{
	fprintf(stderr, "usage: echo-backend [-m mode] socket-path\n");
	exit(2);
}

/*
 * Move everything read to the output of the same connection.  The output
 * buffer is the only queue; when it grows past ECHO_HIGH the peer is not
 * reading, so stop reading from it and let the write callback resume.
 */
static void
echo_readcb(struct bufferevent *bev, void *arg)
{
	struct evbuffer	*out;

	(void)arg;
	out = bufferevent_get_output(bev);
	evbuffer_add_buffer(out, bufferevent_get_input(bev));
	if (evbuffer_get_length(out) > ECHO_HIGH) {
		bufferevent_disable(bev, EV_READ);
		bufferevent_setwatermark(bev, EV_WRITE, ECHO_LOW, 0);
	}
}

/* Output drained below ECHO_LOW: read again. */
static void
echo_writecb(struct bufferevent *bev, void *arg)
{
	(void)arg;
	bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
	bufferevent_enable(bev, EV_READ);
}

/* The peer finished sending; close once everything is written. */
static void
echo_drainedcb(struct bufferevent *bev, void *arg)
{
	struct echo_conn	*ec = arg;

	if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		echo_close(ec);
}

static void
echo_eventcb(struct bufferevent *bev, short what, void *arg)
{
	struct echo_conn	*ec = arg;
	struct evbuffer		*out;

	if (what & BEV_EVENT_EOF) {
		out = bufferevent_get_output(bev);
		evbuffer_add_buffer(out, bufferevent_get_input(bev));
		if (evbuffer_get_length(out) == 0) {
			echo_close(ec);
			return;
		}
		bufferevent_disable(bev, EV_READ);
		bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
		bufferevent_setcb(bev, NULL, echo_drainedcb, echo_eventcb, ec);
		bufferevent_enable(bev, EV_WRITE);
		return;
	}
	if (what & (BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT))
		echo_close(ec);
}

static void
echo_close(struct echo_conn *ec)
{
	struct echo	*e = ec->ec_echo;

	TAILQ_REMOVE(&e->e_conns, ec, ec_entry);
	e->e_nconns--;
	bufferevent_free(ec->ec_bev);
	free(ec);
}

static void
echo_acceptcb(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct echo		*e = arg;
	struct echo_conn	*ec;

	(void)l;
	(void)sa;
	(void)salen;
	if ((ec = calloc(1, sizeof(*ec))) == NULL) {
		echo_log("out of memory");
		evutil_closesocket(fd);
		return;
	}
	if ((ec->ec_bev = bufferevent_socket_new(e->e_base, fd,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		echo_log("bufferevent_socket_new failed");
		evutil_closesocket(fd);
		free(ec);
		return;
	}
	ec->ec_echo = e;
	TAILQ_INSERT_TAIL(&e->e_conns, ec, ec_entry);
	e->e_nconns++;
	bufferevent_setcb(ec->ec_bev, echo_readcb, echo_writecb, echo_eventcb,
	    ec);
	if (bufferevent_enable(ec->ec_bev, EV_READ | EV_WRITE) == -1) {
		echo_log("bufferevent_enable failed");
		echo_close(ec);
	}
}

/*
 * Out of descriptors (or another accept error): stop accepting for a
 * moment instead of spinning on a listener that stays readable.
 */
static void
echo_accept_errorcb(struct evconnlistener *l, void *arg)
{
	struct echo	*e = arg;
	struct timeval	 tv = { 0, ECHO_RETRY_MS * 1000 };
	int		 err = EVUTIL_SOCKET_ERROR();

	echo_log("accept: %s", evutil_socket_error_to_string(err));
	evconnlistener_disable(l);
	evtimer_add(e->e_retry, &tv);
}

static void
echo_retrycb(evutil_socket_t fd, short what, void *arg)
{
	struct echo	*e = arg;

	(void)fd;
	(void)what;
	evconnlistener_enable(e->e_listener);
}

static void
echo_signalcb(evutil_socket_t sig, short what, void *arg)
{
	struct echo	*e = arg;

	(void)sig;
	(void)what;
	event_base_loopbreak(e->e_base);
}

/*
 * 1 if something accepts connections on the socket at sun: then the file
 * is not stale, and unlinking it would cut that server off.
 */
static int
echo_socket_live(const struct sockaddr_un *sun)
{
	int	 fd, live;

	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1)
		return 0;
	live = connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0 ||
	    errno == EAGAIN;
	close(fd);
	return live;
}

/*
 * Bind the listening socket, replacing a stale socket file left behind
 * by an earlier run (but nothing that is not a socket).
 */
static int
echo_listen(struct echo *e, mode_t mode, int has_mode)
{
	struct sockaddr_un	 sun;
	struct stat		 st;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(e->e_path) >= sizeof(sun.sun_path)) {
		echo_log("%s: socket path too long", e->e_path);
		return -1;
	}
	strncpy(sun.sun_path, e->e_path, sizeof(sun.sun_path) - 1);

	if (lstat(e->e_path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			echo_log("%s: exists and is not a socket", e->e_path);
			return -1;
		}
		if (echo_socket_live(&sun)) {
			echo_log("%s: in use by another server", e->e_path);
			return -1;
		}
		if (unlink(e->e_path) == -1) {
			echo_log("unlink %s: %s", e->e_path, strerror(errno));
			return -1;
		}
	}

	if ((e->e_listener = evconnlistener_new_bind(e->e_base,
	    echo_acceptcb, e, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC,
	    ECHO_BACKLOG, (struct sockaddr *)&sun, sizeof(sun))) == NULL) {
		echo_log("listen on %s: %s", e->e_path, strerror(errno));
		return -1;
	}
	evconnlistener_set_error_cb(e->e_listener, echo_accept_errorcb);
	if (has_mode && chmod(e->e_path, mode) == -1) {
		echo_log("chmod %s: %s", e->e_path, strerror(errno));
		return -1;
	}
	return 0;
}

int
main(int argc, char *argv[])
{
	struct echo	 e;
	struct event	*sigterm, *sigint;
	char		*end;
	unsigned long	 m;
	mode_t		 mode = 0;
	int		 ch, has_mode = 0, status = 0;

	while ((ch = getopt(argc, argv, "m:")) != -1) {
		switch (ch) {
		case 'm':
			errno = 0;
			m = strtoul(optarg, &end, 8);
			if (errno != 0 || *optarg == '\0' || *end != '\0' ||
			    m > 07777) {
				echo_log("%s: bad octal mode", optarg);
				usage();
			}
			mode = (mode_t)m;
			has_mode = 1;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1)
		usage();

	memset(&e, 0, sizeof(e));
	e.e_path = argv[0];
	TAILQ_INIT(&e.e_conns);

	/* A peer that vanishes must be an EPIPE, not a fatal signal. */
	signal(SIGPIPE, SIG_IGN);

	if ((e.e_base = event_base_new()) == NULL) {
		echo_log("event_base_new failed");
		return 1;
	}
	if ((e.e_retry = evtimer_new(e.e_base, echo_retrycb, &e)) == NULL ||
	    (sigterm = evsignal_new(e.e_base, SIGTERM, echo_signalcb,
	    &e)) == NULL ||
	    (sigint = evsignal_new(e.e_base, SIGINT, echo_signalcb,
	    &e)) == NULL) {
		echo_log("event allocation failed");
		return 1;
	}
	evsignal_add(sigterm, NULL);
	evsignal_add(sigint, NULL);

	if (echo_listen(&e, mode, has_mode) == -1) {
		status = 1;
		goto out;
	}
	echo_log("listening on %s", e.e_path);

	if (event_base_dispatch(e.e_base) == -1) {
		echo_log("event loop failed");
		status = 1;
	}
	echo_log("exiting with %lu connection(s) open", e.e_nconns);
	evconnlistener_free(e.e_listener);
	unlink(e.e_path);
	while (!TAILQ_EMPTY(&e.e_conns))
		echo_close(TAILQ_FIRST(&e.e_conns));
 out:
	event_free(sigterm);
	event_free(sigint);
	event_free(e.e_retry);
	event_base_free(e.e_base);
	return status;
}
