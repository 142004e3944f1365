/*
 * The payload pattern shared by wsbench and bench-backend.
 *
 * Message number seq (counted from 0 on each connection and direction) of
 * size bytes is: the first PAT_SEQLEN bytes spell seq in base 64, then the
 * pattern from offset (seq % PAT_PERIOD) + PAT_SEQLEN on.  The pattern is
 * printable ASCII with neither '\n' nor '\r', so the same message is valid
 * text and a valid line; a lost, repeated, reordered or altered message
 * does not compare equal to the one expected.  Header only: both programs
 * include it.
 */
#ifndef WSGATE_BENCH_PATTERN_H
#define WSGATE_BENCH_PATTERN_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define PAT_PERIOD	251	/* a prime, so offsets do not line up */
#define PAT_SEQLEN	8	/* 48 bits of sequence number */

static const char pat_alphabet[64] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Bytes of pattern needed for messages of up to size bytes. */
static inline size_t
pat_len(size_t size)
{
	return size + PAT_PERIOD;
}

/*
 * Fill p[0..len) with the pattern.  Byte i depends on i alone, so a
 * longer pattern starts with a shorter one.
 */
static inline void
pat_fill(uint8_t *p, size_t len)
{
	uint64_t	 x = 0x9e3779b97f4a7c15ULL;
	size_t		 i;

	for (i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (uint8_t)pat_alphabet[(x >> 32) & 63];
	}
}

/* The byte at offset off of message seq whose header is shorter than off. */
static inline const uint8_t *
pat_body(const uint8_t *pat, uint64_t seq)
{
	return pat + seq % PAT_PERIOD;
}

/* Write message seq of size bytes to dst. */
static inline void
pat_make(const uint8_t *pat, uint64_t seq, uint8_t *dst, size_t size)
{
	size_t	 i, n = size < PAT_SEQLEN ? size : PAT_SEQLEN;

	for (i = 0; i < n; i++)
		dst[i] = (uint8_t)pat_alphabet[(seq >> (6 * i)) & 63];
	if (size > n)
		memcpy(dst + n, pat_body(pat, seq) + n, size - n);
}

/*
 * 0 if data[0..len) equals bytes [off, off + len) of message seq, -1 if
 * not.  The caller checks that off + len does not pass the message size.
 */
static inline int
pat_check(const uint8_t *pat, uint64_t seq, size_t off, const uint8_t *data,
    size_t len)
{
	while (len > 0 && off < PAT_SEQLEN) {
		if (*data != (uint8_t)pat_alphabet[(seq >> (6 * off)) & 63])
			return -1;
		data++;
		off++;
		len--;
	}
	if (len > 0 && memcmp(data, pat_body(pat, seq) + off, len) != 0)
		return -1;
	return 0;
}

#endif /* WSGATE_BENCH_PATTERN_H */
