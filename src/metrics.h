/*
 * Counters for the status endpoint (<prefix>/metrics, Prometheus text
 * exposition format) and the health check (<prefix>/health).
 *
 * Each worker owns one struct metrics and is the only thread that writes
 * it, so an update is a relaxed load and a relaxed store: no lock and no
 * locked instruction on the data path.  A reader (whichever worker serves
 * /metrics) loads every worker's counters with relaxed atomics and sums
 * them; a figure may be a few events behind, never torn.
 *
 * Per-route counters live in a list per worker, keyed by the route's
 * path, so that they survive reloads that drop and re-add a route.  The
 * owner appends an entry by publishing it with a release store of the
 * list head; entries are never removed before the process exits.
 */
#ifndef WSGATE_METRICS_H
#define WSGATE_METRICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct conn;
struct gate;
struct http_request;

#define METRICS_IN	0	/* client to backend */
#define METRICS_OUT	1	/* backend to client */

#define METRICS_MAX_STATUS	600	/* handshake failures by status */
#define METRICS_MAX_CODES	64	/* distinct close codes per worker */

struct metrics_route {
	struct metrics_route	*mr_next;	/* set before publishing */
	char			*mr_path;
	_Atomic uint64_t	 mr_opened;	/* upgrades (101) */
	_Atomic uint64_t	 mr_closed;	/* of those, closed */
	_Atomic uint64_t	 mr_msgs[2];	/* [METRICS_IN], [..._OUT] */
	_Atomic uint64_t	 mr_bytes[2];	/* payload bytes */
	_Atomic uint64_t	 mr_connect_fail; /* backend connect refused */
};

struct metrics_code {
	_Atomic uint32_t	 mc_code;	/* 0: free slot */
	_Atomic uint64_t	 mc_count;
};

struct metrics {
	struct metrics_route	*_Atomic m_routes;
	_Atomic uint64_t	 m_status[METRICS_MAX_STATUS];
	struct metrics_code	 m_close[METRICS_MAX_CODES];
	_Atomic uint64_t	 m_close_other;	/* m_close was full */
	_Atomic uint64_t	 m_tls_handshakes;
};

/* Add n to a counter that only the calling thread writes. */
static inline void
metrics_add(_Atomic uint64_t *p, uint64_t n)
{
	atomic_store_explicit(p, atomic_load_explicit(p,
	    memory_order_relaxed) + n, memory_order_relaxed);
}

/* A message of len payload bytes relayed in direction dir (IN or OUT). */
static inline void
metrics_message(struct metrics_route *mr, int dir, uint64_t len)
{
	if (mr == NULL)
		return;
	metrics_add(&mr->mr_msgs[dir], 1);
	metrics_add(&mr->mr_bytes[dir], len);
}

/* Once, in main() before any thread: the process start time. */
void	 metrics_init(void);

/* A worker's counters (zeroed), or NULL; freed by metrics_free(). */
struct metrics *metrics_new(void);
void	 metrics_free(struct metrics *);

/*
 * The owning worker's entry for route path (created on first use), or
 * NULL if out of memory (the hooks then count nothing).
 */
struct metrics_route *metrics_route(struct metrics *, const char *path);

/* Hooks, each called by the worker thread that owns m. */
void	 metrics_handshake_failure(struct metrics *, int status);
void	 metrics_close_code(struct metrics *, unsigned int code);
/*
 * For the TLS code: call once per completed TLS handshake, from the
 * worker thread that owns the connection (c->c_worker->w_metrics).
 * wsgate_tls_handshakes_total is the sum.
 */
void	 metrics_tls_handshake(struct metrics *);

/* From the main thread: a reload was done (ok) or refused. */
void	 metrics_reload(int ok);

/*
 * In conn_http_read(), before the handshake rules: if the request is for
 * the status paths of c's listener, answer it (200 health or metrics,
 * 403 outside allow, 404, 405), put c in DRAINING and return 1;
 * otherwise return 0 and the upgrade goes on.
 */
int	 metrics_http(struct conn *, const struct http_request *);

#endif /* WSGATE_METRICS_H */
