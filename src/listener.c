/*
 * Listening sockets, opened by the main thread before the workers start:
 * TCP (IPv4 or IPv6) and Unix stream sockets.  Every worker then watches
 * every listening socket with its own evconnlistener.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "wsgated.h"

#define LISTEN_BACKLOG	1024

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
		snprintf(l->l_name, sizeof(l->l_name), "%s:%d", lc->l_address,
		    lc->l_port);
	} else if (inet_pton(AF_INET6, lc->l_address, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(lc->l_port);
		len = sizeof(*sin6);
		snprintf(l->l_name, sizeof(l->l_name), "[%s]:%d",
		    lc->l_address, lc->l_port);
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

	snprintf(l->l_name, sizeof(l->l_name), "unix:%s", lc->l_unix);
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
	if (listen(fd, LISTEN_BACKLOG) == -1) {
		log_warn("listen on %s", l->l_name);
		close(fd);
		(void)unlink(lc->l_unix);
		return -1;
	}
	return fd;
}

/* Open the socket lc describes.  Returns 0, or -1 after logging why. */
int
listener_open(struct listener *l, const struct conf_listen *lc)
{
	l->l_conf = lc;
	l->l_fd = lc->l_kind == CONF_LISTEN_UNIX ? listener_unix(l, lc) :
	    listener_tcp(l, lc);
	return l->l_fd == -1 ? -1 : 0;
}

void
listener_close(struct listener *l)
{
	if (l->l_fd == -1)
		return;
	close(l->l_fd);
	l->l_fd = -1;
	if (l->l_conf->l_kind == CONF_LISTEN_UNIX)
		(void)unlink(l->l_conf->l_unix);
}
