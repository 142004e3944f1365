/*
 * Backend framings.  Each vector is a backend byte stream and the
 * transcript of what the decoder must make of it: the complete messages,
 * close records, the error it stops at, and whether the stream ends in
 * the middle of a message.  split_feed() replays every vector whole, byte
 * by byte, and cut at every point (and every pair of points for short
 * ones), as wslay's tests do, and each way must give the same transcript.
 */
#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "framing.h"
#include "utf8.h"

Suite	*framing_suite(void);

#define TR_SIZE		8192
#define MSG_SIZE	4096

/* What a caller of the decoder sees, written down as text. */
struct transcript {
	char			 t_buf[TR_SIZE];
	size_t			 t_len;
	uint8_t			 t_msg[MSG_SIZE];	/* the message so far */
	size_t			 t_msg_len;
	int			 t_msg_type;
	uint8_t			 t_raw[MSG_SIZE];	/* raw: all payload */
	size_t			 t_raw_len;
	uint8_t			 t_pend[MSG_SIZE];	/* input not consumed */
	size_t			 t_pend_len;
	int			 t_failed;
};

static void
tr_puts(struct transcript *t, const char *s)
{
	size_t	 n = strlen(s);

	ck_assert_uint_lt(t->t_len + n, TR_SIZE);
	memcpy(t->t_buf + t->t_len, s, n + 1);
	t->t_len += n;
}

/* Bytes, printable ASCII as is and the rest as \xHH. */
static void
tr_bytes(struct transcript *t, const uint8_t *p, size_t len)
{
	char	 hex[8];
	size_t	 i;

	for (i = 0; i < len; i++) {
		if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\') {
			hex[0] = (char)p[i];
			hex[1] = '\0';
		} else
			snprintf(hex, sizeof(hex), "\\x%02x", p[i]);
		tr_puts(t, hex);
	}
}

static void
tr_init(struct transcript *t)
{
	memset(t, 0, sizeof(*t));
}

/*
 * Feed one read of len bytes the way the gateway does: what the decoder
 * leaves unconsumed (only raw text's unfinished sequence) is kept and put
 * in front of the next read.  Checks the contract of every event.
 */
static void
tr_feed(struct framing_decoder *d, struct transcript *t, const uint8_t *buf,
    size_t len)
{
	struct framing_event	 ev;
	const uint8_t		*p;
	ssize_t			 r;
	size_t			 left;
	char			 num[32];
	int			 guard = 0;

	if (t->t_failed)
		return;
	ck_assert_uint_le(t->t_pend_len + len, MSG_SIZE);
	if (len > 0)
		memcpy(t->t_pend + t->t_pend_len, buf, len);
	t->t_pend_len += len;
	p = t->t_pend;
	left = t->t_pend_len;

	for (;;) {
		ck_assert_int_lt(++guard, 100000);
		r = framing_decode(d, p, left, &ev);
		if (r < 0) {
			snprintf(num, sizeof(num), "E%zd\n", r);
			tr_puts(t, num);
			t->t_failed = 1;
			return;
		}
		ck_assert_uint_le((size_t)r, left);
		switch (ev.type) {
		case FRAMING_EV_NONE:
			break;
		case FRAMING_EV_DATA:
			ck_assert_uint_gt(ev.len, 0);
			if (r > 0) {
				ck_assert_ptr_eq(ev.data, p);
				ck_assert_uint_eq(ev.len, (size_t)r);
			} else {
				/* decoder storage, not the input */
				ck_assert((uintptr_t)ev.data <
				    (uintptr_t)t->t_pend ||
				    (uintptr_t)ev.data >=
				    (uintptr_t)(t->t_pend + MSG_SIZE));
			}
			ck_assert(ev.msg_type == FRAMING_TEXT ||
			    ev.msg_type == FRAMING_BINARY);
			if (t->t_msg_len > 0)
				ck_assert_int_eq(ev.msg_type, t->t_msg_type);
			t->t_msg_type = ev.msg_type;
			ck_assert_uint_le(t->t_msg_len + ev.len, MSG_SIZE);
			memcpy(t->t_msg + t->t_msg_len, ev.data, ev.len);
			t->t_msg_len += ev.len;
			break;
		case FRAMING_EV_MSG_END:
			ck_assert_int_ne(d->f_mode, FRAMING_RAW);
			if (t->t_msg_len > 0)
				ck_assert_int_eq(ev.msg_type, t->t_msg_type);
			tr_puts(t, ev.msg_type == FRAMING_TEXT ? "T:" : "B:");
			tr_bytes(t, t->t_msg, t->t_msg_len);
			tr_puts(t, "\n");
			t->t_msg_len = 0;
			break;
		case FRAMING_EV_CLOSE:
			ck_assert_int_eq(d->f_mode, FRAMING_FRAME);
			ck_assert_uint_eq(t->t_msg_len, 0);
			snprintf(num, sizeof(num), "C%u:", ev.close_code);
			tr_puts(t, num);
			if (ev.reason_len > 0)
				tr_bytes(t, ev.reason, ev.reason_len);
			else
				ck_assert_ptr_null(ev.reason);
			tr_puts(t, "\n");
			break;
		}
		p += r;
		left -= (size_t)r;
		if (r == 0 && ev.type == FRAMING_EV_NONE)
			break;
	}

	if (d->f_mode == FRAMING_RAW) {
		/*
		 * One message per read: a text one must be valid UTF-8 on
		 * its own, never cut inside a sequence.
		 */
		if (t->t_msg_len > 0 && t->t_msg_type == FRAMING_TEXT)
			ck_assert(utf8_valid(t->t_msg, t->t_msg_len));
		ck_assert_uint_le(t->t_raw_len + t->t_msg_len, MSG_SIZE);
		memcpy(t->t_raw + t->t_raw_len, t->t_msg, t->t_msg_len);
		t->t_raw_len += t->t_msg_len;
		t->t_msg_len = 0;
		ck_assert_uint_le(left, 3);
	} else
		ck_assert_uint_eq(left, 0);
	memmove(t->t_pend, p, left);
	t->t_pend_len = left;
}

/* End of stream: raw's payload, and whether it ended mid-message. */
static void
tr_end(struct framing_decoder *d, struct transcript *t)
{
	if (t->t_failed)
		return;
	if (d->f_mode == FRAMING_RAW && t->t_raw_len > 0) {
		tr_puts(t, "R:");
		tr_bytes(t, t->t_raw, t->t_raw_len);
		tr_puts(t, "\n");
	}
	if (framing_decoder_midmessage(d))
		tr_puts(t, "MID\n");
}

struct fvec {
	const char	*v_name;
	enum framing	 v_mode;
	int		 v_type;
	uint64_t	 v_max;
	const char	*v_in;
	size_t		 v_len;
	const char	*v_want;
};

#define IN(s)	s, sizeof(s) - 1

/* Run v with its input cut at the given points (sorted, ncuts of them). */
static void
run_cuts(const struct fvec *v, const size_t *cuts, size_t ncuts,
    const char *how)
{
	struct framing_decoder	 d;
	struct transcript	 t;
	size_t			 i, from = 0, to;

	tr_init(&t);
	framing_decoder_init(&d, v->v_mode, v->v_type, v->v_max);
	for (i = 0; i <= ncuts; i++) {
		to = i < ncuts ? cuts[i] : v->v_len;
		tr_feed(&d, &t, (const uint8_t *)v->v_in + from, to - from);
		from = to;
	}
	tr_end(&d, &t);
	if (strcmp(t.t_buf, v->v_want) != 0)
		ck_abort_msg("%s, fed %s (cuts %zu %zu): got\n%swant\n%s",
		    v->v_name, how, ncuts > 0 ? cuts[0] : 0,
		    ncuts > 1 ? cuts[1] : 0, t.t_buf, v->v_want);
}

/* Whole, byte by byte, at every cut, at every pair of cuts if short. */
static void
split_feed(const struct fvec *v)
{
	size_t	 cuts[4096], i, j;

	run_cuts(v, NULL, 0, "whole");

	ck_assert_uint_le(v->v_len, sizeof(cuts) / sizeof(cuts[0]));
	for (i = 1; i < v->v_len; i++)
		cuts[i - 1] = i;
	run_cuts(v, cuts, v->v_len > 0 ? v->v_len - 1 : 0, "byte by byte");

	for (i = 0; i <= v->v_len; i++) {
		cuts[0] = i;
		run_cuts(v, cuts, 1, "in two");
	}
	if (v->v_len > 40)
		return;
	for (i = 0; i <= v->v_len; i++) {
		for (j = i; j <= v->v_len; j++) {
			cuts[0] = i;
			cuts[1] = j;
			run_cuts(v, cuts, 2, "in three");
		}
	}
}

static const struct fvec raw_vecs[] = {
	{ "raw binary", FRAMING_RAW, FRAMING_BINARY, 0,
	    IN("ab\xff\x00\xc3\n"), "R:ab\\xff\\x00\\xc3\\x0a\n" },
	{ "raw binary ignores max", FRAMING_RAW, FRAMING_BINARY, 2,
	    IN("abcdef"), "R:abcdef\n" },
	{ "raw empty", FRAMING_RAW, FRAMING_BINARY, 0, IN(""), "" },
	{ "raw text", FRAMING_RAW, FRAMING_TEXT, 0,
	    IN("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80!"),
	    "R:caf\\xc3\\xa9 \\xe2\\x82\\xac \\xf0\\x9f\\x98\\x80!\n" },
	{ "raw text unfinished at end", FRAMING_RAW, FRAMING_TEXT, 0,
	    IN("ab\xe2\x82"), "R:ab\nMID\n" },
	{ "raw text only unfinished", FRAMING_RAW, FRAMING_TEXT, 0,
	    IN("\xf0\x9f\x98"), "MID\n" },
	{ "raw text invalid byte", FRAMING_RAW, FRAMING_TEXT, 0,
	    IN("abc\xff"), "E-2\n" },
	{ "raw text overlong", FRAMING_RAW, FRAMING_TEXT, 0,
	    IN("a\xc0\xaf"), "E-2\n" },
	{ "raw text surrogate", FRAMING_RAW, FRAMING_TEXT, 0,
	    IN("\xed\xa0\x80"), "E-2\n" },
	{ "raw text cut sequence", FRAMING_RAW, FRAMING_TEXT, 0,
	    IN("\xe2\x82x"), "E-2\n" }
};

static const struct fvec line_vecs[] = {
	{ "lines", FRAMING_LINE, FRAMING_TEXT, 0,
	    IN("hello\nworld\n"), "T:hello\nT:world\n" },
	{ "crlf", FRAMING_LINE, FRAMING_TEXT, 0,
	    IN("a\r\nbc\r\n"), "T:a\nT:bc\n" },
	{ "empty lines", FRAMING_LINE, FRAMING_TEXT, 0,
	    IN("\n\r\n\n"), "T:\nT:\nT:\n" },
	{ "lone cr is payload", FRAMING_LINE, FRAMING_TEXT, 0,
	    IN("a\rb\n\rc\n"), "T:a\\x0db\nT:\\x0dc\n" },
	{ "only the last cr dropped", FRAMING_LINE, FRAMING_TEXT, 0,
	    IN("a\r\r\n\r\r\n"), "T:a\\x0d\nT:\\x0d\n" },
	{ "cr cr cr", FRAMING_LINE, FRAMING_TEXT, 0,
	    IN("\r\r\r"), "MID\n" },
	{ "unterminated", FRAMING_LINE, FRAMING_TEXT, 0,
	    IN("one\ntwo"), "T:one\nMID\n" },
	{ "unterminated cr", FRAMING_LINE, FRAMING_TEXT, 0,
	    IN("one\n\r"), "T:one\nMID\n" },
	{ "binary lines", FRAMING_LINE, FRAMING_BINARY, 0,
	    IN("\xff\x00\n\xc3\n"), "B:\\xff\\x00\nB:\\xc3\n" },
	{ "text utf-8", FRAMING_LINE, FRAMING_TEXT, 0,
	    IN("caf\xc3\xa9\r\n\xf0\x9f\x98\x80\n"),
	    "T:caf\\xc3\\xa9\nT:\\xf0\\x9f\\x98\\x80\n" },
	{ "text invalid", FRAMING_LINE, FRAMING_TEXT, 0,
	    IN("ok\nb\xff" "d\n"), "T:ok\nE-2\n" },
	{ "text cut by newline", FRAMING_LINE, FRAMING_TEXT, 0,
	    IN("ok\n\xc3\nx\n"), "T:ok\nE-2\n" },
	{ "text cut by crlf", FRAMING_LINE, FRAMING_TEXT, 0,
	    IN("\xe2\x82\r\n"), "E-2\n" },
	{ "max exactly", FRAMING_LINE, FRAMING_TEXT, 3,
	    IN("abc\nabc\r\n\n"), "T:abc\nT:abc\nT:\n" },
	{ "max with cr payload", FRAMING_LINE, FRAMING_TEXT, 3,
	    IN("ab\r\r\n"), "T:ab\\x0d\n" },
	{ "over max", FRAMING_LINE, FRAMING_TEXT, 3,
	    IN("abc\nabcd\n"), "T:abc\nE-1\n" },
	{ "over max unterminated", FRAMING_LINE, FRAMING_TEXT, 3,
	    IN("ab\nabcd"), "T:ab\nE-1\n" },
	{ "over max by a cr", FRAMING_LINE, FRAMING_TEXT, 3,
	    IN("abc\r\r\n"), "E-1\n" },
	{ "over max by a cr then x", FRAMING_LINE, FRAMING_TEXT, 3,
	    IN("abc\rx"), "E-1\n" },
	{ "at max, cr pending", FRAMING_LINE, FRAMING_TEXT, 3,
	    IN("abc\r"), "MID\n" },
	{ "max 1", FRAMING_LINE, FRAMING_BINARY, 1,
	    IN("\r\n\r\r\n"), "B:\nB:\\x0d\n" }
};

static const struct fvec frame_vecs[] = {
	{ "text record", FRAMING_FRAME, 0, 0,
	    IN("\x01\x00\x00\x00\x05hello"), "T:hello\n" },
	{ "binary record", FRAMING_FRAME, 0, 0,
	    IN("\x02\x00\x00\x00\x03\xff\x00\n"), "B:\\xff\\x00\\x0a\n" },
	{ "empty records", FRAMING_FRAME, 0, 0,
	    IN("\x02\x00\x00\x00\x00\x01\x00\x00\x00\x00"), "B:\nT:\n" },
	{ "records in a row", FRAMING_FRAME, 0, 0,
	    IN("\x01\x00\x00\x00\x02hi\x02\x00\x00\x00\x01!"
	    "\x01\x00\x00\x00\x02\xc3\xa9"),
	    "T:hi\nB:!\nT:\\xc3\\xa9\n" },
	{ "close", FRAMING_FRAME, 0, 0,
	    IN("\x01\x00\x00\x00\x01x\x08\x00\x00\x00\x02\x03\xe8"),
	    "T:x\nC1000:\n" },
	{ "close with reason", FRAMING_FRAME, 0, 0,
	    IN("\x08\x00\x00\x00\x06\x0f\xa0gone"), "C4000:gone\n" },
	{ "empty close", FRAMING_FRAME, 0, 0,
	    IN("\x08\x00\x00\x00\x00"), "C0:\n" },
	{ "close of one byte", FRAMING_FRAME, 0, 0,
	    IN("\x08\x00\x00\x00\x01\x03"), "E-4\n" },
	{ "close over 125", FRAMING_FRAME, 0, 0,
	    IN("\x08\x00\x00\x00\x7e"), "E-4\n" },
	{ "close with bad code", FRAMING_FRAME, 0, 0,
	    IN("\x08\x00\x00\x00\x02\x03\xed"), "E-4\n" },
	{ "unknown type 0", FRAMING_FRAME, 0, 0,
	    IN("\x00\x00\x00\x00\x00"), "E-3\n" },
	{ "unknown type 9", FRAMING_FRAME, 0, 0,
	    IN("\x01\x00\x00\x00\x00\x09\x00\x00\x00\x00"), "T:\nE-3\n" },
	{ "unknown type ff", FRAMING_FRAME, 0, 0,
	    IN("\xff\x00\x00\x00\x01x"), "E-3\n" },
	{ "max exactly", FRAMING_FRAME, 0, 4,
	    IN("\x02\x00\x00\x00\x04" "abcd"), "B:abcd\n" },
	{ "over max at header", FRAMING_FRAME, 0, 4,
	    IN("\x02\x00\x00\x00\x05"), "E-1\n" },
	{ "huge over max", FRAMING_FRAME, 0, 1048576,
	    IN("\x01\xff\xff\xff\xff"), "E-1\n" },
	{ "huge without max", FRAMING_FRAME, 0, 0,
	    IN("\x02\xff\xff\xff\xff" "abc"), "MID\n" },
	{ "text invalid", FRAMING_FRAME, 0, 0,
	    IN("\x01\x00\x00\x00\x03" "a\xff" "b"), "E-2\n" },
	{ "text cut at end of record", FRAMING_FRAME, 0, 0,
	    IN("\x01\x00\x00\x00\x02" "a\xc3" "\x01\x00\x00\x00\x01\xa9"),
	    "E-2\n" },
	{ "binary is not checked", FRAMING_FRAME, 0, 0,
	    IN("\x02\x00\x00\x00\x02" "a\xc3"), "B:a\\xc3\n" },
	{ "partial header", FRAMING_FRAME, 0, 0,
	    IN("\x01\x00\x00\x00\x01x\x01\x00"), "T:x\nMID\n" },
	{ "partial payload", FRAMING_FRAME, 0, 0,
	    IN("\x01\x00\x00\x00\x03xy"), "MID\n" },
	{ "partial close", FRAMING_FRAME, 0, 0,
	    IN("\x08\x00\x00\x00\x04\x03\xe8x"), "MID\n" },
	{ "records after close", FRAMING_FRAME, 0, 0,
	    IN("\x08\x00\x00\x00\x02\x03\xe9\x02\x00\x00\x00\x01z"),
	    "C1001:\nB:z\n" }
};

START_TEST(test_raw)
{
	split_feed(&raw_vecs[_i]);
}
END_TEST

START_TEST(test_line)
{
	split_feed(&line_vecs[_i]);
}
END_TEST

START_TEST(test_frame)
{
	split_feed(&frame_vecs[_i]);
}
END_TEST

/* Every close code: the ones valid on the wire pass, the others fail. */
START_TEST(test_close_codes)
{
	struct framing_decoder	 d;
	struct framing_event	 ev;
	uint8_t			 rec[7] = { FRAMING_CLOSE, 0, 0, 0, 2 };
	unsigned int		 code;
	ssize_t			 r;
	int			 valid;

	for (code = 0; code <= 65535; code++) {
		valid = (code >= 1000 && code <= 1003) ||
		    (code >= 1007 && code <= 1011) ||
		    (code >= 3000 && code <= 4999);
		rec[5] = (uint8_t)(code >> 8);
		rec[6] = (uint8_t)code;
		framing_decoder_init(&d, FRAMING_FRAME, 0, 0);
		ck_assert_int_eq(framing_decode(&d, rec, 5, &ev), 5);
		ck_assert_int_eq(ev.type, FRAMING_EV_NONE);
		r = framing_decode(&d, rec + 5, 2, &ev);
		if (!valid) {
			ck_assert_int_eq(r, FRAMING_ERR_CLOSE);
			continue;
		}
		ck_assert_int_eq(r, 2);
		ck_assert_int_eq(ev.type, FRAMING_EV_CLOSE);
		ck_assert_uint_eq(ev.close_code, code);
		ck_assert_uint_eq(ev.reason_len, 0);
		ck_assert(!framing_decoder_midmessage(&d));
	}
}
END_TEST

/* The largest close record: a code and 123 bytes of reason. */
START_TEST(test_close_max)
{
	struct framing_decoder	 d;
	struct framing_event	 ev;
	uint8_t			 rec[FRAMING_HDR + FRAMING_MAX_CLOSE];
	ssize_t			 r;

	memset(rec, 'r', sizeof(rec));
	framing_encode_prefix(FRAMING_FRAME, rec, FRAMING_CLOSE,
	    FRAMING_MAX_CLOSE);
	rec[5] = 0x0b;			/* 3001 */
	rec[6] = 0xb9;
	framing_decoder_init(&d, FRAMING_FRAME, 0, 0);
	ck_assert_int_eq(framing_decode(&d, rec, sizeof(rec), &ev), 5);
	r = framing_decode(&d, rec + 5, sizeof(rec) - 5, &ev);
	ck_assert_int_eq(r, FRAMING_MAX_CLOSE);
	ck_assert_int_eq(ev.type, FRAMING_EV_CLOSE);
	ck_assert_uint_eq(ev.close_code, 3001);
	ck_assert_uint_eq(ev.reason_len, FRAMING_MAX_CLOSE - 2);
	ck_assert_ptr_nonnull(ev.reason);
	ck_assert_int_eq(ev.reason[0], 'r');
	ck_assert_int_eq(ev.reason[FRAMING_MAX_CLOSE - 3], 'r');
	ck_assert_int_eq(framing_decode(&d, rec, 0, &ev), 0);
	ck_assert_int_eq(ev.type, FRAMING_EV_NONE);
}
END_TEST

/*
 * The held-back '\r', step by step: consumed alone as framing, then
 * handed out from decoder storage with 0 consumed when the next byte is
 * not '\n', or dropped when it is.
 */
START_TEST(test_line_cr_steps)
{
	struct framing_decoder	 d;
	struct framing_event	 ev;
	const uint8_t		 a[] = "ab\r", b[] = "c\n", c[] = "\r", n[] = "\n";

	framing_decoder_init(&d, FRAMING_LINE, FRAMING_TEXT, 0);
	ck_assert(!framing_decoder_midmessage(&d));
	ck_assert_int_eq(framing_decode(&d, a, 3, &ev), 2);
	ck_assert_int_eq(ev.type, FRAMING_EV_DATA);
	ck_assert_ptr_eq(ev.data, a);
	ck_assert_uint_eq(ev.len, 2);
	ck_assert_int_eq(ev.msg_type, FRAMING_TEXT);
	ck_assert_int_eq(framing_decode(&d, a + 2, 1, &ev), 1);
	ck_assert_int_eq(ev.type, FRAMING_EV_NONE);
	ck_assert(framing_decoder_midmessage(&d));
	ck_assert_int_eq(framing_decode(&d, a + 3, 0, &ev), 0);
	ck_assert_int_eq(ev.type, FRAMING_EV_NONE);

	/* "c" follows: the '\r' was payload */
	ck_assert_int_eq(framing_decode(&d, b, 2, &ev), 0);
	ck_assert_int_eq(ev.type, FRAMING_EV_DATA);
	ck_assert_uint_eq(ev.len, 1);
	ck_assert_int_eq(ev.data[0], '\r');
	ck_assert(ev.data != b);
	ck_assert_int_eq(framing_decode(&d, b, 2, &ev), 1);
	ck_assert_int_eq(ev.type, FRAMING_EV_DATA);
	ck_assert_ptr_eq(ev.data, b);
	ck_assert_int_eq(framing_decode(&d, b + 1, 1, &ev), 1);
	ck_assert_int_eq(ev.type, FRAMING_EV_MSG_END);
	ck_assert_int_eq(ev.msg_type, FRAMING_TEXT);
	ck_assert(!framing_decoder_midmessage(&d));

	/* "\r" | "\n": the '\r' belongs to the terminator */
	ck_assert_int_eq(framing_decode(&d, c, 1, &ev), 1);
	ck_assert_int_eq(ev.type, FRAMING_EV_NONE);
	ck_assert(framing_decoder_midmessage(&d));
	ck_assert_int_eq(framing_decode(&d, n, 1, &ev), 1);
	ck_assert_int_eq(ev.type, FRAMING_EV_MSG_END);
	ck_assert(!framing_decoder_midmessage(&d));
	ck_assert_int_eq(framing_decode(&d, n, 0, &ev), 0);
	ck_assert_int_eq(ev.type, FRAMING_EV_NONE);
}
END_TEST

/* A line far beyond any buffer, with no limit and at the limit. */
START_TEST(test_line_long)
{
	struct framing_decoder	 d;
	struct framing_event	 ev;
	static uint8_t		 buf[100001];
	uint64_t		 total = 0;
	size_t			 off = 0;
	ssize_t			 r;

	memset(buf, 'x', sizeof(buf) - 1);
	buf[sizeof(buf) - 1] = '\n';
	framing_decoder_init(&d, FRAMING_LINE, FRAMING_TEXT, 0);
	while ((r = framing_decode(&d, buf + off, sizeof(buf) - off,
	    &ev)) > 0 || ev.type != FRAMING_EV_NONE) {
		ck_assert_int_ge(r, 0);
		if (ev.type == FRAMING_EV_DATA)
			total += ev.len;
		if (ev.type == FRAMING_EV_MSG_END)
			ck_assert_uint_eq(total, sizeof(buf) - 1);
		off += (size_t)r;
	}
	ck_assert_uint_eq(off, sizeof(buf));

	framing_decoder_init(&d, FRAMING_LINE, FRAMING_TEXT, sizeof(buf) - 2);
	ck_assert_int_eq(framing_decode(&d, buf, sizeof(buf), &ev),
	    FRAMING_ERR_TOO_BIG);
}
END_TEST

/* What an end of stream at each point of a record means. */
START_TEST(test_midmessage)
{
	struct framing_decoder	 d;
	struct framing_event	 ev;
	const uint8_t		 rec[] = "\x02\x00\x00\x00\x02xy";
	const uint8_t		 euro[] = "\xe2\x82\xac";
	size_t			 i;

	framing_decoder_init(&d, FRAMING_FRAME, 0, 0);
	ck_assert(!framing_decoder_midmessage(&d));
	for (i = 0; i < 7; i++) {
		ck_assert_int_eq(framing_decode(&d, rec + i, 1, &ev), 1);
		ck_assert(framing_decoder_midmessage(&d));
	}
	/* payload complete but MSG_END not yet taken */
	ck_assert_int_eq(framing_decode(&d, rec, 0, &ev), 0);
	ck_assert_int_eq(ev.type, FRAMING_EV_MSG_END);
	ck_assert_int_eq(ev.msg_type, FRAMING_BINARY);
	ck_assert(!framing_decoder_midmessage(&d));

	framing_decoder_init(&d, FRAMING_LINE, FRAMING_BINARY, 0);
	ck_assert_int_eq(framing_decode(&d, rec + 5, 1, &ev), 1);
	ck_assert(framing_decoder_midmessage(&d));

	framing_decoder_init(&d, FRAMING_RAW, FRAMING_TEXT, 0);
	ck_assert_int_eq(framing_decode(&d, euro, 2, &ev), 0);
	ck_assert_int_eq(ev.type, FRAMING_EV_NONE);
	ck_assert(framing_decoder_midmessage(&d));
	ck_assert_int_eq(framing_decode(&d, euro, 3, &ev), 3);
	ck_assert_int_eq(ev.type, FRAMING_EV_DATA);
	ck_assert(!framing_decoder_midmessage(&d));

	framing_decoder_init(&d, FRAMING_RAW, FRAMING_BINARY, 0);
	ck_assert_int_eq(framing_decode(&d, euro, 2, &ev), 2);
	ck_assert(!framing_decoder_midmessage(&d));
}
END_TEST

START_TEST(test_encode)
{
	uint8_t	 out[FRAMING_HDR];

	memset(out, 0xaa, sizeof(out));
	ck_assert_uint_eq(framing_encode_prefix(FRAMING_FRAME, out,
	    FRAMING_TEXT, 0x01020304), FRAMING_HDR);
	ck_assert_mem_eq(out, "\x01\x01\x02\x03\x04", FRAMING_HDR);
	ck_assert_uint_eq(framing_encode_prefix(FRAMING_FRAME, out,
	    FRAMING_CLOSE, 0), FRAMING_HDR);
	ck_assert_mem_eq(out, "\x08\x00\x00\x00\x00", FRAMING_HDR);
	ck_assert_uint_eq(framing_encode_prefix(FRAMING_FRAME, out,
	    FRAMING_BINARY, 0xffffffffU), FRAMING_HDR);
	ck_assert_mem_eq(out, "\x02\xff\xff\xff\xff", FRAMING_HDR);
	ck_assert_uint_eq(framing_encode_suffix(FRAMING_FRAME, out), 0);

	memset(out, 0xaa, sizeof(out));
	ck_assert_uint_eq(framing_encode_prefix(FRAMING_LINE, out,
	    FRAMING_TEXT, 5), 0);
	ck_assert_uint_eq(framing_encode_suffix(FRAMING_LINE, out), 1);
	ck_assert_int_eq(out[0], '\n');

	memset(out, 0xaa, sizeof(out));
	ck_assert_uint_eq(framing_encode_prefix(FRAMING_RAW, out,
	    FRAMING_BINARY, 5), 0);
	ck_assert_uint_eq(framing_encode_suffix(FRAMING_RAW, out), 0);
	ck_assert_int_eq(out[0], 0xaa);
}
END_TEST

/* What the encoder writes, the decoder reads back as the same messages. */
START_TEST(test_roundtrip)
{
	static const struct {
		int		 type;
		const char	*payload;
	} msgs[] = {
		{ FRAMING_TEXT, "hello" },
		{ FRAMING_BINARY, "" },
		{ FRAMING_TEXT, "caf\xc3\xa9" },
		{ FRAMING_BINARY, "\xff\x01" }
	};
	struct framing_decoder	 d;
	struct transcript	 t;
	uint8_t			 buf[256];
	size_t			 i, len = 0, plen;

	for (i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++) {
		plen = strlen(msgs[i].payload);
		len += framing_encode_prefix(FRAMING_FRAME, buf + len,
		    msgs[i].type, (uint32_t)plen);
		memcpy(buf + len, msgs[i].payload, plen);
		len += plen;
		len += framing_encode_suffix(FRAMING_FRAME, buf + len);
	}
	tr_init(&t);
	framing_decoder_init(&d, FRAMING_FRAME, 0, 0);
	tr_feed(&d, &t, buf, len);
	tr_end(&d, &t);
	ck_assert_str_eq(t.t_buf, "T:hello\nB:\nT:caf\\xc3\\xa9\nB:\\xff\\x01\n");

	len = 0;
	for (i = 0; i < 3; i++) {
		plen = strlen(msgs[i].payload);
		len += framing_encode_prefix(FRAMING_LINE, buf + len,
		    FRAMING_TEXT, (uint32_t)plen);
		memcpy(buf + len, msgs[i].payload, plen);
		len += plen;
		len += framing_encode_suffix(FRAMING_LINE, buf + len);
	}
	tr_init(&t);
	framing_decoder_init(&d, FRAMING_LINE, FRAMING_TEXT, 0);
	tr_feed(&d, &t, buf, len);
	tr_end(&d, &t);
	ck_assert_str_eq(t.t_buf, "T:hello\nT:\nT:caf\\xc3\\xa9\n");
}
END_TEST

START_TEST(test_names)
{
	ck_assert_str_eq(framing_name(FRAMING_RAW), "raw");
	ck_assert_str_eq(framing_name(FRAMING_LINE), "line");
	ck_assert_str_eq(framing_name(FRAMING_FRAME), "frame");
	ck_assert_str_eq(framing_name((enum framing)7), "unknown");
	ck_assert_int_eq(framing_from_name("raw"), FRAMING_RAW);
	ck_assert_int_eq(framing_from_name("line"), FRAMING_LINE);
	ck_assert_int_eq(framing_from_name("frame"), FRAMING_FRAME);
	ck_assert_int_eq(framing_from_name("Frame"), -1);
	ck_assert_int_eq(framing_from_name("lines"), -1);
	ck_assert_int_eq(framing_from_name(""), -1);
	ck_assert_int_eq(framing_from_name(NULL), -1);
}
END_TEST

/* An empty buffer never consumes or produces anything but NONE... */
START_TEST(test_empty_input)
{
	struct framing_decoder	 d;
	struct framing_event	 ev;
	enum framing		 m;

	for (m = FRAMING_RAW; m <= FRAMING_FRAME; m++) {
		framing_decoder_init(&d, m, FRAMING_TEXT, 10);
		ck_assert_int_eq(framing_decode(&d, NULL, 0, &ev), 0);
		ck_assert_int_eq(ev.type, FRAMING_EV_NONE);
		ck_assert(!framing_decoder_midmessage(&d));
	}
}
END_TEST

Suite *
framing_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("framing");

	tc = tcase_create("raw");
	tcase_add_loop_test(tc, test_raw, 0,
	    sizeof(raw_vecs) / sizeof(raw_vecs[0]));
	suite_add_tcase(s, tc);

	tc = tcase_create("line");
	tcase_add_loop_test(tc, test_line, 0,
	    sizeof(line_vecs) / sizeof(line_vecs[0]));
	tcase_add_test(tc, test_line_cr_steps);
	tcase_add_test(tc, test_line_long);
	suite_add_tcase(s, tc);

	tc = tcase_create("frame");
	tcase_add_loop_test(tc, test_frame, 0,
	    sizeof(frame_vecs) / sizeof(frame_vecs[0]));
	tcase_add_test(tc, test_close_codes);
	tcase_add_test(tc, test_close_max);
	suite_add_tcase(s, tc);

	tc = tcase_create("misc");
	tcase_add_test(tc, test_midmessage);
	tcase_add_test(tc, test_encode);
	tcase_add_test(tc, test_roundtrip);
	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_empty_input);
	suite_add_tcase(s, tc);

	return s;
}
