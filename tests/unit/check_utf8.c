/*
 * Unit tests for the incremental UTF-8 validator: Markus Kuhn's stress
 * cases and friends, each fed whole, byte by byte and cut at every
 * point, plus exhaustive comparison with a plain reference decoder.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "utf8.h"

Suite	*utf8_suite(void);

struct utf8_vec {
	const char	*name;
	const char	*s;
	size_t		 len;
	int		 result;	/* enum utf8_result at the end */
	size_t		 bad;		/* UTF8_INVALID: offset of the bad byte */
};

#define OK(n, s)	{ n, s, sizeof(s) - 1, UTF8_OK, 0 }
#define PART(n, s)	{ n, s, sizeof(s) - 1, UTF8_PARTIAL, 0 }
#define BAD(n, s, at)	{ n, s, sizeof(s) - 1, UTF8_INVALID, at }

static const struct utf8_vec vecs[] = {
	OK("empty", ""),
	OK("ascii", "Hello, world"),
	OK("nul", "\x00"),
	OK("kosme", "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"),
	OK("autobahn 6.2", "Hello-\xc2\xb5@\xc3\x9f\xc3\xb6\xc3\xa4\xc3\xbc"
	    "\xc3\xa0\xc3\xa1-UTF-8!!"),
	/* 2.1 first possible sequence of each length */
	OK("first 2", "\xc2\x80"),
	OK("first 3", "\xe0\xa0\x80"),
	OK("first 4", "\xf0\x90\x80\x80"),
	/* 2.2 last possible sequence of each length */
	OK("last 1", "\x7f"),
	OK("last 2", "\xdf\xbf"),
	OK("last 3", "\xef\xbf\xbf"),
	OK("U+10FFFF", "\xf4\x8f\xbf\xbf"),
	BAD("U+1FFFFF", "\xf7\xbf\xbf\xbf", 0),
	/* 2.3 other boundaries */
	OK("U+D7FF", "\xed\x9f\xbf"),
	OK("U+E000", "\xee\x80\x80"),
	OK("U+FFFD", "\xef\xbf\xbd"),
	BAD("U+110000", "\xf4\x90\x80\x80", 1),
	BAD("F5 lead", "\xf5\x80\x80\x80", 0),
	/* 3.1 unexpected continuation bytes */
	BAD("lone 80", "\x80", 0),
	BAD("lone BF", "\xbf", 0),
	BAD("ascii then 80", "a\x80\xbf", 1),
	BAD("extra continuation", "\xce\xba\xba", 2),
	/* 3.2 lonely start characters */
	BAD("C0 space", "\xc0 ", 0),
	BAD("C2 space", "\xc2 ", 1),
	BAD("E0 space", "\xe0 ", 1),
	BAD("F0 space", "\xf0 ", 1),
	BAD("F8 space", "\xf8 ", 0),
	BAD("FC space", "\xfc ", 0),
	/* 3.3 last continuation byte missing (at the end: partial) */
	PART("C2 end", "\xc2"),
	PART("E0 A0 end", "\xe0\xa0"),
	PART("F0 90 80 end", "\xf0\x90\x80"),
	PART("DF end", "\xdf"),
	PART("EF BF end", "\xef\xbf"),
	PART("F4 8F BF end", "\xf4\x8f\xbf"),
	PART("ascii then E2", "abcdefghijk\xe2"),
	/* 3.4 incomplete sequences run together */
	BAD("C2 E0 A0", "\xc2\xe0\xa0", 1),
	BAD("E0 A0 then a", "\xe0\xa0" "a", 2),
	/* 3.5 impossible bytes */
	BAD("FE", "\xfe", 0),
	BAD("FF", "\xff", 0),
	BAD("FE FE FF FF", "\xfe\xfe\xff\xff", 0),
	/* 4.1 overlong '/' */
	BAD("overlong / 2", "\xc0\xaf", 0),
	BAD("overlong / 3", "\xe0\x80\xaf", 1),
	BAD("overlong / 4", "\xf0\x80\x80\xaf", 1),
	BAD("overlong / 5", "\xf8\x80\x80\x80\xaf", 0),
	BAD("overlong / 6", "\xfc\x80\x80\x80\x80\xaf", 0),
	/* 4.2 maximum overlongs */
	BAD("max overlong 2", "\xc1\xbf", 0),
	BAD("max overlong 3", "\xe0\x9f\xbf", 1),
	BAD("max overlong 4", "\xf0\x8f\xbf\xbf", 1),
	/* 4.3 overlong NUL */
	BAD("overlong NUL 2", "\xc0\x80", 0),
	BAD("overlong NUL 3", "\xe0\x80\x80", 1),
	BAD("overlong NUL 4", "\xf0\x80\x80\x80", 1),
	/* 5.1 single surrogates */
	BAD("U+D800", "\xed\xa0\x80", 1),
	BAD("U+DB7F", "\xed\xad\xbf", 1),
	BAD("U+DB80", "\xed\xae\x80", 1),
	BAD("U+DBFF", "\xed\xaf\xbf", 1),
	BAD("U+DC00", "\xed\xb0\x80", 1),
	BAD("U+DF80", "\xed\xbe\x80", 1),
	BAD("U+DFFF", "\xed\xbf\xbf", 1),
	/* 5.2 paired surrogates */
	BAD("U+D800 U+DC00", "\xed\xa0\x80\xed\xb0\x80", 1),
	BAD("U+DBFF U+DFFF", "\xed\xaf\xbf\xed\xbf\xbf", 1),
	/* 5.3 noncharacters are valid UTF-8 */
	OK("U+FFFE", "\xef\xbf\xbe"),
	OK("U+FFFF", "\xef\xbf\xbf"),
	/* the ASCII fast path hands over to the DFA at the right byte */
	BAD("after 15 ascii", "abcdefghijklmno\xff", 15),
	BAD("after words and kappa", "abcdefgh\xce\xba" "ijklmnop\x80", 18),
	OK("long mixed", "0123456789abcdef\xce\xba" "0123456789abcdef"
	    "\xf0\x9f\x98\x80" "0123456789abcdef\xe2\x82\xac"),
	BAD("bad after long valid", "0123456789abcdef\xce\xba"
	    "0123456789abcdef\xed\xa0\x80", 35),
};
#define NVECS	(sizeof(vecs) / sizeof(vecs[0]))

struct feed_result {
	int	 result;
	size_t	 bad;		/* absolute offset of the bad byte */
};

/*
 * Feed one piece at offset off.  Returns 1 once the text is refused, and
 * then checks that the state stays rejected.
 */
static int
feed_piece(struct utf8_state *u, const uint8_t *s, size_t off, size_t n,
    struct feed_result *r)
{
	size_t	 bad = SIZE_MAX;

	r->result = utf8_feed(u, s + off, n, &bad);
	if (r->result == UTF8_INVALID) {
		ck_assert_uint_lt(bad, n);
		r->bad = off + bad;
		ck_assert_int_eq(utf8_feed(u, (const uint8_t *)"a", 1, NULL),
		    UTF8_INVALID);
		ck_assert(!utf8_complete(u));
		return 1;
	}
	ck_assert_uint_eq(bad, SIZE_MAX);	/* untouched unless invalid */
	ck_assert_int_eq(utf8_complete(u), r->result == UTF8_OK);
	return 0;
}

/*
 * Feed s as [0, cut) then [cut, len), or one byte at a time when cut is
 * SIZE_MAX, as wslay's tests replay their scripts.
 */
static struct feed_result
feed_split(const uint8_t *s, size_t len, size_t cut)
{
	struct utf8_state	 u;
	struct feed_result	 r = { UTF8_OK, 0 };
	size_t			 off;

	utf8_init(&u);
	if (cut == SIZE_MAX) {
		for (off = 0; off < len; off++)
			if (feed_piece(&u, s, off, 1, &r))
				break;
	} else if (!feed_piece(&u, s, 0, cut, &r))
		feed_piece(&u, s, cut, len - cut, &r);
	return r;
}

START_TEST(test_vectors)
{
	const struct utf8_vec	*v = &vecs[_i];
	const uint8_t		*s = (const uint8_t *)v->s;
	struct feed_result	 r;
	size_t			 cut;

	r = feed_split(s, v->len, v->len);
	ck_assert_msg(r.result == v->result, "%s: whole: %d, want %d",
	    v->name, r.result, v->result);
	if (v->result == UTF8_INVALID)
		ck_assert_msg(r.bad == v->bad, "%s: bad at %zu, want %zu",
		    v->name, r.bad, v->bad);

	r = feed_split(s, v->len, SIZE_MAX);
	ck_assert_msg(r.result == v->result, "%s: bytewise", v->name);
	if (v->result == UTF8_INVALID)
		ck_assert_uint_eq(r.bad, v->bad);

	for (cut = 0; cut <= v->len; cut++) {
		r = feed_split(s, v->len, cut);
		ck_assert_msg(r.result == v->result, "%s: cut at %zu",
		    v->name, cut);
		if (v->result == UTF8_INVALID)
			ck_assert_uint_eq(r.bad, v->bad);
	}

	ck_assert_int_eq(utf8_valid(s, v->len), v->result == UTF8_OK);
}
END_TEST

/* A straightforward decoder to check the DFA against. */
static int
ref_valid(const uint8_t *s, size_t n)
{
	uint32_t	 cp, min;
	size_t		 i = 0, k, need;

	while (i < n) {
		if (s[i] < 0x80) {
			i++;
			continue;
		} else if ((s[i] & 0xe0) == 0xc0) {
			need = 1;
			cp = s[i] & 0x1f;
			min = 0x80;
		} else if ((s[i] & 0xf0) == 0xe0) {
			need = 2;
			cp = s[i] & 0x0f;
			min = 0x800;
		} else if ((s[i] & 0xf8) == 0xf0) {
			need = 3;
			cp = s[i] & 0x07;
			min = 0x10000;
		} else
			return 0;
		if (n - i - 1 < need)
			return 0;
		for (k = 1; k <= need; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += need + 1;
	}
	return 1;
}

static size_t
encode_cp(uint32_t cp, uint8_t *out)
{
	if (cp < 0x80) {
		out[0] = cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = 0xc0 | cp >> 6;
		out[1] = 0x80 | (cp & 0x3f);
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = 0xe0 | cp >> 12;
		out[1] = 0x80 | (cp >> 6 & 0x3f);
		out[2] = 0x80 | (cp & 0x3f);
		return 3;
	}
	out[0] = 0xf0 | cp >> 18;
	out[1] = 0x80 | (cp >> 12 & 0x3f);
	out[2] = 0x80 | (cp >> 6 & 0x3f);
	out[3] = 0x80 | (cp & 0x3f);
	return 4;
}

/*
 * The exhaustive loops test with plain ifs: every passing ck_assert is
 * reported to the parent process, which would cost minutes here.
 */

/* Every code point: valid unless a surrogate, partial until its end. */
START_TEST(test_all_code_points)
{
	struct utf8_state	 u;
	uint8_t			 b[4];
	uint32_t		 cp;
	size_t			 n, i;
	int			 surrogate, r, want;

	for (cp = 0; cp <= 0x10ffff; cp++) {
		n = encode_cp(cp, b);
		surrogate = cp >= 0xd800 && cp <= 0xdfff;
		if (utf8_valid(b, n) != !surrogate)
			ck_abort_msg("U+%04X: valid %d", cp, utf8_valid(b, n));
		utf8_init(&u);
		for (i = 0; i < n; i++) {
			r = utf8_feed(&u, b + i, 1, NULL);
			if (surrogate && i == 1)
				want = UTF8_INVALID;
			else
				want = i + 1 == n ? UTF8_OK : UTF8_PARTIAL;
			if (r != want)
				ck_abort_msg("U+%04X byte %zu: %d, want %d",
				    cp, i, r, want);
			if (r == UTF8_INVALID)
				break;
		}
	}
}
END_TEST

static void
check_ref(const uint8_t *b, size_t n)
{
	if (utf8_valid(b, n) != ref_valid(b, n))
		ck_abort_msg("%02x %02x %02x %02x (len %zu): valid %d", b[0],
		    n > 1 ? b[1] : 0, n > 2 ? b[2] : 0, n > 3 ? b[3] : 0, n,
		    utf8_valid(b, n));
}

/* All 1-, 2- and 3-byte strings, and a wide slice of 4-byte ones. */
START_TEST(test_exhaustive_vs_reference)
{
	static const uint8_t	 last[] = { 0x00, 0x7f, 0x80, 0x8f, 0x90,
				    0xbf, 0xc0, 0xff };
	uint8_t			 b[4];
	unsigned int		 x, y, z, k;

	for (x = 0; x < 256; x++) {
		b[0] = x;
		check_ref(b, 1);
		for (y = 0; y < 256; y++) {
			b[1] = y;
			check_ref(b, 2);
			for (z = 0; z < 256; z++) {
				b[2] = z;
				check_ref(b, 3);
				if (x < 0xf0 || x > 0xf7)
					continue;
				for (k = 0; k < sizeof(last); k++) {
					b[3] = last[k];
					check_ref(b, 4);
				}
			}
		}
	}
}
END_TEST

/*
 * The word-at-a-time path: ASCII runs at every alignment with one
 * non-ASCII byte at every position.
 */
START_TEST(test_ascii_fast_path)
{
	struct utf8_state	 u;
	uint8_t			 buf[80];
	size_t			 start, len, p, bad;

	for (start = 0; start < 8; start++) {
		for (len = 0; len <= 64; len++) {
			memset(buf, 'x', sizeof(buf));
			ck_assert(utf8_valid(buf + start, len));
			for (p = 0; p < len; p++) {
				buf[start + p] = 0xff;
				utf8_init(&u);
				ck_assert_int_eq(utf8_feed(&u, buf + start,
				    len, &bad), UTF8_INVALID);
				ck_assert_uint_eq(bad, p);
				buf[start + p] = 0xc3;	/* 2-byte lead */
				utf8_init(&u);
				ck_assert_int_eq(utf8_feed(&u, buf + start,
				    len, &bad), p + 1 == len ? UTF8_PARTIAL :
				    UTF8_INVALID);
				if (p + 1 < len) {
					ck_assert_uint_eq(bad, p + 1);
					buf[start + p + 1] = 0xa9;
					ck_assert(utf8_valid(buf + start, len));
					buf[start + p + 1] = 'x';
				}
				buf[start + p] = 'x';
			}
		}
	}
}
END_TEST

START_TEST(test_init_and_sticky)
{
	struct utf8_state	 u;
	size_t			 bad = 99;

	utf8_init(&u);
	ck_assert(utf8_complete(&u));
	ck_assert_int_eq(utf8_feed(&u, (const uint8_t *)"\xe2\x82", 2, NULL),
	    UTF8_PARTIAL);
	ck_assert(!utf8_complete(&u));
	ck_assert_int_eq(utf8_feed(&u, (const uint8_t *)"\xac", 1, NULL),
	    UTF8_OK);
	ck_assert(utf8_complete(&u));
	ck_assert_int_eq(utf8_feed(&u, (const uint8_t *)"a\xc0", 2, &bad),
	    UTF8_INVALID);
	ck_assert_uint_eq(bad, 1);
	ck_assert_uint_eq(u.u_state, UTF8_REJECT);
	ck_assert_int_eq(utf8_feed(&u, (const uint8_t *)"abc", 3, &bad),
	    UTF8_INVALID);
	ck_assert_int_eq(utf8_feed(&u, NULL, 0, NULL), UTF8_INVALID);
	utf8_init(&u);
	ck_assert_int_eq(utf8_feed(&u, (const uint8_t *)"abc", 3, NULL),
	    UTF8_OK);
}
END_TEST

struct boundary_vec {
	const char	*s;
	size_t		 len;
	size_t		 want;
};

#define BV(s, w)	{ s, sizeof(s) - 1, w }

static const struct boundary_vec bvecs[] = {
	BV("", 0),
	BV("a", 1),
	BV("abc", 3),
	BV("\xc3", 0),
	BV("a\xc3", 1),
	BV("a\xc3\xa9", 3),
	BV("a\xe2", 1),
	BV("a\xe2\x82", 1),
	BV("a\xe2\x82\xac", 4),
	BV("\xf0", 0),
	BV("\xf0\x9f", 0),
	BV("\xf0\x9f\x98", 0),
	BV("\xf0\x9f\x98\x80", 4),
	BV("ab\xf0\x9f\x98", 2),
	BV("\xce\xba\xe1\xbd", 2),
	/* not the valid start of a sequence: left for utf8_feed to refuse */
	BV("a\xc0", 2),
	BV("a\xc1", 2),
	BV("a\xf5", 2),
	BV("a\xff", 2),
	BV("a\x80", 2),
	BV("\x80\x80\x80", 3),
	BV("a\xe0\x80", 3),
	BV("a\xed\xa0", 3),
	BV("a\xf0\x80", 3),
	BV("a\xf4\x90", 3),
	BV("a\xc3\xa9\xa9", 4),
	BV("a\xe2\x82\xac\xac", 5),
};

START_TEST(test_boundary)
{
	const struct boundary_vec	*v = &bvecs[_i];

	ck_assert_msg(utf8_boundary((const uint8_t *)v->s, v->len) == v->want,
	    "boundary #%d: %zu, want %zu", _i,
	    utf8_boundary((const uint8_t *)v->s, v->len), v->want);
}
END_TEST

/* On valid text, the boundary of any prefix is the last code point end. */
START_TEST(test_boundary_prefixes)
{
	static const char	 s[] = "a\xce\xba\xe2\x82\xac" "b"
				    "\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf" "c";
	static const size_t	 ends[] = { 0, 1, 3, 6, 7, 11, 15, 16 };
	size_t			 cut, want, k;

	for (cut = 0; cut < sizeof(s); cut++) {
		want = 0;
		for (k = 0; k < sizeof(ends) / sizeof(ends[0]); k++)
			if (ends[k] <= cut)
				want = ends[k];
		ck_assert_uint_eq(utf8_boundary((const uint8_t *)s, cut), want);
	}
}
END_TEST

Suite *
utf8_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("utf8");

	tc = tcase_create("vectors");
	tcase_add_loop_test(tc, test_vectors, 0, NVECS);
	tcase_add_test(tc, test_init_and_sticky);
	tcase_add_test(tc, test_ascii_fast_path);
	suite_add_tcase(s, tc);

	tc = tcase_create("exhaustive");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_all_code_points);
	tcase_add_test(tc, test_exhaustive_vs_reference);
	suite_add_tcase(s, tc);

	tc = tcase_create("boundary");
	tcase_add_loop_test(tc, test_boundary, 0,
	    sizeof(bvecs) / sizeof(bvecs[0]));
	tcase_add_test(tc, test_boundary_prefixes);
	suite_add_tcase(s, tc);

	return s;
}
