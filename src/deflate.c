/*
 * permessage-deflate message codec: zlib raw DEFLATE streams, one message
 * at a time, the output pushed into the caller's buffers.  The inflater
 * counts what comes out and gives zlib no more room than one byte past
 * the limit, so an over-long message is refused after at most that much
 * work.  The deflater holds back the last four bytes it produced so that
 * the 0x00 0x00 0xff 0xff of the final sync flush can be dropped without
 * the caller ever seeing it.
 */
#define ZLIB_CONST

#include <sys/types.h>

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "deflate.h"

static const uint8_t dfl_marker[4] = { 0x00, 0x00, 0xff, 0xff };

static ssize_t	dfl_deflate_run(struct dfl_deflate *, const uint8_t *,
		    size_t, size_t *, uint8_t *, size_t, int, int *);
static void	dfl_inflate_restart(struct dfl_inflate *);

static unsigned int
dfl_uint(size_t n)
{
	return n > UINT_MAX ? UINT_MAX : (unsigned int)n;
}

void
dfl_inflate_init(struct dfl_inflate *i, int bits, int no_context,
    uint64_t max)
{
	memset(i, 0, sizeof(*i));
	/*
	 * zlib cannot deflate with an 8-bit window and makes 9 of it, so a
	 * peer promising 8 may well send 9: inflating with 9 reads both.
	 */
	i->i_bits = bits < 9 ? 9 : bits;
	i->i_reset = no_context != 0;
	i->i_max = max;
}

void
dfl_inflate_free(struct dfl_inflate *i)
{
	if (i->i_zs != NULL) {
		inflateEnd(i->i_zs);
		free(i->i_zs);
		i->i_zs = NULL;
	}
}

int
dfl_inflate_start(struct dfl_inflate *i)
{
	z_stream	*zs;

	i->i_total = 0;
	i->i_tail = 0;
	if (i->i_zs != NULL)
		return 0;
	if ((zs = calloc(1, sizeof(*zs))) == NULL)
		return DFL_ERR_MEM;
	if (inflateInit2(zs, -i->i_bits) != Z_OK) {
		free(zs);
		return DFL_ERR_MEM;
	}
	i->i_zs = zs;
	return 0;
}

ssize_t
dfl_inflate(struct dfl_inflate *i, const uint8_t *in, size_t len,
    size_t *used, uint8_t *out, size_t size)
{
	z_stream	*zs = i->i_zs;
	unsigned int	 ain, aout;
	size_t		 n;
	int		 rv;

	*used = 0;
	if (i->i_ended) {
		/* after a final block: nothing more belongs to the stream */
		*used = len;
		return 0;
	}
	/* Room for one byte past the limit, to notice going over it. */
	if (i->i_max != 0 && size > i->i_max - i->i_total + 1)
		size = i->i_max - i->i_total + 1;
	zs->next_in = in;
	zs->avail_in = ain = dfl_uint(len);
	zs->next_out = out;
	zs->avail_out = aout = dfl_uint(size);
	rv = inflate(zs, Z_SYNC_FLUSH);
	*used = ain - zs->avail_in;
	n = aout - zs->avail_out;
	switch (rv) {
	case Z_OK:
	case Z_BUF_ERROR:	/* no progress possible: needs more input */
		break;
	case Z_STREAM_END:
		i->i_ended = 1;
		*used = len;
		break;
	case Z_MEM_ERROR:
		return DFL_ERR_MEM;
	default:		/* Z_DATA_ERROR, Z_NEED_DICT, Z_STREAM_ERROR */
		return DFL_ERR_DATA;
	}
	i->i_total += n;
	if (i->i_max != 0 && i->i_total > i->i_max)
		return DFL_ERR_TOO_BIG;
	return (ssize_t)n;
}

ssize_t
dfl_inflate_end(struct dfl_inflate *i, uint8_t *out, size_t size)
{
	size_t		 used;
	ssize_t		 n;

	while (!i->i_ended) {
		n = dfl_inflate(i, dfl_marker + i->i_tail, 4 - i->i_tail,
		    &used, out, size);
		if (n < 0)
			return n;
		i->i_tail += used;
		if (n > 0)
			return n;
		if (used == 0) {
			if (i->i_tail == 4)
				break;
			return DFL_ERR_DATA;	/* stuck before the marker */
		}
	}
	if (i->i_ended || i->i_reset)
		dfl_inflate_restart(i);
	return 0;
}

/*
 * A new stream for the next message.  After a final block (RFC 7692
 * 7.2.3.3) the window is carried over as the dictionary, unless context
 * takeover is off, so that the peer may still refer back to it.
 */
static void
dfl_inflate_restart(struct dfl_inflate *i)
{
	uint8_t		 dict[1 << DFL_MAX_BITS];
	unsigned int	 n = 0;
	int		 keep;

	keep = !i->i_reset &&
	    inflateGetDictionary(i->i_zs, dict, &n) == Z_OK && n > 0;
	inflateReset(i->i_zs);
	if (keep)
		(void)inflateSetDictionary(i->i_zs, dict, n);
	i->i_ended = 0;
}

void
dfl_deflate_init(struct dfl_deflate *d, int bits, int no_context, int level)
{
	memset(d, 0, sizeof(*d));
	d->d_bits = bits < 9 ? 9 : bits;
	d->d_reset = no_context != 0;
	d->d_level = level;
}

void
dfl_deflate_free(struct dfl_deflate *d)
{
	if (d->d_zs != NULL) {
		deflateEnd(d->d_zs);
		free(d->d_zs);
		d->d_zs = NULL;
	}
}

int
dfl_deflate_start(struct dfl_deflate *d)
{
	z_stream	*zs;
	int		 mem;

	d->d_nhold = 0;
	d->d_done = 0;
	if (d->d_zs != NULL)
		return 0;
	if ((zs = calloc(1, sizeof(*zs))) == NULL)
		return DFL_ERR_MEM;
	/* memLevel w - 7 keeps the hash chains the size of the window. */
	mem = d->d_bits - 7;
	if (mem > 8)
		mem = 8;
	if (deflateInit2(zs, d->d_level, Z_DEFLATED, -d->d_bits, mem,
	    Z_DEFAULT_STRATEGY) != Z_OK) {
		free(zs);
		return DFL_ERR_MEM;
	}
	d->d_zs = zs;
	return 0;
}

/*
 * One deflate() call behind the held bytes: they go out first, and the
 * last (up to) four bytes of it all are held back again.  *complete is
 * set when zlib had room to spare, so it has nothing more pending.
 */
static ssize_t
dfl_deflate_run(struct dfl_deflate *d, const uint8_t *in, size_t len,
    size_t *used, uint8_t *out, size_t size, int flush, int *complete)
{
	z_stream	*zs = d->d_zs;
	unsigned int	 ain, aout;
	size_t		 total, keep;
	int		 rv;

	memcpy(out, d->d_hold, d->d_nhold);
	zs->next_in = in;
	zs->avail_in = ain = dfl_uint(len);
	zs->next_out = out + d->d_nhold;
	zs->avail_out = aout = dfl_uint(size - d->d_nhold);
	rv = deflate(zs, flush);
	if (rv != Z_OK && rv != Z_BUF_ERROR)
		return DFL_ERR_DATA;
	*used = ain - zs->avail_in;
	*complete = zs->avail_out != 0;
	total = d->d_nhold + (aout - zs->avail_out);
	keep = total < 4 ? total : 4;
	memcpy(d->d_hold, out + total - keep, keep);
	d->d_nhold = keep;
	return (ssize_t)(total - keep);
}

ssize_t
dfl_deflate(struct dfl_deflate *d, const uint8_t *in, size_t len,
    size_t *used, uint8_t *out, size_t size)
{
	int	 complete;

	return dfl_deflate_run(d, in, len, used, out, size, Z_NO_FLUSH,
	    &complete);
}

ssize_t
dfl_deflate_end(struct dfl_deflate *d, uint8_t *out, size_t size)
{
	size_t	 used;
	ssize_t	 n;
	int	 complete;

	if (d->d_done)
		return 0;
	n = dfl_deflate_run(d, NULL, 0, &used, out, size, Z_SYNC_FLUSH,
	    &complete);
	if (n < 0 || !complete)
		return n;
	if (d->d_nhold == 0) {
		/*
		 * An empty message right after another: zlib will not flush
		 * twice in a row.  A lone 0x00 is an empty stored block once
		 * the peer appends the marker (RFC 7692 7.2.3.6).
		 */
		out[0] = 0x00;
		d->d_done = 1;
		return 1;
	}
	/* The flush is out: what is held must be its marker. */
	if (d->d_nhold != 4 || memcmp(d->d_hold, dfl_marker, 4) != 0)
		return DFL_ERR_DATA;
	d->d_nhold = 0;
	d->d_done = 1;
	if (d->d_reset)
		deflateReset(d->d_zs);
	return n;
}

/*
 * Stored blocks add 5 bytes per 64 KiB, but a sender may use fixed
 * Huffman codes, where a byte costs up to 9 bits: allow an eighth more.
 */
uint64_t
dfl_bound(uint64_t len)
{
	return len + (len >> 3) + 1024;
}

const char *
dfl_strerror(int err)
{
	switch (err) {
	case DFL_ERR_DATA:
		return "invalid compressed data";
	case DFL_ERR_TOO_BIG:
		return "message too big";
	case DFL_ERR_MEM:
		return "out of memory for compression";
	default:
		return "unknown compression error";
	}
}
