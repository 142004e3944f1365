/*
 * Unit tests for the session-ticket key ring: the first key, rotation
 * after one period, the previous key still decrypting (and asking for a
 * renewal) for one more, forgotten after that, a ring idle for long
 * starting afresh, unknown names, and a failing random source.  The
 * random source is a counter, so every key is known.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "tickets.h"

Suite	*tickets_suite(void);

static unsigned char	 counter;
static int		 fail_random;

/* Key number n is all bytes n: easy to tell apart. */
static int
fake_random(void *buf, size_t len)
{
	if (fail_random)
		return -1;
	memset(buf, ++counter, len);
	return 0;
}

static void
setup(void)
{
	counter = 0;
	fail_random = 0;
}

/* The byte a key is made of (see fake_random). */
static int
which(const struct tickets_key *k)
{
	return k->tk_name[0];
}

static int
get(struct tickets_ring *r, long long now, int name, struct tickets_key *k)
{
	unsigned char	 n[TICKETS_NAME_LEN];

	if (name == 0)
		return tickets_get(r, now, NULL, k, fake_random);
	memset(n, name, sizeof(n));
	return tickets_get(r, now, n, k, fake_random);
}

START_TEST(test_first_key)
{
	struct tickets_ring	 r;
	struct tickets_key	 k;

	tickets_init(&r, 100);
	ck_assert_int_eq(get(&r, 1000, 0, &k), 1);
	ck_assert_int_eq(which(&k), 1);
	ck_assert_int_eq(k.tk_aes[31], 1);
	ck_assert_int_eq(k.tk_hmac[0], 1);
	/* the same key for the whole period, and it decrypts */
	ck_assert_int_eq(get(&r, 1099, 0, &k), 1);
	ck_assert_int_eq(which(&k), 1);
	ck_assert_int_eq(get(&r, 1099, 1, &k), 1);
	ck_assert_int_eq(which(&k), 1);
	ck_assert_int_eq(counter, 1);
}
END_TEST

START_TEST(test_rotation)
{
	struct tickets_ring	 r;
	struct tickets_key	 k;

	tickets_init(&r, 100);
	ck_assert_int_eq(get(&r, 1000, 0, &k), 1);
	/* one period on: key 2 encrypts, key 1 still decrypts, renewed */
	ck_assert_int_eq(get(&r, 1100, 0, &k), 1);
	ck_assert_int_eq(which(&k), 2);
	ck_assert_int_eq(get(&r, 1150, 1, &k), 2);
	ck_assert_int_eq(which(&k), 1);
	ck_assert_int_eq(get(&r, 1150, 2, &k), 1);
	ck_assert_int_eq(which(&k), 2);
	/* another period: key 3 encrypts, key 2 decrypts, key 1 is gone */
	ck_assert_int_eq(get(&r, 1200, 1, &k), 0);
	ck_assert_int_eq(get(&r, 1200, 2, &k), 2);
	ck_assert_int_eq(get(&r, 1200, 0, &k), 1);
	ck_assert_int_eq(which(&k), 3);
	ck_assert_int_eq(counter, 3);
}
END_TEST

START_TEST(test_rotation_on_decrypt)
{
	struct tickets_ring	 r;
	struct tickets_key	 k;

	/* a decryption can be what finds the key due: it rotates too */
	tickets_init(&r, 10);
	ck_assert_int_eq(get(&r, 0, 0, &k), 1);
	ck_assert_int_eq(get(&r, 15, 1, &k), 2);
	ck_assert_int_eq(get(&r, 15, 0, &k), 1);
	ck_assert_int_eq(which(&k), 2);
}
END_TEST

START_TEST(test_idle_ring)
{
	struct tickets_ring	 r;
	struct tickets_key	 k;

	/*
	 * Nothing for more than a period past the rotation time: the old
	 * key's tickets have all expired, so it is not kept as previous.
	 */
	tickets_init(&r, 100);
	ck_assert_int_eq(get(&r, 1000, 0, &k), 1);
	ck_assert_int_eq(get(&r, 1199, 1, &k), 2);	/* just in time */
	tickets_init(&r, 100);
	counter = 0;
	ck_assert_int_eq(get(&r, 1000, 0, &k), 1);
	ck_assert_int_eq(get(&r, 1200, 1, &k), 0);	/* too late */
	ck_assert_int_eq(get(&r, 1200, 0, &k), 1);
	ck_assert_int_eq(which(&k), 2);
	ck_assert_int_eq(r.tr_nkeys, 1);
}
END_TEST

START_TEST(test_unknown_name)
{
	struct tickets_ring	 r;
	struct tickets_key	 k;

	tickets_init(&r, 100);
	ck_assert_int_eq(get(&r, 5, 9, &k), 0);		/* creates key 1 */
	ck_assert_int_eq(get(&r, 5, 1, &k), 1);
	ck_assert_int_eq(get(&r, 5, 2, &k), 0);
}
END_TEST

START_TEST(test_random_fails)
{
	struct tickets_ring	 r;
	struct tickets_key	 k;

	tickets_init(&r, 100);
	fail_random = 1;
	ck_assert_int_eq(get(&r, 0, 0, &k), -1);
	ck_assert_int_eq(r.tr_nkeys, 0);
	fail_random = 0;
	ck_assert_int_eq(get(&r, 0, 0, &k), 1);
	/* failing at a rotation empties the ring: no stale key lingers */
	fail_random = 1;
	ck_assert_int_eq(get(&r, 100, 1, &k), -1);
	ck_assert_int_eq(r.tr_nkeys, 0);
	fail_random = 0;
	ck_assert_int_eq(get(&r, 100, 1, &k), 0);
}
END_TEST

START_TEST(test_bad_period)
{
	struct tickets_ring	 r;

	tickets_init(&r, 0);
	ck_assert_int_eq(r.tr_period, 1);
	tickets_init(&r, -5);
	ck_assert_int_eq(r.tr_period, 1);
}
END_TEST

Suite *
tickets_suite(void)
{
	Suite	*s = suite_create("tickets");
	TCase	*tc = tcase_create("ring");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_first_key);
	tcase_add_test(tc, test_rotation);
	tcase_add_test(tc, test_rotation_on_decrypt);
	tcase_add_test(tc, test_idle_ring);
	tcase_add_test(tc, test_unknown_name);
	tcase_add_test(tc, test_random_fails);
	tcase_add_test(tc, test_bad_period);
	suite_add_tcase(s, tc);
	return s;
}
