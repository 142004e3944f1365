/*
 * Unit tests for the permessage-deflate codec.  Our deflater is checked
 * against zlib used directly (the RFC 7692 framing: raw DEFLATE, a sync
 * flush, the last four bytes dropped), our inflater against messages
 * zlib made, and both against each other, fed whole, in small slices and
 * byte by byte, with and without context takeover.  The size limit must
 * stop a zip bomb early, having inflated no more than one byte past it.
 */
#define ZLIB_CONST

#include <sys/types.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <zlib.h>

#include "deflate.h"

Suite	*deflate_suite(void);

#define CHECK(c)	do {						\
	if (!(c))							\
		ck_abort_msg("%s:%d: %s", __FILE__, __LINE__, #c);	\
} while (0)

#define MIB	(1024 * 1024)

/* Compressible text, with repeats both near and far. */
static uint8_t *
sample(size_t len, unsigned int seed)
{
	static const char *const words[] = { "lorem ", "ipsum ", "dolor ",
	    "sit ", "amet ", "gateway ", "\xce\xba\xe1\xbd\xb9\xcf\x83 " };
	uint8_t		*p;
	size_t		 i = 0, n;
	const char	*w;

	CHECK((p = malloc(len + 1)) != NULL);
	srandom(seed);
	while (i < len) {
		w = words[random() % 7];
		n = strlen(w);
		if (n > len - i)
			n = len - i;
		memcpy(p + i, w, n);
		i += n;
	}
	return p;
}

static uint8_t *
noise(size_t len, unsigned int seed)
{
	uint8_t	*p;
	size_t	 i;

	CHECK((p = malloc(len + 1)) != NULL);
	srandom(seed);
	for (i = 0; i < len; i++)
		p[i] = (uint8_t)random();
	return p;
}

/*
 * Deflate one message with d, in input slices of in_step and output
 * buffers of out_step bytes; returns the payload (malloc'd) and its size.
 */
static uint8_t *
run_deflate(struct dfl_deflate *d, const uint8_t *msg, size_t len,
    size_t in_step, size_t out_step, size_t *outlen)
{
	size_t		 cap = len + len / 8 + 64, n = 0, off = 0, used, k;
	uint8_t		*out, buf[65536];
	ssize_t		 r;

	if (out_step < DFL_MIN_OUT)
		out_step = DFL_MIN_OUT;
	CHECK(out_step <= sizeof(buf));
	CHECK((out = malloc(cap)) != NULL);
	CHECK(dfl_deflate_start(d) == 0);
	while (off < len) {
		k = len - off < in_step ? len - off : in_step;
		r = dfl_deflate(d, msg + off, k, &used, buf, out_step);
		CHECK(r >= 0);
		CHECK(n + (size_t)r <= cap);
		memcpy(out + n, buf, r);
		n += r;
		off += used;
	}
	while ((r = dfl_deflate_end(d, buf, out_step)) > 0) {
		CHECK(n + (size_t)r <= cap);
		memcpy(out + n, buf, r);
		n += r;
	}
	CHECK(r == 0);
	*outlen = n;
	return out;
}

/*
 * Inflate one message with i, fed in slices of in_step bytes into output
 * buffers of out_step.  Returns 0 and the message, or the error, with
 * *consumed set to the input bytes taken before it.
 */
static int
run_inflate(struct dfl_inflate *i, const uint8_t *z, size_t zlen,
    size_t in_step, size_t out_step, uint8_t *out, size_t cap,
    size_t *outlen, size_t *consumed)
{
	size_t		 n = 0, off = 0, used, k;
	uint8_t		 buf[65536];
	ssize_t		 r;

	CHECK(out_step <= sizeof(buf));
	CHECK(dfl_inflate_start(i) == 0);
	*consumed = 0;
	while (off < zlen) {
		k = zlen - off < in_step ? zlen - off : in_step;
		do {
			r = dfl_inflate(i, z + off, k, &used, buf, out_step);
			if (r < 0) {
				*consumed = off + used;
				return (int)r;
			}
			CHECK(n + (size_t)r <= cap);
			memcpy(out + n, buf, r);
			n += r;
			off += used;
			k -= used;
		} while (k > 0 || (size_t)r == out_step);
	}
	*consumed = off;
	while ((r = dfl_inflate_end(i, buf, out_step)) > 0) {
		CHECK(n + (size_t)r <= cap);
		memcpy(out + n, buf, r);
		n += r;
	}
	if (r < 0)
		return (int)r;
	*outlen = n;
	return 0;
}

/* zlib on its own: raw inflate of payload + marker with a window. */
static int
zlib_inflate(z_stream *zs, const uint8_t *z, size_t zlen, uint8_t *out,
    size_t cap, size_t *outlen)
{
	static const uint8_t marker[4] = { 0, 0, 0xff, 0xff };
	uint8_t		*in;
	int		 rv;

	CHECK((in = malloc(zlen + 4)) != NULL);
	memcpy(in, z, zlen);
	memcpy(in + zlen, marker, 4);
	zs->next_in = in;
	zs->avail_in = zlen + 4;
	zs->next_out = out;
	zs->avail_out = cap;
	rv = inflate(zs, Z_SYNC_FLUSH);
	*outlen = cap - zs->avail_out;
	free(in);
	return rv == Z_OK || rv == Z_BUF_ERROR ? 0 : -1;
}

/* zlib on its own: one message the RFC 7692 way. */
static uint8_t *
zlib_deflate(z_stream *zs, const uint8_t *msg, size_t len, int flush,
    size_t *zlen)
{
	size_t		 cap = len + len / 8 + 64;
	uint8_t		*out;

	CHECK((out = malloc(cap)) != NULL);
	zs->next_in = msg;
	zs->avail_in = len;
	zs->next_out = out;
	zs->avail_out = cap;
	CHECK(deflate(zs, flush) != Z_STREAM_ERROR);
	CHECK(zs->avail_in == 0 && zs->avail_out > 0);
	*zlen = cap - zs->avail_out;
	if (flush == Z_SYNC_FLUSH) {
		CHECK(*zlen >= 4);
		CHECK(memcmp(out + *zlen - 4, "\0\0\xff\xff", 4) == 0);
		*zlen -= 4;
	}
	return out;
}

static const size_t sizes[] = { 0, 1, 5, 125, 4096, 70000, 300000 };
static const size_t steps[][2] = {	/* input step, output step */
	{ SIZE_MAX, 65536 }, { 1, 8 }, { 7, 13 }, { 1000, 100 }
};

/* Our deflater, zlib's inflater: several messages on one context. */
START_TEST(deflate_matches_zlib)
{
	const size_t	*st = steps[_i];
	struct dfl_deflate d;
	z_stream	 zs;
	uint8_t		*msg, *z, *back;
	size_t		 k, zlen, blen, len;

	dfl_deflate_init(&d, 15, 0, 6);
	memset(&zs, 0, sizeof(zs));
	CHECK(inflateInit2(&zs, -15) == Z_OK);
	for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		len = sizes[k];
		msg = k % 2 ? sample(len, k) : noise(len, k);
		z = run_deflate(&d, msg, len, st[0], st[1], &zlen);
		if (len > 0)
			CHECK(zlen > 0);
		CHECK((back = malloc(len + 1)) != NULL);
		CHECK(zlib_inflate(&zs, z, zlen, back, len + 1, &blen) == 0);
		CHECK(blen == len);
		CHECK(memcmp(back, msg, len) == 0);
		free(msg);
		free(z);
		free(back);
	}
	inflateEnd(&zs);
	dfl_deflate_free(&d);
}
END_TEST

/* zlib's deflater, our inflater, fed in every slice size. */
START_TEST(inflate_matches_zlib)
{
	const size_t	*st = steps[_i];
	struct dfl_inflate i;
	z_stream	 zs;
	uint8_t		*msg, *z, *back;
	size_t		 k, zlen, blen, used, len;

	dfl_inflate_init(&i, 15, 0, 0);
	memset(&zs, 0, sizeof(zs));
	CHECK(deflateInit2(&zs, 6, Z_DEFLATED, -15, 8,
	    Z_DEFAULT_STRATEGY) == Z_OK);
	for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		len = sizes[k];
		msg = k % 2 ? sample(len, k) : noise(len, k);
		z = zlib_deflate(&zs, msg, len, Z_SYNC_FLUSH, &zlen);
		CHECK((back = malloc(len + 1)) != NULL);
		CHECK(run_inflate(&i, z, zlen, st[0], st[1], back, len + 1,
		    &blen, &used) == 0);
		CHECK(blen == len);
		CHECK(memcmp(back, msg, len) == 0);
		free(msg);
		free(z);
		free(back);
	}
	deflateEnd(&zs);
	dfl_inflate_free(&i);
}
END_TEST

/*
 * No context takeover, and small windows: every message decodes with a
 * fresh zlib inflater of the promised window, though the data repeats at
 * distances the window does not reach.
 */
START_TEST(deflate_window_and_reset)
{
	static const int bits[] = { 9, 10, 12, 15 };
	struct dfl_deflate d;
	z_stream	 zs;
	uint8_t		*block, msg[3000], *z, back[3001];
	size_t		 k, zlen, blen;

	block = noise(700, 42);
	for (k = 0; k < 3000; k++)
		msg[k] = block[k % 700];
	dfl_deflate_init(&d, bits[_i], 1, 9);
	for (k = 0; k < 3; k++) {
		z = run_deflate(&d, msg, sizeof(msg), SIZE_MAX, 65536, &zlen);
		memset(&zs, 0, sizeof(zs));
		CHECK(inflateInit2(&zs, -bits[_i]) == Z_OK);
		CHECK(zlib_inflate(&zs, z, zlen, back, sizeof(back),
		    &blen) == 0);
		CHECK(blen == sizeof(msg));
		CHECK(memcmp(back, msg, sizeof(msg)) == 0);
		/* the 15-bit window finds the 700-byte repeats */
		if (bits[_i] == 15)
			CHECK(zlen < 1000);
		inflateEnd(&zs);
		free(z);
	}
	dfl_deflate_free(&d);
	free(block);
}
END_TEST

/* With context takeover the second copy of a message costs little. */
START_TEST(deflate_context_takeover)
{
	struct dfl_deflate d;
	struct dfl_inflate i;
	uint8_t		*msg, *z1, *z2, *back;
	size_t		 z1len, z2len, blen, used, len = 20000;

	msg = noise(len, 7);
	CHECK((back = malloc(len + 1)) != NULL);
	dfl_deflate_init(&d, 15, 0, 6);
	dfl_inflate_init(&i, 15, 0, 0);
	z1 = run_deflate(&d, msg, len, SIZE_MAX, 65536, &z1len);
	z2 = run_deflate(&d, msg, len, SIZE_MAX, 65536, &z2len);
	CHECK(z1len > len / 2);
	CHECK(z2len < len / 20);
	CHECK(run_inflate(&i, z1, z1len, 3, 64, back, len + 1, &blen,
	    &used) == 0 && blen == len && memcmp(back, msg, len) == 0);
	CHECK(run_inflate(&i, z2, z2len, 3, 64, back, len + 1, &blen,
	    &used) == 0 && blen == len && memcmp(back, msg, len) == 0);
	dfl_deflate_free(&d);
	dfl_inflate_free(&i);
	free(msg);
	free(z1);
	free(z2);
	free(back);
}
END_TEST

/* An empty message compresses to a single 0x00 (RFC 7692 7.2.3.6). */
START_TEST(deflate_empty)
{
	struct dfl_deflate d;
	struct dfl_inflate i;
	uint8_t		*z, back[8];
	size_t		 zlen, blen, used;

	dfl_deflate_init(&d, 15, 0, 6);
	z = run_deflate(&d, (const uint8_t *)"", 0, SIZE_MAX, 16, &zlen);
	CHECK(zlen == 1 && z[0] == 0x00);
	dfl_inflate_init(&i, 15, 0, 0);
	CHECK(run_inflate(&i, z, zlen, 1, 1, back, sizeof(back), &blen,
	    &used) == 0 && blen == 0);
	free(z);
	/* after a message, empty ones (zlib does not flush twice), then more */
	z = run_deflate(&d, (const uint8_t *)"abcabc", 6, SIZE_MAX, 16, &zlen);
	CHECK(run_inflate(&i, z, zlen, 1, 1, back, sizeof(back), &blen,
	    &used) == 0 && blen == 6 && memcmp(back, "abcabc", 6) == 0);
	free(z);
	z = run_deflate(&d, (const uint8_t *)"", 0, SIZE_MAX, 16, &zlen);
	CHECK(zlen == 1);
	CHECK(run_inflate(&i, z, zlen, 1, 1, back, sizeof(back), &blen,
	    &used) == 0 && blen == 0);
	free(z);
	z = run_deflate(&d, (const uint8_t *)"", 0, SIZE_MAX, 16, &zlen);
	CHECK(run_inflate(&i, z, zlen, 1, 1, back, sizeof(back), &blen,
	    &used) == 0 && blen == 0);
	free(z);
	z = run_deflate(&d, (const uint8_t *)"abcabc", 6, SIZE_MAX, 16, &zlen);
	CHECK(run_inflate(&i, z, zlen, 1, 1, back, sizeof(back), &blen,
	    &used) == 0 && blen == 6 && memcmp(back, "abcabc", 6) == 0);
	free(z);
	dfl_inflate_free(&i);
	dfl_deflate_free(&d);
}
END_TEST

/* Exactly max inflates; max + 1 is refused. */
START_TEST(inflate_limit_exact)
{
	struct dfl_inflate i;
	z_stream	 zs;
	uint8_t		*msg, *z, *back;
	size_t		 zlen, blen, used, len = 100000;
	int		 rv;

	msg = sample(len + 1, 3);
	CHECK((back = malloc(len + 2)) != NULL);
	memset(&zs, 0, sizeof(zs));
	CHECK(deflateInit2(&zs, 6, Z_DEFLATED, -15, 8,
	    Z_DEFAULT_STRATEGY) == Z_OK);
	z = zlib_deflate(&zs, msg, len, Z_SYNC_FLUSH, &zlen);
	dfl_inflate_init(&i, 15, 1, len);
	CHECK(run_inflate(&i, z, zlen, 100, 4096, back, len + 2, &blen,
	    &used) == 0 && blen == len);
	free(z);
	deflateReset(&zs);
	z = zlib_deflate(&zs, msg, len + 1, Z_SYNC_FLUSH, &zlen);
	rv = run_inflate(&i, z, zlen, 100, 4096, back, len + 2, &blen, &used);
	CHECK(rv == DFL_ERR_TOO_BIG);
	deflateEnd(&zs);
	dfl_inflate_free(&i);
	free(z);
	free(msg);
	free(back);
}
END_TEST

/*
 * 256 MiB of zeros in about 256 KiB: with a 1 MiB limit the inflater
 * gives up within the first few KiB of input.
 */
START_TEST(inflate_zip_bomb)
{
	struct dfl_inflate i;
	z_stream	 zs;
	uint8_t		*zeros, *z, *out;
	size_t		 zlen, cap, chunk = 16 * MIB, k, used, blen;
	int		 rv;

	CHECK((zeros = calloc(1, chunk)) != NULL);
	cap = 512 * 1024;
	CHECK((z = malloc(cap)) != NULL);
	memset(&zs, 0, sizeof(zs));
	CHECK(deflateInit2(&zs, 9, Z_DEFLATED, -15, 8,
	    Z_DEFAULT_STRATEGY) == Z_OK);
	zs.next_out = z;
	zs.avail_out = cap;
	for (k = 0; k < 16; k++) {
		zs.next_in = zeros;
		zs.avail_in = chunk;
		CHECK(deflate(&zs, k == 15 ? Z_SYNC_FLUSH : Z_NO_FLUSH) ==
		    Z_OK);
	}
	zlen = cap - zs.avail_out - 4;
	CHECK(zlen > 200 * 1024);
	CHECK((out = malloc(MIB + 1)) != NULL);
	dfl_inflate_init(&i, 15, 0, MIB);
	rv = run_inflate(&i, z, zlen, 65536, 65536, out, MIB + 1, &blen,
	    &used);
	CHECK(rv == DFL_ERR_TOO_BIG);
	CHECK(used < 8 * 1024);
	CHECK(i.i_total == MIB + 1);
	deflateEnd(&zs);
	dfl_inflate_free(&i);
	free(zeros);
	free(z);
	free(out);
}
END_TEST

START_TEST(inflate_bad_data)
{
	static const uint8_t bad[][6] = {
		{ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },	/* reserved type */
		{ 0x00, 0x05, 0x00, 0x05, 0x00, 0x00 },	/* LEN != ~NLEN */
		{ 0x06, 0xff, 0xff, 0xff, 0xff, 0x00 }
	};
	struct dfl_inflate i;
	uint8_t		 out[64];
	size_t		 blen, used;

	dfl_inflate_init(&i, 15, 0, 0);
	CHECK(run_inflate(&i, bad[_i], sizeof(bad[0]), 1, 64, out,
	    sizeof(out), &blen, &used) == DFL_ERR_DATA);
	dfl_inflate_free(&i);
}
END_TEST

/*
 * A message ended with a final block (RFC 7692 7.2.3.3), bytes after it
 * ignored; the next message, deflated with the first as its dictionary,
 * still decodes: the window survives the new stream.
 */
START_TEST(inflate_final_block)
{
	struct dfl_inflate i;
	z_stream	 zs;
	uint8_t		*msg, *z1, *z2, back[5001], *in;
	size_t		 z1len, z2len, blen, used, len = 5000;

	msg = sample(len, 11);
	memset(&zs, 0, sizeof(zs));
	CHECK(deflateInit2(&zs, 6, Z_DEFLATED, -15, 8,
	    Z_DEFAULT_STRATEGY) == Z_OK);
	z1 = zlib_deflate(&zs, msg, len, Z_FINISH, &z1len);
	CHECK((in = malloc(z1len + 3)) != NULL);
	memcpy(in, z1, z1len);
	memcpy(in + z1len, "xyz", 3);		/* after the final block */
	deflateReset(&zs);
	CHECK(deflateSetDictionary(&zs, msg, len) == Z_OK);
	z2 = zlib_deflate(&zs, msg, len, Z_SYNC_FLUSH, &z2len);
	CHECK(z2len < 100);
	dfl_inflate_init(&i, 15, 0, 0);
	CHECK(run_inflate(&i, in, z1len + 3, 10, 100, back, sizeof(back),
	    &blen, &used) == 0 && blen == len && memcmp(back, msg, len) == 0);
	CHECK(run_inflate(&i, z2, z2len, 10, 100, back, sizeof(back),
	    &blen, &used) == 0 && blen == len && memcmp(back, msg, len) == 0);
	deflateEnd(&zs);
	dfl_inflate_free(&i);
	free(msg);
	free(z1);
	free(z2);
	free(in);
}
END_TEST

/* The memory is taken once, on the first message, and given back. */
START_TEST(lazy_allocation)
{
	struct dfl_deflate d;
	struct dfl_inflate i;
	struct z_stream_s *zd, *zi;
	uint8_t		*z, back[16];
	size_t		 zlen, blen, used;

	dfl_deflate_init(&d, 12, 0, 1);
	dfl_inflate_init(&i, 12, 0, 0);
	CHECK(d.d_zs == NULL && i.i_zs == NULL);
	z = run_deflate(&d, (const uint8_t *)"hello", 5, SIZE_MAX, 64, &zlen);
	CHECK(run_inflate(&i, z, zlen, 64, 64, back, sizeof(back), &blen,
	    &used) == 0 && blen == 5);
	free(z);
	zd = d.d_zs;
	zi = i.i_zs;
	z = run_deflate(&d, (const uint8_t *)"hello", 5, SIZE_MAX, 64, &zlen);
	CHECK(run_inflate(&i, z, zlen, 64, 64, back, sizeof(back), &blen,
	    &used) == 0 && blen == 5 && memcmp(back, "hello", 5) == 0);
	CHECK(d.d_zs == zd && i.i_zs == zi);
	free(z);
	dfl_deflate_free(&d);
	dfl_inflate_free(&i);
	CHECK(d.d_zs == NULL && i.i_zs == NULL);
}
END_TEST

START_TEST(bound)
{
	static const uint64_t lens[] = { 0, 1, 1000, 65536, 1 << 24 };
	uint64_t	 n = lens[_i];

	ck_assert_uint_ge(dfl_bound(n), compressBound((uLong)n));
	ck_assert_uint_ge(dfl_bound(n), n + n / 8);
}
END_TEST

Suite *
deflate_suite(void)
{
	Suite	*s = suite_create("deflate");
	TCase	*tc;
	int	 nsteps = sizeof(steps) / sizeof(steps[0]);

	tc = tcase_create("roundtrip");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, deflate_matches_zlib, 0, nsteps);
	tcase_add_loop_test(tc, inflate_matches_zlib, 0, nsteps);
	tcase_add_loop_test(tc, deflate_window_and_reset, 0, 4);
	tcase_add_test(tc, deflate_context_takeover);
	tcase_add_test(tc, deflate_empty);
	tcase_add_test(tc, inflate_final_block);
	tcase_add_test(tc, lazy_allocation);
	suite_add_tcase(s, tc);

	tc = tcase_create("limits");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, inflate_limit_exact);
	tcase_add_test(tc, inflate_zip_bomb);
	tcase_add_loop_test(tc, inflate_bad_data, 0, 3);
	tcase_add_loop_test(tc, bound, 0, 5);
	suite_add_tcase(s, tc);
	return s;
}
