/*
 * Client identity on the wire: the preamble encoders, byte for byte
 * against the examples of wsgated.conf(5) and HAProxy's
 * proxy-protocol.txt, and the PROXY header parser, fed every vector
 * whole, byte by byte (each prefix must ask for more or fail early, never
 * succeed) and with trailing bytes it must not consume.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <arpa/inet.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "preamble.h"

Suite	*preamble_suite(void);

static struct preamble_addr
addr(const char *s, unsigned int port)
{
	struct preamble_addr	 a;

	memset(&a, 0, sizeof(a));
	if (strcmp(s, "unix") == 0)
		a.pa_family = AF_UNSPEC;
	else if (inet_pton(AF_INET, s, a.pa_addr) == 1)
		a.pa_family = AF_INET;
	else if (inet_pton(AF_INET6, s, a.pa_addr) == 1)
		a.pa_family = AF_INET6;
	else
		ck_abort_msg("bad address %s", s);
	a.pa_port = (uint16_t)port;
	return a;
}

static struct preamble_info
info(const char *src, unsigned int sport, const char *dst,
    unsigned int dport, const char *target, const char *subproto, int tls)
{
	struct preamble_info	 pi;
	const char		*q;

	memset(&pi, 0, sizeof(pi));
	pi.pi_src = addr(src, sport);
	pi.pi_dst = addr(dst, dport);
	pi.pi_target = target;
	pi.pi_target_len = strlen(target);
	pi.pi_path = target;
	if ((q = strchr(target, '?')) != NULL) {
		pi.pi_path_len = (size_t)(q - target);
		pi.pi_query = q + 1;
		pi.pi_query_len = strlen(q + 1);
	} else
		pi.pi_path_len = strlen(target);
	pi.pi_subproto = subproto;
	pi.pi_tls = tls;
	return pi;
}

/* Encode, check that a short buffer reports the size, return the bytes. */
static size_t
encode(enum preamble_kind k, const struct preamble_info *pi, uint8_t *buf,
    size_t size)
{
	uint8_t	 small[4];
	size_t	 len, len2;

	ck_assert_int_eq(preamble_encode(k, pi, buf, size, &len), 0);
	ck_assert_uint_le(len, size);
	memset(small, 0xaa, sizeof(small));
	ck_assert_int_eq(preamble_encode(k, pi, small, 0, &len2), 0);
	ck_assert_uint_eq(len2, len);
	ck_assert_uint_eq(small[0], 0xaa);	/* nothing written */
	return len;
}

static void
assert_bytes(const uint8_t *got, size_t got_len, const void *want,
    size_t want_len)
{
	size_t	 i;

	for (i = 0; i < got_len && i < want_len; i++)
		ck_assert_msg(got[i] == ((const uint8_t *)want)[i],
		    "byte %zu: got 0x%02x, want 0x%02x", i, got[i],
		    ((const uint8_t *)want)[i]);
	ck_assert_uint_eq(got_len, want_len);
}

START_TEST(test_none)
{
	struct preamble_info	 pi = info("192.0.2.1", 1, "192.0.2.2", 2,
				    "/", NULL, 0);
	uint8_t			 buf[16];
	size_t			 len = 99;

	ck_assert_int_eq(preamble_encode(PREAMBLE_NONE, &pi, buf, sizeof(buf),
	    &len), 0);
	ck_assert_uint_eq(len, 0);
}
END_TEST

START_TEST(test_v1_tcp4)
{
	struct preamble_info	 pi = info("192.0.2.10", 51234, "198.51.100.1",
				    443, "/chat?room=1", "chat.v2", 1);
	static const char	 want[] =
	    "PROXY TCP4 192.0.2.10 198.51.100.1 51234 443\r\n";
	uint8_t			 buf[256];
	size_t			 len;

	len = encode(PREAMBLE_PROXY_V1, &pi, buf, sizeof(buf));
	assert_bytes(buf, len, want, sizeof(want) - 1);
}
END_TEST

START_TEST(test_v1_tcp6_and_unknown)
{
	struct preamble_info	 pi = info("2001:db8::1", 1, "::1", 8080,
				    "/", NULL, 0);
	static const char	 want6[] = "PROXY TCP6 2001:db8::1 ::1 1 8080\r\n";
	static const char	 unk[] = "PROXY UNKNOWN\r\n";
	uint8_t			 buf[256];
	size_t			 len;

	len = encode(PREAMBLE_PROXY_V1, &pi, buf, sizeof(buf));
	assert_bytes(buf, len, want6, sizeof(want6) - 1);
	/* a Unix-socket client, or families that differ */
	pi.pi_src = addr("unix", 0);
	len = encode(PREAMBLE_PROXY_V1, &pi, buf, sizeof(buf));
	assert_bytes(buf, len, unk, sizeof(unk) - 1);
	pi.pi_src = addr("192.0.2.1", 5);
	len = encode(PREAMBLE_PROXY_V1, &pi, buf, sizeof(buf));
	assert_bytes(buf, len, unk, sizeof(unk) - 1);
	/* the longest v1 line is within the spec's 107 bytes */
	pi = info("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", 65535,
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535, "/", NULL, 0);
	len = encode(PREAMBLE_PROXY_V1, &pi, buf, sizeof(buf));
	ck_assert_uint_eq(len, PREAMBLE_V1_MAX - 3);
}
END_TEST

START_TEST(test_v2_tcp4)
{
	struct preamble_info	 pi = info("192.0.2.10", 51234, "198.51.100.1",
				    443, "/chat?room=1", "chat.v2", 0);
	static const uint8_t	 want[] = {
		0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51,	/* signature */
		0x55, 0x49, 0x54, 0x0a,
		0x21,			/* version 2, PROXY */
		0x11,			/* AF_INET, STREAM */
		0x00, 0x25,		/* 12 + 15 + 10 = 37 bytes follow */
		192, 0, 2, 10,		/* source address */
		198, 51, 100, 1,	/* destination address */
		0xc8, 0x22,		/* source port 51234 */
		0x01, 0xbb,		/* destination port 443 */
		0xe0, 0x00, 0x0c,	/* TLV 0xE0, 12 bytes: the target */
		'/', 'c', 'h', 'a', 't', '?', 'r', 'o', 'o', 'm', '=', '1',
		0xe1, 0x00, 0x07,	/* TLV 0xE1, 7 bytes: subprotocol */
		'c', 'h', 'a', 't', '.', 'v', '2'
	};
	uint8_t			 buf[256];
	size_t			 len;

	len = encode(PREAMBLE_PROXY_V2, &pi, buf, sizeof(buf));
	assert_bytes(buf, len, want, sizeof(want));
}
END_TEST

START_TEST(test_v2_tcp6_tls_nosub)
{
	struct preamble_info	 pi = info("2001:db8::1", 1000, "2001:db8::2",
				    443, "/x", NULL, 1);
	static const uint8_t	 want[] = {
		0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51,
		0x55, 0x49, 0x54, 0x0a, 0x21,
		0x21,			/* AF_INET6, STREAM */
		0x00, 0x31,		/* 36 + 8 + 5 = 49 */
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2,
		0x03, 0xe8, 0x01, 0xbb,
		0x20, 0x00, 0x05, 0x01, 0, 0, 0, 1,	/* PP2_TYPE_SSL */
		0xe0, 0x00, 0x02, '/', 'x'
	};
	uint8_t			 buf[256];
	size_t			 len;

	len = encode(PREAMBLE_PROXY_V2, &pi, buf, sizeof(buf));
	assert_bytes(buf, len, want, sizeof(want));
}
END_TEST

START_TEST(test_v2_unspec_and_too_big)
{
	struct preamble_info	 pi = info("unix", 0, "unix", 0, "/", NULL, 0);
	static const uint8_t	 want[] = {
		0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51,
		0x55, 0x49, 0x54, 0x0a, 0x21,
		0x00,			/* AF_UNSPEC: no addresses */
		0x00, 0x04,
		0xe0, 0x00, 0x01, '/'
	};
	static char		 big[70000];
	uint8_t			 buf[256];
	size_t			 len;

	len = encode(PREAMBLE_PROXY_V2, &pi, buf, sizeof(buf));
	assert_bytes(buf, len, want, sizeof(want));

	memset(big, 'a', sizeof(big) - 1);
	big[0] = '/';
	pi = info("192.0.2.1", 1, "192.0.2.2", 2, big, NULL, 0);
	ck_assert_int_eq(preamble_encode(PREAMBLE_PROXY_V2, &pi, buf,
	    sizeof(buf), &len), PREAMBLE_ERR_TOO_BIG);
	/* a target that fits the TLV but not the 16-bit total */
	pi.pi_target_len = 0xffff - 3 - 12 + 1;
	ck_assert_int_eq(preamble_encode(PREAMBLE_PROXY_V2, &pi, buf,
	    sizeof(buf), &len), PREAMBLE_ERR_TOO_BIG);
	pi.pi_target_len = 0xffff - 3 - 12;
	ck_assert_int_eq(preamble_encode(PREAMBLE_PROXY_V2, &pi, buf,
	    sizeof(buf), &len), 0);
	ck_assert_uint_eq(len, PREAMBLE_V2_HDR + 0xffff);
}
END_TEST

START_TEST(test_headers)
{
	struct preamble_info	 pi = info("192.0.2.10", 51234, "198.51.100.1",
				    443, "/chat?room=1&x", "chat.v2", 1);
	struct preamble_field	 f[2] = {
		{ "Cookie", 6, "sid=abc; theme=dark", 19 },
		{ "X-Request-Id", 12, "42", 2 }
	};
	static const char	 want[] =
	    "Remote-Addr: 192.0.2.10\r\n"
	    "Remote-Port: 51234\r\n"
	    "Path: /chat\r\n"
	    "Query: room=1&x\r\n"
	    "Subprotocol: chat.v2\r\n"
	    "TLS: yes\r\n"
	    "Cookie: sid=abc; theme=dark\r\n"
	    "X-Request-Id: 42\r\n"
	    "\r\n";
	static const char	 want2[] =
	    "Remote-Addr: 2001:db8::1\r\n"
	    "Remote-Port: 9\r\n"
	    "Path: /\r\n"
	    "Query: \r\n"
	    "Subprotocol: \r\n"
	    "TLS: no\r\n"
	    "\r\n";
	static const char	 want3[] =
	    "Remote-Addr: unix\r\n"
	    "Remote-Port: 0\r\n"
	    "Path: /a\r\n"
	    "Query: \r\n"
	    "Subprotocol: \r\n"
	    "TLS: no\r\n"
	    "\r\n";
	uint8_t			 buf[512];
	size_t			 len;

	pi.pi_fields = f;
	pi.pi_nfields = 2;
	len = encode(PREAMBLE_HEADERS, &pi, buf, sizeof(buf));
	assert_bytes(buf, len, want, sizeof(want) - 1);

	pi = info("2001:db8::1", 9, "2001:db8::2", 80, "/", NULL, 0);
	len = encode(PREAMBLE_HEADERS, &pi, buf, sizeof(buf));
	assert_bytes(buf, len, want2, sizeof(want2) - 1);

	/* "?" with nothing after it is an empty query too */
	pi = info("unix", 0, "unix", 0, "/a?", NULL, 0);
	len = encode(PREAMBLE_HEADERS, &pi, buf, sizeof(buf));
	assert_bytes(buf, len, want3, sizeof(want3) - 1);
}
END_TEST

START_TEST(test_headers_refuse_line_breaks)
{
	struct preamble_info	 pi = info("192.0.2.1", 1, "192.0.2.2", 2,
				    "/", NULL, 0);
	struct preamble_field	 f = { "X-A", 3, "a\r\nRemote-Addr: 1", 18 };
	uint8_t			 buf[512];
	size_t			 len;

	pi.pi_fields = &f;
	pi.pi_nfields = 1;
	ck_assert_int_eq(preamble_encode(PREAMBLE_HEADERS, &pi, buf,
	    sizeof(buf), &len), PREAMBLE_ERR_VALUE);
	f.pf_value = "a\0b";
	f.pf_value_len = 3;
	ck_assert_int_eq(preamble_encode(PREAMBLE_HEADERS, &pi, buf,
	    sizeof(buf), &len), PREAMBLE_ERR_VALUE);
	f.pf_value = "ok";
	f.pf_value_len = 2;
	ck_assert_int_eq(preamble_encode(PREAMBLE_HEADERS, &pi, buf,
	    sizeof(buf), &len), 0);
}
END_TEST

START_TEST(test_names)
{
	ck_assert_int_eq(preamble_kind("none"), PREAMBLE_NONE);
	ck_assert_int_eq(preamble_kind("proxy-v1"), PREAMBLE_PROXY_V1);
	ck_assert_int_eq(preamble_kind("proxy-v2"), PREAMBLE_PROXY_V2);
	ck_assert_int_eq(preamble_kind("headers"), PREAMBLE_HEADERS);
	ck_assert_int_eq(preamble_kind("Headers"), -1);
	ck_assert_int_eq(preamble_kind("proxy"), -1);
	ck_assert_str_eq(preamble_name(PREAMBLE_PROXY_V2), "proxy-v2");
}
END_TEST

/*
 * Parse buf whole (with trailing bytes that must stay unconsumed), then
 * every proper prefix, which must ask for more (0) unless want < 0 and
 * the prefix is already enough to fail with want.  Returns the result of
 * the whole parse.
 */
static ssize_t
parse_all(const uint8_t *buf, size_t len, struct preamble_proxy *pp)
{
	struct preamble_proxy	 tmp;
	uint8_t			*b;
	ssize_t			 r, rp;
	size_t			 i;

	ck_assert_ptr_nonnull(b = malloc(len + 8));
	memcpy(b, buf, len);
	memcpy(b + len, "GET / HT", 8);		/* what follows the header */
	r = preamble_parse_proxy(b, len, pp);
	if (r > 0) {
		ck_assert_int_eq(r, (ssize_t)len);
		ck_assert_int_eq(preamble_parse_proxy(b, len + 8, &tmp), r);
		ck_assert_mem_eq(&tmp, pp, sizeof(tmp));
	}
	for (i = 0; i < len; i++) {
		rp = preamble_parse_proxy(b, i, &tmp);
		if (r > 0)
			ck_assert_msg(rp == 0, "prefix %zu: %zd", i, rp);
		else
			ck_assert_msg(rp == 0 || rp == r, "prefix %zu: %zd",
			    i, rp);
	}
	free(b);
	return r;
}

static void
assert_addr(const struct preamble_addr *a, const char *want, unsigned port)
{
	struct preamble_addr	 w = addr(want, port);

	ck_assert_int_eq(a->pa_family, w.pa_family);
	ck_assert_mem_eq(a->pa_addr, w.pa_addr,
	    w.pa_family == AF_INET ? 4 : 16);
	ck_assert_uint_eq(a->pa_port, port);
}

#define P1(s)	parse_all((const uint8_t *)(s), sizeof(s) - 1, &pp)

START_TEST(test_parse_v1)
{
	struct preamble_proxy	 pp;

	ck_assert_int_eq(P1("PROXY TCP4 192.0.2.10 198.51.100.1 51234 443\r\n"),
	    46);
	ck_assert_int_eq(pp.pp_version, 1);
	ck_assert_int_eq(pp.pp_local, 0);
	assert_addr(&pp.pp_src, "192.0.2.10", 51234);
	assert_addr(&pp.pp_dst, "198.51.100.1", 443);

	ck_assert_int_gt(P1("PROXY TCP6 2001:db8::1 ::1 65535 0\r\n"), 0);
	assert_addr(&pp.pp_src, "2001:db8::1", 65535);
	assert_addr(&pp.pp_dst, "::1", 0);

	ck_assert_int_eq(P1("PROXY UNKNOWN\r\n"), 15);
	ck_assert_int_eq(pp.pp_local, 1);
	ck_assert_int_gt(P1("PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n"), 0);
	ck_assert_int_eq(pp.pp_local, 1);
}
END_TEST

START_TEST(test_parse_v1_bad)
{
#define B(s)	{ s, sizeof(s) - 1 }
	static const struct { const char *s; size_t n; } bad[] = {
		B("PROXY TCP4 192.0.2.10 198.51.100.1 51234\r\n"),
		B("PROXY TCP4 192.0.2.10 198.51.100.1 51234 443 7\r\n"),
		B("PROXY TCP4 192.0.2.10  198.51.100.1 51234 443\r\n"),
		B("PROXY TCP4 2001:db8::1 ::1 1 2\r\n"),
		B("PROXY TCP6 192.0.2.1 192.0.2.2 1 2\r\n"),
		B("PROXY TCP4 192.0.2.1 192.0.2.2 65536 2\r\n"),
		B("PROXY TCP4 192.0.2.1 192.0.2.2 01 2\r\n"),
		B("PROXY TCP4 192.0.2.1 192.0.2.2 -1 2\r\n"),
		B("PROXY TCP4 192.0.2.1 192.0.2.256 1 2\r\n"),
		B("PROXY UDP4 192.0.2.1 192.0.2.2 1 2\r\n"),
		B("PROXY TCP4 192.0.2.1 192.0.2.2 1 2\n"),
		B("PROXY TCP4 192.0.2.1\r192.0.2.2 1 2\r\n"),
		B("PROXY \r\n"),
		B("PROXY UNKNOWN \0\r\n"),	/* found by fuzz_preamble */
		B("PROXY UNKNOWN \n\r\n"),
	};
	struct preamble_proxy	 pp;
	size_t			 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(parse_all((const uint8_t *)bad[i].s, bad[i].n,
		    &pp) == PREAMBLE_ERR_MALFORMED, "accepted %s", bad[i].s);
#undef B
}
END_TEST

START_TEST(test_parse_not_proxy)
{
	struct preamble_proxy	 pp;
	char			 line[200];

	/* refused on the first byte that cannot be a PROXY header */
	ck_assert_int_eq(preamble_parse_proxy((const uint8_t *)"G", 1, &pp),
	    PREAMBLE_ERR_NOT_PROXY);
	ck_assert_int_eq(preamble_parse_proxy((const uint8_t *)"GET / ", 6,
	    &pp), PREAMBLE_ERR_NOT_PROXY);
	ck_assert_int_eq(preamble_parse_proxy((const uint8_t *)"PRI *", 5,
	    &pp), PREAMBLE_ERR_NOT_PROXY);
	ck_assert_int_eq(preamble_parse_proxy((const uint8_t *)"\x16\x03\x01",
	    3, &pp), PREAMBLE_ERR_NOT_PROXY);
	ck_assert_int_eq(preamble_parse_proxy((const uint8_t *)"\r\n\r\nX", 5,
	    &pp), PREAMBLE_ERR_NOT_PROXY);
	ck_assert_int_eq(preamble_parse_proxy((const uint8_t *)"PROX", 4,
	    &pp), 0);
	ck_assert_int_eq(preamble_parse_proxy((const uint8_t *)"", 0, &pp), 0);
	/* a v1 line with no end in 107 bytes */
	memset(line, 'x', sizeof(line));
	memcpy(line, "PROXY TCP4 ", 11);
	ck_assert_int_eq(preamble_parse_proxy((const uint8_t *)line, 106,
	    &pp), 0);
	ck_assert_int_eq(preamble_parse_proxy((const uint8_t *)line, 107,
	    &pp), PREAMBLE_ERR_TOO_BIG);
	ck_assert_int_eq(preamble_parse_proxy((const uint8_t *)line,
	    sizeof(line), &pp), PREAMBLE_ERR_TOO_BIG);
	/* a bad byte decides, however long the input (fuzz_preamble) */
	line[20] = '\n';
	ck_assert_int_eq(preamble_parse_proxy((const uint8_t *)line, 21,
	    &pp), PREAMBLE_ERR_MALFORMED);
	ck_assert_int_eq(preamble_parse_proxy((const uint8_t *)line,
	    sizeof(line), &pp), PREAMBLE_ERR_MALFORMED);
	/* a CR as the 107th byte would need a 108th for its LF */
	line[20] = 'x';
	line[106] = '\r';
	line[107] = '\n';
	ck_assert_int_eq(preamble_parse_proxy((const uint8_t *)line,
	    sizeof(line), &pp), PREAMBLE_ERR_TOO_BIG);
}
END_TEST

/* What our own encoder writes, the parser reads back. */
START_TEST(test_parse_v2_roundtrip)
{
	struct preamble_info	 pi;
	struct preamble_proxy	 pp;
	uint8_t			 buf[512];
	size_t			 len;

	pi = info("192.0.2.10", 51234, "198.51.100.1", 443, "/chat?x=1",
	    "chat.v2", 1);
	len = encode(PREAMBLE_PROXY_V2, &pi, buf, sizeof(buf));
	ck_assert_int_eq(parse_all(buf, len, &pp), (ssize_t)len);
	ck_assert_int_eq(pp.pp_version, 2);
	ck_assert_int_eq(pp.pp_local, 0);
	assert_addr(&pp.pp_src, "192.0.2.10", 51234);
	assert_addr(&pp.pp_dst, "198.51.100.1", 443);

	pi = info("2001:db8::1", 1, "2001:db8::2", 2, "/", NULL, 0);
	len = encode(PREAMBLE_PROXY_V2, &pi, buf, sizeof(buf));
	ck_assert_int_eq(parse_all(buf, len, &pp), (ssize_t)len);
	assert_addr(&pp.pp_src, "2001:db8::1", 1);
	assert_addr(&pp.pp_dst, "2001:db8::2", 2);

	pi = info("unix", 0, "unix", 0, "/", NULL, 0);
	len = encode(PREAMBLE_PROXY_V2, &pi, buf, sizeof(buf));
	ck_assert_int_eq(parse_all(buf, len, &pp), (ssize_t)len);
	ck_assert_int_eq(pp.pp_local, 1);

	len = encode(PREAMBLE_PROXY_V1, &pi, buf, sizeof(buf));
	ck_assert_int_eq(parse_all(buf, len, &pp), (ssize_t)len);
	ck_assert_int_eq(pp.pp_local, 1);
}
END_TEST

START_TEST(test_parse_v2_haproxy)
{
	/* A LOCAL header as HAProxy's health checks send it. */
	static const uint8_t	 local[] = {
		0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51,
		0x55, 0x49, 0x54, 0x0a, 0x20, 0x00, 0x00, 0x00
	};
	/* PROXY TCP4 with an unknown TLV (0x04 NOOP, 3 bytes) after it. */
	static const uint8_t	 tlv[] = {
		0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51,
		0x55, 0x49, 0x54, 0x0a, 0x21, 0x11, 0x00, 0x12,
		127, 0, 0, 1, 127, 0, 0, 2, 0x30, 0x39, 0x1f, 0x90,
		0x04, 0x00, 0x03, 0, 0, 0
	};
	struct preamble_proxy	 pp;
	uint8_t			 bad[sizeof(tlv)];

	ck_assert_int_eq(parse_all(local, sizeof(local), &pp), 16);
	ck_assert_int_eq(pp.pp_local, 1);
	ck_assert_int_eq(parse_all(tlv, sizeof(tlv), &pp), (ssize_t)sizeof(tlv));
	assert_addr(&pp.pp_src, "127.0.0.1", 12345);
	assert_addr(&pp.pp_dst, "127.0.0.2", 8080);

	memcpy(bad, tlv, sizeof(bad));
	bad[12] = 0x11;			/* version 1 in a v2 header */
	ck_assert_int_eq(parse_all(bad, sizeof(bad), &pp),
	    PREAMBLE_ERR_MALFORMED);
	memcpy(bad, tlv, sizeof(bad));
	bad[12] = 0x22;			/* command 2 */
	ck_assert_int_eq(parse_all(bad, sizeof(bad), &pp),
	    PREAMBLE_ERR_MALFORMED);
	memcpy(bad, tlv, sizeof(bad));
	bad[13] = 0x41;			/* family 4 */
	ck_assert_int_eq(parse_all(bad, sizeof(bad), &pp),
	    PREAMBLE_ERR_MALFORMED);
	memcpy(bad, tlv, sizeof(bad));
	bad[15] = 11;			/* shorter than the IPv4 addresses */
	ck_assert_int_eq(parse_all(bad, 16 + 11, &pp),
	    PREAMBLE_ERR_MALFORMED);
	memcpy(bad, tlv, sizeof(bad));
	bad[14] = 0x10;			/* 4096 + 18 bytes: over the limit */
	ck_assert_int_eq(preamble_parse_proxy(bad, sizeof(bad), &pp),
	    PREAMBLE_ERR_TOO_BIG);
}
END_TEST

Suite *
preamble_suite(void)
{
	Suite	*s = suite_create("preamble");
	TCase	*tc;

	tc = tcase_create("encode");
	tcase_add_test(tc, test_none);
	tcase_add_test(tc, test_v1_tcp4);
	tcase_add_test(tc, test_v1_tcp6_and_unknown);
	tcase_add_test(tc, test_v2_tcp4);
	tcase_add_test(tc, test_v2_tcp6_tls_nosub);
	tcase_add_test(tc, test_v2_unspec_and_too_big);
	tcase_add_test(tc, test_headers);
	tcase_add_test(tc, test_headers_refuse_line_breaks);
	tcase_add_test(tc, test_names);
	suite_add_tcase(s, tc);

	tc = tcase_create("parse");
	tcase_add_test(tc, test_parse_v1);
	tcase_add_test(tc, test_parse_v1_bad);
	tcase_add_test(tc, test_parse_not_proxy);
	tcase_add_test(tc, test_parse_v2_roundtrip);
	tcase_add_test(tc, test_parse_v2_haproxy);
	suite_add_tcase(s, tc);
	return s;
}
