/*
 * Backend framings: how WebSocket messages cross a backend's byte stream
 * (raw, '\n'-terminated lines, or 5-byte-header records).  Pure code: the
 * decoder is a state struct fed slices of whatever the backend wrote, and
 * it never allocates; the encoder is a prefix and a suffix that the
 * caller writes around the payload.
 */
#include <sys/types.h>

#include <stdint.h>
#include <string.h>

#include "framing.h"
#include "utf8.h"

static ssize_t	framing_decode_raw(struct framing_decoder *, const uint8_t *,
		    size_t, struct framing_event *);
static ssize_t	framing_decode_line(struct framing_decoder *, const uint8_t *,
		    size_t, struct framing_event *);
static ssize_t	framing_decode_frame(struct framing_decoder *, const uint8_t *,
		    size_t, struct framing_event *);
static ssize_t	framing_frame_header(struct framing_decoder *,
		    struct framing_event *);
static ssize_t	framing_close_record(struct framing_decoder *,
		    struct framing_event *);
static int	framing_close_code_valid(unsigned int);

/* A '\r' held back at the end of one buffer, handed out when it is payload. */
static const uint8_t framing_cr = '\r';

static const char *const framing_names[] = {
	[FRAMING_RAW] = "raw",
	[FRAMING_LINE] = "line",
	[FRAMING_FRAME] = "frame"
};

void
framing_decoder_init(struct framing_decoder *d, enum framing mode,
    int msg_type, uint64_t max)
{
	memset(d, 0, sizeof(*d));
	d->f_mode = mode;
	d->f_msg_type = msg_type;
	d->f_max = max;
	d->f_state = FRAMING_DEC_START;
	utf8_init(&d->f_utf8);
}

ssize_t
framing_decode(struct framing_decoder *d, const uint8_t *buf, size_t len,
    struct framing_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->type = FRAMING_EV_NONE;

	switch (d->f_mode) {
	case FRAMING_RAW:
		return framing_decode_raw(d, buf, len, ev);
	case FRAMING_LINE:
		return framing_decode_line(d, buf, len, ev);
	case FRAMING_FRAME:
		return framing_decode_frame(d, buf, len, ev);
	}
	return FRAMING_ERR_TYPE;
}

/*
 * Raw: everything is payload.  Text is checked afresh on every call,
 * since the caller makes one message of each read; a sequence cut by the
 * end of the read is left unconsumed so that it starts the next message
 * whole instead of being split across two.
 */
static ssize_t
framing_decode_raw(struct framing_decoder *d, const uint8_t *buf, size_t len,
    struct framing_event *ev)
{
	struct utf8_state	 u;
	size_t			 n = len;

	if (len == 0)
		return 0;
	if (d->f_msg_type == FRAMING_TEXT) {
		utf8_init(&u);
		switch (utf8_feed(&u, buf, len, NULL)) {
		case UTF8_INVALID:
			return FRAMING_ERR_UTF8;
		case UTF8_PARTIAL:
			n = utf8_boundary(buf, len);
			break;
		case UTF8_OK:
			break;
		}
		/* An unfinished sequence is all there is: wait for more. */
		if (n == 0) {
			d->f_state = FRAMING_DEC_BODY;
			return 0;
		}
	}
	d->f_state = n < len ? FRAMING_DEC_BODY : FRAMING_DEC_START;
	ev->type = FRAMING_EV_DATA;
	ev->msg_type = d->f_msg_type;
	ev->data = buf;
	ev->len = n;
	return (ssize_t)n;
}

/*
 * Line: payload up to '\n'.  A '\r' right before the '\n' is framing, so
 * a '\r' that ends a chunk is never handed out with it: if the '\n' is
 * not in this buffer, the '\r' alone is consumed and held back
 * (f_pending_cr) until the next byte says what it was.  The length limit
 * counts payload only, so a line of exactly f_max bytes ending in "\r\n"
 * is accepted.
 */
static ssize_t
framing_decode_line(struct framing_decoder *d, const uint8_t *buf, size_t len,
    struct framing_event *ev)
{
	const uint8_t	*nl;
	size_t		 n;
	int		 text = d->f_msg_type == FRAMING_TEXT;

	if (len == 0)
		return 0;

	if (d->f_pending_cr) {
		if (buf[0] != '\n') {
			/* The held-back '\r' was payload after all. */
			d->f_pending_cr = 0;
			if (d->f_max != 0 && d->f_msg_len + 1 > d->f_max)
				return FRAMING_ERR_TOO_BIG;
			if (text && utf8_feed(&d->f_utf8, &framing_cr, 1,
			    NULL) == UTF8_INVALID)
				return FRAMING_ERR_UTF8;
			d->f_msg_len++;
			d->f_state = FRAMING_DEC_BODY;
			ev->type = FRAMING_EV_DATA;
			ev->msg_type = d->f_msg_type;
			ev->data = &framing_cr;
			ev->len = 1;
			return 0;
		}
		n = 1;		/* "\r" then "\n": end of line */
		goto end;
	}

	if (buf[0] == '\n') {
		n = 1;
		goto end;
	}
	if (buf[0] == '\r') {
		if (len == 1) {
			d->f_pending_cr = 1;
			d->f_state = FRAMING_DEC_BODY;
			return 1;
		}
		if (buf[1] == '\n') {
			n = 2;
			goto end;
		}
	}

	/* Payload up to the '\n', or to the end, less a trailing '\r'. */
	if ((nl = memchr(buf, '\n', len)) != NULL)
		n = (size_t)(nl - buf);
	else
		n = len;
	if (n > 1 && buf[n - 1] == '\r')
		n--;

	if (d->f_max != 0 && n > d->f_max - d->f_msg_len)
		return FRAMING_ERR_TOO_BIG;
	if (text && utf8_feed(&d->f_utf8, buf, n, NULL) == UTF8_INVALID)
		return FRAMING_ERR_UTF8;
	d->f_msg_len += n;
	d->f_state = FRAMING_DEC_BODY;
	ev->type = FRAMING_EV_DATA;
	ev->msg_type = d->f_msg_type;
	ev->data = buf;
	ev->len = n;
	return (ssize_t)n;

 end:
	/* A text line must not end inside a UTF-8 sequence. */
	if (text && !utf8_complete(&d->f_utf8))
		return FRAMING_ERR_UTF8;
	d->f_pending_cr = 0;
	d->f_msg_len = 0;
	d->f_state = FRAMING_DEC_START;
	utf8_init(&d->f_utf8);
	ev->type = FRAMING_EV_MSG_END;
	ev->msg_type = d->f_msg_type;
	return (ssize_t)n;
}

/*
 * Frame: a 5-byte header, collected across calls, then the payload
 * handed out as it comes.  Limits are checked on the header, before any
 * payload is accepted.  Close records are short and are buffered whole so
 * that the code can be checked before the caller acts on it.
 */
static ssize_t
framing_decode_frame(struct framing_decoder *d, const uint8_t *buf, size_t len,
    struct framing_event *ev)
{
	ssize_t	 r;
	size_t	 n;

	switch (d->f_state) {
	case FRAMING_DEC_START:
	case FRAMING_DEC_HEADER:
		n = FRAMING_HDR - d->f_hdr_have;
		if (n > len)
			n = len;
		if (n == 0)
			return 0;
		memcpy(d->f_hdr + d->f_hdr_have, buf, n);
		d->f_hdr_have += n;
		if (d->f_hdr_have < FRAMING_HDR) {
			if (d->f_hdr_have > 0)
				d->f_state = FRAMING_DEC_HEADER;
			return (ssize_t)n;
		}
		d->f_hdr_have = 0;
		if ((r = framing_frame_header(d, ev)) < 0)
			return r;
		return (ssize_t)n;

	case FRAMING_DEC_BODY:
		if (len == 0)
			return 0;
		n = len < d->f_remaining ? len : (size_t)d->f_remaining;
		if (d->f_type == FRAMING_TEXT &&
		    utf8_feed(&d->f_utf8, buf, n, NULL) == UTF8_INVALID)
			return FRAMING_ERR_UTF8;
		d->f_remaining -= n;
		d->f_msg_len += n;
		if (d->f_remaining == 0) {
			/* Fail now rather than hand out the last chunk. */
			if (d->f_type == FRAMING_TEXT &&
			    !utf8_complete(&d->f_utf8))
				return FRAMING_ERR_UTF8;
			d->f_state = FRAMING_DEC_END;
		}
		ev->type = FRAMING_EV_DATA;
		ev->msg_type = d->f_type;
		ev->data = buf;
		ev->len = n;
		return (ssize_t)n;

	case FRAMING_DEC_END:
		d->f_state = FRAMING_DEC_START;
		d->f_msg_len = 0;
		ev->type = FRAMING_EV_MSG_END;
		ev->msg_type = d->f_type;
		return 0;

	case FRAMING_DEC_CLOSE:
		if (len == 0)
			return 0;
		n = len < d->f_remaining ? len : (size_t)d->f_remaining;
		memcpy(d->f_close + d->f_close_len, buf, n);
		d->f_close_len += n;
		d->f_remaining -= n;
		if (d->f_remaining == 0 && framing_close_record(d, ev) < 0)
			return FRAMING_ERR_CLOSE;
		return (ssize_t)n;
	}
	return FRAMING_ERR_TYPE;
}

/*
 * A header is complete in f_hdr: check it and set up the record.  Returns
 * 0 or a negative framing_error.  An empty data record ends at once
 * (MSG_END in ev), an empty close record too (CLOSE with code 0).
 */
static ssize_t
framing_frame_header(struct framing_decoder *d, struct framing_event *ev)
{
	uint64_t	 plen;
	int		 type = d->f_hdr[0];

	plen = (uint64_t)d->f_hdr[1] << 24 | (uint64_t)d->f_hdr[2] << 16 |
	    (uint64_t)d->f_hdr[3] << 8 | (uint64_t)d->f_hdr[4];

	switch (type) {
	case FRAMING_TEXT:
	case FRAMING_BINARY:
		if (d->f_max != 0 && plen > d->f_max)
			return FRAMING_ERR_TOO_BIG;
		d->f_type = type;
		d->f_remaining = plen;
		d->f_msg_len = 0;
		utf8_init(&d->f_utf8);
		if (plen > 0) {
			d->f_state = FRAMING_DEC_BODY;
			return 0;
		}
		d->f_state = FRAMING_DEC_START;
		ev->type = FRAMING_EV_MSG_END;
		ev->msg_type = type;
		return 0;
	case FRAMING_CLOSE:
		/* Same rule as a WebSocket close: none, or a 2-byte code. */
		if (plen > FRAMING_MAX_CLOSE || plen == 1)
			return FRAMING_ERR_CLOSE;
		d->f_type = type;
		d->f_remaining = plen;
		d->f_close_len = 0;
		d->f_state = FRAMING_DEC_CLOSE;
		if (plen == 0)
			return framing_close_record(d, ev);
		return 0;
	default:
		return FRAMING_ERR_TYPE;
	}
}

/* The close record in f_close is complete: check it and report it. */
static ssize_t
framing_close_record(struct framing_decoder *d, struct framing_event *ev)
{
	unsigned int	 code = 0;

	if (d->f_close_len >= 2) {
		code = (unsigned int)d->f_close[0] << 8 | d->f_close[1];
		if (!framing_close_code_valid(code))
			return FRAMING_ERR_CLOSE;
	}
	d->f_state = FRAMING_DEC_START;
	ev->type = FRAMING_EV_CLOSE;
	ev->close_code = (uint16_t)code;
	ev->reason = d->f_close_len > 2 ? d->f_close + 2 : NULL;
	ev->reason_len = d->f_close_len > 2 ? d->f_close_len - 2 : 0;
	return 0;
}

/*
 * The codes an endpoint may put in a close frame (RFC 6455 section
 * 7.4): 1004-1006 and 1015 are reserved for reporting, never sent.
 */
static int
framing_close_code_valid(unsigned int code)
{
	return (code >= 1000 && code <= 1003) ||
	    (code >= 1007 && code <= 1011) ||
	    (code >= 3000 && code <= 4999);
}

int
framing_decoder_midmessage(const struct framing_decoder *d)
{
	switch (d->f_mode) {
	case FRAMING_RAW:
		/* an unfinished UTF-8 sequence left with the caller */
		return d->f_state != FRAMING_DEC_START;
	case FRAMING_LINE:
		return d->f_state != FRAMING_DEC_START || d->f_pending_cr ||
		    d->f_msg_len > 0;
	case FRAMING_FRAME:
		return d->f_state != FRAMING_DEC_START;
	}
	return 0;
}

size_t
framing_encode_prefix(enum framing mode, uint8_t *out, int type, uint32_t len)
{
	if (mode != FRAMING_FRAME)
		return 0;
	out[0] = (uint8_t)type;
	out[1] = (uint8_t)(len >> 24);
	out[2] = (uint8_t)(len >> 16);
	out[3] = (uint8_t)(len >> 8);
	out[4] = (uint8_t)len;
	return FRAMING_HDR;
}

size_t
framing_encode_suffix(enum framing mode, uint8_t *out)
{
	if (mode != FRAMING_LINE)
		return 0;
	out[0] = '\n';
	return 1;
}

const char *
framing_name(enum framing mode)
{
	if ((unsigned int)mode >= sizeof(framing_names) /
	    sizeof(framing_names[0]))
		return "unknown";
	return framing_names[mode];
}

int
framing_from_name(const char *name)
{
	size_t	 i;

	if (name == NULL)
		return -1;
	for (i = 0; i < sizeof(framing_names) / sizeof(framing_names[0]); i++)
		if (strcmp(name, framing_names[i]) == 0)
			return (int)i;
	return -1;
}
