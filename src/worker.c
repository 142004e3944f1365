/*
 * Workers: one event loop per thread, each with its own evconnlistener on
 * every listening socket, its own connections and its own counters.  A
 * connection never moves between threads; the only shared state is the
 * config pointer and the listener set (behind g_lock, reference-counted)
 * and the atomic connection count.
 *
 * A reload that adds or removes listeners changes the gate's set and
 * wakes each worker (worker_sync()); the worker, in its own thread, then
 * makes its evconnlisteners match the set.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "log.h"
#include "wsgated.h"

#define ACCEPT_RETRY_MS	500

static void	*worker_main(void *);
static void	 worker_acceptcb(struct evconnlistener *, evutil_socket_t,
		    struct sockaddr *, int, void *);
static void	 worker_accept_errorcb(struct evconnlistener *, void *);
static void	 worker_accept_timercb(evutil_socket_t, short, void *);
static void	 worker_stopcb(evutil_socket_t, short, void *);
static void	 worker_stop_timercb(evutil_socket_t, short, void *);
static void	 worker_accept_resume(struct worker *);
static void	 worker_synccb(evutil_socket_t, short, void *);
static void	 worker_beatcb(evutil_socket_t, short, void *);
static int	 worker_listen(struct worker *);
static void	 worker_unlisten(struct worker *, size_t);

/* A reference to the current config snapshot; the caller unrefs it. */
struct conf *
gate_conf(struct gate *g)
{
	struct conf	*conf;

	pthread_mutex_lock(&g->g_lock);
	conf = conf_ref(g->g_conf);
	pthread_mutex_unlock(&g->g_lock);
	return conf;
}

int
worker_init(struct worker *w, struct gate *g, int id)
{
	struct timeval	 tv;

	memset(w, 0, sizeof(*w));
	w->w_id = id;
	w->w_gate = g;
	TAILQ_INIT(&w->w_conns);
	atomic_init(&w->w_beat, 0);
	if ((w->w_base = event_base_new()) == NULL) {
		log_warnx("worker %d: event_base_new failed", id);
		return -1;
	}
	if ((w->w_metrics = metrics_new()) == NULL) {
		log_warn("worker %d: metrics", id);
		return -1;
	}
	if ((w->w_cmsg = evbuffer_new()) == NULL ||
	    (w->w_bmsg = evbuffer_new()) == NULL) {
		log_warnx("worker %d: evbuffer_new failed", id);
		return -1;
	}
	if ((w->w_accept_timer = evtimer_new(w->w_base,
	    worker_accept_timercb, w)) == NULL ||
	    (w->w_stop_ev = event_new(w->w_base, -1, 0, worker_stopcb,
	    w)) == NULL ||
	    (w->w_stop_timer = evtimer_new(w->w_base, worker_stop_timercb,
	    w)) == NULL ||
	    (w->w_sync_ev = event_new(w->w_base, -1, 0, worker_synccb,
	    w)) == NULL ||
	    (w->w_beat_ev = event_new(w->w_base, -1, EV_PERSIST,
	    worker_beatcb, w)) == NULL) {
		log_warnx("worker %d: event_new failed", id);
		return -1;
	}
	if (g->g_beat_usec > 0) {
		tv.tv_sec = g->g_beat_usec / 1000000;
		tv.tv_usec = g->g_beat_usec % 1000000;
		evtimer_add(w->w_beat_ev, &tv);
	}
	return worker_listen(w);
}

/*
 * Make this worker's evconnlisteners match the gate's listener set: drop
 * those whose listener left the set, add one for each new listener.  Run
 * by the main thread before the worker starts, then only by the worker.
 */
static int
worker_listen(struct worker *w)
{
	struct gate		*g = w->w_gate;
	struct listener		**set;
	struct worker_lev	*wl, **nlev;
	size_t			 i, j, n;
	int			 rv = 0;

	pthread_mutex_lock(&g->g_lock);
	n = g->g_nlisteners;
	if ((set = calloc(n + 1, sizeof(*set))) == NULL) {
		pthread_mutex_unlock(&g->g_lock);
		log_warn("worker %d: calloc", w->w_id);
		return -1;
	}
	for (i = 0; i < n; i++)
		set[i] = listener_ref(g->g_listeners[i]);
	pthread_mutex_unlock(&g->g_lock);

	for (j = 0; j < w->w_nlev; ) {
		for (i = 0; i < n; i++)
			if (set[i] == w->w_lev[j]->wl_listener)
				break;
		if (i == n)
			worker_unlisten(w, j);	/* moves the last one to j */
		else
			j++;
	}
	if ((nlev = reallocarray(w->w_lev, w->w_nlev + n + 1,
	    sizeof(*w->w_lev))) == NULL) {
		log_warn("worker %d: reallocarray", w->w_id);
		rv = -1;
		goto done;
	}
	w->w_lev = nlev;
	for (i = 0; i < n; i++) {
		for (j = 0; j < w->w_nlev; j++)
			if (w->w_lev[j]->wl_listener == set[i])
				break;
		if (j < w->w_nlev)
			continue;
		if ((wl = calloc(1, sizeof(*wl))) == NULL) {
			log_warn("worker %d: calloc", w->w_id);
			rv = -1;
			continue;
		}
		wl->wl_worker = w;
		wl->wl_listener = listener_ref(set[i]);
		/* The socket is shared: never closed by the listener. */
		if ((wl->wl_lev = evconnlistener_new(w->w_base,
		    worker_acceptcb, wl, LEV_OPT_CLOSE_ON_EXEC, -1,
		    set[i]->l_fd)) == NULL) {
			log_warnx("worker %d: evconnlistener_new failed on %s",
			    w->w_id, set[i]->l_name);
			listener_unref(wl->wl_listener);
			free(wl);
			rv = -1;
			continue;
		}
		evconnlistener_set_error_cb(wl->wl_lev, worker_accept_errorcb);
		if (w->w_accept_paused)
			evconnlistener_disable(wl->wl_lev);
		w->w_lev[w->w_nlev++] = wl;
	}
 done:
	for (i = 0; i < n; i++)
		listener_unref(set[i]);
	free(set);
	return rv;
}

/* Stop watching w_lev[j]; the last entry takes its place. */
static void
worker_unlisten(struct worker *w, size_t j)
{
	struct worker_lev	*wl = w->w_lev[j];

	evconnlistener_free(wl->wl_lev);
	listener_unref(wl->wl_listener);
	free(wl);
	w->w_lev[j] = w->w_lev[--w->w_nlev];
}

/* From the main thread, after a reload changed the listener set. */
void
worker_sync(struct worker *w)
{
	event_active(w->w_sync_ev, EV_TIMEOUT, 0);
}

static void
worker_synccb(evutil_socket_t fd, short what, void *arg)
{
	struct worker	*w = arg;

	(void)fd;
	(void)what;
	if (!w->w_stopping)
		(void)worker_listen(w);
}

/* The loop is turning: the main thread's watchdog looks at w_beat. */
static void
worker_beatcb(evutil_socket_t fd, short what, void *arg)
{
	struct worker	*w = arg;

	(void)fd;
	(void)what;
	atomic_fetch_add_explicit(&w->w_beat, 1, memory_order_relaxed);
}

static void *
worker_main(void *arg)
{
	struct worker	*w = arg;

	log_debug("worker %d: running", w->w_id);
	event_base_dispatch(w->w_base);
	log_debug("worker %d: stopped", w->w_id);
	return NULL;
}

int
worker_start(struct worker *w)
{
	int	 rv;

	if ((rv = pthread_create(&w->w_thread, NULL, worker_main, w)) != 0) {
		errno = rv;
		log_warn("worker %d: pthread_create", w->w_id);
		return -1;
	}
	return 0;
}

/* From the main thread: ask the worker to wind down. */
void
worker_stop(struct worker *w)
{
	event_active(w->w_stop_ev, EV_TIMEOUT, 0);
}

/*
 * In the worker: stop accepting, send close 1001 to every open client and
 * leave the loop when the last connection is gone, or when the close
 * deadline has passed.
 */
static void
worker_stopcb(evutil_socket_t fd, short what, void *arg)
{
	struct worker	*w = arg;
	struct conn	*c, *next;
	struct conf	*conf;
	struct timeval	 tv;

	(void)fd;
	(void)what;
	w->w_stopping = 1;
	while (w->w_nlev > 0)
		worker_unlisten(w, w->w_nlev - 1);
	evtimer_del(w->w_accept_timer);
	for (c = TAILQ_FIRST(&w->w_conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, c_entry);
		conn_shutdown(c);
		conn_check(c);
	}
	if (w->w_nconns == 0) {
		event_base_loopexit(w->w_base, NULL);
		return;
	}
	conf = gate_conf(w->w_gate);
	tv.tv_sec = conf->c_limits.close_timeout_ms / 1000;
	tv.tv_usec = (conf->c_limits.close_timeout_ms % 1000) * 1000 + 200000;
	conf_unref(conf);
	evtimer_add(w->w_stop_timer, &tv);
}

static void
worker_stop_timercb(evutil_socket_t fd, short what, void *arg)
{
	struct worker	*w = arg;
	struct conn	*c;

	(void)fd;
	(void)what;
	while ((c = TAILQ_FIRST(&w->w_conns)) != NULL) {
		conn_abort(c, "shutdown deadline");
		conn_check(c);
	}
	event_base_loopexit(w->w_base, NULL);
}

/* Called by conn_free(): a descriptor is free, and maybe the last conn. */
void
worker_conn_gone(struct worker *w)
{
	if (w->w_stopping) {
		if (w->w_nconns == 0)
			event_base_loopexit(w->w_base, NULL);
		return;
	}
	if (w->w_accept_paused)
		worker_accept_resume(w);
}

static void
worker_acceptcb(struct evconnlistener *lev, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct worker_lev *wl = arg;

	(void)lev;
	conn_accept(wl->wl_worker, wl->wl_listener, fd, sa, salen);
}

/*
 * Pause accept if we are out of file descriptors (or memory): the socket
 * stays readable and would busy-loop.  Resume when a connection is freed
 * or after a short delay.
 */
static void
worker_accept_errorcb(struct evconnlistener *lev, void *arg)
{
	struct worker_lev *wl = arg;
	struct worker	*w = wl->wl_worker;
	struct timeval	 tv;
	int		 err = EVUTIL_SOCKET_ERROR();
	size_t		 i;

	(void)lev;
	if (err != EMFILE && err != ENFILE && err != ENOBUFS && err != ENOMEM) {
		errno = err;
		log_warn("worker %d: accept", w->w_id);
		return;
	}
	if (w->w_accept_paused)
		return;
	errno = err;
	log_warn("worker %d: accept paused", w->w_id);
	w->w_accept_paused = 1;
	for (i = 0; i < w->w_nlev; i++)
		evconnlistener_disable(w->w_lev[i]->wl_lev);
	tv.tv_sec = 0;
	tv.tv_usec = ACCEPT_RETRY_MS * 1000;
	evtimer_add(w->w_accept_timer, &tv);
}

static void
worker_accept_resume(struct worker *w)
{
	size_t	 i;

	w->w_accept_paused = 0;
	evtimer_del(w->w_accept_timer);
	for (i = 0; i < w->w_nlev; i++)
		evconnlistener_enable(w->w_lev[i]->wl_lev);
	log_debug("worker %d: accept resumed", w->w_id);
}

static void
worker_accept_timercb(evutil_socket_t fd, short what, void *arg)
{
	struct worker	*w = arg;

	(void)fd;
	(void)what;
	if (w->w_accept_paused && !w->w_stopping)
		worker_accept_resume(w);
}

/* After the thread has been joined. */
void
worker_free(struct worker *w)
{
	while (w->w_nlev > 0)
		worker_unlisten(w, w->w_nlev - 1);
	free(w->w_lev);
	if (w->w_sync_ev != NULL)
		event_free(w->w_sync_ev);
	if (w->w_beat_ev != NULL)
		event_free(w->w_beat_ev);
	metrics_free(w->w_metrics);
	if (w->w_accept_timer != NULL)
		event_free(w->w_accept_timer);
	if (w->w_stop_ev != NULL)
		event_free(w->w_stop_ev);
	if (w->w_stop_timer != NULL)
		event_free(w->w_stop_timer);
	if (w->w_cmsg != NULL)
		evbuffer_free(w->w_cmsg);
	if (w->w_bmsg != NULL)
		evbuffer_free(w->w_bmsg);
	if (w->w_base != NULL)
		event_base_free(w->w_base);
}
