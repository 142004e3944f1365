/*
 * Incremental UTF-8 validator: a DFA in the manner of Bjoern Hoehrmann's
 * decoder.  Each byte maps to a class; (state, class) gives the next
 * state.  The states encode exactly what the next byte may be, so
 * overlongs (C0, C1, E0 80..9F, F0 80..8F), surrogates (ED A0..BF) and
 * code points past U+10FFFF (F4 90..BF, F5..FF) die on the byte that
 * makes them so.
 */
#include <stdint.h>
#include <string.h>

#include "utf8.h"

/*
 * States.  UTF8_ACCEPT (0) and UTF8_REJECT (1) are public; the others
 * say how many continuation bytes are still due and, right after a lead
 * byte with a restricted second byte, which range that byte must be in.
 */
enum {
	S_CONT1 = 2,	/* one more 80..BF */
	S_CONT2,	/* two more 80..BF */
	S_E0,		/* A0..BF, then one more (no overlong) */
	S_ED,		/* 80..9F, then one more (no surrogate) */
	S_F0,		/* 90..BF, then two more (no overlong) */
	S_CONT3,	/* three more 80..BF */
	S_F4,		/* 80..8F, then two more (not above U+10FFFF) */
	S_COUNT
};

/*
 * Byte classes: 0 ASCII, 1 80..8F, 2 90..9F, 3 A0..BF, 4 never valid
 * (C0, C1, F5..FF), 5 C2..DF, 6 E0, 7 E1..EC EE EF, 8 ED, 9 F0,
 * 10 F1..F3, 11 F4.
 */
#define C_COUNT	12

static const uint8_t utf8_class[256] = {
	 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,	/* 00..0F */
	 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,	/* 10..1F */
	 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,	/* 20..2F */
	 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,	/* 30..3F */
	 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,	/* 40..4F */
	 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,	/* 50..5F */
	 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,	/* 60..6F */
	 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,	/* 70..7F */
	 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,	/* 80..8F */
	 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,	/* 90..9F */
	 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,	/* A0..AF */
	 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,	/* B0..BF */
	 4, 4, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5,	/* C0..CF */
	 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5,	/* D0..DF */
	 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 7,	/* E0..EF */
	 9,10,10,10,11, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,	/* F0..FF */
};

/*
 * utf8_trans[state][class]: the next state.  Numbers rather than names
 * keep the rows readable; they are the enum above (0 accept, 1 reject,
 * 2 CONT1, 3 CONT2, 4 E0, 5 ED, 6 F0, 7 CONT3, 8 F4).
 */
static const uint8_t utf8_trans[S_COUNT][C_COUNT] = {
	/* class	   0  1  2  3  4  5  6  7  8  9 10 11 */
	/* accept */	{  0, 1, 1, 1, 1, 2, 4, 3, 5, 6, 7, 8 },
	/* reject */	{  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1 },
	/* CONT1 */	{  1, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1 },
	/* CONT2 */	{  1, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1 },
	/* E0 */	{  1, 1, 1, 2, 1, 1, 1, 1, 1, 1, 1, 1 },
	/* ED */	{  1, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1 },
	/* F0 */	{  1, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1 },
	/* CONT3 */	{  1, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1 },
	/* F4 */	{  1, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1 },
};

#define ASCII_MASK	0x8080808080808080ULL

void
utf8_init(struct utf8_state *u)
{
	u->u_state = UTF8_ACCEPT;
}

enum utf8_result
utf8_feed(struct utf8_state *u, const uint8_t *buf, size_t len, size_t *bad)
{
	uint64_t	 w;
	uint32_t	 s = u->u_state;
	size_t		 i = 0;

	if (s == UTF8_REJECT) {
		/* Sticky: the text was already refused. */
		if (bad != NULL)
			*bad = 0;
		return UTF8_INVALID;
	}
	while (i < len) {
		/*
		 * Between code points, skip ASCII eight bytes at a time;
		 * memcpy keeps the load legal at any alignment.
		 */
		if (s == UTF8_ACCEPT) {
			while (len - i >= sizeof(w)) {
				memcpy(&w, buf + i, sizeof(w));
				if (w & ASCII_MASK)
					break;
				i += sizeof(w);
			}
			if (i == len)
				break;
		}
		s = utf8_trans[s][utf8_class[buf[i]]];
		if (s == UTF8_REJECT) {
			u->u_state = s;
			if (bad != NULL)
				*bad = i;
			return UTF8_INVALID;
		}
		i++;
	}
	u->u_state = s;
	return s == UTF8_ACCEPT ? UTF8_OK : UTF8_PARTIAL;
}

int
utf8_complete(const struct utf8_state *u)
{
	return u->u_state == UTF8_ACCEPT;
}

size_t
utf8_boundary(const uint8_t *buf, size_t len)
{
	uint32_t	 s;
	size_t		 start, i;

	/*
	 * An unfinished sequence is a lead byte and at most two
	 * continuation bytes, so its lead is among the last three bytes.
	 * Find the last byte that is not a continuation byte there and run
	 * the DFA from it: ending mid-sequence (neither accepted nor
	 * rejected) means the tail is the valid start of a code point that
	 * the next buffer will finish.
	 */
	for (start = len; start > 0 && len - start < 3; start--) {
		if ((buf[start - 1] & 0xc0) != 0x80)
			break;
	}
	if (start == 0 || len - start >= 3 || buf[start - 1] < 0xc0)
		return len;
	start--;
	s = UTF8_ACCEPT;
	for (i = start; i < len; i++)
		s = utf8_trans[s][utf8_class[buf[i]]];
	return s == UTF8_ACCEPT || s == UTF8_REJECT ? len : start;
}

int
utf8_valid(const uint8_t *buf, size_t len)
{
	struct utf8_state	 u;

	utf8_init(&u);
	return utf8_feed(&u, buf, len, NULL) == UTF8_OK;
}
