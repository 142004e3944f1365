/*
 * Incremental UTF-8 validator (pure: no I/O, no allocation).
 *
 * Based on Bjoern Hoehrmann's DFA: the state survives between calls so a
 * text message can be validated across frame and read boundaries, and it
 * rejects at the first byte that cannot start or continue a valid
 * sequence (overlongs, surrogates and code points above U+10FFFF
 * included), which is what RFC 6455 section 8.1 asks of an endpoint that
 * must "fail fast".
 */
#ifndef WSGATE_UTF8_H
#define WSGATE_UTF8_H

#include <stddef.h>
#include <stdint.h>

#define UTF8_ACCEPT	0	/* at a code point boundary */
#define UTF8_REJECT	1	/* invalid; sticky until utf8_init() */

struct utf8_state {
	uint32_t	u_state;	/* UTF8_ACCEPT, UTF8_REJECT or mid-sequence */
};

/* Start a new text (state = UTF8_ACCEPT). */
void	utf8_init(struct utf8_state *);

/*
 * Feed len bytes.  Returns UTF8_OK when every byte so far is valid and the
 * input ends on a code point boundary, UTF8_PARTIAL when valid so far but
 * inside a sequence, UTF8_INVALID at the first invalid byte (the state is
 * then sticky).  If bad is not NULL and the result is UTF8_INVALID, *bad
 * is set to the offset in buf of the offending byte.
 * ASCII runs are checked a machine word at a time.
 */
enum utf8_result {
	UTF8_OK = 0,
	UTF8_PARTIAL = 1,
	UTF8_INVALID = -1
};
enum utf8_result utf8_feed(struct utf8_state *, const uint8_t *buf, size_t len,
	    size_t *bad);

/* True when the state is at a code point boundary (a text may end here). */
int	utf8_complete(const struct utf8_state *);

/*
 * Length of the longest prefix of buf that does not end inside a
 * multi-byte sequence: at most 3 trailing bytes that form the valid start
 * of an unfinished sequence are left out.  Does not validate the rest;
 * pair with utf8_feed().
 */
size_t	utf8_boundary(const uint8_t *buf, size_t len);

/* One-shot: 1 if buf is entirely valid, complete UTF-8, else 0. */
int	utf8_valid(const uint8_t *buf, size_t len);

#endif /* WSGATE_UTF8_H */
