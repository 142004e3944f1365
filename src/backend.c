/*
 * Backend connections: Unix stream sockets.  A Unix-socket connect()
 * never returns EINPROGRESS on Linux; it succeeds or fails at once (EAGAIN
 * when the listen backlog is full), so it is done before the 101 is sent
 * and a dead backend is answered with 502, a full one with 503.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "wsgated.h"

/*
 * Connect to the backend the handshake chose.  Returns a non-blocking,
 * close-on-exec descriptor, or -1 with *status set to the HTTP status to
 * refuse with and *why to a short static reason for the client (the
 * details are logged).
 */
int
backend_connect(struct conn *c, int *status, const char **why)
{
	const char		*path = c->c_backend->b_path;
	struct sockaddr_un	 sun;
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		log_warnx("#%" PRIu64 " %s: backend %s: path too long",
		    c->c_id, c->c_peer, path);
		*status = 502;
		*why = "backend unreachable";
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1) {
		log_warn("#%" PRIu64 " %s: backend %s: socket", c->c_id,
		    c->c_peer, path);
		*status = 503;
		*why = (errno == EMFILE || errno == ENFILE) ?
		    "gateway out of file descriptors, try again later" :
		    "gateway cannot open a backend socket, try again later";
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		*status = (errno == EAGAIN) ? 503 : 502;
		*why = (errno == EAGAIN) ? "backend busy, try again later" :
		    "backend unreachable";
		log_warn("#%" PRIu64 " %s: backend %s: connect", c->c_id,
		    c->c_peer, path);
		close(fd);
		return -1;
	}
	return fd;
}
