/*
 * wsgated: the I/O side.  The major structs and the prototypes of the
 * glue modules, grouped by file.  The pure codecs have headers of their
 * own (http.h, ws.h, utf8.h, framing.h) and know nothing of these.
 */
#ifndef WSGATE_WSGATED_H
#define WSGATE_WSGATED_H

#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include <event2/event_struct.h>	/* struct event, embedded in struct conn */

#include "conf.h"
#include "deflate.h"
#include "framing.h"
#include "metrics.h"
#include "preamble.h"
#include "ws.h"

struct event_base;
struct event;
struct bufferevent;
struct evbuffer;
struct evconnlistener;
struct proxy_wait;

/* conn_sock_readcb(): bytes per read (a 64 KiB evbuffer chain with its
   header), and at most per callback: while the upgrade request is read,
   and once the connection is open */
#define CONN_READ_CHUNK	(65536 - 128)
#define CONN_READ_HTTP	(4096 - 128)
#define CONN_READ_MORE	(256 * 1024)
#define CONN_WRITE_IOV	64		/* chains per sendmsg (libevent: 128) */
#define PEER_LEN	(INET6_ADDRSTRLEN + 8)
#define TARGET_LOG_LEN	128		/* at most, for the log lines */
#define CONN_REASON_LEN	64		/* the close reason, at most */

/*
 * A listening socket, opened (or taken from systemd) by the main thread,
 * and watched by every worker.  It is reference-counted: the gate holds
 * one reference while the socket is in the configuration, and each worker
 * one while it watches it; the last listener_unref() closes it, so a
 * listener removed by a reload is closed only after every worker has
 * dropped its evconnlistener.  l_name is the canonical name of its listen
 * entry (conf_listen.l_name): a connection finds the settings of its
 * listener in its own config snapshot with conf_listen_find().
 */
struct listener {
	int			 l_fd;
	int			 l_refs;	/* atomic */
	int			 l_activated;	/* from systemd: never unlinked */
	int			 l_unix;	/* a Unix socket: unlink at close */
	char			 l_path[108];	/* Unix socket path */
	char			 l_name[PEER_LEN + 116];
};

/*
 * Process-wide state shared by the workers: the current config snapshot
 * and the set of listeners (both swapped whole under g_lock on reload;
 * readers take references), and the connection count that
 * max_connections bounds.
 */
struct gate {
	pthread_mutex_t		 g_lock;
	struct conf		*g_conf;
	struct listener		**g_listeners;	/* g_lock */
	size_t			 g_nlisteners;
	struct worker		*g_workers;
	int			 g_nworkers;
	atomic_uint		 g_nconns;
	atomic_uint_fast64_t	 g_nextid;
	uint64_t		 g_beat_usec;	/* worker heartbeat, 0 = off */
};

/* One worker's evconnlistener on one listener. */
struct worker_lev {
	struct worker		*wl_worker;
	struct listener		*wl_listener;	/* holds a reference */
	struct evconnlistener	*wl_lev;
};

/*
 * One event loop on one thread.  Its connections never leave it.
 */
struct worker {
	int			 w_id;
	struct gate		*w_gate;
	pthread_t		 w_thread;
	struct event_base	*w_base;
	struct worker_lev	**w_lev;	/* one per gate listener */
	size_t			 w_nlev;
	struct event		*w_sync_ev;	/* listeners changed (reload) */
	struct event		*w_beat_ev;	/* heartbeat for the watchdog */
	atomic_uint		 w_beat;
	struct metrics		*w_metrics;	/* written by this thread only */
	int			 w_accept_paused; /* out of descriptors */
	struct event		*w_accept_timer;
	struct event		*w_stop_ev;	/* activated by the main thread */
	struct event		*w_stop_timer;	/* deadline for the drain */
	int			 w_stopping;
	TAILQ_HEAD(, conn)	 w_conns;
	unsigned int		 w_nconns;
	/*
	 * Reassembly buffers for messages that begin and end within one
	 * callback, lent to the conn for its duration (relay.c): empty
	 * between callbacks.
	 */
	struct evbuffer		*w_cmsg;
	struct evbuffer		*w_bmsg;
	/* and decoders, the same way (relay_wsdec_lend() and the like) */
	struct ws_decoder	 w_wsdec;
	struct framing_decoder	 w_fdec;
};

/*
 * The states of a connection; conn_set_state() is the only writer.
 *   HTTP      reading the upgrade request (handshake deadline running)
 *   OPEN      relaying messages both ways
 *   CLOSING   a close frame was sent or received; finishing the close
 *             handshake and the backend's drain (close deadline running)
 *   DRAINING  the answer (a refusal, or the last close frame) is being
 *             flushed; then the write side is shut and input discarded
 *             until the peer closes (close deadline running)
 */
enum conn_state {
	CONN_HTTP = 0,
	CONN_OPEN,
	CONN_CLOSING,
	CONN_DRAINING
};

/*
 * A connection's permessage-deflate state: allocated by relay_start()
 * only if the handshake agreed the extension, freed by conn_free().
 */
struct conn_pmd {
	struct dfl_inflate	 z_inflate;	/* client messages */
	struct dfl_deflate	 z_deflate;	/* backend messages */
	struct utf8_state	 z_utf8;	/* inflated text, checked */
	int			 z_inflating;	/* a compressed message is open */
	struct evbuffer		*z_msg;		/* compressed message to send */
};

/*
 * One client connection and its backend.  It owns both bufferevents (each
 * side's is NULL once that side is finished), its codec states and
 * reassembly buffers while a message is open (an idle conn has none: a
 * read callback borrows the worker's), its timer and a reference to the
 * config snapshot it started with.  conn_free() is the one place it is freed,
 * and the only caller of conn_free() is conn_check(), at the end of each
 * callback.
 */
struct conn {
	TAILQ_ENTRY(conn)	 c_entry;
	uint64_t		 c_id;
	struct worker		*c_worker;
	struct conf		*c_conf;
	const struct conf_listen *c_listen;	/* its listener's entry in
						   c_conf, or NULL if gone */
	struct metrics_route	*c_mroute;	/* counters of its route */
	struct timeval		 c_start;
	enum conn_state		 c_state;
	uint16_t		 c_close_code;	/* sent, for the access line */
	int16_t			 c_status;	/* HTTP status answered */
	unsigned int		 c_over_limit:1; /* past max_connections at accept */

	/* client side */
	unsigned int		 c_cpaused:1;	/* reading paused: backend slow */
	unsigned int		 c_cshut:1;	/* write side shut down */

	/* backend side */
	unsigned int		 c_bpaused:1;	/* reading paused: client slow */
	unsigned int		 c_bfinish:1;	/* flush, then shut the write side */
	unsigned int		 c_bshut:1;	/* write side shut down */
	unsigned int		 c_beof:1;	/* backend sent EOF */

	unsigned int		 c_wsdead:1;	/* decoder failed: discard input */
	unsigned int		 c_ping_out:1;	/* a ping awaits its pong */
	unsigned int		 c_close_sent:1;
	unsigned int		 c_close_rcvd:1;
	char			 c_peer[PEER_LEN];

	struct bufferevent	*c_cbev;
	struct bufferevent	*c_bbev;

	/*
	 * A balancer's PROXY header (proxy_protocol listeners): c_proxy
	 * while waiting for it.  c_origin is the client's address as a
	 * balancer gave it (that header, or a trusted X-Forwarded-For),
	 * kept until the 101; NULL for the socket's own addresses.
	 */
	struct proxy_wait	*c_proxy;
	struct conn_origin	*c_origin;
	size_t			 c_head_searched;

	/* what the handshake chose (points into c_conf) */
	const struct conf_route	*c_route;
	const struct conf_backend *c_backend;
	const char		*c_subproto;
	char			*c_target;	/* printable, or NULL; CONN_TARGET() */

	/*
	 * Codecs and reassembly.  The decoders, like the message buffers
	 * below, are the worker's during a callback, between callbacks NULL
	 * if at rest (between messages), else a copy of the conn's own.
	 */
	struct ws_decoder	*c_wsdec;
	struct framing_decoder	*c_fdec;
	/*
	 * The messages being read: the worker's buffers during a callback
	 * (relay_msg_lend()), between callbacks NULL, or a buffer of the
	 * conn's own for a message still open.
	 */
	struct evbuffer		*c_cmsg;	/* client message being read */
	struct evbuffer		*c_bmsg;	/* backend message being read */

	struct conn_pmd		*c_pmd;		/* permessage-deflate, or NULL */

	/*
	 * The one timer (event_assign()ed by conn_client_start()): the
	 * handshake deadline, then, when open, the next ping or idle check
	 * (relay_timer()), then the close deadline.
	 */
	struct event		 c_timer;
	uint64_t		 c_ping_next;	/* open: when the next ping is due */
	uint64_t		 c_last_msg;	/* for idle_timeout_ms */
						/* (both ms, relay_now()) */

	/* close handshake, and the access line */
	const char		*c_close_by;	/* "client", "backend", "gateway" */
	char			*c_close_reason; /* or NULL; CONN_REASON() */
	uint64_t		 c_msgs_in, c_bytes_in;	/* client -> backend */
	uint64_t		 c_msgs_out, c_bytes_out; /* backend -> client */
};

/* The client's address from a PROXY header or X-Forwarded-For. */
struct conn_origin {
	struct preamble_addr	 o_src;		/* the client */
	struct preamble_addr	 o_dst;		/* the address it connected to */
};

#define CONN_TARGET(c)	((c)->c_target != NULL ? (c)->c_target : "")
#define CONN_REASON(c)	((c)->c_close_reason != NULL ? (c)->c_close_reason : "")

/* worker.c */
int	 worker_init(struct worker *, struct gate *, int);
int	 worker_start(struct worker *);
void	 worker_sync(struct worker *);
void	 worker_stop(struct worker *);
void	 worker_free(struct worker *);
void	 worker_conn_gone(struct worker *);
struct conf *gate_conf(struct gate *);

/* listener.c */
struct listener *listener_open(const struct conf_listen *);
struct listener *listener_adopt(int, const char *);
int	 listener_fd_name(int, char *, size_t);
struct listener *listener_ref(struct listener *);
void	 listener_unref(struct listener *);

/* conn.c */
void	 conn_accept(struct worker *, struct listener *, int,
	    const struct sockaddr *, int);
void	 conn_set_state(struct conn *, enum conn_state);
void	 conn_reason(struct conn *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	 conn_reason_peer(struct conn *, const void *, size_t);
void	 conn_refuse(struct conn *, int, const char *, const char *,
	    const char *);
void	 conn_ws_close(struct conn *, uint16_t, const char *, size_t,
	    const char *);
void	 conn_abort(struct conn *, const char *);
void	 conn_client_done(struct conn *);
void	 conn_backend_done(struct conn *);
void	 conn_backend_finish(struct conn *);
int	 conn_check(struct conn *);
struct bufferevent *conn_sock_new(struct event_base *, int);
void	 conn_client_start(struct conn *, int);
void	 conn_shutdown(struct conn *);

/* proxy.c */
struct http_request;
void	 proxy_accept(struct conn *, int);
void	 proxy_cancel(struct conn *, int);
int	 proxy_preamble(struct conn *, const struct http_request *);
void	 proxy_forwarded(struct conn *, const struct http_request *);

/* backend.c */
int	 backend_connect(struct conn *, int *, const char **);

/* relay.c */
void	 relay_start(struct conn *, const char *, const struct dfl_params *);
void	 relay_timer(struct conn *);
void	 relay_client_read(struct conn *);
void	 relay_backend_read(struct conn *);
void	 relay_client_drained(struct conn *);
void	 relay_backend_drained(struct conn *);
void	 relay_send_frame(struct conn *, int, const void *, size_t);
void	 relay_send_message(struct conn *, int, struct evbuffer *);
void	 relay_ws_fail(struct conn *, int);

#endif /* WSGATE_WSGATED_H */
