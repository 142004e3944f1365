/*
 * Unit tests for SNI certificate selection: RFC 6125 name matching with
 * wildcards (table of pattern, host, expected), which patterns are
 * usable, and the choice among several certificates (exact names before
 * wildcards, first in config order, -1 for the default).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "sni.h"

Suite	*sni_suite(void);

struct match_vec {
	const char	*pattern;
	const char	*host;
	int		 match;
};

static const struct match_vec match_vecs[] = {
	{ "example.com",	"example.com",		1 },
	{ "example.com",	"EXAMPLE.Com",		1 },
	{ "Example.COM",	"example.com",		1 },
	{ "example.com",	"example.com.",		1 },	/* root dot */
	{ "example.com",	"example.com..",	0 },
	{ "example.com",	"www.example.com",	0 },
	{ "www.example.com",	"example.com",		0 },
	{ "example.com",	"example.co",		0 },
	{ "example.com",	"example.comm",		0 },
	{ "example.com",	"",			0 },
	{ "*.example.com",	"a.example.com",	1 },
	{ "*.example.com",	"WWW.Example.Com",	1 },
	{ "*.example.com",	"a-b_c.example.com.",	1 },
	{ "*.example.com",	"example.com",		0 },	/* no label */
	{ "*.example.com",	".example.com",		0 },	/* empty one */
	{ "*.example.com",	"a.b.example.com",	0 },	/* one only */
	{ "*.example.com",	"aexample.com",		0 },
	{ "*.example.com",	"a.example.org",	0 },
	{ "*.example.com",	"*.example.com",	0 },	/* not a host */
	{ "*.com",		"example.com",		0 },	/* too wide */
	{ "*",			"example",		0 },
	{ "f*.example.com",	"foo.example.com",	0 },	/* partial */
	{ "*oo.example.com",	"foo.example.com",	0 },
	{ "a.*.example.com",	"a.b.example.com",	0 },
	{ "**.example.com",	"a.example.com",	0 },
	{ "*.*.example.com",	"a.b.example.com",	0 },
	{ "exa mple.com",	"exa mple.com",		0 },
	{ "localhost",		"localhost",		1 },
	{ "localhost",		"LOCALHOST.",		1 },
	{ "",			"",			0 },
	{ "a..b",		"a..b",			0 }
};

START_TEST(test_match)
{
	const struct match_vec *v = &match_vecs[_i];

	ck_assert_msg(sni_match(v->pattern, v->host, strlen(v->host)) ==
	    v->match, "sni_match(\"%s\", \"%s\") != %d", v->pattern, v->host,
	    v->match);
}
END_TEST

START_TEST(test_match_len)
{
	/* Only host[0..hostlen) counts: no NUL needed, none read past. */
	ck_assert_int_eq(sni_match("a.example.com", "a.example.comXYZ", 13),
	    1);
	ck_assert_int_eq(sni_match("*.example.com", "a.example.com.zz", 14),
	    1);
	ck_assert_int_eq(sni_match("a.example.com", "a.example.com", 12), 0);
	/* A NUL inside the given length is not a host name. */
	ck_assert_int_eq(sni_match("a.example.com", "a.exa\0ple.com", 13), 0);
}
END_TEST

START_TEST(test_long_names)
{
	char	 label[70], host[300], pat[300];
	size_t	 i;

	/* A 63-byte label is fine; 64 is not. */
	memset(label, 'a', 63);
	label[63] = '\0';
	snprintf(host, sizeof(host), "%s.example.com", label);
	ck_assert_int_eq(sni_match(host, host, strlen(host)), 1);
	ck_assert_int_eq(sni_match("*.example.com", host, strlen(host)), 1);
	memset(label, 'a', 64);
	label[64] = '\0';
	snprintf(host, sizeof(host), "%s.example.com", label);
	ck_assert_int_eq(sni_match(host, host, strlen(host)), 0);
	ck_assert_int_eq(sni_match("*.example.com", host, strlen(host)), 0);

	/* At most 253 bytes in all. */
	memset(pat, 'b', sizeof(pat));
	for (i = 10; i < sizeof(pat); i += 10)
		pat[i] = '.';
	pat[253] = '\0';
	ck_assert_int_eq(sni_pattern_ok(pat), 1);
	ck_assert_int_eq(sni_match(pat, pat, 253), 1);
	pat[253] = 'b';
	pat[254] = '\0';
	ck_assert_int_eq(sni_pattern_ok(pat), 0);
	ck_assert_int_eq(sni_match(pat, pat, 254), 0);
}
END_TEST

START_TEST(test_pattern_ok)
{
	ck_assert_int_eq(sni_pattern_ok("example.com"), 1);
	ck_assert_int_eq(sni_pattern_ok("localhost"), 1);
	ck_assert_int_eq(sni_pattern_ok("*.example.com"), 1);
	ck_assert_int_eq(sni_pattern_ok("*.a.b.c"), 1);
	ck_assert_int_eq(sni_pattern_ok("*.com"), 0);
	ck_assert_int_eq(sni_pattern_ok("*"), 0);
	ck_assert_int_eq(sni_pattern_ok("*."), 0);
	ck_assert_int_eq(sni_pattern_ok(""), 0);
	ck_assert_int_eq(sni_pattern_ok("."), 0);
	ck_assert_int_eq(sni_pattern_ok("a."), 0);
	ck_assert_int_eq(sni_pattern_ok(".a"), 0);
	ck_assert_int_eq(sni_pattern_ok("a.*.com"), 0);
	ck_assert_int_eq(sni_pattern_ok("x*.example.com"), 0);
	ck_assert_int_eq(sni_pattern_ok("ex\xc3\xa9.com"), 0);	/* not IDNA */
	ck_assert_int_eq(sni_pattern_ok("xn--exmple-cua.com"), 1);
}
END_TEST

/* a.test; *.b.test; www.b.test and c.test; a.test again; none */
static char *names0[] = { "a.test" };
static char *names1[] = { "*.b.test" };
static char *names2[] = { "c.test", "www.b.test" };
static char *names3[] = { "A.TEST", "*.c.test" };
static const struct sni_cert certs[] = {
	{ names0, 1 },
	{ names1, 1 },
	{ names2, 2 },
	{ names3, 2 },
	{ NULL, 0 }
};
#define NCERTS	(sizeof(certs) / sizeof(certs[0]))

static int
pick(const char *host)
{
	return sni_select(certs, NCERTS, host, strlen(host));
}

START_TEST(test_select)
{
	ck_assert_int_eq(pick("a.test"), 0);
	ck_assert_int_eq(pick("A.Test."), 0);	/* first of two exact */
	ck_assert_int_eq(pick("x.b.test"), 1);
	ck_assert_int_eq(pick("www.b.test"), 2);	/* exact beats wildcard */
	ck_assert_int_eq(pick("c.test"), 2);
	ck_assert_int_eq(pick("x.c.test"), 3);
	ck_assert_int_eq(pick("b.test"), -1);
	ck_assert_int_eq(pick("x.y.b.test"), -1);
	ck_assert_int_eq(pick("unknown.test"), -1);
	ck_assert_int_eq(pick(""), -1);
	ck_assert_int_eq(sni_select(certs, 0, "a.test", 6), -1);
	ck_assert_int_eq(sni_select(certs + 4, 1, "a.test", 6), -1);
}
END_TEST

Suite *
sni_suite(void)
{
	Suite	*s = suite_create("sni");
	TCase	*tc;

	tc = tcase_create("match");
	tcase_add_loop_test(tc, test_match, 0,
	    (int)(sizeof(match_vecs) / sizeof(match_vecs[0])));
	tcase_add_test(tc, test_match_len);
	tcase_add_test(tc, test_long_names);
	tcase_add_test(tc, test_pattern_ok);
	suite_add_tcase(s, tc);

	tc = tcase_create("select");
	tcase_add_test(tc, test_select);
	suite_add_tcase(s, tc);
	return s;
}
