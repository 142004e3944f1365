/*
 * Fuzz the incremental UTF-8 validator (utf8.c) against a plain
 * reference decoder written from RFC 3629: the verdict, the offset of the
 * first bad byte, and the same answers when the input is fed in slices.
 */
#include "fuzz.h"
#include "utf8.h"

/*
 * Reference: returns -1 if buf is valid and complete, else the offset of
 * the first byte that cannot be part of a valid sequence, or len if the
 * input ends inside a sequence.
 */
static long
ref_check(const uint8_t *b, size_t len)
{
	size_t		 i = 0, k, need;
	uint32_t	 cp, min;

	while (i < len) {
		if (b[i] < 0x80) {
			i++;
			continue;
		}
		if (b[i] >= 0xc2 && b[i] <= 0xdf) {
			need = 1;
			cp = b[i] & 0x1f;
			min = 0x80;
		} else if ((b[i] & 0xf0) == 0xe0) {
			need = 2;
			cp = b[i] & 0x0f;
			min = 0x800;
		} else if (b[i] >= 0xf0 && b[i] <= 0xf4) {
			need = 3;
			cp = b[i] & 0x07;
			min = 0x10000;
		} else
			return (long)i;
		for (k = 1; k <= need; k++) {
			if (i + k >= len)
				return (long)len;
			if ((b[i + k] & 0xc0) != 0x80)
				return (long)(i + k);
			cp = cp << 6 | (b[i + k] & 0x3f);
			/*
			 * Fail fast: reject at the first continuation byte
			 * that makes an overlong, a surrogate or > U+10FFFF.
			 */
			if (k == 1) {
				uint32_t hi = cp << (6 * (need - 1));
				uint32_t top = hi | ((1u << (6 * (need - 1))) - 1);

				if (top < min || (hi >= 0xd800 &&
				    hi <= 0xdfff) || hi > 0x10ffff)
					return (long)(i + k);
			}
		}
		i += need + 1;
	}
	return -1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct utf8_state	 st;
	struct fuzz_rng		 rng;
	enum utf8_result	 res, whole;
	size_t			 bad, off, n, b;
	long			 ref;

	if (size < 1)
		return 0;
	fuzz_rng_init(&rng, data[0]);
	data++;
	size--;
	ref = ref_check(data, size);

	utf8_init(&st);
	whole = utf8_feed(&st, data, size, &bad);
	FUZZ_ASSERT(utf8_valid(data, size) == (ref == -1));
	if (ref == -1)
		FUZZ_ASSERT(whole == UTF8_OK && utf8_complete(&st));
	else if (ref == (long)size)
		FUZZ_ASSERT(whole == UTF8_PARTIAL && !utf8_complete(&st));
	else {
		FUZZ_ASSERT(whole == UTF8_INVALID);
		FUZZ_ASSERT(bad == (size_t)ref);
	}

	/* In slices: the same verdict at the same byte. */
	utf8_init(&st);
	res = UTF8_OK;
	for (off = 0; off < size; off += n) {
		n = fuzz_rng_cut(&rng, size - off);
		res = utf8_feed(&st, data + off, n, &bad);
		if (res == UTF8_INVALID) {
			FUZZ_ASSERT(ref >= 0 && off + bad == (size_t)ref);
			break;
		}
	}
	if (res != UTF8_INVALID)
		FUZZ_ASSERT(res == whole);

	/* utf8_boundary: holds back at most 3 bytes of an unfinished start. */
	b = utf8_boundary(data, size);
	FUZZ_ASSERT(b <= size && size - b <= 3);
	if (ref == -1)
		FUZZ_ASSERT(b == size);
	return 0;
}
