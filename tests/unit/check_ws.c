/*
 * Unit tests for the WebSocket frame codec.  Each input is replayed
 * whole, byte by byte and cut at every point, and every replay must give
 * the same transcript of events; byte by byte, an error must come at the
 * very byte that proves the input bad (fail fast).
 */
#include <sys/types.h>

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "ws.h"

Suite	*ws_suite(void);

#define BUF_MAX		(70000 + WS_MAX_HEADER * 8)
#define LOG_MAX		4096
#define SHOW_MAX	128	/* longer payloads are logged as length/hash */

/*
 * The replay loop checks with these rather than ck_assert: each passing
 * ck_assert is reported to the parent process, which is slow when
 * replaying 70000 bytes one at a time.
 */
#define CHECK(c)	do {						\
	if (!(c))							\
		ck_abort_msg("%s:%d: %s", __FILE__, __LINE__, #c);	\
} while (0)
#define CHECK_EQ(a, b)	CHECK((a) == (b))
#define CHECK_LT(a, b)	CHECK((a) < (b))
#define CHECK_LE(a, b)	CHECK((a) <= (b))
#define CHECK_GT(a, b)	CHECK((a) > (b))
#define CHECK_GE(a, b)	CHECK((a) >= (b))

static const uint8_t	key[4] = { 0x37, 0xfa, 0x21, 0x3d };

/*
 * Test-side frame writer, independent of ws_encode_header(): header in
 * its shortest form, then the payload, masked with k when k != NULL.
 */
static size_t
put_frame(uint8_t *out, uint8_t b0, const void *payload, size_t len,
    const uint8_t *k)
{
	const uint8_t	*p = payload;
	uint8_t		 mbit = k != NULL ? 0x80 : 0;
	size_t		 n = 0, i;

	out[n++] = b0;
	if (len < 126)
		out[n++] = mbit | len;
	else if (len < 65536) {
		out[n++] = mbit | 126;
		out[n++] = len >> 8;
		out[n++] = len & 0xff;
	} else {
		out[n++] = mbit | 127;
		for (i = 8; i-- > 0;)
			out[n++] = (uint64_t)len >> (8 * i) & 0xff;
	}
	if (k != NULL) {
		memcpy(out + n, k, 4);
		n += 4;
	}
	for (i = 0; i < len; i++)
		out[n + i] = p[i] ^ (k != NULL ? k[i & 3] : 0);
	return n + len;
}

/* FNV-1a, to log long payloads compactly. */
static uint32_t
fnv(uint32_t h, const uint8_t *p, size_t len)
{
	while (len-- > 0)
		h = (h ^ *p++) * 16777619u;
	return h;
}
#define FNV_INIT	2166136261u

struct transcript {
	char		 log[LOG_MAX];
	size_t		 loglen;
	int		 err;		/* 0 or the WS_ERR_* returned */
	size_t		 err_end;	/* input offset where the failing piece ends */
	/* the data message being reassembled */
	uint8_t		 msg[SHOW_MAX];
	size_t		 msg_len;
	uint32_t	 msg_hash;
};

static void
tr_printf(struct transcript *t, const char *fmt, ...)
    __attribute__((__format__(__printf__, 2, 3)));

static void
tr_printf(struct transcript *t, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(t->log + t->loglen, sizeof(t->log) - t->loglen, fmt, ap);
	va_end(ap);
	CHECK_GE(n, 0);
	CHECK_LT(t->loglen + n, sizeof(t->log));
	t->loglen += n;
}

/* Printable ASCII as is, the rest (and '\' and '|') as \xHH. */
static void
log_bytes(struct transcript *t, const uint8_t *p, size_t len, uint32_t hash)
{
	size_t	 i;

	if (len > SHOW_MAX) {
		tr_printf(t, "#%zu/%08x", len, hash);
		return;
	}
	for (i = 0; i < len; i++) {
		if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\' && p[i] != '|')
			tr_printf(t, "%c", p[i]);
		else
			tr_printf(t, "\\x%02x", p[i]);
	}
}

static const char *
err_name(int err)
{
	switch (err) {
	case WS_ERR_PROTO:		return "ERR_PROTO";
	case WS_ERR_MASK:		return "ERR_MASK";
	case WS_ERR_RSV:		return "ERR_RSV";
	case WS_ERR_OPCODE:		return "ERR_OPCODE";
	case WS_ERR_CTRL_FRAGMENTED:	return "ERR_CTRL_FRAGMENTED";
	case WS_ERR_CTRL_TOO_LONG:	return "ERR_CTRL_TOO_LONG";
	case WS_ERR_CONT_NO_START:	return "ERR_CONT_NO_START";
	case WS_ERR_DATA_IN_MESSAGE:	return "ERR_DATA_IN_MESSAGE";
	case WS_ERR_NONMINIMAL:		return "ERR_NONMINIMAL";
	case WS_ERR_LENGTH:		return "ERR_LENGTH";
	case WS_ERR_CLOSE_PAYLOAD:	return "ERR_CLOSE_PAYLOAD";
	case WS_ERR_CLOSE_CODE:		return "ERR_CLOSE_CODE";
	case WS_ERR_UTF8:		return "ERR_UTF8";
	case WS_ERR_TOO_BIG:		return "ERR_TOO_BIG";
	default:			return "ERR_?";
	}
}

/*
 * Feed one piece until the decoder asks for more, logging events and
 * checking the ws_decode() contract on every call.  Returns -1 on error.
 */
static int
feed_piece(struct ws_decoder *d, uint8_t *p, size_t left, size_t end,
    struct transcript *t)
{
	struct ws_event	 ev;
	ssize_t		 rv;
	size_t		 n;
	int		 calls = 0;

	for (;;) {
		CHECK_LT(++calls, 100000);
		memset(&ev, 0xa5, sizeof(ev));
		rv = ws_decode(d, p, left, &ev);
		if (rv < 0) {
			t->err = rv;
			t->err_end = end;
			tr_printf(t, "%s", err_name(rv));
			return -1;
		}
		n = rv;
		CHECK_LE(n, left);
		switch (ev.type) {
		case WS_EV_NONE:
			if (n == 0) {
				/* "Give me more" only when all is taken. */
				CHECK_EQ(left, 0);
				return 0;
			}
			break;
		case WS_EV_DATA:
			CHECK_EQ(ev.data, p);
			CHECK_EQ(ev.len, n);
			CHECK_GT(n, 0);
			CHECK(ev.opcode == WS_OP_TEXT ||
			    ev.opcode == WS_OP_BINARY);
			if (t->msg_len < SHOW_MAX)
				memcpy(t->msg + t->msg_len, p,
				    n < SHOW_MAX - t->msg_len ? n :
				    SHOW_MAX - t->msg_len);
			t->msg_len += n;
			t->msg_hash = fnv(t->msg_hash, p, n);
			break;
		case WS_EV_MSG_END:
			CHECK(ev.opcode == WS_OP_TEXT ||
			    ev.opcode == WS_OP_BINARY);
			tr_printf(t, "%s", ev.opcode == WS_OP_TEXT ? "text" : "bin");
			if (ev.rsv != 0)
				tr_printf(t, "(rsv=%x)", ev.rsv);
			tr_printf(t, ":");
			log_bytes(t, t->msg, t->msg_len, t->msg_hash);
			tr_printf(t, "|");
			t->msg_len = 0;
			t->msg_hash = FNV_INIT;
			break;
		case WS_EV_PING:
		case WS_EV_PONG:
			CHECK_LE(ev.len, WS_MAX_CONTROL);
			tr_printf(t, "%s:", ev.type == WS_EV_PING ? "ping" : "pong");
			log_bytes(t, ev.data, ev.len, 0);
			tr_printf(t, "|");
			break;
		case WS_EV_CLOSE:
			tr_printf(t, "close");
			if (ev.close_code != 0) {
				CHECK_EQ(ev.reason_len + 2, ev.len);
				tr_printf(t, ":%u:", ev.close_code);
				log_bytes(t, ev.reason, ev.reason_len, 0);
			} else
				CHECK_EQ(ev.len, 0);
			tr_printf(t, "|");
			break;
		default:
			ck_abort_msg("bad event type %d", ev.type);
		}
		p += n;
		left -= n;
	}
}

/*
 * Replay in[0..len) through a fresh decoder: whole (cut == len), as
 * [0, cut) and [cut, len), or byte by byte (cut == SIZE_MAX).  Input is
 * copied first, since the decoder unmasks in place.
 */
static void
replay(const struct ws_decoder *proto, const uint8_t *in, size_t len,
    size_t cut, struct transcript *t)
{
	static uint8_t		 buf[BUF_MAX];
	struct ws_decoder	 d = *proto;
	size_t			 off;

	memset(t, 0, sizeof(*t));
	t->msg_hash = FNV_INIT;
	memcpy(buf, in, len);
	if (cut == SIZE_MAX) {
		for (off = 0; off < len; off++)
			if (feed_piece(&d, buf + off, 1, off + 1, t) < 0)
				return;
	} else if (feed_piece(&d, buf, cut, cut, t) == 0)
		feed_piece(&d, buf + cut, len - cut, len, t);
	if (t->err == 0 && (d.d_state != WS_DEC_HEADER || d.d_hdr_have != 0 ||
	    d.d_in_message))
		tr_printf(t, "...");
}

/*
 * Replay every way and compare with the whole-input transcript; on
 * error, check the byte-by-byte replay failed at byte fail_at.
 */
static void
replay_all(const struct ws_decoder *proto, const uint8_t *in, size_t len,
    const char *name, const char *want, long fail_at)
{
	static struct transcript	 whole, t;
	size_t				 cut;

	replay(proto, in, len, len, &whole);
	if (want != NULL)
		ck_assert_msg(strcmp(whole.log, want) == 0,
		    "%s: got \"%s\", want \"%s\"", name, whole.log, want);

	replay(proto, in, len, SIZE_MAX, &t);
	ck_assert_msg(strcmp(t.log, whole.log) == 0,
	    "%s: bytewise \"%s\", whole \"%s\"", name, t.log, whole.log);
	CHECK_EQ(t.err, whole.err);
	if (whole.err != 0)
		ck_assert_msg((long)t.err_end - 1 == fail_at,
		    "%s: failed at byte %zu, want %ld", name, t.err_end - 1,
		    fail_at);

	for (cut = 0; cut <= len; cut++) {
		/* Long inputs: every cut near the ends, a stride between. */
		if (len > 512 && cut > 64 && cut < len - 64 && cut % 997 != 0)
			continue;
		replay(proto, in, len, cut, &t);
		ck_assert_msg(strcmp(t.log, whole.log) == 0,
		    "%s: cut at %zu: \"%s\", whole \"%s\"", name, cut, t.log,
		    whole.log);
	}
}

/* ---- table-driven vectors ---------------------------------------- */

struct frame_spec {
	uint8_t		 b0;
	const char	*data;		/* NULL ends the list */
	size_t		 len;
};

struct vector {
	const char		*name;
	int			 client;	/* decode server frames (unmasked) */
	uint64_t		 max;
	uint8_t			 rsv_allowed;
	uint64_t		 max_transformed;
	struct frame_spec	 f[5];		/* masked with key unless client */
	const char		*raw;		/* appended as is */
	size_t			 rawlen;
	const char		*want;
	int			 err;
	long			 fail_at;	/* byte by byte: the failing byte */
};

#define F(b0, s)	{ b0, s, sizeof(s) - 1 }
#define RAW(s)		.raw = s, .rawlen = sizeof(s) - 1

#define A10	"aaaaaaaaaa"
#define A125	A10 A10 A10 A10 A10 A10 A10 A10 A10 A10 A10 A10 "aaaaa"

/*
 * A masked frame with n (< 126) payload bytes takes 6 + n bytes, which
 * is how the fail_at offsets below are counted.
 */
static const struct vector vectors[] = {
	/* every defined opcode, and message shapes */
	{ "text", .f = { F(0x81, "Hello") }, .want = "text:Hello|" },
	{ "binary", .f = { F(0x82, "\x00\x01\xff") },
	    .want = "bin:\\x00\\x01\\xff|" },
	{ "empty text", .f = { F(0x81, "") }, .want = "text:|" },
	{ "empty binary", .f = { F(0x82, "") }, .want = "bin:|" },
	{ "ping", .f = { F(0x89, "ping!") }, .want = "ping:ping!|" },
	{ "empty ping", .f = { F(0x89, "") }, .want = "ping:|" },
	{ "ping 125", .f = { F(0x89, A125) }, .want = "ping:" A125 "|" },
	{ "pong", .f = { F(0x8a, "x") }, .want = "pong:x|" },
	{ "close empty", .f = { F(0x88, "") }, .want = "close|" },
	{ "close 1000", .f = { F(0x88, "\x03\xe8") }, .want = "close:1000:|" },
	{ "close reason", .f = { F(0x88, "\x03\xe8" "bye") },
	    .want = "close:1000:bye|" },
	{ "close utf8 reason", .f = { F(0x88, "\x0f\xa0\xce\xba") },
	    .want = "close:4000:\\xce\\xba|" },
	{ "two messages", .f = { F(0x81, "a"), F(0x82, "b") },
	    .want = "text:a|bin:b|" },
	{ "fragmented", .f = { F(0x01, "Hel"), F(0x80, "lo") },
	    .want = "text:Hello|" },
	{ "fragmented, ping between", .f = { F(0x01, "Hel"), F(0x89, "p"),
	    F(0x00, ""), F(0x80, "lo") }, .want = "ping:p|text:Hello|" },
	{ "fragmented binary, pong between", .f = { F(0x02, "ab"),
	    F(0x8a, ""), F(0x80, "cd") }, .want = "pong:|bin:abcd|" },
	{ "close between fragments", .f = { F(0x02, "ab"),
	    F(0x88, "\x03\xe9") }, .want = "close:1001:|..." },
	{ "empty fragments", .f = { F(0x01, ""), F(0x00, ""), F(0x80, "") },
	    .want = "text:|" },
	{ "utf8 split over fragments", .f = { F(0x01, "\xce\xba\xe1"),
	    F(0x00, "\xbd"), F(0x80, "\xb9\xcf\x83\xce\xbc\xce\xb5") },
	    .want = "text:\\xce\\xba\\xe1\\xbd\\xb9\\xcf\\x83\\xce\\xbc"
	    "\\xce\\xb5|" },
	{ "binary is not utf8-checked", .f = { F(0x82, "\xff\xc0") },
	    .want = "bin:\\xff\\xc0|" },
	{ "rsv1 allowed", .rsv_allowed = WS_RSV1, .f = { F(0x41, "a"),
	    F(0x00, "b"), F(0x80, "c") }, .want = "text(rsv=40):abc|" },
	/* an extension's message: its bytes are the extension's to check */
	{ "rsv1 text is not utf8-checked", .rsv_allowed = WS_RSV1,
	    .f = { F(0xc1, "\xff\xfe") }, .want = "text(rsv=40):\\xff\\xfe|" },
	{ "rsv1 text may end inside a sequence", .rsv_allowed = WS_RSV1,
	    .f = { F(0x41, "\xce"), F(0x80, "") },
	    .want = "text(rsv=40):\\xce|" },
	{ "rsv1 message bounded by max_transformed", .max = 4,
	    .max_transformed = 8, .rsv_allowed = WS_RSV1,
	    .f = { F(0x42, "abcd"), F(0x80, "efgh") },
	    .want = "bin(rsv=40):abcdefgh|" },
	{ "rsv1 message over max_transformed", .max = 4,
	    .max_transformed = 8, .rsv_allowed = WS_RSV1,
	    .f = { F(0x42, "abcd"), F(0x80, "efghi") },
	    .want = "ERR_TOO_BIG", .err = WS_ERR_TOO_BIG,
	    .fail_at = 11 },
	{ "plain message still bounded by max", .max = 4,
	    .max_transformed = 8, .rsv_allowed = WS_RSV1,
	    .f = { F(0x82, "abcde") }, .want = "ERR_TOO_BIG",
	    .err = WS_ERR_TOO_BIG, .fail_at = 1 },
	{ "truncated header", RAW("\x81\x85\x37"), .want = "..." },
	{ "truncated payload", .f = { F(0x81, "abc") }, RAW("\x82\x83"),
	    .want = "text:abc|..." },
	{ "unfinished message", .f = { F(0x01, "abc") }, .want = "..." },

	/* server frames, as a client decodes them */
	{ "client: text", .client = 1, .f = { F(0x81, "Hello") },
	    .want = "text:Hello|" },
	{ "client: fragments and ping", .client = 1, .f = { F(0x02, "a"),
	    F(0x89, "x"), F(0x80, "b") }, .want = "ping:x|bin:ab|" },
	{ "client: close", .client = 1, .f = { F(0x88, "\x03\xe8" "ok") },
	    .want = "close:1000:ok|" },
	{ "client: masked frame", .client = 1, RAW("\x81\x85\0\0\0\0Hello"),
	    .want = "ERR_MASK", .err = WS_ERR_MASK, .fail_at = 1 },

	/* 1002: protocol errors, each refused at its first bad byte */
	{ "unmasked", RAW("\x81\x05Hello"), .want = "ERR_MASK",
	    .err = WS_ERR_MASK, .fail_at = 1 },
	{ "rsv1", .f = { F(0xc1, "a") }, .want = "ERR_RSV",
	    .err = WS_ERR_RSV },
	{ "rsv2", .f = { F(0xa1, "a") }, .want = "ERR_RSV",
	    .err = WS_ERR_RSV },
	{ "rsv3", .f = { F(0x91, "a") }, .want = "ERR_RSV",
	    .err = WS_ERR_RSV },
	{ "rsv2 with rsv1 allowed", .rsv_allowed = WS_RSV1,
	    .f = { F(0xa1, "a") }, .want = "ERR_RSV", .err = WS_ERR_RSV },
	{ "rsv on ping", .f = { F(0xc9, "") }, .want = "ERR_RSV",
	    .err = WS_ERR_RSV },
	/* an allowed bit marks a message's first frame, nothing else */
	{ "rsv1 on a continuation", .rsv_allowed = WS_RSV1,
	    .f = { F(0x41, "a"), F(0xc0, "b") }, .want = "ERR_RSV",
	    .err = WS_ERR_RSV, .fail_at = 7 },
	{ "rsv1 on a ping", .rsv_allowed = WS_RSV1, .f = { F(0xc9, "") },
	    .want = "ERR_RSV", .err = WS_ERR_RSV },
	{ "rsv1 on a close", .rsv_allowed = WS_RSV1,
	    .f = { F(0xc8, "\x03\xe8") }, .want = "ERR_RSV",
	    .err = WS_ERR_RSV },
	{ "rsv1 on a pong inside a message", .rsv_allowed = WS_RSV1,
	    .f = { F(0x41, "a"), F(0xca, "") }, .want = "ERR_RSV",
	    .err = WS_ERR_RSV, .fail_at = 7 },
	{ "ping not fin", .f = { F(0x09, "") },
	    .want = "ERR_CTRL_FRAGMENTED", .err = WS_ERR_CTRL_FRAGMENTED },
	{ "close not fin", .f = { F(0x08, "") },
	    .want = "ERR_CTRL_FRAGMENTED", .err = WS_ERR_CTRL_FRAGMENTED },
	{ "pong not fin", .f = { F(0x0a, "") },
	    .want = "ERR_CTRL_FRAGMENTED", .err = WS_ERR_CTRL_FRAGMENTED },
	{ "ping 126 (16-bit form)", RAW("\x89\xfe\x00\x7e"),
	    .want = "ERR_CTRL_TOO_LONG", .err = WS_ERR_CTRL_TOO_LONG,
	    .fail_at = 1 },
	{ "close 64-bit form", RAW("\x88\xff"),
	    .want = "ERR_CTRL_TOO_LONG", .err = WS_ERR_CTRL_TOO_LONG,
	    .fail_at = 1 },
	{ "continuation, no message", .f = { F(0x80, "a") },
	    .want = "ERR_CONT_NO_START", .err = WS_ERR_CONT_NO_START },
	{ "non-final continuation, no message", .f = { F(0x00, "a") },
	    .want = "ERR_CONT_NO_START", .err = WS_ERR_CONT_NO_START },
	{ "continuation after final", .f = { F(0x81, "a"), F(0x80, "b") },
	    .want = "text:a|ERR_CONT_NO_START", .err = WS_ERR_CONT_NO_START,
	    .fail_at = 7 },
	{ "text inside message", .f = { F(0x01, "a"), F(0x81, "b") },
	    .want = "ERR_DATA_IN_MESSAGE", .err = WS_ERR_DATA_IN_MESSAGE,
	    .fail_at = 7 },
	{ "binary inside message", .f = { F(0x02, "a"), F(0x89, ""),
	    F(0x02, "b") }, .want = "ping:|ERR_DATA_IN_MESSAGE",
	    .err = WS_ERR_DATA_IN_MESSAGE, .fail_at = 13 },
	{ "16-bit length 125", RAW("\x82\xfe\x00\x7d"),
	    .want = "ERR_NONMINIMAL", .err = WS_ERR_NONMINIMAL, .fail_at = 3 },
	{ "16-bit length 0", RAW("\x82\xfe\x00\x00"),
	    .want = "ERR_NONMINIMAL", .err = WS_ERR_NONMINIMAL, .fail_at = 3 },
	{ "64-bit length 65535", RAW("\x82\xff\0\0\0\0\0\0\xff\xff"),
	    .want = "ERR_NONMINIMAL", .err = WS_ERR_NONMINIMAL, .fail_at = 7 },
	{ "64-bit length 0", RAW("\x82\xff\0\0\0\0\0\0\0\0"),
	    .want = "ERR_NONMINIMAL", .err = WS_ERR_NONMINIMAL, .fail_at = 7 },
	{ "64-bit length msb", RAW("\x82\xff\x80\0\0\0\0\0\0\0"),
	    .want = "ERR_LENGTH", .err = WS_ERR_LENGTH, .fail_at = 2 },
	{ "64-bit length all ones", RAW("\x82\xff\xff\xff\xff\xff\xff\xff"
	    "\xff\xff"), .want = "ERR_LENGTH", .err = WS_ERR_LENGTH,
	    .fail_at = 2 },
	{ "close 1 byte", .f = { F(0x88, "\x03") },
	    .want = "ERR_CLOSE_PAYLOAD", .err = WS_ERR_CLOSE_PAYLOAD,
	    .fail_at = 1 },
	{ "close 1005", .f = { F(0x88, "\x03\xed") },
	    .want = "ERR_CLOSE_CODE", .err = WS_ERR_CLOSE_CODE, .fail_at = 7 },
	{ "close 0 with reason", .f = { F(0x88, "\x00\x00" "x") },
	    .want = "ERR_CLOSE_CODE", .err = WS_ERR_CLOSE_CODE, .fail_at = 7 },

	/* 1007: UTF-8, failing at the first bad byte */
	{ "bad utf8", .f = { F(0x81, "ab\xff" "cd") }, .want = "ERR_UTF8",
	    .err = WS_ERR_UTF8, .fail_at = 8 },
	{ "overlong", .f = { F(0x81, "\xc0\xaf") }, .want = "ERR_UTF8",
	    .err = WS_ERR_UTF8, .fail_at = 6 },
	{ "surrogate", .f = { F(0x81, "\xed\xa0\x80") }, .want = "ERR_UTF8",
	    .err = WS_ERR_UTF8, .fail_at = 7 },
	{ "above U+10FFFF", .f = { F(0x81, "\xf4\x90\x80\x80") },
	    .want = "ERR_UTF8", .err = WS_ERR_UTF8, .fail_at = 7 },
	{ "bad utf8 across fragments", .f = { F(0x01, "\xce"),
	    F(0x80, "A") }, .want = "ERR_UTF8", .err = WS_ERR_UTF8,
	    .fail_at = 13 },
	{ "bad utf8 in 2nd fragment, ping between", .f = { F(0x01, "ok"),
	    F(0x89, "p"), F(0x00, "fine"), F(0x80, "\xe2\x82" "x") },
	    .want = "ping:p|ERR_UTF8", .err = WS_ERR_UTF8, .fail_at = 33 },
	{ "text ends mid-sequence", .f = { F(0x81, "a\xce") },
	    .want = "ERR_UTF8", .err = WS_ERR_UTF8, .fail_at = 7 },
	{ "text ends mid-sequence, empty final", .f = { F(0x01, "a\xce"),
	    F(0x80, "") }, .want = "ERR_UTF8", .err = WS_ERR_UTF8,
	    .fail_at = 13 },
	{ "close reason bad utf8", .f = { F(0x88, "\x03\xe8\xff") },
	    .want = "ERR_UTF8", .err = WS_ERR_UTF8, .fail_at = 8 },
	{ "close reason truncated utf8", .f = { F(0x88, "\x03\xe8" "a\xce") },
	    .want = "ERR_UTF8", .err = WS_ERR_UTF8, .fail_at = 9 },

	/* 1009: max message size, refused from the header */
	{ "at max", .max = 5, .f = { F(0x81, "Hello") },
	    .want = "text:Hello|" },
	{ "over max", .max = 4, .f = { F(0x81, "Hello") },
	    .want = "ERR_TOO_BIG", .err = WS_ERR_TOO_BIG, .fail_at = 1 },
	{ "fragments at max", .max = 4, .f = { F(0x01, "ab"), F(0x80, "cd") },
	    .want = "text:abcd|" },
	{ "fragments over max", .max = 4, .f = { F(0x01, "ab"),
	    F(0x80, "cde") }, .want = "ERR_TOO_BIG", .err = WS_ERR_TOO_BIG,
	    .fail_at = 9 },
	{ "control frames do not count", .max = 4, .f = { F(0x01, "ab"),
	    F(0x89, "12345"), F(0x80, "cd") }, .want = "ping:12345|text:abcd|" },
	{ "each message counts anew", .max = 3, .f = { F(0x81, "abc"),
	    F(0x82, "def") }, .want = "text:abc|bin:def|" },
	{ "16-bit length over max", .max = 255, RAW("\x82\xfe\x01\x00"),
	    .want = "ERR_TOO_BIG", .err = WS_ERR_TOO_BIG, .fail_at = 3 },
	{ "64-bit length over max", .max = 1 << 20,
	    RAW("\x82\xff\x7f\xff\xff\xff\xff\xff\xff\xff"),
	    .want = "ERR_TOO_BIG", .err = WS_ERR_TOO_BIG, .fail_at = 9 },
	{ "huge fragment after one", .max = (uint64_t)1 << 62,
	    .f = { F(0x02, "ab") },
	    RAW("\x80\xff\x7f\xff\xff\xff\xff\xff\xff\xff"),
	    .want = "ERR_TOO_BIG", .err = WS_ERR_TOO_BIG, .fail_at = 17 },
	{ "huge length, no limit", RAW("\x82\xff\x7f\xff\xff\xff\xff\xff\xff"
	    "\xff\0\0\0\0" "abc"), .want = "..." },
};
#define NVECTORS	(sizeof(vectors) / sizeof(vectors[0]))

static size_t
build(const struct vector *v, uint8_t *out)
{
	const struct frame_spec	*f;
	size_t			 n = 0;

	for (f = v->f; f < v->f + 5 && f->data != NULL; f++)
		n += put_frame(out + n, f->b0, f->data, f->len,
		    v->client ? NULL : key);
	if (v->rawlen > 0)
		memcpy(out + n, v->raw, v->rawlen);
	return n + v->rawlen;
}

START_TEST(test_vector)
{
	static uint8_t		 in[BUF_MAX];
	const struct vector	*v = &vectors[_i];
	struct ws_decoder	 d;
	size_t			 len;

	ws_decoder_init(&d, !v->client, v->max);
	d.d_rsv_allowed = v->rsv_allowed;
	d.d_max_transformed = v->max_transformed;
	len = build(v, in);
	replay_all(&d, in, len, v->name, v->want, v->fail_at);
	if (v->err != 0)
		ck_assert_uint_eq(ws_error_close_code(v->err),
		    v->err == WS_ERR_UTF8 ? WS_CLOSE_BAD_DATA :
		    v->err == WS_ERR_TOO_BIG ? WS_CLOSE_TOO_BIG :
		    WS_CLOSE_PROTOCOL);
}
END_TEST

/* ---- every opcode ------------------------------------------------ */

START_TEST(test_opcode)
{
	static const char	*want[16] = {
		"ERR_CONT_NO_START", "text:x|", "bin:x|", "ERR_OPCODE",
		"ERR_OPCODE", "ERR_OPCODE", "ERR_OPCODE", "ERR_OPCODE",
		NULL, "ping:x|", "pong:x|", "ERR_OPCODE",
		"ERR_OPCODE", "ERR_OPCODE", "ERR_OPCODE", "ERR_OPCODE"
	};
	struct ws_decoder	 d;
	struct ws_event		 ev;
	uint8_t			 in[16], b;
	size_t			 len;
	int			 op = _i;

	ws_decoder_init(&d, 1, 0);
	if (op == WS_OP_CLOSE) {
		len = put_frame(in, 0x80 | op, "\x03\xe8" "x", 3, key);
		replay_all(&d, in, len, "close", "close:1000:x|", 0);
	} else {
		len = put_frame(in, 0x80 | op, "x", 1, key);
		replay_all(&d, in, len, want[op], want[op], 0);
	}
	/* A reserved opcode is refused on the first byte alone. */
	if (want[op] != NULL && strcmp(want[op], "ERR_OPCODE") == 0) {
		ws_decoder_init(&d, 1, 0);
		b = 0x80 | op;
		ck_assert_int_eq(ws_decode(&d, &b, 1, &ev), WS_ERR_OPCODE);
		ck_assert_uint_eq(ws_error_close_code(WS_ERR_OPCODE),
		    WS_CLOSE_PROTOCOL);
	}
}
END_TEST

/* ---- payload lengths in every form -------------------------------- */

static const size_t lengths[] = { 0, 1, 125, 126, 127, 65535, 65536,
    70000 };

static void
fill(uint8_t *p, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		p[i] = 'a' + i % 26;
}

START_TEST(test_length)
{
	static uint8_t		 payload[70000], in[BUF_MAX], hdr[WS_MAX_HEADER];
	static const uint8_t	 want_hdr[][WS_MAX_HEADER] = {
		{ 0x82, 0 }, { 0x82, 1 }, { 0x82, 125 }, { 0x82, 126, 0, 126 },
		{ 0x82, 126, 0, 127 }, { 0x82, 126, 0xff, 0xff },
		{ 0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0 },
		{ 0x82, 127, 0, 0, 0, 0, 0, 1, 0x11, 0x70 }
	};
	static const size_t	 want_hlen[] = { 2, 2, 2, 4, 4, 4, 10, 10 };
	struct ws_decoder	 d;
	char			 want[SHOW_MAX + 32], name[32];
	size_t			 plen = lengths[_i], len, hlen;

	fill(payload, plen);
	if (plen <= SHOW_MAX)
		snprintf(want, sizeof(want), "bin:%.*s|", (int)plen,
		    (const char *)payload);
	else
		snprintf(want, sizeof(want), "bin:#%zu/%08x|", plen,
		    fnv(FNV_INIT, payload, plen));
	snprintf(name, sizeof(name), "length %zu", plen);

	/* The encoder's header, byte for byte. */
	hlen = ws_encode_header(hdr, 1, WS_OP_BINARY, 0, plen, NULL);
	ck_assert_uint_eq(hlen, want_hlen[_i]);
	ck_assert(memcmp(hdr, want_hdr[_i], hlen) == 0);
	hlen = ws_encode_header(hdr, 1, WS_OP_BINARY, 0, plen, key);
	ck_assert_uint_eq(hlen, want_hlen[_i] + 4);
	ck_assert_uint_eq(hdr[1], want_hdr[_i][1] | 0x80);
	ck_assert(memcmp(hdr + hlen - 4, key, 4) == 0);

	/* Decoded by a server, masked. */
	len = put_frame(in, 0x82, payload, plen, key);
	ws_decoder_init(&d, 1, 0);
	replay_all(&d, in, len, name, want, 0);

	/* A limit one byte short refuses it once the length is known. */
	if (plen > 1) {
		ws_decoder_init(&d, 1, plen - 1);
		replay_all(&d, in, len, name, "ERR_TOO_BIG",
		    (long)want_hlen[_i] - 1);
	}

	/* Decoded by a client, unmasked. */
	len = put_frame(in, 0x82, payload, plen, NULL);
	ws_decoder_init(&d, 0, plen);
	replay_all(&d, in, len, name, want, 0);
}
END_TEST

/* ---- masking ------------------------------------------------------ */

START_TEST(test_mask)
{
	uint8_t		 buf[64 + 8], ref[64 + 8];
	size_t		 align, len, i;
	uint64_t	 off;

	for (align = 0; align < 8; align++) {
		for (len = 0; len <= 64; len++) {
			for (off = 0; off < 9; off++) {
				fill(buf + align, len);
				fill(ref, len);
				for (i = 0; i < len; i++)
					ref[i] ^= key[(off + i) % 4];
				ws_mask(buf + align, len, key, off);
				if (memcmp(buf + align, ref, len) != 0)
					ck_abort_msg("align %zu len %zu off %ju",
					    align, len, (uintmax_t)off);
				/* Masking is its own inverse. */
				ws_mask(buf + align, len, key, off);
				fill(ref, len);
				if (memcmp(buf + align, ref, len) != 0)
					ck_abort_msg("unmask: align %zu len %zu",
					    align, len);
			}
		}
	}
	/* Large offsets still start from offset % 4. */
	fill(buf, 16);
	fill(ref, 16);
	ws_mask(buf, 16, key, (uint64_t)1 << 40 | 3);
	for (i = 0; i < 16; i++)
		ref[i] ^= key[(3 + i) % 4];
	ck_assert(memcmp(buf, ref, 16) == 0);
}
END_TEST

/* RFC 6455 section 5.7's examples. */
START_TEST(test_rfc_examples)
{
	static const uint8_t	 masked[] = { 0x81, 0x85, 0x37, 0xfa, 0x21,
				    0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58 };
	static const uint8_t	 unmasked[] = { 0x81, 0x05, 0x48, 0x65, 0x6c,
				    0x6c, 0x6f };
	static const uint8_t	 frags[] = { 0x01, 0x03, 0x48, 0x65, 0x6c,
				    0x80, 0x02, 0x6c, 0x6f };
	static const uint8_t	 ping[] = { 0x89, 0x05, 0x48, 0x65, 0x6c,
				    0x6c, 0x6f };
	uint8_t			 hdr[WS_MAX_HEADER];
	struct ws_decoder	 d;

	ws_decoder_init(&d, 1, 0);
	replay_all(&d, masked, sizeof(masked), "masked", "text:Hello|", 0);
	ws_decoder_init(&d, 0, 0);
	replay_all(&d, unmasked, sizeof(unmasked), "unmasked", "text:Hello|",
	    0);
	replay_all(&d, frags, sizeof(frags), "fragments", "text:Hello|", 0);
	replay_all(&d, ping, sizeof(ping), "ping", "ping:Hello|", 0);

	ck_assert_uint_eq(ws_encode_header(hdr, 1, WS_OP_TEXT, 0, 5, key), 6);
	ck_assert(memcmp(hdr, masked, 6) == 0);
	ck_assert_uint_eq(ws_encode_header(hdr, 0, WS_OP_TEXT, 0, 3, NULL), 2);
	ck_assert(memcmp(hdr, frags, 2) == 0);
	ck_assert_uint_eq(ws_encode_header(hdr, 1, WS_OP_CONT, 0, 2, NULL), 2);
	ck_assert(memcmp(hdr, frags + 5, 2) == 0);
	ck_assert_uint_eq(ws_encode_header(hdr, 1, WS_OP_PING, 0, 5, NULL), 2);
	ck_assert(memcmp(hdr, ping, 2) == 0);
	ck_assert_uint_eq(ws_encode_header(hdr, 1, WS_OP_TEXT,
	    WS_RSV1 | WS_RSV3, 0, NULL), 2);
	ck_assert_uint_eq(hdr[0], 0x80 | WS_RSV1 | WS_RSV3 | WS_OP_TEXT);
}
END_TEST

/* ---- the event sequence, call by call ----------------------------- */

START_TEST(test_call_sequence)
{
	uint8_t			 in[64];
	struct ws_decoder	 d;
	struct ws_event		 ev;
	size_t			 len;

	ws_decoder_init(&d, 1, 0);
	ck_assert(ws_decoder_at_rest(&d));
	len = put_frame(in, 0x81, "Hi", 2, key);
	len += put_frame(in + len, 0x89, "p", 1, key);
	len += put_frame(in + len, 0x82, "", 0, key);

	/* A header cut short: the decoder holds it. */
	ck_assert_int_eq(ws_decode(&d, in, 1, &ev), 1);
	ck_assert(!ws_decoder_at_rest(&d));
	/* Header alone: consumed, no event. */
	ck_assert_int_eq(ws_decode(&d, in + 1, len - 1, &ev), 5);
	ck_assert_int_eq(ev.type, WS_EV_NONE);
	ck_assert(!ws_decoder_at_rest(&d));
	/* Payload: unmasked in place, handed back as DATA. */
	ck_assert_int_eq(ws_decode(&d, in + 6, len - 6, &ev), 2);
	ck_assert_int_eq(ev.type, WS_EV_DATA);
	ck_assert_int_eq(ev.opcode, WS_OP_TEXT);
	ck_assert_ptr_eq(ev.data, in + 6);
	ck_assert(memcmp(in + 6, "Hi", 2) == 0);
	ck_assert(!ws_decoder_at_rest(&d));
	/* MSG_END takes no bytes. */
	ck_assert_int_eq(ws_decode(&d, in + 8, len - 8, &ev), 0);
	ck_assert_int_eq(ev.type, WS_EV_MSG_END);
	ck_assert_int_eq(ev.opcode, WS_OP_TEXT);
	ck_assert(ws_decoder_at_rest(&d));
	/* A control frame comes whole: header and payload in one call. */
	ck_assert_int_eq(ws_decode(&d, in + 8, len - 8, &ev), 7);
	ck_assert_int_eq(ev.type, WS_EV_PING);
	ck_assert_uint_eq(ev.len, 1);
	ck_assert_int_eq(ev.data[0], 'p');
	ck_assert_ptr_eq(ev.data, d.d_ctrl);
	ck_assert(ws_decoder_at_rest(&d));
	/* An empty final frame: MSG_END as its header is consumed. */
	ck_assert_int_eq(ws_decode(&d, in + 15, len - 15, &ev), 6);
	ck_assert_int_eq(ev.type, WS_EV_MSG_END);
	ck_assert_int_eq(ev.opcode, WS_OP_BINARY);
	ck_assert_uint_eq(len, 21);
	ck_assert_int_eq(ws_decode(&d, in + 21, 0, &ev), 0);
	ck_assert_int_eq(ev.type, WS_EV_NONE);
	ck_assert(ws_decoder_at_rest(&d));

	/* A fragmented message stays open between its frames. */
	len = put_frame(in, 0x01, "a", 1, key);
	len += put_frame(in + len, 0x80, "b", 1, key);
	ck_assert_int_eq(ws_decode(&d, in, len, &ev), 6);
	ck_assert_int_eq(ws_decode(&d, in + 6, len - 6, &ev), 1);
	ck_assert_int_eq(ev.type, WS_EV_DATA);
	ck_assert(!ws_decoder_at_rest(&d));
	ck_assert_int_eq(ws_decode(&d, in + 7, len - 7, &ev), 6);
	ck_assert(!ws_decoder_at_rest(&d));
	ck_assert_int_eq(ws_decode(&d, in + 13, len - 13, &ev), 1);
	ck_assert_int_eq(ws_decode(&d, in + 14, len - 14, &ev), 0);
	ck_assert_int_eq(ev.type, WS_EV_MSG_END);
	ck_assert(ws_decoder_at_rest(&d));
}
END_TEST

/* ---- close frames --------------------------------------------------- */

static const struct {
	unsigned int	 code;
	int		 valid;
} close_codes[] = {
	{ 0, 0 }, { 1, 0 }, { 999, 0 }, { 1000, 1 }, { 1001, 1 }, { 1002, 1 },
	{ 1003, 1 }, { 1004, 0 }, { 1005, 0 }, { 1006, 0 }, { 1007, 1 },
	{ 1008, 1 }, { 1009, 1 }, { 1010, 1 }, { 1011, 1 }, { 1012, 0 },
	{ 1013, 0 }, { 1014, 0 }, { 1015, 0 }, { 1016, 0 }, { 1100, 0 },
	{ 2000, 0 }, { 2999, 0 }, { 3000, 1 }, { 3999, 1 }, { 4000, 1 },
	{ 4999, 1 }, { 5000, 0 }, { 65535, 0 }
};

START_TEST(test_close_code)
{
	unsigned int		 code = close_codes[_i].code;
	int			 valid = close_codes[_i].valid;
	struct ws_decoder	 d;
	uint8_t			 in[32], pl[WS_MAX_CONTROL];
	char			 want[64];
	size_t			 len, plen;

	ck_assert_int_eq(ws_close_code_valid(code), valid);
	if (code == 0)
		return;		/* ws_close_payload() makes that empty */
	plen = ws_close_payload(pl, code, "why", 3);
	ck_assert_uint_eq(plen, 5);
	ck_assert_uint_eq(pl[0] << 8 | pl[1], code);
	len = put_frame(in, 0x88, pl, plen, key);
	snprintf(want, sizeof(want), valid ? "close:%u:why|" :
	    "ERR_CLOSE_CODE", code);
	ws_decoder_init(&d, 1, 0);
	replay_all(&d, in, len, want, want, 7);	/* the code's 2nd byte */
}
END_TEST

START_TEST(test_close_payload)
{
	uint8_t			 out[WS_MAX_CONTROL], in[WS_MAX_CONTROL + 16];
	char			 reason[200];
	struct ws_decoder	 d;
	struct ws_event		 ev;
	size_t			 n, len;

	ck_assert_uint_eq(ws_close_payload(out, 0, "ignored", 7), 0);
	ck_assert_uint_eq(ws_close_payload(out, 1000, NULL, 0), 2);
	ck_assert(memcmp(out, "\x03\xe8", 2) == 0);
	ck_assert_uint_eq(ws_close_payload(out, 1001, "bye", 3), 5);
	ck_assert(memcmp(out, "\x03\xe9" "bye", 5) == 0);

	/* ASCII reasons are cut at exactly 123 bytes. */
	memset(reason, 'r', sizeof(reason));
	ck_assert_uint_eq(ws_close_payload(out, 1000, reason, 123), 125);
	ck_assert_uint_eq(ws_close_payload(out, 1000, reason, 124), 125);
	ck_assert_uint_eq(ws_close_payload(out, 1000, reason, 200), 125);

	/* Never inside a code point: a 3-byte one straddling byte 123. */
	memcpy(reason + 121, "\xe2\x82\xac", 3);
	ck_assert_uint_eq(ws_close_payload(out, 1000, reason, 200), 2 + 121);
	memset(reason, 'r', sizeof(reason));
	memcpy(reason + 120, "\xe2\x82\xac", 3);	/* ends at 123 */
	ck_assert_uint_eq(ws_close_payload(out, 1000, reason, 200), 125);
	memset(reason, 'r', sizeof(reason));
	memcpy(reason + 122, "\xc3\xa9", 2);
	ck_assert_uint_eq(ws_close_payload(out, 1000, reason, 200), 2 + 122);

	/* What it builds, a decoder accepts. */
	n = ws_close_payload(out, 1000, reason, 200);
	len = put_frame(in, 0x88, out, n, NULL);
	ws_decoder_init(&d, 0, 0);
	ck_assert_int_eq(ws_decode(&d, in, len, &ev), (ssize_t)len);
	ck_assert_int_eq(ev.type, WS_EV_CLOSE);
	ck_assert_uint_eq(ev.close_code, 1000);
	ck_assert_uint_eq(ev.reason_len, 122);
	ck_assert(memcmp(ev.reason, reason, 122) == 0);

	/* An empty close: code 0, no reason. */
	len = put_frame(in, 0x88, "", 0, NULL);
	ws_decoder_init(&d, 0, 0);
	ck_assert_int_eq(ws_decode(&d, in, len, &ev), 2);
	ck_assert_int_eq(ev.type, WS_EV_CLOSE);
	ck_assert_uint_eq(ev.close_code, 0);
	ck_assert_uint_eq(ev.reason_len, 0);
}
END_TEST

/* ---- encode -> decode ----------------------------------------------- */

START_TEST(test_round_trip)
{
	static uint8_t		 in[BUF_MAX], payload[70000];
	static const size_t	 sizes[] = { 0, 5, 125, 126, 65535, 65536 };
	struct ws_decoder	 d;
	char			 want[SHOW_MAX + 32];
	size_t			 i, len, plen, h;
	int			 masked = _i;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		plen = sizes[i];
		fill(payload, plen);
		/* A server's text message in two fragments, a ping between. */
		len = ws_encode_header(in, 0, WS_OP_TEXT, 0, plen / 2,
		    masked ? key : NULL);
		memcpy(in + len, payload, plen / 2);
		if (masked)
			ws_mask(in + len, plen / 2, key, 0);
		len += plen / 2;
		len += ws_encode_header(in + len, 1, WS_OP_PING, 0, 2,
		    masked ? key : NULL);
		memcpy(in + len, "pi", 2);
		if (masked)
			ws_mask(in + len, 2, key, 0);
		len += 2;
		h = ws_encode_header(in + len, 1, WS_OP_CONT, 0,
		    plen - plen / 2, masked ? key : NULL);
		memcpy(in + len + h, payload + plen / 2, plen - plen / 2);
		/* Mask the tail a few bytes at a time, as a sender might. */
		if (masked) {
			ws_mask(in + len + h, plen - plen / 2 < 3 ?
			    plen - plen / 2 : 3, key, 0);
			if (plen - plen / 2 > 3)
				ws_mask(in + len + h + 3, plen - plen / 2 - 3,
				    key, 3);
		}
		len += h + plen - plen / 2;

		if (plen <= SHOW_MAX)
			snprintf(want, sizeof(want), "ping:pi|text:%.*s|",
			    (int)plen, (const char *)payload);
		else
			snprintf(want, sizeof(want), "ping:pi|text:#%zu/%08x|",
			    plen, fnv(FNV_INIT, payload, plen));
		/* Client frames to a server decoder, server frames to a client. */
		ws_decoder_init(&d, masked, 0);
		replay_all(&d, in, len, masked ? "masked" : "unmasked", want, 0);
	}
}
END_TEST

/* ---- error mapping -------------------------------------------------- */

START_TEST(test_errors)
{
	static const int	 proto[] = { WS_ERR_PROTO, WS_ERR_MASK,
				    WS_ERR_RSV, WS_ERR_OPCODE,
				    WS_ERR_CTRL_FRAGMENTED,
				    WS_ERR_CTRL_TOO_LONG,
				    WS_ERR_CONT_NO_START,
				    WS_ERR_DATA_IN_MESSAGE, WS_ERR_NONMINIMAL,
				    WS_ERR_LENGTH, WS_ERR_CLOSE_PAYLOAD,
				    WS_ERR_CLOSE_CODE };
	size_t			 i, j;

	for (i = 0; i < sizeof(proto) / sizeof(proto[0]); i++) {
		ck_assert_uint_eq(ws_error_close_code(proto[i]),
		    WS_CLOSE_PROTOCOL);
		ck_assert_ptr_nonnull(ws_strerror(proto[i]));
		for (j = 0; j < i; j++)
			ck_assert_str_ne(ws_strerror(proto[i]),
			    ws_strerror(proto[j]));
	}
	ck_assert_uint_eq(ws_error_close_code(WS_ERR_UTF8), WS_CLOSE_BAD_DATA);
	ck_assert_uint_eq(ws_error_close_code(WS_ERR_TOO_BIG),
	    WS_CLOSE_TOO_BIG);
	ck_assert_str_ne(ws_strerror(WS_ERR_UTF8), ws_strerror(0));
	ck_assert_str_ne(ws_strerror(WS_ERR_TOO_BIG), ws_strerror(0));
	ck_assert_ptr_nonnull(ws_strerror(-1));
}
END_TEST

Suite *
ws_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("ws");

	tc = tcase_create("vectors");
	tcase_add_loop_test(tc, test_vector, 0, NVECTORS);
	tcase_add_loop_test(tc, test_opcode, 0, 16);
	tcase_add_test(tc, test_rfc_examples);
	tcase_add_test(tc, test_call_sequence);
	suite_add_tcase(s, tc);

	tc = tcase_create("lengths");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_length, 0,
	    sizeof(lengths) / sizeof(lengths[0]));
	tcase_add_loop_test(tc, test_round_trip, 0, 2);
	tcase_add_test(tc, test_mask);
	suite_add_tcase(s, tc);

	tc = tcase_create("close");
	tcase_add_loop_test(tc, test_close_code, 0,
	    sizeof(close_codes) / sizeof(close_codes[0]));
	tcase_add_test(tc, test_close_payload);
	tcase_add_test(tc, test_errors);
	suite_add_tcase(s, tc);

	return s;
}
