/*
 * TLS termination (wss://) with OpenSSL and libevent's OpenSSL
 * bufferevents.  Every OpenSSL call of the daemon is in tls.c; the rest
 * of the code sees a TLS connection as a bufferevent like any other.
 *
 * The contexts belong to the config snapshot: tls_conf_setup() builds,
 * for every listener with a tls group, one SSL_CTX per certificate (the
 * first is the default, the others are chosen by SNI), and the snapshot
 * frees them with itself.  A connection uses the contexts of the snapshot
 * it holds, so a reload changes certificates for new connections only.
 */
#ifndef WSGATE_TLS_H
#define WSGATE_TLS_H

#include <stddef.h>

#include "conf.h"

struct bufferevent;
struct event_base;

/*
 * Load the certificates and keys of every TLS listener of conf and build
 * their contexts.  Checks that each file loads, that each key matches its
 * certificate and that no certificate of a chain has expired; that the
 * cipher lists leave something usable.  Every error is reported through
 * err as "FILE:LINE: message" (the config line of the setting, with the
 * certificate or key file named in the message), warnings are logged.
 * Returns 0, or -1 with the number of errors in *nerrors (if not NULL);
 * the contexts built so far are freed with conf.
 */
int	 tls_conf_setup(struct conf *conf, conf_error_fn err, void *arg,
	    int *nerrors);

/*
 * A server-side TLS bufferevent on the accepted socket fd, with the
 * listener's settings t (whose contexts tls_conf_setup() built): the
 * handshake starts on the first read.  BEV_OPT_CLOSE_ON_FREE: freeing it
 * frees the SSL and closes fd.  Returns NULL on failure (fd is then still
 * the caller's).
 */
struct bufferevent *tls_accept(struct event_base *, int fd,
	    const struct conf_tls *t);

/* Is bev a TLS bufferevent?  One whose handshake has not finished yet? */
int	 tls_is(struct bufferevent *bev);
int	 tls_handshaking(struct bufferevent *bev);

/*
 * Send the close_notify alert on bev, if it is a TLS bufferevent, once its
 * output has been written.  Returns 1 when the alert is out (or bev is
 * not TLS, or the session is broken and no alert can be sent): the
 * caller may then shut the socket's write side.  Returns 0 when the
 * socket is full: call again later.
 */
int	 tls_close_notify(struct bufferevent *bev);

/* What a failed TLS bufferevent's error was. */
enum tls_failure {
	TLS_FAIL_OTHER = 0,	/* a protocol error, or a socket error */
	TLS_FAIL_EOF,		/* the peer closed without close_notify */
	TLS_FAIL_PLAIN_HTTP	/* a plain HTTP request on the TLS port */
};

/*
 * After BEV_EVENT_ERROR on bev: describe the error in buf (for a log
 * line: OpenSSL's reason and, for the usual mistakes, what it means) and
 * classify it.  Consumes the errors libevent kept for bev.
 */
enum tls_failure tls_error(struct bufferevent *bev, char *buf, size_t size);

/*
 * After the handshake: "TLSv1.3 TLS_AES_128_GCM_SHA256 sni=NAME
 * cert=FILE alpn=http/1.1 resumed" (the parts that apply), for a log
 * line.
 */
void	 tls_describe(struct bufferevent *bev, char *buf, size_t size);

#endif /* WSGATE_TLS_H */
