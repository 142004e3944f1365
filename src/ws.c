/*
 * WebSocket frame codec, RFC 6455 section 5.  The decoder checks each
 * header byte as it arrives, so a bad frame is refused at the first byte
 * that proves it bad, and every limit is enforced from the header alone,
 * before the caller is handed (or has to store) any payload.
 */
#include <sys/types.h>

#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "utf8.h"
#include "ws.h"

#define WS_FIN		0x80
#define WS_RSV_MASK	(WS_RSV1 | WS_RSV2 | WS_RSV3)
#define WS_OPCODE_MASK	0x0f
#define WS_MASK_BIT	0x80
#define WS_LEN_MASK	0x7f
#define WS_LEN16	126
#define WS_LEN64	127

#define WS_IS_CONTROL(op)	(((op) & 0x08) != 0)

static size_t	ws_len_bytes(uint8_t);
static int	ws_header_byte(struct ws_decoder *, uint8_t);
static int	ws_frame_start(struct ws_decoder *, struct ws_event *);
static int	ws_msg_done(struct ws_decoder *);
static void	ws_msg_end(struct ws_decoder *, struct ws_event *);
static ssize_t	ws_payload(struct ws_decoder *, uint8_t *, size_t,
		    struct ws_event *);
static int	ws_control(struct ws_decoder *, const uint8_t *, size_t,
		    struct ws_event *, size_t *);

void
ws_decoder_init(struct ws_decoder *d, int server, uint64_t max_message)
{
	memset(d, 0, sizeof(*d));
	d->d_server = server != 0;
	d->d_max_message = max_message;
	d->d_rsv_allowed = 0;	/* set by the caller once an extension is agreed */
	d->d_state = WS_DEC_HEADER;
	utf8_init(&d->d_utf8);
}

int
ws_decoder_at_rest(const struct ws_decoder *d)
{
	return d->d_state == WS_DEC_HEADER && d->d_hdr_have == 0 &&
	    !d->d_in_message;
}

/* Extended length bytes that follow the 7-bit length field. */
static size_t
ws_len_bytes(uint8_t len7)
{
	if (len7 == WS_LEN16)
		return 2;
	if (len7 == WS_LEN64)
		return 8;
	return 0;
}

/*
 * Append one header byte and check what it settles.  Returns 1 when the
 * header is complete, 0 when more bytes are needed, or a WS_ERR_*.
 */
static int
ws_header_byte(struct ws_decoder *d, uint8_t b)
{
	uint64_t	 len, base, max;
	size_t		 i, lenb, k;
	uint8_t		 len7;
	int		 op;

	i = d->d_hdr_have++;
	d->d_hdr[i] = b;

	if (i == 0) {
		if (b & WS_RSV_MASK & ~d->d_rsv_allowed)
			return WS_ERR_RSV;
		op = b & WS_OPCODE_MASK;
		/* An extension's bits mark a message, not its other frames. */
		if ((b & WS_RSV_MASK) != 0 &&
		    (op == WS_OP_CONT || WS_IS_CONTROL(op)))
			return WS_ERR_RSV;
		switch (op) {
		case WS_OP_CONT:
			if (!d->d_in_message)
				return WS_ERR_CONT_NO_START;
			break;
		case WS_OP_TEXT:
		case WS_OP_BINARY:
			if (d->d_in_message)
				return WS_ERR_DATA_IN_MESSAGE;
			break;
		case WS_OP_CLOSE:
		case WS_OP_PING:
		case WS_OP_PONG:
			if (!(b & WS_FIN))
				return WS_ERR_CTRL_FRAGMENTED;
			break;
		default:
			return WS_ERR_OPCODE;
		}
		d->d_fin = (b & WS_FIN) != 0;
		d->d_opcode = op;
		return 0;
	}

	len7 = d->d_hdr[1] & WS_LEN_MASK;
	lenb = ws_len_bytes(len7);
	if (i == 1) {
		d->d_masked = (b & WS_MASK_BIT) != 0;
		if (d->d_masked != d->d_server)
			return WS_ERR_MASK;
		if (WS_IS_CONTROL(d->d_opcode) && len7 > WS_MAX_CONTROL)
			return WS_ERR_CTRL_TOO_LONG;
		if (d->d_opcode == WS_OP_CLOSE && len7 == 1)
			return WS_ERR_CLOSE_PAYLOAD;	/* half a code */
	} else if (i == 2 && len7 == WS_LEN64 && (b & 0x80))
		return WS_ERR_LENGTH;
	else if (i == 7 && len7 == WS_LEN64 &&
	    (d->d_hdr[2] | d->d_hdr[3] | d->d_hdr[4] | d->d_hdr[5] |
	    d->d_hdr[6] | d->d_hdr[7]) == 0)
		return WS_ERR_NONMINIMAL;	/* < 65536 in the 64-bit form */

	if (i == 1 + lenb) {
		/* The length is complete: check it before any payload. */
		if (lenb == 0)
			len = len7;
		else {
			len = 0;
			for (k = 0; k < lenb; k++)
				len = len << 8 | d->d_hdr[2 + k];
		}
		if (len7 == WS_LEN16 && len < WS_LEN16)
			return WS_ERR_NONMINIMAL;
		if (!WS_IS_CONTROL(d->d_opcode) && d->d_max_message != 0) {
			/* A new message starts from zero. */
			base = d->d_opcode == WS_OP_CONT ? d->d_msg_len : 0;
			max = d->d_max_message;
			if (d->d_max_transformed != 0 &&
			    (d->d_opcode == WS_OP_CONT ? d->d_msg_rsv :
			    d->d_hdr[0] & WS_RSV_MASK) != 0)
				max = d->d_max_transformed;
			if (len > max - base)
				return WS_ERR_TOO_BIG;
		}
		d->d_remaining = len;
	}
	return d->d_hdr_have == 2 + lenb + (d->d_masked ? 4 : 0);
}

/*
 * The header is complete: set up the frame.  Frames with no payload may
 * complete an event right here (MSG_END for an empty final data frame).
 */
static int
ws_frame_start(struct ws_decoder *d, struct ws_event *ev)
{
	if (d->d_masked)
		memcpy(d->d_mask, d->d_hdr + d->d_hdr_have - 4, 4);
	d->d_mask_off = 0;
	d->d_hdr_have = 0;

	if (WS_IS_CONTROL(d->d_opcode)) {
		d->d_ctrl_len = 0;
		d->d_state = WS_DEC_CONTROL;
		return 0;
	}
	if (d->d_opcode != WS_OP_CONT) {
		d->d_in_message = 1;
		d->d_msg_opcode = d->d_opcode;
		d->d_msg_rsv = d->d_hdr[0] & WS_RSV_MASK;
		d->d_msg_len = 0;
		utf8_init(&d->d_utf8);
	}
	d->d_msg_len += d->d_remaining;
	if (d->d_remaining > 0)
		d->d_state = WS_DEC_PAYLOAD;
	else if (d->d_fin) {
		if (ws_msg_done(d) < 0)
			return WS_ERR_UTF8;
		ws_msg_end(d, ev);
	} else
		d->d_state = WS_DEC_HEADER;
	return 0;
}

/*
 * The final frame of a message has ended: a text message must not stop
 * inside a UTF-8 sequence.
 */
static int
ws_msg_done(struct ws_decoder *d)
{
	if (d->d_msg_opcode == WS_OP_TEXT && d->d_msg_rsv == 0 &&
	    !utf8_complete(&d->d_utf8))
		return WS_ERR_UTF8;
	return 0;
}

static void
ws_msg_end(struct ws_decoder *d, struct ws_event *ev)
{
	ev->type = WS_EV_MSG_END;
	ev->opcode = d->d_msg_opcode;
	ev->rsv = d->d_msg_rsv;
	d->d_in_message = 0;
	d->d_state = WS_DEC_HEADER;
}

/* Data frame payload: unmask and validate in place, hand it out. */
static ssize_t
ws_payload(struct ws_decoder *d, uint8_t *buf, size_t len,
    struct ws_event *ev)
{
	size_t	 n;

	n = len;
	if (n > d->d_remaining)
		n = d->d_remaining;
	if (n > SSIZE_MAX)
		n = SSIZE_MAX;
	if (n == 0)
		return 0;
	if (d->d_masked)
		ws_mask(buf, n, d->d_mask, d->d_mask_off);
	d->d_mask_off += n;
	d->d_remaining -= n;
	/*
	 * Fail fast: refuse the chunk that holds the first bad byte, and
	 * the last chunk of a text that ends inside a sequence, rather
	 * than pass either on.
	 */
	if (d->d_msg_opcode == WS_OP_TEXT && d->d_msg_rsv == 0 &&
	    utf8_feed(&d->d_utf8, buf, n, NULL) == UTF8_INVALID)
		return WS_ERR_UTF8;
	if (d->d_remaining == 0) {
		if (!d->d_fin)
			d->d_state = WS_DEC_HEADER;
		else if (ws_msg_done(d) < 0)
			return WS_ERR_UTF8;
		else
			d->d_state = WS_DEC_MSG_END;
	}
	ev->type = WS_EV_DATA;
	ev->opcode = d->d_msg_opcode;
	ev->rsv = d->d_msg_rsv;
	ev->data = buf;
	ev->len = n;
	return n;
}

/*
 * Control frame payload: collect it in d_ctrl (it may arrive in pieces),
 * then check and report the frame.  *used is set to the bytes taken.
 */
static int
ws_control(struct ws_decoder *d, const uint8_t *buf, size_t len,
    struct ws_event *ev, size_t *used)
{
	uint8_t		*p = d->d_ctrl + d->d_ctrl_len;
	size_t		 n;

	n = len;
	if (n > d->d_remaining)
		n = d->d_remaining;
	if (n > 0) {
		memcpy(p, buf, n);
		if (d->d_masked)
			ws_mask(p, n, d->d_mask, d->d_mask_off);
		d->d_mask_off += n;
		d->d_ctrl_len += n;
		d->d_remaining -= n;
	}
	*used = n;
	/* Refuse a bad close code as soon as both its bytes are in. */
	if (d->d_opcode == WS_OP_CLOSE && d->d_ctrl_len >= 2 &&
	    !ws_close_code_valid(d->d_ctrl[0] << 8 | d->d_ctrl[1]))
		return WS_ERR_CLOSE_CODE;
	if (d->d_remaining > 0)
		return 0;

	d->d_state = WS_DEC_HEADER;
	ev->opcode = d->d_opcode;
	ev->data = d->d_ctrl;
	ev->len = d->d_ctrl_len;
	switch (d->d_opcode) {
	case WS_OP_PING:
		ev->type = WS_EV_PING;
		break;
	case WS_OP_PONG:
		ev->type = WS_EV_PONG;
		break;
	case WS_OP_CLOSE:
		/* Length 1 and bad codes were refused above. */
		if (d->d_ctrl_len >= 2) {
			ev->close_code = (uint16_t)(d->d_ctrl[0] << 8 |
			    d->d_ctrl[1]);
			ev->reason = d->d_ctrl + 2;
			ev->reason_len = d->d_ctrl_len - 2;
			if (!utf8_valid(ev->reason, ev->reason_len))
				return WS_ERR_UTF8;
		}
		ev->type = WS_EV_CLOSE;
		break;
	}
	return 0;
}

ssize_t
ws_decode(struct ws_decoder *d, uint8_t *buf, size_t len, struct ws_event *ev)
{
	size_t	 used = 0, n;
	int	 rv;

	memset(ev, 0, sizeof(*ev));
	switch (d->d_state) {
	case WS_DEC_MSG_END:
		ws_msg_end(d, ev);
		return 0;
	case WS_DEC_PAYLOAD:
		return ws_payload(d, buf, len, ev);
	case WS_DEC_CONTROL:
		if ((rv = ws_control(d, buf, len, ev, &n)) < 0)
			return rv;
		return n;
	case WS_DEC_HEADER:
		break;
	}

	for (;;) {
		if (used == len)
			return used;
		if ((rv = ws_header_byte(d, buf[used++])) < 0)
			return rv;
		if (rv == 1)
			break;
	}
	if ((rv = ws_frame_start(d, ev)) < 0)
		return rv;
	/*
	 * Header bytes and data payload never share a call (DATA must
	 * start at buf), but a control payload can follow its header.
	 */
	if (d->d_state != WS_DEC_CONTROL)
		return used;
	if ((rv = ws_control(d, buf + used, len - used, ev, &n)) < 0)
		return rv;
	return used + n;
}

size_t
ws_encode_header(uint8_t *out, int fin, int opcode, int rsv, uint64_t len,
    const uint8_t *mask)
{
	size_t	 n, i;

	out[0] = (fin ? WS_FIN : 0) | (rsv & WS_RSV_MASK) |
	    (opcode & WS_OPCODE_MASK);
	if (len <= WS_MAX_CONTROL) {
		out[1] = (uint8_t)len;
		n = 2;
	} else if (len <= UINT16_MAX) {
		out[1] = WS_LEN16;
		out[2] = (uint8_t)(len >> 8);
		out[3] = (uint8_t)len;
		n = 4;
	} else {
		out[1] = WS_LEN64;
		for (i = 0; i < 8; i++)
			out[2 + i] = (uint8_t)(len >> (56 - 8 * i));
		n = 10;
	}
	if (mask != NULL) {
		out[1] |= WS_MASK_BIT;
		memcpy(out + n, mask, 4);
		n += 4;
	}
	return n;
}

void
ws_mask(uint8_t *buf, size_t len, const uint8_t mask[4], uint64_t offset)
{
	uint64_t	 w, kw;
	uint8_t		 key[8];
	size_t		 i = 0, j;

	/* Byte head: up to an 8-byte aligned address. */
	while (i < len && ((uintptr_t)(buf + i) & 7) != 0) {
		buf[i] ^= mask[(offset + i) & 3];
		i++;
	}
	if (len - i >= 8) {
		/*
		 * The key repeats every 4 bytes, so one 8-byte pattern,
		 * rotated to where the payload now stands, serves every
		 * word.  Built bytewise, it is right on any endianness.
		 */
		for (j = 0; j < 8; j++)
			key[j] = mask[(offset + i + j) & 3];
		memcpy(&kw, key, 8);
		for (; len - i >= 8; i += 8) {
			memcpy(&w, buf + i, 8);
			w ^= kw;
			memcpy(buf + i, &w, 8);
		}
	}
	for (; i < len; i++)
		buf[i] ^= mask[(offset + i) & 3];
}

size_t
ws_close_payload(uint8_t *out, uint16_t code, const char *reason,
    size_t reason_len)
{
	size_t	 n = reason_len;

	if (code == 0)
		return 0;
	out[0] = code >> 8;
	out[1] = code & 0xff;
	/* Cut an over-long reason, but never inside a code point. */
	if (n > WS_MAX_CONTROL - 2)
		n = utf8_boundary((const uint8_t *)reason, WS_MAX_CONTROL - 2);
	if (n > 0)
		memcpy(out + 2, reason, n);
	return 2 + n;
}

/*
 * 1000-1003 and 1007-1011 are defined for use on the wire; 1004 is
 * reserved, 1005 and 1006 are never sent, and 1012-2999 (1015 included)
 * are reserved for future RFCs, which is how the Autobahn testsuite
 * treats them.  3000-3999 are registered and 4000-4999 private.
 */
int
ws_close_code_valid(unsigned int code)
{
	return (code >= 1000 && code <= 1003) ||
	    (code >= 1007 && code <= 1011) ||
	    (code >= 3000 && code <= 4999);
}

/*
 * Each group of enum ws_error starts at its base (-200, -300, -400) and
 * counts up from there, so a group spans [base, base + 100).
 */
uint16_t
ws_error_close_code(int err)
{
	if (err >= -200 && err < -100)
		return WS_CLOSE_PROTOCOL;
	if (err >= -300 && err < -200)
		return WS_CLOSE_BAD_DATA;
	if (err >= -400 && err < -300)
		return WS_CLOSE_TOO_BIG;
	return WS_CLOSE_INTERNAL;
}

const char *
ws_strerror(int err)
{
	switch (err) {
	case WS_ERR_PROTO:
		return "protocol error";
	case WS_ERR_MASK:
		return "bad masking";
	case WS_ERR_RSV:
		return "reserved bit set";
	case WS_ERR_OPCODE:
		return "reserved opcode";
	case WS_ERR_CTRL_FRAGMENTED:
		return "fragmented control frame";
	case WS_ERR_CTRL_TOO_LONG:
		return "control frame too long";
	case WS_ERR_CONT_NO_START:
		return "continuation outside a message";
	case WS_ERR_DATA_IN_MESSAGE:
		return "data frame inside a fragmented message";
	case WS_ERR_NONMINIMAL:
		return "length not minimally encoded";
	case WS_ERR_LENGTH:
		return "64-bit length with the high bit set";
	case WS_ERR_CLOSE_PAYLOAD:
		return "1-byte close payload";
	case WS_ERR_CLOSE_CODE:
		return "invalid close code";
	case WS_ERR_UTF8:
		return "invalid UTF-8";
	case WS_ERR_INFLATE:
		return "invalid compressed data";
	case WS_ERR_TOO_BIG:
		return "message too big";
	case WS_ERR_NOMEM:
		return "out of memory";
	default:
		return "unknown error";
	}
}
