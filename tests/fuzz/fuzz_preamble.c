/*
 * Fuzz the PROXY header parser (preamble.c), which reads what a load
 * balancer, or anyone who can reach a proxy_protocol listener, sends
 * first; and the preamble encoders on values made from the input.
 *
 * Input, parser: what arrived on the socket.  The verdict on the whole
 * must be stable: a header found is at most len bytes, parsing any
 * longer input that starts with those bytes finds the same header, and
 * no prefix of the input is already a different header or a different
 * error (as proxy.c re-parses a growing buffer).  A header found is
 * written back by the encoders and parsed again to the same addresses.
 *
 * Input, encoders: the same bytes cut into a target, a subprotocol and
 * header values; the size the encoders report for an empty buffer must
 * be the size they write, and a "headers" block must have no line break
 * other than the ones it adds.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include "fuzz.h"
#include "preamble.h"

static void
fuzz_parser(const uint8_t *in, size_t len)
{
	struct preamble_proxy	 pp, pp2;
	struct preamble_info	 pi;
	uint8_t			 out[PREAMBLE_PROXY_MAX + 64], *more;
	size_t			 i, olen;
	ssize_t			 r, rp;

	r = preamble_parse_proxy(in, len, &pp);
	FUZZ_ASSERT(r <= (ssize_t)len);
	FUZZ_ASSERT(r >= 0 || r == PREAMBLE_ERR_NOT_PROXY ||
	    r == PREAMBLE_ERR_MALFORMED || r == PREAMBLE_ERR_TOO_BIG);
	for (i = 0; i < len; i += 1 + i / 8) {
		rp = preamble_parse_proxy(in, i, &pp2);
		if (r > 0)
			FUZZ_ASSERT(rp == 0 || (i >= (size_t)r && rp == r));
		else
			FUZZ_ASSERT(rp == 0 || rp == r);
	}
	if (r <= 0)
		return;

	/* Bytes behind the header are not its business. */
	if ((more = malloc(len + 16)) == NULL)
		abort();
	memcpy(more, in, len);
	memset(more + len, 'G', 16);
	FUZZ_ASSERT(preamble_parse_proxy(more, len + 16, &pp2) == r);
	FUZZ_ASSERT(memcmp(&pp, &pp2, sizeof(pp)) == 0);
	free(more);

	FUZZ_ASSERT(pp.pp_version == 1 || pp.pp_version == 2);
	if (pp.pp_local)
		return;
	FUZZ_ASSERT(pp.pp_src.pa_family == AF_INET ||
	    pp.pp_src.pa_family == AF_INET6);
	FUZZ_ASSERT(pp.pp_src.pa_family == pp.pp_dst.pa_family);

	/* What was read, written back, reads the same. */
	memset(&pi, 0, sizeof(pi));
	pi.pi_src = pp.pp_src;
	pi.pi_dst = pp.pp_dst;
	pi.pi_target = pi.pi_path = "/";
	pi.pi_target_len = pi.pi_path_len = 1;
	FUZZ_ASSERT(preamble_encode(pp.pp_version == 1 ? PREAMBLE_PROXY_V1 :
	    PREAMBLE_PROXY_V2, &pi, out, sizeof(out), &olen) == 0);
	FUZZ_ASSERT(olen <= sizeof(out));
	FUZZ_ASSERT(preamble_parse_proxy(out, olen, &pp2) == (ssize_t)olen);
	FUZZ_ASSERT(memcmp(&pp2.pp_src, &pp.pp_src, sizeof(pp.pp_src)) == 0);
	FUZZ_ASSERT(memcmp(&pp2.pp_dst, &pp.pp_dst, sizeof(pp.pp_dst)) == 0);
}

static void
fuzz_encoders(const uint8_t *in, size_t len)
{
	struct preamble_field	 f[4];
	struct preamble_info	 pi;
	char			 sub[32];
	uint8_t			*buf;
	size_t			 i, cut, n, need, got, crlf;
	int			 k, rv, rv2;

	memset(&pi, 0, sizeof(pi));
	if (len < 40)
		return;
	pi.pi_src.pa_family = (in[0] & 1) ? AF_INET6 : AF_INET;
	pi.pi_dst.pa_family = (in[0] & 2) ? AF_INET6 : AF_INET;
	if (in[0] & 4)
		pi.pi_src.pa_family = AF_UNSPEC;
	memcpy(pi.pi_src.pa_addr, in + 1, 16);
	memcpy(pi.pi_dst.pa_addr, in + 17, 16);
	pi.pi_src.pa_port = (uint16_t)(in[33] << 8 | in[34]);
	pi.pi_dst.pa_port = (uint16_t)(in[35] << 8 | in[36]);
	pi.pi_tls = in[37] & 1;
	n = in[38] % sizeof(sub);
	in += 39;
	len -= 39;
	if (n > len)
		n = len;
	memcpy(sub, in, n);
	sub[n] = '\0';			/* may be shorter: a NUL inside */
	pi.pi_subproto = (in[0] & 8) ? sub : NULL;
	in += n;
	len -= n;
	cut = len / 2;
	pi.pi_target = pi.pi_path = (const char *)in;
	pi.pi_target_len = cut;
	pi.pi_path_len = cut / 2;
	pi.pi_query = (const char *)in + pi.pi_path_len;
	pi.pi_query_len = cut - pi.pi_path_len;
	for (i = 0; i < 4 && cut + 1 < len; i++) {
		f[i].pf_name = "X-F";
		f[i].pf_name_len = 3;
		f[i].pf_value = (const char *)in + cut;
		f[i].pf_value_len = (len - cut) / 4;
		cut += f[i].pf_value_len;
		pi.pi_nfields++;
	}
	pi.pi_fields = f;

	for (k = PREAMBLE_NONE; k <= PREAMBLE_HEADERS; k++) {
		rv = preamble_encode(k, &pi, NULL, 0, &need);
		if (rv != 0) {
			FUZZ_ASSERT(rv == PREAMBLE_ERR_TOO_BIG ||
			    rv == PREAMBLE_ERR_VALUE);
			continue;
		}
		if ((buf = malloc(need + 1)) == NULL)
			abort();
		rv2 = preamble_encode(k, &pi, buf, need, &got);
		FUZZ_ASSERT(rv2 == 0 && got == need);
		if (k == PREAMBLE_HEADERS) {
			/* 6 fixed lines, the fields, the empty line */
			for (i = 0, crlf = 0; i < got; i++) {
				FUZZ_ASSERT(buf[i] != '\n' ||
				    (i > 0 && buf[i - 1] == '\r'));
				if (buf[i] == '\n')
					crlf++;
			}
			FUZZ_ASSERT(crlf == 7 + pi.pi_nfields);
			FUZZ_ASSERT(got >= 4 &&
			    memcmp(buf + got - 4, "\r\n\r\n", 4) == 0);
		}
		free(buf);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *in, size_t len)
{
	fuzz_parser(in, len);
	fuzz_encoders(in, len);
	return 0;
}
