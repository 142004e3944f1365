/*
 * wsgated: a WebSocket gateway to Unix-socket backends.
 *
 * main() parses the options, loads the config (-t stops there), opens the
 * listening sockets (or takes those systemd passed), drops privileges,
 * starts the worker threads and then waits for signals on an event loop
 * of its own: SIGTERM and SIGINT stop it gracefully, SIGHUP reloads the
 * config.  It never daemonizes; it logs to stderr and tells systemd how
 * it is doing through gate_notify().
 */
#include <sys/resource.h>
#include <sys/types.h>

#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>

#include <systemd/sd-daemon.h>

#include "log.h"
#include "tls.h"
#include "wsgated.h"

#ifndef WSGATE_SYSCONFDIR
#define WSGATE_SYSCONFDIR "/etc"
#endif
#ifndef WSGATE_VERSION
#define WSGATE_VERSION "unknown"
#endif
#define DEFAULT_CONF	WSGATE_SYSCONFDIR "/wsgate/wsgated.conf"

/* A socket systemd passed, until a listen entry takes it. */
struct sd_socket {
	int		 sd_fd;		/* -1 once adopted */
	char		 sd_name[PEER_LEN + 116];
};

/* The main thread's state, beside the gate it shares with the workers. */
struct mainloop {
	struct gate		*m_gate;
	struct event_base	*m_base;
	struct event		*m_status_ev;	/* STATUS= refresh, 1 s */
	struct event		*m_watchdog_ev;	/* WATCHDOG=1 */
	unsigned int		 m_status_last;
	unsigned int		*m_beats;	/* last w_beat seen, per worker */
	struct sd_socket	*m_sd;
	size_t			 m_nsd;
	int			 m_notify;	/* NOTIFY_SOCKET was set */
};

static void	usage(FILE *) __attribute__((noreturn));
static void	conf_error_stderr(void *, const char *);
static void	conf_error_log(void *, const char *);
static void	gate_notify(struct mainloop *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static void	gate_status(struct mainloop *, int);
static void	signal_stopcb(evutil_socket_t, short, void *);
static void	signal_reloadcb(evutil_socket_t, short, void *);
static void	status_timercb(evutil_socket_t, short, void *);
static void	watchdog_timercb(evutil_socket_t, short, void *);
static void	raise_nofile(void);
static void	systemd_sockets(struct mainloop *);
static int	listeners_open(struct mainloop *, const struct conf *,
		    struct listener ***, size_t *);
static void	listeners_free(struct listener **, size_t);
static void	drop_privileges(const struct conf *);

static const struct option longopts[] = {
	{ "config",	required_argument,	NULL,	'c' },
	{ "test",	no_argument,		NULL,	't' },
	{ "version",	no_argument,		NULL,	'V' },
	{ "help",	no_argument,		NULL,	'h' },
	{ NULL,		0,			NULL,	0 }
};

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: wsgated [-c file] [-t] [-V] [-h]\n");
	if (fp == stdout) {
		fprintf(fp,
		    "  -c, --config file  configuration file (default %s)\n"
		    "  -t, --test         check the configuration and exit\n"
		    "  -V, --version      print the version and exit\n"
		    "  -h, --help         print this help and exit\n"
		    "Signals: SIGTERM/SIGINT stop gracefully (close 1001 to"
		    " clients), SIGHUP reloads the configuration.\n",
		    DEFAULT_CONF);
		exit(0);
	}
	exit(1);
}

static void
conf_error_stderr(void *arg, const char *msg)
{
	(void)arg;
	fprintf(stderr, "%s\n", msg);
}

static void
conf_error_log(void *arg, const char *msg)
{
	(void)arg;
	log_error("%s", msg);
}

/*
 * The one way to talk to systemd (READY=1, RELOADING=1, STOPPING=1,
 * STATUS=, WATCHDOG=1): a no-op unless NOTIFY_SOCKET was set at start.
 */
static void
gate_notify(struct mainloop *m, const char *fmt, ...)
{
	char	 buf[512];
	va_list	 ap;
	int	 rv;

	if (!m->m_notify)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if ((rv = sd_notify(0, buf)) < 0) {
		errno = -rv;
		log_warn("sd_notify");
	}
}

/* STATUS= with the live connection count; with READY=1 if ready. */
static void
gate_status(struct mainloop *m, int ready)
{
	unsigned int	 n;

	n = atomic_load(&m->m_gate->g_nconns);
	m->m_status_last = n;
	gate_notify(m, "%sSTATUS=%u connection%s, %zu listener%s, %d worker%s",
	    ready ? "READY=1\n" : "", n, n == 1 ? "" : "s",
	    m->m_gate->g_nlisteners, m->m_gate->g_nlisteners == 1 ? "" : "s",
	    m->m_gate->g_nworkers, m->m_gate->g_nworkers == 1 ? "" : "s");
}

/* At most once a second, and only when the count changed. */
static void
status_timercb(evutil_socket_t fd, short what, void *arg)
{
	struct mainloop	*m = arg;

	(void)fd;
	(void)what;
	if (atomic_load(&m->m_gate->g_nconns) != m->m_status_last)
		gate_status(m, 0);
}

/*
 * Ping the watchdog only if every worker's loop has turned since the
 * last ping (each bumps w_beat on a timer of its own): a stuck worker
 * lets systemd restart the service.
 */
static void
watchdog_timercb(evutil_socket_t fd, short what, void *arg)
{
	struct mainloop	*m = arg;
	struct gate	*g = m->m_gate;
	unsigned int	 b;
	int		 i, stuck = -1;

	(void)fd;
	(void)what;
	for (i = 0; i < g->g_nworkers; i++) {
		b = atomic_load_explicit(&g->g_workers[i].w_beat,
		    memory_order_relaxed);
		if (b == m->m_beats[i])
			stuck = i;
		m->m_beats[i] = b;
	}
	if (stuck != -1) {
		log_warnx("worker %d has not run its loop for a watchdog "
		    "period; not pinging the watchdog", stuck);
		return;
	}
	gate_notify(m, "WATCHDOG=1");
}

/*
 * Two descriptors per connection: take the whole hard limit on open
 * files, not the soft default of 1024.
 */
static void
raise_nofile(void)
{
	struct rlimit	 rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			log_warn("setrlimit RLIMIT_NOFILE");
	}
}

static void
signal_stopcb(evutil_socket_t sig, short what, void *arg)
{
	struct mainloop	*m = arg;

	(void)what;
	log_info("received %s, shutting down", sig == SIGINT ? "SIGINT" :
	    "SIGTERM");
	gate_notify(m, "STOPPING=1\nSTATUS=stopping: closing %u connection%s",
	    atomic_load(&m->m_gate->g_nconns),
	    atomic_load(&m->m_gate->g_nconns) == 1 ? "" : "s");
	event_base_loopexit(m->m_base, NULL);
}

/*
 * Sockets systemd passed (LISTEN_FDS, LISTEN_PID), by their canonical
 * names.  The variables are unset so that nothing inherits them.
 */
static void
systemd_sockets(struct mainloop *m)
{
	int	 n, i;

	if ((n = sd_listen_fds(1)) < 0) {
		errno = -n;
		log_warn("sd_listen_fds");
		return;
	}
	if (n == 0)
		return;
	if ((m->m_sd = calloc(n, sizeof(*m->m_sd))) == NULL)
		fatal("calloc");
	for (i = 0; i < n; i++) {
		m->m_sd[i].sd_fd = SD_LISTEN_FDS_START + i;
		if (listener_fd_name(m->m_sd[i].sd_fd, m->m_sd[i].sd_name,
		    sizeof(m->m_sd[i].sd_name)) == -1) {
			log_warnx("systemd passed descriptor %d, which is not "
			    "a listening stream socket; ignored",
			    m->m_sd[i].sd_fd);
			m->m_sd[i].sd_name[0] = '\0';
		}
	}
	m->m_nsd = n;
}

/*
 * The listeners conf asks for, as a new set: those already open (kept,
 * whatever their connections are doing), those systemd passed, and new
 * sockets for the rest.  All or nothing: on failure the new ones are
 * closed and -1 returned, so a reload that cannot bind changes nothing.
 */
static int
listeners_open(struct mainloop *m, const struct conf *conf,
    struct listener ***setp, size_t *np)
{
	struct gate		*g = m->m_gate;
	const struct conf_listen *lc;
	struct listener		**set, *l;
	size_t			 i, j, n = 0;

	if ((set = calloc(conf->c_nlistens + 1, sizeof(*set))) == NULL) {
		log_warn("calloc");
		return -1;
	}
	for (i = 0; i < conf->c_nlistens; i++) {
		lc = &conf->c_listens[i];
		l = NULL;
		for (j = 0; j < g->g_nlisteners && l == NULL; j++)
			if (strcmp(g->g_listeners[j]->l_name, lc->l_name) == 0)
				l = listener_ref(g->g_listeners[j]);
		for (j = 0; j < m->m_nsd && l == NULL; j++) {
			if (m->m_sd[j].sd_fd == -1 ||
			    strcmp(m->m_sd[j].sd_name, lc->l_name) != 0)
				continue;
			if ((l = listener_adopt(m->m_sd[j].sd_fd,
			    lc->l_name)) != NULL) {
				m->m_sd[j].sd_fd = -1;
				log_info("listening on %s (from systemd)",
				    l->l_name);
			}
		}
		if (l == NULL && (l = listener_open(lc)) != NULL)
			log_info("listening on %s", l->l_name);
		if (l == NULL) {
			log_error("cannot open listener %s (%s:%d)", lc->l_name,
			    conf->c_path, lc->l_line);
			listeners_free(set, n);
			return -1;
		}
		set[n++] = l;
	}
	*setp = set;
	*np = n;
	return 0;
}

static void
listeners_free(struct listener **set, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		listener_unref(set[i]);
	free(set);
}

/*
 * After binding: become user and group for good.  Running as root with a
 * user configured and failing to drop is fatal, never a warning.
 */
static void
drop_privileges(const struct conf *conf)
{
	gid_t	 gid = conf->c_gid;
	uid_t	 uid = conf->c_uid;

	if (conf->c_user == NULL && conf->c_group == NULL)
		return;
	if (geteuid() != 0) {
		if ((conf->c_user != NULL && getuid() != uid) ||
		    getgid() != gid)
			log_warnx("user/group are set but wsgated was not "
			    "started as root: staying uid %u, gid %u",
			    (unsigned int)getuid(), (unsigned int)getgid());
		return;
	}
	if (conf->c_user != NULL) {
		if (initgroups(conf->c_user, gid) == -1)
			fatal("initgroups %s", conf->c_user);
	} else if (setgroups(1, &gid) == -1)
		fatal("setgroups");
	if (setresgid(gid, gid, gid) == -1)
		fatal("setresgid %u", (unsigned int)gid);
	if (conf->c_user != NULL) {
		if (setresuid(uid, uid, uid) == -1)
			fatal("setresuid %s", conf->c_user);
		if (uid != 0 && (getuid() == 0 || geteuid() == 0 ||
		    setuid(0) != -1))
			fatalx("still root after switching to user %s; "
			    "refusing to run", conf->c_user);
	}
	log_info("running as uid %u, gid %u", (unsigned int)getuid(),
	    (unsigned int)getgid());
}

/*
 * Load the new config beside the old one; swap only if it is valid and
 * its listeners can be opened.  Connections keep the snapshot they
 * started with; listeners that stay are kept as they are; the workers
 * are then told to watch the new set.  The number of workers and the
 * user are fixed at start-up.
 */
static void
signal_reloadcb(evutil_socket_t sig, short what, void *arg)
{
	struct mainloop	*m = arg;
	struct gate	*g = m->m_gate;
	struct conf	*conf, *old;
	struct listener	**set, **oldset;
	struct timespec	 ts;
	size_t		 n, oldn;
	int		 nerr = 0, i;

	(void)sig;
	(void)what;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	gate_notify(m, "RELOADING=1\nMONOTONIC_USEC=%llu\n"
	    "STATUS=reloading the configuration",
	    (unsigned long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
	log_info("received SIGHUP, reloading %s", g->g_conf->c_path);
	/* Certificates and keys are read again, and must load. */
	if ((conf = conf_load(g->g_conf->c_path, conf_error_log, NULL,
	    &nerr)) == NULL ||
	    tls_conf_setup(conf, conf_error_log, NULL, &nerr) == -1) {
		conf_unref(conf);
		log_error("reload failed (%d error%s); keeping the running"
		    " configuration", nerr, nerr == 1 ? "" : "s");
		goto fail;
	}
	if (listeners_open(m, conf, &set, &n) == -1) {
		log_error("reload failed: a listener cannot be opened; "
		    "keeping the running configuration");
		conf_unref(conf);
		goto fail;
	}
	if (conf->c_workers != g->g_nworkers)
		log_warnx("workers = %d: a change of workers needs a restart "
		    "(running %d)", conf->c_workers, g->g_nworkers);
	if ((conf->c_user != NULL) != (g->g_conf->c_user != NULL) ||
	    conf->c_uid != g->g_conf->c_uid || conf->c_gid != g->g_conf->c_gid)
		log_warnx("a change of user or group needs a restart");

	pthread_mutex_lock(&g->g_lock);
	old = g->g_conf;
	g->g_conf = conf;
	oldset = g->g_listeners;
	oldn = g->g_nlisteners;
	g->g_listeners = set;
	g->g_nlisteners = n;
	pthread_mutex_unlock(&g->g_lock);

	/* Removed listeners close when the last worker lets go. */
	listeners_free(oldset, oldn);
	conf_unref(old);
	log_setlevel(conf->c_log_level);
	for (i = 0; i < g->g_nworkers; i++)
		worker_sync(&g->g_workers[i]);
	metrics_reload(1);
	log_info("configuration reloaded: %zu route%s, %zu listener%s",
	    conf->c_nroutes, conf->c_nroutes == 1 ? "" : "s", n,
	    n == 1 ? "" : "s");
	gate_status(m, 1);
	return;
 fail:
	metrics_reload(0);
	gate_status(m, 1);
}

int
main(int argc, char *argv[])
{
	struct gate	 gate;
	struct mainloop	 m;
	struct conf	*conf;
	struct event	*ev_term, *ev_int, *ev_hup;
	struct timeval	 tv;
	const char	*path = DEFAULT_CONF;
	uint64_t	 wd_usec = 0;
	int		 ch, test = 0, nerr = 0, i, started = 0;
	size_t		 j;

	while ((ch = getopt_long(argc, argv, "c:tVh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 't':
			test = 1;
			break;
		case 'V':
			printf("wsgated %s\n", WSGATE_VERSION);
			return 0;
		case 'h':
			usage(stdout);
		default:
			usage(stderr);
		}
	}
	if (optind != argc)
		usage(stderr);

	if (test) {
		if ((conf = conf_load(path, conf_error_stderr, NULL,
		    &nerr)) == NULL)
			return 1;
		if (tls_conf_setup(conf, conf_error_stderr, NULL,
		    &nerr) == -1) {
			conf_unref(conf);
			return 1;
		}
		printf("%s: ok\n", path);
		conf_unref(conf);
		return 0;
	}
	/*
	 * A reload asked for before the handler is in place (the listeners
	 * accept before then) is dropped rather than fatal.
	 */
	signal(SIGHUP, SIG_IGN);
	log_init();
	metrics_init();
	if ((conf = conf_load(path, conf_error_log, NULL, &nerr)) == NULL ||
	    tls_conf_setup(conf, conf_error_log, NULL, &nerr) == -1) {
		conf_unref(conf);
		fatalx("%s: %d error%s in the configuration", path, nerr,
		    nerr == 1 ? "" : "s");
	}
	log_setlevel(conf->c_log_level);

	memset(&m, 0, sizeof(m));
	m.m_gate = &gate;
	m.m_notify = getenv("NOTIFY_SOCKET") != NULL;
	if (sd_watchdog_enabled(0, &wd_usec) <= 0)
		wd_usec = 0;

	raise_nofile();
	signal(SIGPIPE, SIG_IGN);
	if (evthread_use_pthreads() == -1)
		fatalx("evthread_use_pthreads failed");

	memset(&gate, 0, sizeof(gate));
	pthread_mutex_init(&gate.g_lock, NULL);
	gate.g_conf = conf;
	atomic_init(&gate.g_nconns, 0);
	atomic_init(&gate.g_nextid, 0);
	gate.g_beat_usec = wd_usec / 4;

	systemd_sockets(&m);
	if (listeners_open(&m, conf, &gate.g_listeners,
	    &gate.g_nlisteners) == -1)
		fatalx("cannot open the listeners");
	for (j = 0; j < m.m_nsd; j++)
		if (m.m_sd[j].sd_fd != -1 && m.m_sd[j].sd_name[0] != '\0')
			log_warnx("systemd passed %s, which no listen entry "
			    "names; kept for a reload", m.m_sd[j].sd_name);
	drop_privileges(conf);

	gate.g_nworkers = conf->c_workers;
	if ((gate.g_workers = calloc(gate.g_nworkers,
	    sizeof(*gate.g_workers))) == NULL ||
	    (m.m_beats = calloc(gate.g_nworkers, sizeof(*m.m_beats))) == NULL)
		fatal("calloc");
	for (i = 0; i < gate.g_nworkers; i++)
		if (worker_init(&gate.g_workers[i], &gate, i) == -1)
			fatalx("cannot set up worker %d", i);

	if ((m.m_base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	ev_term = evsignal_new(m.m_base, SIGTERM, signal_stopcb, &m);
	ev_int = evsignal_new(m.m_base, SIGINT, signal_stopcb, &m);
	ev_hup = evsignal_new(m.m_base, SIGHUP, signal_reloadcb, &m);
	if (ev_term == NULL || ev_int == NULL || ev_hup == NULL ||
	    evsignal_add(ev_term, NULL) == -1 ||
	    evsignal_add(ev_int, NULL) == -1 ||
	    evsignal_add(ev_hup, NULL) == -1)
		fatalx("cannot install signal handlers");
	if (m.m_notify) {
		tv.tv_sec = 1;
		tv.tv_usec = 0;
		if ((m.m_status_ev = event_new(m.m_base, -1, EV_PERSIST,
		    status_timercb, &m)) == NULL ||
		    event_add(m.m_status_ev, &tv) == -1)
			fatalx("cannot set up the status timer");
	}
	if (wd_usec > 0) {
		tv.tv_sec = (wd_usec / 2) / 1000000;
		tv.tv_usec = (wd_usec / 2) % 1000000;
		if ((m.m_watchdog_ev = event_new(m.m_base, -1, EV_PERSIST,
		    watchdog_timercb, &m)) == NULL ||
		    event_add(m.m_watchdog_ev, &tv) == -1)
			fatalx("cannot set up the watchdog timer");
	}

	for (i = 0; i < gate.g_nworkers; i++) {
		if (worker_start(&gate.g_workers[i]) == -1)
			break;
		started++;
	}
	if (started == gate.g_nworkers) {
		log_info("wsgated %s started: %d worker%s, %zu route%s, config %s",
		    WSGATE_VERSION, gate.g_nworkers,
		    gate.g_nworkers == 1 ? "" : "s", conf->c_nroutes,
		    conf->c_nroutes == 1 ? "" : "s", conf->c_path);
		gate_status(&m, 1);
		event_base_dispatch(m.m_base);
	}

	for (i = 0; i < started; i++)
		worker_stop(&gate.g_workers[i]);
	for (i = 0; i < started; i++)
		pthread_join(gate.g_workers[i].w_thread, NULL);
	for (i = 0; i < gate.g_nworkers; i++)
		worker_free(&gate.g_workers[i]);
	free(gate.g_workers);
	free(m.m_beats);
	listeners_free(gate.g_listeners, gate.g_nlisteners);
	for (j = 0; j < m.m_nsd; j++)
		if (m.m_sd[j].sd_fd != -1)
			close(m.m_sd[j].sd_fd);
	free(m.m_sd);
	event_free(ev_term);
	event_free(ev_int);
	event_free(ev_hup);
	if (m.m_status_ev != NULL)
		event_free(m.m_status_ev);
	if (m.m_watchdog_ev != NULL)
		event_free(m.m_watchdog_ev);
	event_base_free(m.m_base);
	conf_unref(gate.g_conf);
	pthread_mutex_destroy(&gate.g_lock);
	log_info("stopped");
	return started == gate.g_nworkers ? 0 : 1;
}
