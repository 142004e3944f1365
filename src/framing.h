/*
 * Backend framings (pure: no I/O, no allocation).
 *
 * How WebSocket messages are laid onto a backend's byte stream:
 *  raw    payload as-is; what the backend writes becomes one message per
 *         read (the caller decides where a message ends);
 *  line   each message followed by '\n'; each '\n'-terminated line from
 *         the backend (a trailing '\r' dropped) is one message;
 *  frame  a 5-byte header (type: 1 text, 2 binary, 8 close; then a 32-bit
 *         big-endian length) before each payload, both ways.
 * The encoder is a prefix and a suffix the caller writes around the
 * payload; the decoder turns the backend's bytes into message events.
 */
#ifndef WSGATE_FRAMING_H
#define WSGATE_FRAMING_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "utf8.h"

enum framing {
	FRAMING_RAW = 0,
	FRAMING_LINE,
	FRAMING_FRAME
};

/* frame-mode record types; text and binary equal the WebSocket opcodes */
#define FRAMING_TEXT	1
#define FRAMING_BINARY	2
#define FRAMING_CLOSE	8

#define FRAMING_HDR	5		/* frame-mode header length */
#define FRAMING_MAX_CLOSE 125		/* largest close record payload */

enum framing_error {
	FRAMING_ERR_TOO_BIG = -1,	/* line or record over the limit */
	FRAMING_ERR_UTF8 = -2,		/* text that is not UTF-8 */
	FRAMING_ERR_TYPE = -3,		/* frame record of unknown type */
	FRAMING_ERR_CLOSE = -4		/* close record malformed or bad code */
};

enum framing_event_type {
	FRAMING_EV_NONE = 0,	/* consumed framing bytes, or needs more input */
	FRAMING_EV_DATA,	/* a chunk of the current message's payload */
	FRAMING_EV_MSG_END,	/* the current message is complete (line, frame) */
	FRAMING_EV_CLOSE	/* a frame-mode close record */
};

struct framing_event {
	enum framing_event_type	 type;
	int			 msg_type;	/* DATA, MSG_END: FRAMING_TEXT or FRAMING_BINARY */
	const uint8_t		*data;		/* DATA: the payload chunk */
	size_t			 len;
	uint16_t		 close_code;	/* CLOSE: 0 if the record was empty */
	const uint8_t		*reason;	/* CLOSE: reason bytes (not validated) */
	size_t			 reason_len;
};

enum framing_dec_state {
	FRAMING_DEC_START = 0,	/* between messages */
	FRAMING_DEC_BODY,	/* inside a line or a record's payload */
	FRAMING_DEC_HEADER,	/* frame: collecting header bytes */
	FRAMING_DEC_CLOSE,	/* frame: collecting a close record */
	FRAMING_DEC_END		/* frame: payload done, MSG_END not yet returned */
};

struct framing_decoder {
	enum framing		 f_mode;
	int			 f_msg_type;	/* raw and line: FRAMING_TEXT or _BINARY */
	uint64_t		 f_max;		/* max message size (0: no limit) */

	enum framing_dec_state	 f_state;
	uint8_t			 f_hdr[FRAMING_HDR];
	size_t			 f_hdr_have;
	int			 f_type;	/* type of the current record */
	uint64_t		 f_remaining;	/* frame: payload bytes still to come */
	uint64_t		 f_msg_len;	/* bytes of the current message so far */
	int			 f_pending_cr;	/* line: a '\r' held back */
	struct utf8_state	 f_utf8;
	uint8_t			 f_close[FRAMING_MAX_CLOSE];
	size_t			 f_close_len;
};

/*
 * mode: the framing; msg_type: the type of messages made from raw and
 * line input (frame records carry their own); max: the largest message
 * (line without its terminator, record payload) accepted from the backend.
 */
void	framing_decoder_init(struct framing_decoder *, enum framing mode,
	    int msg_type, uint64_t max);

/*
 * Decode backend bytes buf[0..len).  Returns bytes consumed (>= 0) or a
 * negative enum framing_error (then stop).  *ev says what they were:
 *  - FRAMING_EV_DATA: payload.  If the return value is > 0 the consumed
 *    bytes are exactly the payload (ev->data == buf, ev->len == return
 *    value).  If it is 0, ev->data points to storage of the decoder (a
 *    held-back '\r' that turned out to be payload) that must be copied.
 *    Text payload is validated as UTF-8 incrementally (FRAMING_ERR_UTF8);
 *    in raw text mode a trailing incomplete sequence is not consumed (it
 *    stays with the caller until more bytes arrive).
 *  - FRAMING_EV_NONE: framing bytes (header, '\n', '\r') were consumed, or,
 *    with a return of 0, more input is needed.
 *  - FRAMING_EV_MSG_END, FRAMING_EV_CLOSE: an event; close_code is
 *    checked to be valid on the wire (else FRAMING_ERR_CLOSE), reason
 *    points into the decoder and is valid until the next call.
 * Raw mode never returns MSG_END: the caller ends a message per read.
 * Call again until it returns 0 with FRAMING_EV_NONE.
 */
ssize_t	framing_decode(struct framing_decoder *, const uint8_t *buf,
	    size_t len, struct framing_event *ev);

/*
 * 1 if the stream is inside a message (an unterminated line, a partial
 * record, an unfinished UTF-8 sequence), so that an end of stream here
 * loses data and is a backend error.  When 0, the decoder holds nothing
 * that a decoder freshly set up with the same settings would not (the
 * relay keeps none for an idle connection).
 */
int	framing_decoder_midmessage(const struct framing_decoder *);

/*
 * Encoding a client message of len bytes and type (FRAMING_TEXT,
 * _BINARY or _CLOSE) for the backend: write the prefix, the payload, then
 * the suffix.  Each returns the number of bytes written to out, which must
 * hold FRAMING_HDR bytes.  frame: a header, no suffix; line: no prefix,
 * "\n" suffix; raw: neither.
 */
size_t	framing_encode_prefix(enum framing, uint8_t *out, int type,
	    uint32_t len);
size_t	framing_encode_suffix(enum framing, uint8_t *out);

/* "raw", "line", "frame"; and back (-1 if unknown). */
const char *framing_name(enum framing);
int	framing_from_name(const char *);

#endif /* WSGATE_FRAMING_H */
