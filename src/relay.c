/*
 * The relay: moves messages between the client and backend bufferevents
 * of an open connection.  Client bytes go through the frame decoder (which
 * unmasks payload in place) into the reassembly buffer, then out through
 * the backend framing; backend bytes go through the framing decoder into
 * the other reassembly buffer, then out as single unfragmented frames.
 * Payload moves between evbuffers by reference where libevent allows
 * (evbuffer_remove_buffer, evbuffer_add_buffer).
 *
 * Flow control is the watermark pair: when one side's output holds
 * buffer_limit bytes or more, reading from the other side stops until the
 * write callback sees it drained to half of that.
 */
#include <sys/socket.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "http.h"
#include "log.h"
#include "tls.h"
#include "wsgated.h"

static void	relay_backend_readcb(struct bufferevent *, void *);
static void	relay_backend_writecb(struct bufferevent *, void *);
static void	relay_backend_eventcb(struct bufferevent *, short, void *);
static void	relay_timer_arm(struct conn *);
static void	relay_client_decode(struct conn *);
static void	relay_backend_decode(struct conn *);
static void	relay_msg_lend(struct evbuffer **, struct evbuffer *);
static int	relay_msg_return(struct evbuffer **, struct evbuffer *);
static void	relay_wsdec_lend(struct conn *);
static void	*relay_dec_keep(void *, const void *, size_t, int, int *);
static int	relay_wsdec_return(struct conn *);
static void	relay_fdec_lend(struct conn *);
static int	relay_fdec_return(struct conn *);
static void	relay_client_message(struct conn *, int);
static void	relay_client_close(struct conn *, const struct ws_event *);
static void	relay_touch(struct conn *);
static int	relay_inflate(struct conn *, const uint8_t *, size_t, int,
		    int);
static int	relay_deflate(struct conn *, struct evbuffer *, uint8_t *,
		    size_t *);
static ssize_t	relay_zrun(struct conn *, uint8_t *, size_t *,
		    const uint8_t *, size_t, size_t *);

/*
 * permessage-deflate output goes through a buffer of this size on the
 * stack and is copied into the evbuffers, where it packs behind what is
 * queued: a small message then costs its bytes, not a chain of its own.
 */
#define RELAY_ZCHUNK	16384
#define RELAY_COPY_MAX	2048	/* relay_append(): copied, not moved, up to this */
static void	relay_client_throttle(struct conn *);

/*
 * The upgrade was accepted and the backend is connected: answer 101, set
 * up the codecs, the watermarks and the timers, and start relaying
 * (including any frames that came pipelined behind the request).
 */
void
relay_start(struct conn *c, const char *accept, const struct dfl_params *agreed)
{
	const struct conf_limits *lim = &c->c_conf->c_limits;
	const struct conf_backend *be = c->c_backend;
	struct dfl_params pmd = *agreed;
	char		 buf[768], ext[256];
	size_t		 n, low;

	/* (an answer that does not fit would be no agreement) */
	if ((n = http_pmd_response(ext, sizeof(ext), &pmd)) == 0)
		pmd.p_on = 0;
	if (pmd.p_on && (c->c_pmd = calloc(1, sizeof(*c->c_pmd))) == NULL) {
		/* declining the extension is an answer too */
		log_warn("#%" PRIu64 " %s: permessage-deflate", c->c_id,
		    c->c_peer);
		pmd.p_on = 0;
		n = 0;
	}
	n = http_upgrade_response(buf, sizeof(buf), accept, c->c_subproto,
	    n > 0 ? ext : NULL);
	evbuffer_add(bufferevent_get_output(c->c_cbev), buf, n);

	if (c->c_pmd != NULL) {
		/* zlib streams come with the first compressed message */
		dfl_inflate_init(&c->c_pmd->z_inflate, pmd.p_client_bits,
		    pmd.p_client_no_context, lim->max_message_size);
		dfl_deflate_init(&c->c_pmd->z_deflate, pmd.p_server_bits,
		    pmd.p_server_no_context, lim->compression_level);
	}
	bufferevent_setcb(c->c_bbev, relay_backend_readcb,
	    relay_backend_writecb, relay_backend_eventcb, c);
	low = lim->buffer_limit / 2;
	bufferevent_setwatermark(c->c_cbev, EV_WRITE, low, 0);
	bufferevent_setwatermark(c->c_bbev, EV_WRITE, low, 0);
	if (!tls_is(c->c_cbev))	/* past the small reads of the request */
		bufferevent_set_max_single_read(c->c_cbev, CONN_READ_MORE);
	if (be->b_framing == FRAMING_RAW)	/* one message per read */
		bufferevent_set_max_single_read(c->c_bbev,
		    lim->max_message_size < 65536 ?
		    (size_t)lim->max_message_size : 65536);

	relay_touch(c);
	c->c_ping_next = c->c_last_msg + lim->ping_interval_ms;
	log_info("#%" PRIu64 " %s: 101 %s subprotocol=%s backend=%s "
	    "framing=%s%s", c->c_id, c->c_peer, CONN_TARGET(c),
	    c->c_subproto != NULL ? c->c_subproto : "-", be->b_path,
	    framing_name(be->b_framing),
	    c->c_pmd != NULL ? " compression=permessage-deflate" : "");
	conn_set_state(c, CONN_OPEN);
	relay_timer_arm(c);
	bufferevent_enable(c->c_bbev, EV_READ);
	bufferevent_enable(c->c_cbev, EV_READ);
	if (evbuffer_get_length(bufferevent_get_input(c->c_cbev)) > 0)
		relay_client_read(c);
}

/* The loop's cached time, in ms. */
static uint64_t
relay_now(struct conn *c)
{
	struct timeval	 tv;

	event_base_gettimeofday_cached(c->c_worker->w_base, &tv);
	return (uint64_t)tv.tv_sec * 1000 + (uint64_t)tv.tv_usec / 1000;
}

static void
relay_touch(struct conn *c)
{
	c->c_last_msg = relay_now(c);
}

/*
 * Append a header of n bytes and then msg (left empty) to out.  A small
 * message is copied behind its header, so a socket gets one contiguous
 * write (send, not sendmsg over two chains) and no chain changes hands;
 * a big one is moved by reference, without copying.  (evbuffer_peek()
 * counts the chains past the vectors given only for a length >= 0.)
 */
static void
relay_append(struct evbuffer *out, const uint8_t *hdr, size_t n,
    struct evbuffer *msg)
{
	struct evbuffer_iovec	 v[4];
	size_t			 len = evbuffer_get_length(msg);
	int			 i, nv;

	if (n > 0)
		evbuffer_add(out, hdr, n);
	if (len > RELAY_COPY_MAX ||
	    (nv = evbuffer_peek(msg, (ev_ssize_t)len, NULL, v, 4)) > 4) {
		evbuffer_add_buffer(out, msg);
		return;
	}
	for (i = 0; i < nv; i++)
		evbuffer_add(out, v[i].iov_base, v[i].iov_len);
	evbuffer_drain(msg, len);
}

/* Send one control frame (or a small data frame) to the client. */
void
relay_send_frame(struct conn *c, int opcode, const void *data, size_t len)
{
	struct evbuffer	*out;
	uint8_t		 hdr[WS_MAX_HEADER];
	size_t		 n;

	if (c->c_cbev == NULL)
		return;
	out = bufferevent_get_output(c->c_cbev);
	n = ws_encode_header(hdr, 1, opcode, 0, len, NULL);
	evbuffer_add(out, hdr, n);
	if (len > 0)
		evbuffer_add(out, data, len);
}

/* Send the whole of msg to the client as one frame; msg is left empty. */
void
relay_send_message(struct conn *c, int opcode, struct evbuffer *msg)
{
	struct evbuffer	*out;
	uint8_t		 hdr[WS_MAX_HEADER], zbuf[RELAY_ZCHUNK];
	size_t		 len, n, zn, more;

	len = evbuffer_get_length(msg);
	if (c->c_cbev == NULL || c->c_close_sent) {
		evbuffer_drain(msg, len);
		return;
	}
	out = bufferevent_get_output(c->c_cbev);
	if (c->c_pmd != NULL &&
	    len >= c->c_conf->c_limits.compression_min_size) {
		if (relay_deflate(c, msg, zbuf, &zn) == -1) {
			/* the stream is lost with the message: give up */
			evbuffer_drain(msg, evbuffer_get_length(msg));
			if (c->c_pmd->z_msg != NULL)
				evbuffer_drain(c->c_pmd->z_msg,
				    evbuffer_get_length(c->c_pmd->z_msg));
			conn_ws_close(c, WS_CLOSE_INTERNAL, "out of memory",
			    strlen("out of memory"), "gateway");
			return;
		}
		more = c->c_pmd->z_msg != NULL ?
		    evbuffer_get_length(c->c_pmd->z_msg) : 0;
		n = ws_encode_header(hdr, 1, opcode, WS_RSV1, zn + more, NULL);
		evbuffer_add(out, hdr, n);
		evbuffer_add(out, zbuf, zn);
		if (more > 0)
			evbuffer_add_buffer(out, c->c_pmd->z_msg);
	} else {
		n = ws_encode_header(hdr, 1, opcode, 0, len, NULL);
		relay_append(out, hdr, n, msg);
	}
	c->c_msgs_out++;
	c->c_bytes_out += len;
	metrics_message(c->c_mroute, METRICS_OUT, len);
	relay_touch(c);
}

/*
 * The client broke the protocol: close with the code of the violation
 * and drop the TCP connection once the close frame is out.
 */
void
relay_ws_fail(struct conn *c, int err)
{
	const char	*why = ws_strerror(err);
	uint16_t	 code = ws_error_close_code(err);

	log_info("#%" PRIu64 " %s: client protocol error: %s; closing with %u",
	    c->c_id, c->c_peer, why, code);
	c->c_wsdead = 1;
	c->c_close_by = "gateway";
	conn_ws_close(c, code, why, strlen(why), "gateway");
	if (c->c_cbev != NULL)
		evbuffer_drain(bufferevent_get_input(c->c_cbev),
		    evbuffer_get_length(bufferevent_get_input(c->c_cbev)));
	conn_set_state(c, CONN_DRAINING);
}

/*
 * Reassembly buffers.  Most messages begin and end within one callback
 * (one read): they are reassembled in a buffer of the worker's, lent to
 * the conn for the callback, so an idle conn holds none.  A message
 * still open when the callback returns moves (its chains, not its bytes)
 * to a buffer of the conn's own, which is freed once it is empty again
 * at the end of a callback.
 */
static void
relay_msg_lend(struct evbuffer **msg, struct evbuffer *worker)
{
	if (*msg != NULL)
		return;
	if (evbuffer_get_length(worker) != 0)
		fatalx("relay: a lent message buffer was not returned");
	*msg = worker;
}

/* Give the worker's buffer back; -1 if the open message was lost. */
static int
relay_msg_return(struct evbuffer **msg, struct evbuffer *worker)
{
	struct evbuffer	*own;

	if (evbuffer_get_length(*msg) == 0) {
		if (*msg != worker)
			evbuffer_free(*msg);
		*msg = NULL;
		return 0;
	}
	if (*msg != worker)
		return 0;
	*msg = NULL;
	if ((own = evbuffer_new()) == NULL ||
	    evbuffer_add_buffer(own, worker) == -1) {
		if (own != NULL)
			evbuffer_free(own);
		evbuffer_drain(worker, evbuffer_get_length(worker));
		return -1;
	}
	*msg = own;
	return 0;
}

/*
 * The decoders, the same way: the worker's, set up afresh, unless the
 * conn kept its own because a frame or a message was left open; kept
 * (copied) only then, freed once at rest again.
 */
static void
relay_wsdec_lend(struct conn *c)
{
	const struct conf_limits *lim = &c->c_conf->c_limits;
	struct ws_decoder *d = &c->c_worker->w_wsdec;

	if (c->c_wsdec != NULL)
		return;
	ws_decoder_init(d, 1, lim->max_message_size);
	if (c->c_pmd != NULL) {
		d->d_rsv_allowed = WS_RSV1;
		d->d_max_transformed = dfl_bound(lim->max_message_size);
	}
	c->c_wsdec = d;
}

/*
 * At the end of a callback, what the conn keeps of a decoder, cur (the
 * worker's, or a copy of the conn's own): nothing if it is at rest, else
 * its own copy, made now if cur is still the worker's.  NULL, with *lost
 * set, if that copy cannot be made.
 */
static void *
relay_dec_keep(void *cur, const void *worker, size_t size, int at_rest,
    int *lost)
{
	void	*own;

	*lost = 0;
	if (at_rest) {
		if (cur != worker)
			free(cur);
		return NULL;
	}
	if (cur != worker)
		return cur;
	if ((own = malloc(size)) == NULL) {
		*lost = 1;
		return NULL;
	}
	return memcpy(own, worker, size);
}

static int
relay_wsdec_return(struct conn *c)
{
	int	 lost;

	c->c_wsdec = relay_dec_keep(c->c_wsdec, &c->c_worker->w_wsdec,
	    sizeof(*c->c_wsdec), ws_decoder_at_rest(c->c_wsdec), &lost);
	return lost ? -1 : 0;
}

static void
relay_fdec_lend(struct conn *c)
{
	const struct conf_backend *be = c->c_backend;
	struct framing_decoder *d = &c->c_worker->w_fdec;

	if (c->c_fdec != NULL)
		return;
	framing_decoder_init(d, be->b_framing, be->b_message_type,
	    c->c_conf->c_limits.max_message_size);
	c->c_fdec = d;
}

static int
relay_fdec_return(struct conn *c)
{
	int	 lost;

	c->c_fdec = relay_dec_keep(c->c_fdec, &c->c_worker->w_fdec,
	    sizeof(*c->c_fdec), !framing_decoder_midmessage(c->c_fdec), &lost);
	return lost ? -1 : 0;
}

/* The client's input, in the OPEN and CLOSING states. */
void
relay_client_read(struct conn *c)
{
	int	 lost;

	relay_wsdec_lend(c);
	relay_msg_lend(&c->c_cmsg, c->c_worker->w_cmsg);
	relay_client_decode(c);
	lost = relay_msg_return(&c->c_cmsg, c->c_worker->w_cmsg);
	if (relay_wsdec_return(c) == -1) {
		/* where the client's frames stand is lost with it */
		c->c_wsdead = 1;
		lost = -1;
	}
	if (lost)
		conn_ws_close(c, WS_CLOSE_INTERNAL, "out of memory",
		    strlen("out of memory"), "gateway");
}

/* The backend's input, while open. */
void
relay_backend_read(struct conn *c)
{
	int	 lost;

	relay_fdec_lend(c);
	relay_msg_lend(&c->c_bmsg, c->c_worker->w_bmsg);
	relay_backend_decode(c);
	lost = relay_msg_return(&c->c_bmsg, c->c_worker->w_bmsg);
	if (relay_fdec_return(c) == -1 || lost) {
		/* the open message, or where the stream stands, is lost */
		conn_ws_close(c, WS_CLOSE_INTERNAL, "out of memory",
		    strlen("out of memory"), "gateway");
		conn_backend_done(c);
	}
}

/*
 * Decode what the client sent.  Data frames are reassembled into c_cmsg
 * and passed on at the end of the message; pings are answered here;
 * nothing of the control frames reaches the backend.
 */
static void
relay_client_decode(struct conn *c)
{
	struct evbuffer		*in = bufferevent_get_input(c->c_cbev);
	struct evbuffer_iovec	 v;
	struct ws_event		 ev;
	ssize_t			 r;
	int			 err;

	/*
	 * The decoder is called until it returns 0 with nothing to say, also
	 * on an empty buffer: the end of a message is reported by the call
	 * after its last payload bytes.
	 */
	while (c->c_cbev != NULL && !c->c_wsdead &&
	    c->c_state != CONN_DRAINING) {
		if (evbuffer_peek(in, -1, NULL, &v, 1) < 1) {
			v.iov_base = NULL;
			v.iov_len = 0;
		}
		r = ws_decode(c->c_wsdec, v.iov_base, v.iov_len, &ev);
		if (r < 0) {
			relay_ws_fail(c, (int)r);
			return;
		}
		if (ev.type == WS_EV_DATA) {
			if (c->c_close_sent)
				evbuffer_drain(in, r);
			else if (ev.rsv & WS_RSV1) {
				/* compressed: inflate out of the input */
				if ((err = relay_inflate(c, ev.data, ev.len,
				    ev.opcode == WS_OP_TEXT, 0)) != 0) {
					relay_ws_fail(c, err);
					return;
				}
				evbuffer_drain(in, r);
			} else
				evbuffer_remove_buffer(in, c->c_cmsg, r);
			continue;
		}
		evbuffer_drain(in, r);
		switch (ev.type) {
		case WS_EV_NONE:
			if (r == 0)
				goto out;	/* needs more input */
			break;
		case WS_EV_MSG_END:
			if ((ev.rsv & WS_RSV1) && !c->c_close_sent &&
			    (err = relay_inflate(c, NULL, 0,
			    ev.opcode == WS_OP_TEXT, 1)) != 0) {
				relay_ws_fail(c, err);
				return;
			}
			relay_client_message(c, ev.opcode);
			break;
		case WS_EV_PING:
			if (!c->c_close_sent)
				relay_send_frame(c, WS_OP_PONG, ev.data, ev.len);
			break;
		case WS_EV_PONG:
			c->c_ping_out = 0;
			break;
		case WS_EV_CLOSE:
			relay_client_close(c, &ev);
			break;
		case WS_EV_DATA:
			break;
		}
	}
out:
	if (c->c_cbev == NULL)
		return;
	if (c->c_state == CONN_DRAINING || c->c_wsdead) {
		evbuffer_drain(in, evbuffer_get_length(in));
		return;
	}
	relay_client_throttle(c);
}

/*
 * Backpressure on the client's input: reading pauses while the backend's
 * output holds buffer_limit bytes, and also while the client's own
 * output does (pongs of a client that pings and never reads), and resumes
 * when both are below it.
 */
static void
relay_client_throttle(struct conn *c)
{
	size_t	 limit = c->c_conf->c_limits.buffer_limit;
	int	 full;

	if (c->c_cbev == NULL || c->c_state != CONN_OPEN)
		return;
	full = evbuffer_get_length(bufferevent_get_output(c->c_cbev)) >= limit ||
	    (c->c_bbev != NULL && !c->c_bfinish &&
	    evbuffer_get_length(bufferevent_get_output(c->c_bbev)) >= limit);
	if (full && !c->c_cpaused) {
		bufferevent_disable(c->c_cbev, EV_READ);
		c->c_cpaused = 1;
	} else if (!full && c->c_cpaused) {
		bufferevent_enable(c->c_cbev, EV_READ);
		c->c_cpaused = 0;
	}
}

/*
 * A slice of a compressed client message (end: the message is over and
 * the flush marker goes in): inflate it into c_cmsg, checking text as it
 * comes out, so that a bad byte fails the message at once.  The inflater
 * stops at max_message_size.  Returns 0 or a WS_ERR_*.
 */
static int
relay_inflate(struct conn *c, const uint8_t *in, size_t len, int text,
    int end)
{
	struct conn_pmd	*z = c->c_pmd;
	uint8_t		 buf[RELAY_ZCHUNK];
	size_t		 used;
	ssize_t		 n;

	if (!z->z_inflating) {
		if (dfl_inflate_start(&z->z_inflate) != 0)
			return WS_ERR_NOMEM;
		utf8_init(&z->z_utf8);
		z->z_inflating = 1;
	}
	for (;;) {
		if (end)
			n = dfl_inflate_end(&z->z_inflate, buf, sizeof(buf));
		else {
			n = dfl_inflate(&z->z_inflate, in, len, &used, buf,
			    sizeof(buf));
			in += used;
			len -= used;
		}
		if (n < 0)
			return n == DFL_ERR_TOO_BIG ? WS_ERR_TOO_BIG :
			    n == DFL_ERR_MEM ? WS_ERR_NOMEM : WS_ERR_INFLATE;
		if (n > 0) {
			if (text && utf8_feed(&z->z_utf8, buf, (size_t)n,
			    NULL) == UTF8_INVALID)
				return WS_ERR_UTF8;
			if (evbuffer_add(c->c_cmsg, buf, (size_t)n) == -1)
				return WS_ERR_NOMEM;
		}
		if (end ? n == 0 : len == 0 && (size_t)n < sizeof(buf))
			break;
	}
	if (end) {
		z->z_inflating = 0;
		if (text && !utf8_complete(&z->z_utf8))
			return WS_ERR_UTF8;
	}
	return 0;
}

/*
 * Compress msg, emptying it and reading its chains in place.  The output
 * fills zbuf (RELAY_ZCHUNK bytes; *zn used) and, for a message that
 * compresses to more than that, goes on in z_msg.  -1 if zlib cannot
 * allocate its stream.
 */
static int
relay_deflate(struct conn *c, struct evbuffer *msg, uint8_t *zbuf,
    size_t *zn)
{
	struct conn_pmd		*z = c->c_pmd;
	struct evbuffer_iovec	 in[8];
	const uint8_t		*p;
	size_t			 left, used, done;
	ssize_t			 n;
	int			 i, k;

	*zn = 0;
	if (dfl_deflate_start(&z->z_deflate) != 0)
		return -1;
	while (evbuffer_get_length(msg) > 0) {
		if ((k = evbuffer_peek(msg, -1, NULL, in, 8)) > 8)
			k = 8;
		for (i = 0, done = 0; i < k; i++) {
			p = in[i].iov_base;
			left = in[i].iov_len;
			while (left > 0) {
				if (relay_zrun(c, zbuf, zn, p, left,
				    &used) < 0)
					return -1;
				p += used;
				left -= used;
			}
			done += in[i].iov_len;
		}
		evbuffer_drain(msg, done);
	}
	while ((n = relay_zrun(c, zbuf, zn, NULL, 0, NULL)) > 0)
		;
	return n < 0 ? -1 : 0;
}

/*
 * One step of relay_deflate(): in[0..len) (or, with in NULL, the end of
 * the message) into zbuf while it has room, then into z_msg.  Returns
 * the bytes it wrote, or -1.
 */
static ssize_t
relay_zrun(struct conn *c, uint8_t *zbuf, size_t *zn, const uint8_t *in,
    size_t len, size_t *used)
{
	struct conn_pmd		*z = c->c_pmd;
	struct evbuffer_iovec	 v;
	ssize_t			 n;

	if (used != NULL)
		*used = 0;
	if (RELAY_ZCHUNK - *zn >= DFL_MIN_OUT) {
		n = in != NULL ? dfl_deflate(&z->z_deflate, in, len, used,
		    zbuf + *zn, RELAY_ZCHUNK - *zn) :
		    dfl_deflate_end(&z->z_deflate, zbuf + *zn,
		    RELAY_ZCHUNK - *zn);
		if (n > 0)
			*zn += (size_t)n;
		return n < 0 ? -1 : n;
	}
	if (z->z_msg == NULL && (z->z_msg = evbuffer_new()) == NULL)
		return -1;
	if (evbuffer_reserve_space(z->z_msg, RELAY_ZCHUNK, &v, 1) < 1)
		return -1;
	n = in != NULL ? dfl_deflate(&z->z_deflate, in, len, used,
	    v.iov_base, v.iov_len) :
	    dfl_deflate_end(&z->z_deflate, v.iov_base, v.iov_len);
	if (n < 0)
		return -1;
	v.iov_len = (size_t)n;
	evbuffer_commit_space(z->z_msg, &v, 1);
	return n;
}

/* A whole client message is in c_cmsg: frame it onto the backend. */
static void
relay_client_message(struct conn *c, int opcode)
{
	enum framing	 mode = c->c_backend->b_framing;
	struct evbuffer	*out;
	uint8_t		 hdr[FRAMING_HDR];
	size_t		 len, n;

	len = evbuffer_get_length(c->c_cmsg);
	if (c->c_bbev == NULL || c->c_bfinish || c->c_close_sent) {
		evbuffer_drain(c->c_cmsg, len);
		return;
	}
	c->c_msgs_in++;
	c->c_bytes_in += len;
	metrics_message(c->c_mroute, METRICS_IN, len);
	relay_touch(c);
	out = bufferevent_get_output(c->c_bbev);
	n = framing_encode_prefix(mode, hdr, opcode == WS_OP_TEXT ?
	    FRAMING_TEXT : FRAMING_BINARY, (uint32_t)len);
	relay_append(out, hdr, n, c->c_cmsg);
	if ((n = framing_encode_suffix(mode, hdr)) > 0)
		evbuffer_add(out, hdr, n);
}

/*
 * The client's close frame.  If it closes first, the backend hears of it
 * (a close record in frame mode) and the code is echoed; either way the
 * exchange is then complete and the connection drains.
 */
static void
relay_client_close(struct conn *c, const struct ws_event *ev)
{
	uint8_t		 hdr[FRAMING_HDR], code[2];
	struct evbuffer	*out;

	c->c_close_rcvd = 1;
	if (c->c_close_sent) {
		conn_set_state(c, CONN_DRAINING);
		return;
	}
	if (c->c_bbev != NULL && !c->c_bfinish &&
	    c->c_backend->b_framing == FRAMING_FRAME) {
		out = bufferevent_get_output(c->c_bbev);
		framing_encode_prefix(FRAMING_FRAME, hdr, FRAMING_CLOSE,
		    ev->close_code != 0 ? 2 + (uint32_t)ev->reason_len : 0);
		evbuffer_add(out, hdr, FRAMING_HDR);
		if (ev->close_code != 0) {
			code[0] = ev->close_code >> 8;
			code[1] = ev->close_code & 0xff;
			evbuffer_add(out, code, 2);
			evbuffer_add(out, ev->reason, ev->reason_len);
		}
	}
	c->c_close_by = "client";
	conn_reason_peer(c, ev->reason, ev->reason_len);
	conn_ws_close(c, ev->close_code, NULL, 0, "client");
}

/* The client's output drained below the low watermark. */
void
relay_client_drained(struct conn *c)
{
	relay_client_throttle(c);
	if (c->c_bpaused && c->c_bbev != NULL && !c->c_bfinish &&
	    evbuffer_get_length(bufferevent_get_output(c->c_cbev)) <
	    c->c_conf->c_limits.buffer_limit) {
		bufferevent_enable(c->c_bbev, EV_READ);
		c->c_bpaused = 0;
	}
}

/*
 * The backend's output drained: resume reading the client, or, when the
 * backend side is finishing, shut its write side once all is out.
 */
void
relay_backend_drained(struct conn *c)
{
	struct evbuffer	*out;

	if (c->c_bbev == NULL)
		return;
	out = bufferevent_get_output(c->c_bbev);
	if (c->c_bfinish) {
		if (evbuffer_get_length(out) != 0)
			return;
		if (!c->c_bshut) {
			(void)shutdown(bufferevent_getfd(c->c_bbev), SHUT_WR);
			c->c_bshut = 1;
		}
		if (c->c_beof)
			conn_backend_done(c);
		return;
	}
	relay_client_throttle(c);
}

/*
 * Decode what the backend sent and pass each message to the client as
 * one frame.  In raw mode what one read brought is one message.
 */
static void
relay_backend_decode(struct conn *c)
{
	struct evbuffer		*in = bufferevent_get_input(c->c_bbev);
	struct evbuffer_iovec	 v;
	struct framing_event	 ev;
	ssize_t			 r;
	size_t			 len;
	int			 type = c->c_backend->b_message_type;

	while (c->c_bbev != NULL && !c->c_close_sent) {
		if (evbuffer_peek(in, -1, NULL, &v, 1) < 1) {
			v.iov_base = NULL;
			v.iov_len = 0;
		}
		r = framing_decode(c->c_fdec, v.iov_base, v.iov_len, &ev);
		if (r < 0) {
			log_info("#%" PRIu64 " %s: backend %s: %s", c->c_id,
			    c->c_peer, c->c_backend->b_path,
			    r == FRAMING_ERR_TOO_BIG ?
			    "message over max_message_size" :
			    r == FRAMING_ERR_UTF8 ? "text is not UTF-8" :
			    r == FRAMING_ERR_TYPE ? "unknown record type" :
			    "malformed close record");
			conn_ws_close(c, WS_CLOSE_INTERNAL, "backend error",
			    strlen("backend error"), "backend");
			conn_backend_done(c);
			return;
		}
		if (ev.type == FRAMING_EV_DATA) {
			if (r > 0)
				evbuffer_remove_buffer(in, c->c_bmsg, r);
			else
				evbuffer_add(c->c_bmsg, ev.data, ev.len);
			continue;
		}
		evbuffer_drain(in, r);
		switch (ev.type) {
		case FRAMING_EV_NONE:
			if (r > 0)
				break;
			/*
			 * Raw text: an unfinished UTF-8 sequence ends this
			 * chunk.  If more is buffered behind it, join them.
			 */
			len = evbuffer_get_length(in);
			if (len > v.iov_len) {
				evbuffer_pullup(in, len < v.iov_len + 4 ?
				    len : v.iov_len + 4);
				continue;
			}
			goto out;
		case FRAMING_EV_MSG_END:
			type = ev.msg_type;
			relay_send_message(c, type == FRAMING_TEXT ?
			    WS_OP_TEXT : WS_OP_BINARY, c->c_bmsg);
			break;
		case FRAMING_EV_CLOSE:
			c->c_close_by = "backend";
			conn_ws_close(c, ev.close_code, (const char *)ev.reason,
			    ev.reason_len, "backend");
			return;
		case FRAMING_EV_DATA:
			break;
		}
	}
out:
	if (c->c_bbev == NULL)
		return;
	if (c->c_backend->b_framing == FRAMING_RAW &&
	    evbuffer_get_length(c->c_bmsg) > 0)
		relay_send_message(c, type == FRAMING_TEXT ? WS_OP_TEXT :
		    WS_OP_BINARY, c->c_bmsg);
	/* Backpressure: the client is not keeping up. */
	if (c->c_cbev != NULL && !c->c_bpaused &&
	    evbuffer_get_length(bufferevent_get_output(c->c_cbev)) >=
	    c->c_conf->c_limits.buffer_limit) {
		bufferevent_disable(c->c_bbev, EV_READ);
		c->c_bpaused = 1;
	}
}

static void
relay_backend_readcb(struct bufferevent *bev, void *arg)
{
	struct conn	*c = arg;
	struct evbuffer	*in = bufferevent_get_input(bev);

	if (c->c_state == CONN_OPEN && !c->c_bfinish)
		relay_backend_read(c);
	else	/* finishing: what it still says has nowhere to go */
		evbuffer_drain(in, evbuffer_get_length(in));
	conn_check(c);
}

static void
relay_backend_writecb(struct bufferevent *bev, void *arg)
{
	struct conn	*c = arg;

	(void)bev;
	relay_backend_drained(c);
	conn_check(c);
}

static void
relay_backend_eventcb(struct bufferevent *bev, short what, void *arg)
{
	struct conn	*c = arg;
	struct evbuffer	*in = bufferevent_get_input(bev);

	if (what & BEV_EVENT_ERROR) {
		if (c->c_state == CONN_OPEN) {
			log_info("#%" PRIu64 " %s: backend %s: %s", c->c_id,
			    c->c_peer, c->c_backend->b_path,
			    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
			conn_ws_close(c, WS_CLOSE_INTERNAL, "backend error",
			    strlen("backend error"), "backend");
		}
		conn_backend_done(c);
	} else if (what & BEV_EVENT_EOF) {
		c->c_beof = 1;
		if (c->c_state == CONN_OPEN && !c->c_bfinish) {
			if ((c->c_fdec != NULL &&
			    framing_decoder_midmessage(c->c_fdec)) ||
			    evbuffer_get_length(in) > 0) {
				log_info("#%" PRIu64 " %s: backend %s ended in"
				    " the middle of a message", c->c_id,
				    c->c_peer, c->c_backend->b_path);
				conn_ws_close(c, WS_CLOSE_INTERNAL,
				    "backend error", strlen("backend error"),
				    "backend");
			} else
				conn_ws_close(c, WS_CLOSE_NORMAL, NULL, 0,
				    "backend");
		} else if (c->c_bbev != NULL && !c->c_bfinish)
			conn_backend_finish(c);
		else
			relay_backend_drained(c);
	}
	conn_check(c);
}

/*
 * The conn's timer while it is open: the next ping (ping_interval_ms
 * after the last one) or the idle check (idle_timeout_ms after the last
 * message), whichever comes first; none if both are off.
 */
static void
relay_timer_arm(struct conn *c)
{
	const struct conf_limits *lim = &c->c_conf->c_limits;
	struct timeval	 tv;
	uint64_t	 at = UINT64_MAX, now;

	if (lim->ping_interval_ms != 0)
		at = c->c_ping_next;
	if (lim->idle_timeout_ms != 0 &&
	    c->c_last_msg + lim->idle_timeout_ms < at)
		at = c->c_last_msg + lim->idle_timeout_ms;
	if (at == UINT64_MAX)
		return;
	now = relay_now(c);
	at = at > now ? at - now : 0;
	tv.tv_sec = (time_t)(at / 1000);
	tv.tv_usec = (suseconds_t)(at % 1000) * 1000;
	evtimer_add(&c->c_timer, &tv);
}

/*
 * The open conn's timer fired.  Keepalive: ping every ping_interval_ms;
 * a ping still unanswered at the next tick drops the connection.  Idle:
 * no message either way for idle_timeout_ms closes with 1001.
 */
void
relay_timer(struct conn *c)
{
	const struct conf_limits *lim = &c->c_conf->c_limits;
	uint64_t	 now = relay_now(c);

	if (lim->ping_interval_ms != 0 && now >= c->c_ping_next) {
		if (c->c_ping_out) {
			log_info("#%" PRIu64 " %s: no pong within "
			    "ping_interval_ms, dropping", c->c_id, c->c_peer);
			conn_abort(c, "ping timeout");
			return;
		}
		relay_send_frame(c, WS_OP_PING, NULL, 0);
		c->c_ping_out = 1;
		/* as an EV_PERSIST timer would: from when it was due */
		c->c_ping_next += lim->ping_interval_ms;
		if (c->c_ping_next < now)
			c->c_ping_next = now + lim->ping_interval_ms;
	}
	/* (the clock may have been set back since the last message) */
	if (lim->idle_timeout_ms != 0 && now >= c->c_last_msg &&
	    now - c->c_last_msg >= lim->idle_timeout_ms) {
		log_info("#%" PRIu64 " %s: idle timeout", c->c_id, c->c_peer);
		conn_ws_close(c, WS_CLOSE_GOING_AWAY, "idle timeout",
		    strlen("idle timeout"), "gateway");
		return;
	}
	relay_timer_arm(c);
}
