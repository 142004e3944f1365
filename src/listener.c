/*
 * Listening sockets, opened by the main thread (at start-up, before the
 * privileges are dropped, and on reload) or handed over by systemd:
 * TCP (IPv4 or IPv6) and Unix stream sockets.  Every worker then watches
 * every listening socket with its own evconnlistener.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "wsgated.h"

#define LISTEN_BACKLOG	1024

static int	listener_tcp(struct listener *, const struct conf_listen *);
static int	listener_unix(struct listener *, const struct conf_listen *);
static void	listener_close(struct listener *);

static int
listener_tcp(struct listener *l, const struct conf_listen *lc)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t		 len;
	int			 fd, one = 1;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, lc->l_address, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(lc->l_port);
		len = sizeof(*sin);
	} else if (inet_pton(AF_INET6, lc->l_address, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(lc->l_port);
		len = sizeof(*sin6);
	} else {
		log_warnx("listen: bad address %s", lc->l_address);
		return -1;
	}
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1) {
		log_warn("listen on %s: socket", l->l_name);
		return -1;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
		    sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) == -1 ||
	    listen(fd, LISTEN_BACKLOG) == -1) {
		log_warn("listen on %s", l->l_name);
		close(fd);
		return -1;
	}
	return fd;
}

static int
listener_unix(struct listener *l, const struct conf_listen *lc)
{
	struct sockaddr_un	 sun;
	struct stat		 st;
	int			 fd, probe;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(lc->l_unix) >= sizeof(sun.sun_path)) {
		log_warnx("listen on %s: path too long", l->l_name);
		return -1;
	}
	memcpy(sun.sun_path, lc->l_unix, strlen(lc->l_unix));

	/*
	 * A socket file left by a previous run is removed, but only if
	 * nothing answers on it: never steal a live daemon's socket.
	 */
	if (lstat(lc->l_unix, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			log_warnx("listen on %s: exists and is not a socket",
			    l->l_name);
			return -1;
		}
		if ((probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC,
		    0)) != -1) {
			if (connect(probe, (struct sockaddr *)&sun,
			    sizeof(sun)) == 0) {
				close(probe);
				log_warnx("listen on %s: in use", l->l_name);
				return -1;
			}
			close(probe);
		}
		(void)unlink(lc->l_unix);
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1) {
		log_warn("listen on %s: socket", l->l_name);
		return -1;
	}
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		log_warn("listen on %s", l->l_name);
		close(fd);
		return -1;
	}
	if (lc->l_has_mode && chmod(lc->l_unix, lc->l_mode) == -1) {
		log_warn("listen on %s: chmod", l->l_name);
		close(fd);
		(void)unlink(lc->l_unix);
		return -1;
	}
	/* Before the privileges are dropped: chown needs root. */
	if ((lc->l_uid != (uid_t)-1 || lc->l_gid != (gid_t)-1) &&
	    chown(lc->l_unix, lc->l_uid, lc->l_gid) == -1) {
		log_warn("listen on %s: chown", l->l_name);
		close(fd);
		(void)unlink(lc->l_unix);
		return -1;
	}
	if (listen(fd, LISTEN_BACKLOG) == -1) {
		log_warn("listen on %s", l->l_name);
		close(fd);
		(void)unlink(lc->l_unix);
		return -1;
	}
	return fd;
}

/*
 * Open the socket lc describes.  Returns a listener with one reference,
 * or NULL after logging why.
 */
struct listener *
listener_open(const struct conf_listen *lc)
{
	struct listener	*l;

	if ((l = calloc(1, sizeof(*l))) == NULL) {
		log_warn("listen on %s: calloc", lc->l_name);
		return NULL;
	}
	l->l_refs = 1;
	snprintf(l->l_name, sizeof(l->l_name), "%s", lc->l_name);
	if (lc->l_kind == CONF_LISTEN_UNIX) {
		l->l_fd = listener_unix(l, lc);
		l->l_unix = 1;
		snprintf(l->l_path, sizeof(l->l_path), "%s", lc->l_unix);
	} else
		l->l_fd = listener_tcp(l, lc);
	if (l->l_fd == -1) {
		free(l);
		return NULL;
	}
	return l;
}

/*
 * The canonical name (as conf_listen.l_name) of the listening stream
 * socket fd, from its bound address.  Returns 0, or -1 if fd is not a
 * listening stream socket of a kind wsgated serves.
 */
int
listener_fd_name(int fd, char *buf, size_t size)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	struct sockaddr_un	*sun = (struct sockaddr_un *)&ss;
	socklen_t		 len = sizeof(ss);
	char			 addr[INET6_ADDRSTRLEN];
	int			 type, acc;
	socklen_t		 olen;

	olen = sizeof(type);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &olen) == -1 ||
	    type != SOCK_STREAM)
		return -1;
	olen = sizeof(acc);
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &olen) == -1 ||
	    !acc)
		return -1;
	memset(&ss, 0, sizeof(ss));
	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
		return -1;
	switch (ss.ss_family) {
	case AF_INET:
		inet_ntop(AF_INET, &sin->sin_addr, addr, sizeof(addr));
		snprintf(buf, size, "%s:%u", addr, ntohs(sin->sin_port));
		return 0;
	case AF_INET6:
		inet_ntop(AF_INET6, &sin6->sin6_addr, addr, sizeof(addr));
		snprintf(buf, size, "[%s]:%u", addr, ntohs(sin6->sin6_port));
		return 0;
	case AF_UNIX:
		if (len <= offsetof(struct sockaddr_un, sun_path) ||
		    sun->sun_path[0] == '\0')
			return -1;	/* unnamed or abstract */
		snprintf(buf, size, "unix:%.*s", (int)(len -
		    offsetof(struct sockaddr_un, sun_path)), sun->sun_path);
		return 0;
	}
	return -1;
}

/*
 * Take over a listening socket systemd passed (LISTEN_FDS), already
 * matched to the listen entry called name.  It is made non-blocking and
 * close-on-exec; its file is systemd's, so it is never unlinked.
 */
struct listener *
listener_adopt(int fd, const char *name)
{
	struct listener	*l;
	int		 fl;

	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) == -1) {
		log_warn("listen on %s (from systemd): fcntl", name);
		return NULL;
	}
	if ((l = calloc(1, sizeof(*l))) == NULL) {
		log_warn("listen on %s: calloc", name);
		return NULL;
	}
	l->l_fd = fd;
	l->l_refs = 1;
	l->l_activated = 1;
	snprintf(l->l_name, sizeof(l->l_name), "%s", name);
	return l;
}

struct listener *
listener_ref(struct listener *l)
{
	__atomic_fetch_add(&l->l_refs, 1, __ATOMIC_RELAXED);
	return l;
}

/* The last reference closes the socket (and removes its file). */
void
listener_unref(struct listener *l)
{
	if (l == NULL)
		return;
	if (__atomic_sub_fetch(&l->l_refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	listener_close(l);
	free(l);
}

static void
listener_close(struct listener *l)
{
	if (l->l_fd == -1)
		return;
	close(l->l_fd);
	l->l_fd = -1;
	if (l->l_unix && !l->l_activated)
		(void)unlink(l->l_path);
	log_info("closed listener %s", l->l_name);
}
