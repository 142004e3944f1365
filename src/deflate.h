/*
 * permessage-deflate (RFC 7692) message codec over zlib's raw DEFLATE
 * (pure: no I/O, no logging).
 *
 * One struct dfl_inflate and one struct dfl_deflate per connection and
 * direction.  Each allocates its zlib stream once, on its first message
 * (dfl_*_start()), and keeps it until dfl_*_free(): nothing is allocated
 * per message.  The memory a stream holds is, with w the window bits:
 *   inflate  2^w bytes of window + about 7 KiB of state;
 *   deflate  2^(w+3) bytes (window, hash chains and pending buffer, with
 *            memLevel w - 7) + about 6 KiB of state.
 * So 15 bits cost about 39 KiB to inflate and 262 KiB to deflate, 10 bits
 * about 8 KiB and 14 KiB.
 *
 * Both work on one message at a time, pushed in slices into a caller's
 * output buffer, so the output can go straight into an evbuffer's
 * reserved space.  The inflater enforces the size limit as it goes: a
 * message that would inflate past it fails as soon as one byte too many
 * comes out, whatever is still to come (a "zip bomb" is never inflated
 * whole).
 */
#ifndef WSGATE_DEFLATE_H
#define WSGATE_DEFLATE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define DFL_MIN_BITS	8	/* RFC 7692 window bits: 8..15 */
#define DFL_MAX_BITS	15

/*
 * What the handshake agreed (http_pmd_negotiate()), from the server's
 * side: "server" is the gateway's deflater, "client" the peer's.
 */
struct dfl_params {
	int		 p_on;			/* permessage-deflate in use */
	int		 p_server_no_context;	/* reset our deflater per message */
	int		 p_client_no_context;	/* the client resets its own */
	int		 p_server_bits;		/* our window, 9..15 */
	int		 p_client_bits;		/* the client's, 8..15 */
	int		 p_server_bits_sent;	/* answer server_max_window_bits */
	int		 p_client_bits_sent;	/* answer client_max_window_bits */
};

enum dfl_error {
	DFL_ERR_DATA = -1,	/* not a valid DEFLATE stream */
	DFL_ERR_TOO_BIG = -2,	/* the message inflates past the limit */
	DFL_ERR_MEM = -3	/* zlib could not allocate its stream */
};

struct z_stream_s;

struct dfl_inflate {
	struct z_stream_s	*i_zs;		/* NULL until the first message */
	int			 i_bits;
	int			 i_reset;	/* reset after each message */
	uint64_t		 i_max;		/* limit per message, 0: none */
	uint64_t		 i_total;	/* inflated so far this message */
	size_t			 i_tail;	/* trailer bytes fed so far */
	int			 i_ended;	/* a final block was seen */
};

struct dfl_deflate {
	struct z_stream_s	*d_zs;
	int			 d_bits;
	int			 d_level;
	int			 d_reset;	/* reset after each message */
	uint8_t			 d_hold[4];	/* last bytes out, maybe the marker */
	size_t			 d_nhold;
	int			 d_done;	/* the message's flush is out */
};

/*
 * Set up (no allocation): bits is the window (8..15 to inflate, 9..15 to
 * deflate), no_context resets the stream after each message, max limits
 * an inflated message (0: no limit), level is zlib's 0..9.
 */
void	dfl_inflate_init(struct dfl_inflate *, int bits, int no_context,
	    uint64_t max);
void	dfl_deflate_init(struct dfl_deflate *, int bits, int no_context,
	    int level);

/* Free the zlib stream, if any; the struct can be initialised again. */
void	dfl_inflate_free(struct dfl_inflate *);
void	dfl_deflate_free(struct dfl_deflate *);

/*
 * Inflate: at the start of each message call dfl_inflate_start() (it
 * allocates the stream on first use; 0 or DFL_ERR_MEM).  Then feed the
 * message's payload: dfl_inflate() takes in[0..len), sets *used to the
 * bytes it consumed and returns the bytes it wrote to out[0..size), or
 * a negative enum dfl_error.  It stops when either side runs out, so
 * call it again while *used < len, and also while it filled out
 * completely (zlib may hold more).  At the end of the message call
 * dfl_inflate_end() until it returns 0: it feeds the 0x00 0x00 0xff 0xff
 * that RFC 7692 7.2.2 has the sender strip, and returns what that
 * flushes out (or an error).  Bytes after a final DEFLATE block are
 * ignored; the next message then starts a new stream (RFC 7692 7.2.3.3).
 * out must be at least 1 byte.
 */
int	dfl_inflate_start(struct dfl_inflate *);
ssize_t	dfl_inflate(struct dfl_inflate *, const uint8_t *in, size_t len,
	    size_t *used, uint8_t *out, size_t size);
ssize_t	dfl_inflate_end(struct dfl_inflate *, uint8_t *out, size_t size);

/*
 * Deflate, the same way: dfl_deflate_start() at the start of a message,
 * dfl_deflate() for its payload (call again while *used < len or it
 * filled out), dfl_deflate_end() until it returns 0.  The output is the
 * message's compressed payload: a sync flush with its trailing 0x00 0x00
 * 0xff 0xff removed.  out must be at least DFL_MIN_OUT bytes (zlib wants
 * more than 6 bytes of room for a flush, besides the 4 held back).
 */
#define DFL_MIN_OUT	16

int	dfl_deflate_start(struct dfl_deflate *);
ssize_t	dfl_deflate(struct dfl_deflate *, const uint8_t *in, size_t len,
	    size_t *used, uint8_t *out, size_t size);
ssize_t	dfl_deflate_end(struct dfl_deflate *, uint8_t *out, size_t size);

/*
 * A bound on the compressed size of a message of len bytes (what a
 * compressed frame may carry on the wire for a message that inflates to
 * at most len).
 */
uint64_t dfl_bound(uint64_t len);

/* Static text for an enum dfl_error. */
const char *dfl_strerror(int);

#endif /* WSGATE_DEFLATE_H */
