/*
 * Counters and the status endpoint: <prefix>/health and <prefix>/metrics
 * (Prometheus text exposition format, version 0.0.4), answered on the
 * listeners the status group allows, before any WebSocket handshake rule.
 *
 * Writers are the workers, each on its own struct metrics (see
 * metrics.h); whichever worker serves /metrics sums all of them with
 * relaxed loads.  Nothing here takes a lock on the data path.
 */
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "http.h"
#include "log.h"
#include "wsgated.h"

#define METRICS_CTYPE	"text/plain; version=0.0.4; charset=utf-8"

/* Route figures summed over the workers. */
struct metrics_sum {
	const char	*ms_path;
	uint64_t	 ms_opened, ms_closed, ms_fail;
	uint64_t	 ms_msgs[2], ms_bytes[2];
};

/* Written by the main thread only. */
static _Atomic uint64_t	 metrics_reloads[2];	/* failed, ok */
static struct timeval	 metrics_start;	/* set before threads */

static uint64_t	 metrics_get(_Atomic uint64_t *);
static struct metrics_sum *metrics_sum_find(struct metrics_sum **, size_t *,
		    size_t *, const char *);
static int	 metrics_render(struct conn *, struct evbuffer *);
static void	 metrics_process(struct evbuffer *);
static void	 metrics_label(struct evbuffer *, const char *);
static int	 metrics_allowed(const struct conn *);
static int	 metrics_mask_match(const struct conf_netmask *, int,
		    const uint8_t *);
static void	 metrics_answer(struct conn *, int, const char *,
		    struct evbuffer *, int);

void
metrics_init(void)
{
	gettimeofday(&metrics_start, NULL);
}

struct metrics *
metrics_new(void)
{
	return calloc(1, sizeof(struct metrics));
}

void
metrics_free(struct metrics *m)
{
	struct metrics_route	*mr, *next;

	if (m == NULL)
		return;
	for (mr = atomic_load(&m->m_routes); mr != NULL; mr = next) {
		next = mr->mr_next;
		free(mr->mr_path);
		free(mr);
	}
	free(m);
}

static uint64_t
metrics_get(_Atomic uint64_t *p)
{
	return atomic_load_explicit(p, memory_order_relaxed);
}

/*
 * Only the owner appends, so the list it walks is its own and needs no
 * acquire; the release store publishes a complete entry to readers.
 */
struct metrics_route *
metrics_route(struct metrics *m, const char *path)
{
	struct metrics_route	*mr, *head;

	head = atomic_load_explicit(&m->m_routes, memory_order_relaxed);
	for (mr = head; mr != NULL; mr = mr->mr_next)
		if (strcmp(mr->mr_path, path) == 0)
			return mr;
	if ((mr = calloc(1, sizeof(*mr))) == NULL ||
	    (mr->mr_path = strdup(path)) == NULL) {
		free(mr);
		return NULL;
	}
	mr->mr_next = head;
	atomic_store_explicit(&m->m_routes, mr, memory_order_release);
	return mr;
}

void
metrics_handshake_failure(struct metrics *m, int status)
{
	if (status >= 0 && status < METRICS_MAX_STATUS)
		metrics_add(&m->m_status[status], 1);
}

/*
 * A slot is claimed by storing its code (release) after its count is
 * known to be zero; readers load the code (acquire), then the count.
 */
void
metrics_close_code(struct metrics *m, unsigned int code)
{
	struct metrics_code	*mc;
	uint32_t		 c;
	size_t			 i;

	for (i = 0; i < METRICS_MAX_CODES; i++) {
		mc = &m->m_close[i];
		c = atomic_load_explicit(&mc->mc_code, memory_order_relaxed);
		if (c == 0) {
			atomic_store_explicit(&mc->mc_code, code,
			    memory_order_release);
			c = code;
		}
		if (c == code) {
			metrics_add(&mc->mc_count, 1);
			return;
		}
	}
	metrics_add(&m->m_close_other, 1);
}

void
metrics_tls_handshake(struct metrics *m)
{
	metrics_add(&m->m_tls_handshakes, 1);
}

void
metrics_reload(int ok)
{
	metrics_add(&metrics_reloads[ok ? 1 : 0], 1);
}

static struct metrics_sum *
metrics_sum_find(struct metrics_sum **sums, size_t *n, size_t *size,
    const char *path)
{
	struct metrics_sum	*ns;
	size_t			 i;

	for (i = 0; i < *n; i++)
		if (strcmp((*sums)[i].ms_path, path) == 0)
			return &(*sums)[i];
	if (*n == *size) {
		if ((ns = reallocarray(*sums, *size * 2 + 8,
		    sizeof(**sums))) == NULL)
			return NULL;
		*sums = ns;
		*size = *size * 2 + 8;
	}
	memset(&(*sums)[*n], 0, sizeof(**sums));
	(*sums)[*n].ms_path = path;
	return &(*sums)[(*n)++];
}

/* A label value: backslash and double quote escaped (paths are ASCII). */
static void
metrics_label(struct evbuffer *b, const char *v)
{
	for (; *v != '\0'; v++) {
		if (*v == '\\' || *v == '"')
			evbuffer_add(b, "\\", 1);
		evbuffer_add(b, v, 1);
	}
}

#define METRICS_HEAD(b, name, type, help)				\
	evbuffer_add_printf((b), "# HELP %s %s\n# TYPE %s %s\n",	\
	    (name), (help), (name), (type))

/*
 * The exposition.  The paths in the sums point into the workers' route
 * entries or c's config, which both outlive this call.
 */
static int
metrics_render(struct conn *c, struct evbuffer *b)
{
	static const char *const dirs[2] = { "in", "out" };
	struct gate		*g = c->c_worker->w_gate;
	struct metrics		*m;
	struct metrics_route	*mr;
	struct metrics_sum	*sums = NULL, *ms;
	struct metrics_code	*mc;
	uint64_t		 status[METRICS_MAX_STATUS], v;
	uint64_t		 other = 0, tls = 0;
	uint64_t		 codes[METRICS_MAX_CODES];
	unsigned int		 codev[METRICS_MAX_CODES];
	size_t			 n = 0, size = 0, ncodes = 0, i, j;
	uint32_t		 code;
	int			 w, d;

	/* Routes of the running config first, so they show as 0. */
	for (i = 0; i < c->c_conf->c_nroutes; i++)
		if (metrics_sum_find(&sums, &n, &size,
		    c->c_conf->c_routes[i].r_path) == NULL)
			goto nomem;
	memset(status, 0, sizeof(status));
	for (w = 0; w < g->g_nworkers; w++) {
		m = g->g_workers[w].w_metrics;
		for (mr = atomic_load_explicit(&m->m_routes,
		    memory_order_acquire); mr != NULL; mr = mr->mr_next) {
			if ((ms = metrics_sum_find(&sums, &n, &size,
			    mr->mr_path)) == NULL)
				goto nomem;
			/* closed first: a conn is counted open before closed */
			v = metrics_get(&mr->mr_closed);
			ms->ms_closed += v;
			ms->ms_opened += metrics_get(&mr->mr_opened);
			ms->ms_fail += metrics_get(&mr->mr_connect_fail);
			for (d = 0; d < 2; d++) {
				ms->ms_msgs[d] += metrics_get(&mr->mr_msgs[d]);
				ms->ms_bytes[d] +=
				    metrics_get(&mr->mr_bytes[d]);
			}
		}
		for (i = 0; i < METRICS_MAX_STATUS; i++)
			status[i] += metrics_get(&m->m_status[i]);
		for (i = 0; i < METRICS_MAX_CODES; i++) {
			mc = &m->m_close[i];
			if ((code = atomic_load_explicit(&mc->mc_code,
			    memory_order_acquire)) == 0)
				break;
			for (j = 0; j < ncodes; j++)
				if (codev[j] == code)
					break;
			if (j == ncodes) {
				if (ncodes == METRICS_MAX_CODES) {
					other += metrics_get(&mc->mc_count);
					continue;
				}
				codev[ncodes] = code;
				codes[ncodes++] = 0;
			}
			codes[j] += metrics_get(&mc->mc_count);
		}
		other += metrics_get(&m->m_close_other);
		tls += metrics_get(&m->m_tls_handshakes);
	}

	METRICS_HEAD(b, "wsgate_connections_open", "gauge",
	    "WebSocket connections open now, by route.");
	for (i = 0; i < n; i++) {
		evbuffer_add_printf(b, "wsgate_connections_open{route=\"");
		metrics_label(b, sums[i].ms_path);
		evbuffer_add_printf(b, "\"} %" PRIu64 "\n",
		    sums[i].ms_opened > sums[i].ms_closed ?
		    sums[i].ms_opened - sums[i].ms_closed : 0);
	}
	METRICS_HEAD(b, "wsgate_connections_total", "counter",
	    "WebSocket connections opened (101 answered), by route.");
	for (i = 0; i < n; i++) {
		evbuffer_add_printf(b, "wsgate_connections_total{route=\"");
		metrics_label(b, sums[i].ms_path);
		evbuffer_add_printf(b, "\"} %" PRIu64 "\n", sums[i].ms_opened);
	}
	METRICS_HEAD(b, "wsgate_handshake_failures_total", "counter",
	    "Upgrade requests refused, by HTTP status.");
	for (i = 0; i < METRICS_MAX_STATUS; i++)
		if (status[i] != 0)
			evbuffer_add_printf(b, "wsgate_handshake_failures_total"
			    "{status=\"%zu\"} %" PRIu64 "\n", i, status[i]);
	METRICS_HEAD(b, "wsgate_messages_total", "counter",
	    "Messages relayed, by route and direction (in: client to "
	    "backend, out: backend to client).");
	for (i = 0; i < n; i++)
		for (d = 0; d < 2; d++) {
			evbuffer_add_printf(b,
			    "wsgate_messages_total{route=\"");
			metrics_label(b, sums[i].ms_path);
			evbuffer_add_printf(b, "\",direction=\"%s\"} %" PRIu64
			    "\n", dirs[d], sums[i].ms_msgs[d]);
		}
	METRICS_HEAD(b, "wsgate_bytes_total", "counter",
	    "Message payload bytes relayed, by route and direction.");
	for (i = 0; i < n; i++)
		for (d = 0; d < 2; d++) {
			evbuffer_add_printf(b, "wsgate_bytes_total{route=\"");
			metrics_label(b, sums[i].ms_path);
			evbuffer_add_printf(b, "\",direction=\"%s\"} %" PRIu64
			    "\n", dirs[d], sums[i].ms_bytes[d]);
		}
	METRICS_HEAD(b, "wsgate_backend_connect_failures_total", "counter",
	    "Backend connections that failed (answered 502 or 503), by "
	    "route.");
	for (i = 0; i < n; i++) {
		evbuffer_add_printf(b,
		    "wsgate_backend_connect_failures_total{route=\"");
		metrics_label(b, sums[i].ms_path);
		evbuffer_add_printf(b, "\"} %" PRIu64 "\n", sums[i].ms_fail);
	}
	METRICS_HEAD(b, "wsgate_close_codes_total", "counter",
	    "WebSocket connections closed, by the close code the gateway "
	    "sent (1005: empty close frame, 1006: none).");
	for (j = 0; j < ncodes; j++)
		evbuffer_add_printf(b, "wsgate_close_codes_total{code=\"%u\"} %"
		    PRIu64 "\n", codev[j], codes[j]);
	if (other != 0)
		evbuffer_add_printf(b, "wsgate_close_codes_total"
		    "{code=\"other\"} %" PRIu64 "\n", other);
	METRICS_HEAD(b, "wsgate_tls_handshakes_total", "counter",
	    "TLS handshakes completed.");
	evbuffer_add_printf(b, "wsgate_tls_handshakes_total %" PRIu64 "\n",
	    tls);
	METRICS_HEAD(b, "wsgate_sockets_open", "gauge",
	    "Client sockets open now, handshakes included.");
	evbuffer_add_printf(b, "wsgate_sockets_open %u\n",
	    atomic_load_explicit(&g->g_nconns, memory_order_relaxed));
	METRICS_HEAD(b, "wsgate_config_reloads_total", "counter",
	    "Configuration reloads (SIGHUP), by result.");
	evbuffer_add_printf(b, "wsgate_config_reloads_total{result=\"ok\"} %"
	    PRIu64 "\n", metrics_get(&metrics_reloads[1]));
	evbuffer_add_printf(b, "wsgate_config_reloads_total"
	    "{result=\"failed\"} %" PRIu64 "\n",
	    metrics_get(&metrics_reloads[0]));
	METRICS_HEAD(b, "wsgate_workers", "gauge", "Worker threads.");
	evbuffer_add_printf(b, "wsgate_workers %d\n", g->g_nworkers);
	METRICS_HEAD(b, "wsgate_build_info", "gauge",
	    "Always 1; the version is a label.");
	evbuffer_add_printf(b, "wsgate_build_info{version=\"%s\"} 1\n",
	    WSGATE_VERSION);
	metrics_process(b);
	free(sums);
	return 0;
 nomem:
	free(sums);
	return -1;
}

/* The usual process_* figures, from /proc and getrusage(). */
static void
metrics_process(struct evbuffer *b)
{
	struct rusage	 ru;
	struct rlimit	 rl;
	struct dirent	*de;
	DIR		*dir;
	FILE		*fp;
	unsigned long	 vsz, rss;
	long		 nfds = 0, page = sysconf(_SC_PAGESIZE);

	if (getrusage(RUSAGE_SELF, &ru) == 0) {
		METRICS_HEAD(b, "process_cpu_seconds_total", "counter",
		    "User and system CPU time spent in seconds.");
		evbuffer_add_printf(b, "process_cpu_seconds_total %.3f\n",
		    (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
		    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
	}
	if ((fp = fopen("/proc/self/statm", "re")) != NULL) {
		if (fscanf(fp, "%lu %lu", &vsz, &rss) == 2) {
			METRICS_HEAD(b, "process_virtual_memory_bytes",
			    "gauge", "Virtual memory size in bytes.");
			evbuffer_add_printf(b, "process_virtual_memory_bytes "
			    "%lu\n", vsz * (unsigned long)page);
			METRICS_HEAD(b, "process_resident_memory_bytes",
			    "gauge", "Resident memory size in bytes.");
			evbuffer_add_printf(b, "process_resident_memory_bytes "
			    "%lu\n", rss * (unsigned long)page);
		}
		fclose(fp);
	}
	if ((dir = opendir("/proc/self/fd")) != NULL) {
		while ((de = readdir(dir)) != NULL)
			if (de->d_name[0] != '.')
				nfds++;
		closedir(dir);
		METRICS_HEAD(b, "process_open_fds", "gauge",
		    "Number of open file descriptors.");
		evbuffer_add_printf(b, "process_open_fds %ld\n",
		    nfds > 0 ? nfds - 1 : 0);	/* less opendir's own */
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		METRICS_HEAD(b, "process_max_fds", "gauge",
		    "Maximum number of open file descriptors.");
		evbuffer_add_printf(b, "process_max_fds %llu\n",
		    (unsigned long long)rl.rlim_cur);
	}
	METRICS_HEAD(b, "process_start_time_seconds", "gauge",
	    "Start time of the process since the Unix epoch in seconds.");
	evbuffer_add_printf(b, "process_start_time_seconds %lld.%02ld\n",
	    (long long)metrics_start.tv_sec,
	    (long)metrics_start.tv_usec / 10000);
}

static int
metrics_mask_match(const struct conf_netmask *m, int af, const uint8_t *a)
{
	int	 bits = m->n_bits, i;
	uint8_t	 mask;

	if (m->n_family != af)
		return 0;
	for (i = 0; bits > 0; i++, bits -= 8) {
		mask = bits >= 8 ? 0xff : (uint8_t)(0xff << (8 - bits));
		if ((a[i] & mask) != (m->n_addr[i] & mask))
			return 0;
	}
	return 1;
}

/*
 * Is the client in the status allow list?  Its address is read back from
 * c_peer ("ADDR:PORT", "[ADDR6]:PORT" or "unix"): this path is rare and
 * struct conn stays small.  A v4-mapped IPv6 client (a dual-stack socket
 * from systemd) is matched as IPv4 too.
 */
static int
metrics_allowed(const struct conn *c)
{
	const struct conf_status *st = c->c_conf->c_status;
	char		 addr[INET6_ADDRSTRLEN + 1];
	const char	*p = c->c_peer, *end;
	uint8_t		 a[16];
	size_t		 len, i;
	int		 af;

	if (strcmp(p, "unix") == 0)
		af = AF_UNIX;
	else {
		if (*p == '[') {
			p++;
			end = strchr(p, ']');
			af = AF_INET6;
		} else {
			end = strrchr(p, ':');
			af = AF_INET;
		}
		if (end == NULL || (len = (size_t)(end - p)) >= sizeof(addr))
			return 0;
		memcpy(addr, p, len);
		addr[len] = '\0';
		if (inet_pton(af, addr, a) != 1)
			return 0;
	}
	for (i = 0; i < st->st_nallow; i++) {
		if (af == AF_UNIX) {
			if (st->st_allow[i].n_family == AF_UNIX)
				return 1;
			continue;
		}
		if (metrics_mask_match(&st->st_allow[i], af, a))
			return 1;
		if (af == AF_INET6 && IN6_IS_ADDR_V4MAPPED((struct in6_addr *)a)
		    && metrics_mask_match(&st->st_allow[i], AF_INET, a + 12))
			return 1;
	}
	return 0;
}

/* Queue the answer (body b, may be NULL) and drain, as a refusal does. */
static void
metrics_answer(struct conn *c, int status, const char *ctype,
    struct evbuffer *b, int head_only)
{
	struct evbuffer	*out = bufferevent_get_output(c->c_cbev);
	size_t		 len = b != NULL ? evbuffer_get_length(b) : 0;

	c->c_status = status;
	conn_reason(c, "status request");
	evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\n"
	    "Content-Type: %s\r\n"
	    "Content-Length: %zu\r\n"
	    "Cache-Control: no-store\r\n"
	    "Connection: close\r\n"
	    "%s"
	    "\r\n", status, status == 200 ? "OK" : http_status_text(status),
	    ctype, len,
	    status == 405 ? "Allow: GET, HEAD\r\n" : "");
	if (b != NULL && !head_only)
		evbuffer_add_buffer(out, b);
	evbuffer_drain(bufferevent_get_input(c->c_cbev),
	    evbuffer_get_length(bufferevent_get_input(c->c_cbev)));
	conn_set_state(c, CONN_DRAINING);
}

int
metrics_http(struct conn *c, const struct http_request *req)
{
	const struct conf_status *st = c->c_conf->c_status;
	struct evbuffer	*b;
	const char	*rest, *text;
	size_t		 plen, rlen;
	int		 head, status;

	if (st == NULL || c->c_listen == NULL || !c->c_listen->l_status)
		return 0;
	plen = strlen(st->st_prefix);
	if (req->path_len < plen || memcmp(req->path, st->st_prefix, plen) != 0
	    || (req->path_len > plen && req->path[plen] != '/'))
		return 0;
	rest = req->path + plen;
	rlen = req->path_len - plen;
	head = req->method_len == 4 && memcmp(req->method, "HEAD", 4) == 0;

	if ((b = evbuffer_new()) == NULL)
		return 0;	/* the handshake rules answer it */
	if (!metrics_allowed(c)) {
		status = 403;
		text = "forbidden\n";
		log_info("#%" PRIu64 " %s: 403 status request from outside "
		    "allow: %s", c->c_id, c->c_peer, CONN_TARGET(c));
	} else if (!head && (req->method_len != 3 ||
	    memcmp(req->method, "GET", 3) != 0)) {
		status = 405;
		text = "method not allowed\n";
	} else if (rlen == 7 && memcmp(rest, "/health", 7) == 0) {
		status = 200;
		text = "ok\n";
	} else if (rlen == 8 && memcmp(rest, "/metrics", 8) == 0) {
		status = 200;
		text = NULL;
		if (metrics_render(c, b) == -1) {
			evbuffer_drain(b, evbuffer_get_length(b));
			status = 500;
			text = "out of memory\n";
		}
	} else {
		status = 404;
		text = "not found\n";
	}
	if (text != NULL)
		evbuffer_add(b, text, strlen(text));
	log_debug("#%" PRIu64 " %s: %d status request %s", c->c_id,
	    c->c_peer, status, CONN_TARGET(c));
	metrics_answer(c, status, text == NULL ? METRICS_CTYPE :
	    "text/plain; charset=utf-8", b, head);
	evbuffer_free(b);
	return 1;
}
