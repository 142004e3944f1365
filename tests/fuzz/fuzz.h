/*
 * Shared by the libFuzzer targets: a split-point generator and a growable
 * transcript, so that every target can decode its input twice (whole, and
 * cut at pseudo-random points) and insist on the same result.
 *
 * Each target defines LLVMFuzzerTestOneInput().  Built with clang
 * -fsanitize=fuzzer (make fuzz) it is a fuzzer; linked with replay.c
 * (make check) it replays the seed and regression corpora.
 */
#ifndef WSGATE_FUZZ_H
#define WSGATE_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* A broken invariant: say which, then crash so the fuzzer keeps the input. */
#define FUZZ_ASSERT(x) do {						\
	if (!(x)) {							\
		fprintf(stderr, "%s:%d: assertion failed: %s\n",	\
		    __FILE__, __LINE__, #x);				\
		abort();						\
	}								\
} while (0)

/* xorshift32: split points that depend only on the input. */
struct fuzz_rng {
	uint32_t	 r_state;
};

static inline void
fuzz_rng_init(struct fuzz_rng *r, uint32_t seed)
{
	r->r_state = seed * 2654435761u + 1;
}

static inline uint32_t
fuzz_rng_next(struct fuzz_rng *r)
{
	uint32_t	 x = r->r_state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return r->r_state = x;
}

/* The length of the next slice: mostly tiny, sometimes large. */
static inline size_t
fuzz_rng_cut(struct fuzz_rng *r, size_t left)
{
	uint32_t	 x = fuzz_rng_next(r);
	size_t		 n;

	if (left == 0)
		return 0;
	switch (x & 3) {
	case 0:
		n = 1;
		break;
	case 1:
		n = 1 + (x >> 8) % 4;
		break;
	case 2:
		n = 1 + (x >> 8) % 32;
		break;
	default:
		n = 1 + (x >> 8) % (left + 1);
		break;
	}
	return n > left ? left : n;
}

/* What a decoder made of its input, to compare two runs. */
struct fuzz_log {
	uint8_t		*l_buf;
	size_t		 l_len;
	size_t		 l_size;
};

static inline void
fuzz_log_add(struct fuzz_log *l, const void *p, size_t n)
{
	/* never NULL once used, so that it can go to memcmp() and co. */
	if (l->l_buf == NULL || l->l_len + n > l->l_size) {
		size_t	 size = l->l_size ? l->l_size : 256;

		while (size < l->l_len + n)
			size *= 2;
		if ((l->l_buf = realloc(l->l_buf, size)) == NULL)
			abort();
		l->l_size = size;
	}
	if (n > 0)
		memcpy(l->l_buf + l->l_len, p, n);
	l->l_len += n;
}

static inline void
fuzz_log_u64(struct fuzz_log *l, uint64_t v)
{
	fuzz_log_add(l, &v, sizeof(v));
}

static inline void
fuzz_log_free(struct fuzz_log *l)
{
	free(l->l_buf);
	memset(l, 0, sizeof(*l));
}

static inline int
fuzz_log_eq(const struct fuzz_log *a, const struct fuzz_log *b)
{
	return a->l_len == b->l_len &&
	    (a->l_len == 0 || memcmp(a->l_buf, b->l_buf, a->l_len) == 0);
}

#endif /* WSGATE_FUZZ_H */
