/*
 * wsgated: a WebSocket gateway to Unix-socket backends.
 *
 * main() parses the options, loads the config (-t stops there), opens the
 * listening sockets, starts the worker threads and then waits for
 * signals on an event loop of its own: SIGTERM and SIGINT stop it
 * gracefully, SIGHUP reloads the config.  It never daemonizes; it logs
 * to stderr.
 */
#include <sys/resource.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "log.h"
#include "wsgated.h"

#ifndef WSGATE_SYSCONFDIR
#define WSGATE_SYSCONFDIR "/etc"
#endif
#ifndef WSGATE_VERSION
#define WSGATE_VERSION "unknown"
#endif
#define DEFAULT_CONF	WSGATE_SYSCONFDIR "/wsgate/wsgated.conf"

static void	usage(FILE *) __attribute__((noreturn));
static void	conf_error_stderr(void *, const char *);
static void	conf_error_log(void *, const char *);
static void	signal_stopcb(evutil_socket_t, short, void *);
static void	signal_reloadcb(evutil_socket_t, short, void *);
static void	raise_nofile(void);

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: wsgated [-c file] [-t] [-V] [-h]\n");
	if (fp == stdout) {
		fprintf(fp,
		    "  -c file  configuration file (default %s)\n"
		    "  -t       check the configuration and exit\n"
		    "  -V       print the version and exit\n"
		    "  -h       print this help and exit\n"
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
	struct event_base *base = arg;

	(void)what;
	log_info("received %s, shutting down", sig == SIGINT ? "SIGINT" :
	    "SIGTERM");
	event_base_loopexit(base, NULL);
}

/*
 * Load the new config beside the old one; swap only if it is valid.
 * Connections keep the snapshot they started with.  Listeners and the
 * number of workers are fixed at start-up.
 */
static void
signal_reloadcb(evutil_socket_t sig, short what, void *arg)
{
	struct gate	*g = arg;
	struct conf	*conf, *old;
	int		 nerr = 0;

	(void)sig;
	(void)what;
	log_info("received SIGHUP, reloading %s", g->g_conf->c_path);
	if ((conf = conf_load(g->g_conf->c_path, conf_error_log, NULL,
	    &nerr)) == NULL) {
		log_error("reload failed (%d error%s); keeping the running"
		    " configuration", nerr, nerr == 1 ? "" : "s");
		return;
	}
	pthread_mutex_lock(&g->g_lock);
	old = g->g_conf;
	g->g_conf = conf;
	pthread_mutex_unlock(&g->g_lock);
	conf_unref(old);
	log_info("configuration reloaded: %zu route%s (listen and workers"
	    " changes need a restart)", conf->c_nroutes,
	    conf->c_nroutes == 1 ? "" : "s");
}

int
main(int argc, char *argv[])
{
	struct gate	 gate;
	struct conf	*conf, *boot;
	struct event_base *base;
	struct event	*ev_term, *ev_int, *ev_hup;
	const char	*path = DEFAULT_CONF;
	int		 ch, test = 0, nerr = 0, i, started = 0;
	size_t		 j;

	while ((ch = getopt(argc, argv, "c:tVh")) != -1) {
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
		printf("%s: ok\n", path);
		conf_unref(conf);
		return 0;
	}
	if ((conf = conf_load(path, conf_error_log, NULL, &nerr)) == NULL)
		fatalx("%s: %d error%s in the configuration", path, nerr,
		    nerr == 1 ? "" : "s");

	raise_nofile();
	signal(SIGPIPE, SIG_IGN);
	if (evthread_use_pthreads() == -1)
		fatalx("evthread_use_pthreads failed");

	memset(&gate, 0, sizeof(gate));
	pthread_mutex_init(&gate.g_lock, NULL);
	gate.g_conf = conf;
	boot = conf_ref(conf);	/* the listeners point into it */
	atomic_init(&gate.g_nconns, 0);
	atomic_init(&gate.g_nextid, 0);

	if ((gate.g_listeners = calloc(conf->c_nlistens,
	    sizeof(*gate.g_listeners))) == NULL)
		fatal("calloc");
	for (j = 0; j < conf->c_nlistens; j++) {
		gate.g_listeners[j].l_fd = -1;
		if (listener_open(&gate.g_listeners[j], &conf->c_listens[j]) == -1)
			fatalx("cannot open listener %s (%s:%d)",
			    gate.g_listeners[j].l_name, conf->c_path,
			    conf->c_listens[j].l_line);
		gate.g_nlisteners++;
	}

	gate.g_nworkers = conf->c_workers;
	if ((gate.g_workers = calloc(gate.g_nworkers,
	    sizeof(*gate.g_workers))) == NULL)
		fatal("calloc");
	for (i = 0; i < gate.g_nworkers; i++)
		if (worker_init(&gate.g_workers[i], &gate, i) == -1)
			fatalx("cannot set up worker %d", i);

	if ((base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	ev_term = evsignal_new(base, SIGTERM, signal_stopcb, base);
	ev_int = evsignal_new(base, SIGINT, signal_stopcb, base);
	ev_hup = evsignal_new(base, SIGHUP, signal_reloadcb, &gate);
	if (ev_term == NULL || ev_int == NULL || ev_hup == NULL ||
	    evsignal_add(ev_term, NULL) == -1 ||
	    evsignal_add(ev_int, NULL) == -1 ||
	    evsignal_add(ev_hup, NULL) == -1)
		fatalx("cannot install signal handlers");

	for (i = 0; i < gate.g_nworkers; i++) {
		if (worker_start(&gate.g_workers[i]) == -1)
			break;
		started++;
	}
	if (started == gate.g_nworkers) {
		for (j = 0; j < gate.g_nlisteners; j++)
			log_info("listening on %s", gate.g_listeners[j].l_name);
		log_info("wsgated %s started: %d worker%s, %zu route%s, config %s",
		    WSGATE_VERSION, gate.g_nworkers,
		    gate.g_nworkers == 1 ? "" : "s", conf->c_nroutes,
		    conf->c_nroutes == 1 ? "" : "s", conf->c_path);
		event_base_dispatch(base);
	}

	for (i = 0; i < started; i++)
		worker_stop(&gate.g_workers[i]);
	for (i = 0; i < started; i++)
		pthread_join(gate.g_workers[i].w_thread, NULL);
	for (i = 0; i < gate.g_nworkers; i++)
		worker_free(&gate.g_workers[i]);
	free(gate.g_workers);
	for (j = 0; j < gate.g_nlisteners; j++)
		listener_close(&gate.g_listeners[j]);
	free(gate.g_listeners);
	event_free(ev_term);
	event_free(ev_int);
	event_free(ev_hup);
	event_base_free(base);
	conf_unref(gate.g_conf);
	conf_unref(boot);
	pthread_mutex_destroy(&gate.g_lock);
	log_info("stopped");
	return started == gate.g_nworkers ? 0 : 1;
}
