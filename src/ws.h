/*
 * WebSocket frame codec, RFC 6455 section 5 (pure: no I/O, no allocation).
 *
 * The decoder is pushed slices of the byte stream and returns one event
 * per call.  It keeps the frame header, the fragmentation state, the
 * UTF-8 state of a text message and the payload of the current control
 * frame (at most 125 bytes) inside struct ws_decoder, so it can be fed
 * whole buffers, byte by byte, or cut anywhere.  Every protocol rule and
 * limit is checked inside the codec, before the caller is asked to store
 * anything.
 */
#ifndef WSGATE_WS_H
#define WSGATE_WS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "utf8.h"

#define WS_OP_CONT	0x0
#define WS_OP_TEXT	0x1
#define WS_OP_BINARY	0x2
#define WS_OP_CLOSE	0x8
#define WS_OP_PING	0x9
#define WS_OP_PONG	0xa

#define WS_RSV1		0x40
#define WS_RSV2		0x20
#define WS_RSV3		0x10

#define WS_MAX_HEADER	14	/* 2 + 8 (length) + 4 (mask) */
#define WS_MAX_CONTROL	125	/* control frame payload limit */

/* Close codes (RFC 6455 section 7.4.1). */
#define WS_CLOSE_NORMAL		1000
#define WS_CLOSE_GOING_AWAY	1001
#define WS_CLOSE_PROTOCOL	1002
#define WS_CLOSE_UNSUPPORTED	1003
#define WS_CLOSE_NO_STATUS	1005	/* never on the wire */
#define WS_CLOSE_ABNORMAL	1006	/* never on the wire */
#define WS_CLOSE_BAD_DATA	1007
#define WS_CLOSE_POLICY		1008
#define WS_CLOSE_TOO_BIG	1009
#define WS_CLOSE_EXTENSION	1010
#define WS_CLOSE_INTERNAL	1011

/*
 * Errors, grouped by the close code they map to (ws_error_close_code()).
 * All are negative so a decode result is "bytes consumed or error".
 */
enum ws_error {
	/* 1002 protocol error */
	WS_ERR_PROTO = -200,
	WS_ERR_MASK,		/* client frame not masked / server frame masked */
	WS_ERR_RSV,		/* reserved bit set, none negotiated */
	WS_ERR_OPCODE,		/* reserved or unknown opcode */
	WS_ERR_CTRL_FRAGMENTED,	/* control frame with FIN clear */
	WS_ERR_CTRL_TOO_LONG,	/* control frame payload > 125 */
	WS_ERR_CONT_NO_START,	/* continuation frame outside a message */
	WS_ERR_DATA_IN_MESSAGE,	/* text/binary frame inside a fragmented message */
	WS_ERR_NONMINIMAL,	/* length not in its shortest encoding */
	WS_ERR_LENGTH,		/* 64-bit length with the most significant bit set */
	WS_ERR_CLOSE_PAYLOAD,	/* close frame payload of 1 byte */
	WS_ERR_CLOSE_CODE,	/* close code not allowed on the wire */
	/* 1007 invalid payload data */
	WS_ERR_UTF8 = -300,	/* text message or close reason not UTF-8 */
	WS_ERR_INFLATE,		/* compressed payload does not inflate (relay) */
	/* 1009 message too big */
	WS_ERR_TOO_BIG = -400,	/* message would exceed max_message */
	/* 1011 internal error */
	WS_ERR_NOMEM = -500	/* out of memory (relay) */
};

enum ws_event_type {
	WS_EV_NONE = 0,	/* consumed header bytes, or needs more input */
	WS_EV_DATA,	/* a chunk of the current data message's payload */
	WS_EV_MSG_END,	/* the current data message is complete */
	WS_EV_PING,	/* a complete ping; data/len is its payload */
	WS_EV_PONG,	/* a complete pong */
	WS_EV_CLOSE	/* a complete, valid close frame */
};

struct ws_event {
	enum ws_event_type	 type;
	int			 opcode;	/* DATA, MSG_END: WS_OP_TEXT or WS_OP_BINARY */
	int			 rsv;		/* DATA, MSG_END: RSV bits of the message's first frame */
	const uint8_t		*data;		/* DATA: == the buf passed in; control: payload */
	size_t			 len;
	uint16_t		 close_code;	/* CLOSE: 0 if the payload was empty */
	const uint8_t		*reason;	/* CLOSE: reason (valid UTF-8), not NUL-terminated */
	size_t			 reason_len;
};

enum ws_dec_state {
	WS_DEC_HEADER = 0,	/* collecting the 2..14 header bytes */
	WS_DEC_PAYLOAD,		/* data frame payload */
	WS_DEC_CONTROL,		/* control frame payload, into d_ctrl */
	WS_DEC_MSG_END		/* final data frame done, MSG_END not yet returned */
};

struct ws_decoder {
	/* configuration, set by ws_decoder_init() */
	int			 d_server;	/* 1: frames must be masked; 0: must not be */
	uint64_t		 d_max_message;	/* limit on a reassembled message */
	uint8_t			 d_rsv_allowed;	/* RSV bits a negotiated extension allows
						   on the first frame of a data message */
	uint64_t		 d_max_transformed; /* limit on a message with RSV
						   bits (0: d_max_message) */

	enum ws_dec_state	 d_state;
	uint8_t			 d_hdr[WS_MAX_HEADER];
	size_t			 d_hdr_have;
	/* the frame being read */
	int			 d_fin;
	int			 d_opcode;
	uint8_t			 d_mask[4];
	int			 d_masked;
	uint64_t		 d_remaining;	/* payload bytes still to come */
	uint64_t		 d_mask_off;	/* bytes of payload unmasked so far */
	/* the data message being read */
	int			 d_in_message;	/* a fragmented message is open */
	int			 d_msg_opcode;
	int			 d_msg_rsv;
	uint64_t		 d_msg_len;
	struct utf8_state	 d_utf8;
	/* the control frame being read */
	uint8_t			 d_ctrl[WS_MAX_CONTROL];
	size_t			 d_ctrl_len;
};

/*
 * server: 1 to decode client frames (masking required), 0 to decode
 * server frames (masking forbidden).  max_message bounds a whole data
 * message, over all its fragments (0 means no limit).
 *
 * An extension agreed in the handshake is enabled by setting
 * d_rsv_allowed afterwards (WS_RSV1 for permessage-deflate): those bits
 * are then allowed on the first frame of a data message, never on a
 * continuation or control frame.  A message whose first frame has one
 * set is transformed by the extension: its payload is not checked as
 * UTF-8 (the caller checks what it decodes to), and its size on the wire
 * is bounded by d_max_transformed instead of max_message when that is
 * not 0.
 */
void	ws_decoder_init(struct ws_decoder *, int server, uint64_t max_message);

/*
 * 1 when the decoder is between frames and no data message is open: it
 * then holds nothing that a decoder freshly set up with the same settings
 * would not, so a caller may drop it and start a new one for what
 * follows (the relay keeps no decoder for an idle connection).
 */
int	ws_decoder_at_rest(const struct ws_decoder *);

/*
 * Decode from buf[0..len).  Returns the number of bytes consumed (>= 0) or
 * a negative enum ws_error; after an error the decoder must not be fed
 * again.  *ev says what the consumed bytes were:
 *  - WS_EV_DATA: the consumed bytes are payload of the current data
 *    message, ev->data == buf, ev->len == return value, already unmasked
 *    IN PLACE (which is why buf is not const) and, for text, validated.
 *  - WS_EV_NONE: the consumed bytes were header bytes (kept inside the
 *    decoder); a return of 0 with WS_EV_NONE means "give me more input".
 *  - WS_EV_MSG_END, WS_EV_PING, WS_EV_PONG, WS_EV_CLOSE: an event; the
 *    consumed bytes (possibly 0) were header or control payload bytes.
 *    Control payloads point into the decoder and stay valid until the
 *    next call.
 * Call again with the rest of the input until it returns 0 with
 * WS_EV_NONE.  A text message whose payload ends inside a UTF-8 sequence
 * or contains an invalid byte fails with WS_ERR_UTF8 at the first bad
 * byte, before that byte is returned as DATA.
 */
ssize_t	ws_decode(struct ws_decoder *, uint8_t *buf, size_t len,
	    struct ws_event *ev);

/*
 * Write a frame header to out (WS_MAX_HEADER bytes) and return its length.
 * fin: 1 for a final frame; opcode: WS_OP_*; rsv: WS_RSV* bits;
 * mask: 4 masking key bytes for a client frame, NULL for a server frame.
 * Uses the shortest length encoding.
 */
size_t	ws_encode_header(uint8_t *out, int fin, int opcode, int rsv,
	    uint64_t len, const uint8_t *mask);

/*
 * XOR buf with the masking key, starting at key position offset % 4
 * (offset counts payload bytes already masked).  A word at a time.
 */
void	ws_mask(uint8_t *buf, size_t len, const uint8_t mask[4],
	    uint64_t offset);

/*
 * Build a close frame payload (code in network order, then reason,
 * truncated to fit 125 bytes on a UTF-8 boundary) into out
 * (WS_MAX_CONTROL bytes).  code 0 gives an empty payload.  Returns length.
 */
size_t	ws_close_payload(uint8_t *out, uint16_t code, const char *reason,
	    size_t reason_len);

/* 1 if code may appear in a close frame on the wire (RFC 6455 7.4). */
int	ws_close_code_valid(unsigned int code);

/* The close code for a negative enum ws_error: 1002, 1007 or 1009. */
uint16_t ws_error_close_code(int err);

/* A short, static, human-readable description of an enum ws_error. */
const char *ws_strerror(int err);

#endif /* WSGATE_WS_H */
