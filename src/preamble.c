/*
 * Client identity on the wire: the preambles written to backends and the
 * PROXY header read from load balancers (pure; see preamble.h).
 *
 * The encoders count every byte they would write and store only what
 * fits, so one call with a small buffer tells the caller how much to
 * allocate, like snprintf().  The parser never reads past len and
 * decides as early as it can: a connection that does not begin with a
 * PROXY signature is refused on its first bytes, not after a timeout.
 */
#include <sys/socket.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <string.h>

#include "preamble.h"

struct preamble_out {
	uint8_t		*po_buf;
	size_t		 po_size;
	size_t		 po_len;	/* bytes that would be written */
};

static void	preamble_put(struct preamble_out *, const void *, size_t);
static void	preamble_puts(struct preamble_out *, const char *);
static void	preamble_put16(struct preamble_out *, unsigned int);
static void	preamble_addr_str(const struct preamble_addr *, char *,
		    size_t);
static int	preamble_v1(struct preamble_out *,
		    const struct preamble_info *);
static int	preamble_v2(struct preamble_out *,
		    const struct preamble_info *);
static int	preamble_headers(struct preamble_out *,
		    const struct preamble_info *);
static int	preamble_field_ok(const char *, size_t);
static void	preamble_tlv(struct preamble_out *, unsigned int,
		    const void *, size_t);
static ssize_t	preamble_parse_v1(const uint8_t *, size_t,
		    struct preamble_proxy *);
static ssize_t	preamble_parse_v2(const uint8_t *, size_t,
		    struct preamble_proxy *);
static int	preamble_v1_addr(const char *, size_t, int,
		    struct preamble_addr *);
static int	preamble_v1_port(const char *, size_t, uint16_t *);

static const char *const preamble_names[] = {
	"none", "proxy-v1", "proxy-v2", "headers"
};

const char *
preamble_name(enum preamble_kind k)
{
	if ((size_t)k >= sizeof(preamble_names) / sizeof(preamble_names[0]))
		return "?";
	return preamble_names[k];
}

int
preamble_kind(const char *name)
{
	size_t	 i;

	for (i = 0; i < sizeof(preamble_names) / sizeof(preamble_names[0]);
	    i++)
		if (strcmp(name, preamble_names[i]) == 0)
			return (int)i;
	return -1;
}

static void
preamble_put(struct preamble_out *o, const void *p, size_t n)
{
	if (o->po_len <= o->po_size && n <= o->po_size - o->po_len && n > 0)
		memcpy(o->po_buf + o->po_len, p, n);
	o->po_len += n;
}

static void
preamble_puts(struct preamble_out *o, const char *s)
{
	preamble_put(o, s, strlen(s));
}

static void
preamble_put16(struct preamble_out *o, unsigned int v)
{
	uint8_t	 b[2];

	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
	preamble_put(o, b, 2);
}

/* The address alone: "192.0.2.1", "2001:db8::1", or "unix". */
static void
preamble_addr_str(const struct preamble_addr *a, char *buf, size_t size)
{
	if (a->pa_family != AF_INET && a->pa_family != AF_INET6) {
		snprintf(buf, size, "unix");
		return;
	}
	if (inet_ntop(a->pa_family, a->pa_addr, buf, (socklen_t)size) == NULL)
		snprintf(buf, size, "?");
}

int
preamble_encode(enum preamble_kind kind, const struct preamble_info *pi,
    uint8_t *buf, size_t size, size_t *len)
{
	struct preamble_out	 o;
	int			 rv = 0;

	o.po_buf = buf;
	o.po_size = size;
	o.po_len = 0;
	switch (kind) {
	case PREAMBLE_NONE:
		break;
	case PREAMBLE_PROXY_V1:
		rv = preamble_v1(&o, pi);
		break;
	case PREAMBLE_PROXY_V2:
		rv = preamble_v2(&o, pi);
		break;
	case PREAMBLE_HEADERS:
		rv = preamble_headers(&o, pi);
		break;
	}
	*len = o.po_len;
	return rv;
}

/* "PROXY TCP4 SRC DST SPORT DPORT\r\n", or "PROXY UNKNOWN\r\n". */
static int
preamble_v1(struct preamble_out *o, const struct preamble_info *pi)
{
	char	 src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], line[128];
	int	 n;

	if (pi->pi_src.pa_family != pi->pi_dst.pa_family ||
	    (pi->pi_src.pa_family != AF_INET &&
	    pi->pi_src.pa_family != AF_INET6)) {
		preamble_puts(o, "PROXY UNKNOWN\r\n");
		return 0;
	}
	preamble_addr_str(&pi->pi_src, src, sizeof(src));
	preamble_addr_str(&pi->pi_dst, dst, sizeof(dst));
	n = snprintf(line, sizeof(line), "PROXY %s %s %s %u %u\r\n",
	    pi->pi_src.pa_family == AF_INET ? "TCP4" : "TCP6", src, dst,
	    (unsigned int)pi->pi_src.pa_port, (unsigned int)pi->pi_dst.pa_port);
	if (n < 0 || (size_t)n >= sizeof(line))
		return PREAMBLE_ERR_TOO_BIG;
	preamble_put(o, line, (size_t)n);
	return 0;
}

static void
preamble_tlv(struct preamble_out *o, unsigned int type, const void *v,
    size_t n)
{
	uint8_t	 t = (uint8_t)type;

	preamble_put(o, &t, 1);
	preamble_put16(o, (unsigned int)n);
	preamble_put(o, v, n);
}

/*
 * The 16-byte v2 header (signature, 0x21 = version 2 + PROXY, family and
 * transport, length of the rest), the addresses and ports, then the
 * TLVs: 0x20 (SSL) when the client used TLS, 0xE0 the request-target,
 * 0xE1 the subprotocol.
 */
static int
preamble_v2(struct preamble_out *o, const struct preamble_info *pi)
{
	const struct preamble_addr *s = &pi->pi_src, *d = &pi->pi_dst;
	static const uint8_t ssl[5] = { 0x01, 0, 0, 0, 1 };	/* client
				   used TLS; no client certificate verified */
	uint8_t		 b[2];
	size_t		 alen, rest, sublen;

	sublen = pi->pi_subproto != NULL ? strlen(pi->pi_subproto) : 0;
	if (s->pa_family == d->pa_family && s->pa_family == AF_INET) {
		b[1] = 0x11;		/* AF_INET, STREAM */
		alen = 4;
	} else if (s->pa_family == d->pa_family && s->pa_family == AF_INET6) {
		b[1] = 0x21;		/* AF_INET6, STREAM */
		alen = 16;
	} else {
		b[1] = 0x00;		/* AF_UNSPEC: no addresses */
		alen = 0;
	}
	if (pi->pi_target_len > 0xffff || sublen > 0xffff)
		return PREAMBLE_ERR_TOO_BIG;
	rest = (alen != 0 ? 2 * alen + 4 : 0) + 3 + pi->pi_target_len +
	    (pi->pi_subproto != NULL ? 3 + sublen : 0) +
	    (pi->pi_tls ? 3 + sizeof(ssl) : 0);
	if (rest > 0xffff)
		return PREAMBLE_ERR_TOO_BIG;

	preamble_put(o, PREAMBLE_V2_SIG, PREAMBLE_V2_SIGLEN);
	b[0] = 0x21;			/* version 2, command PROXY */
	preamble_put(o, b, 2);
	preamble_put16(o, (unsigned int)rest);
	if (alen != 0) {
		preamble_put(o, s->pa_addr, alen);
		preamble_put(o, d->pa_addr, alen);
		preamble_put16(o, s->pa_port);
		preamble_put16(o, d->pa_port);
	}
	if (pi->pi_tls)
		preamble_tlv(o, PREAMBLE_TLV_SSL, ssl, sizeof(ssl));
	preamble_tlv(o, PREAMBLE_TLV_TARGET, pi->pi_target, pi->pi_target_len);
	if (pi->pi_subproto != NULL)
		preamble_tlv(o, PREAMBLE_TLV_SUBPROTO, pi->pi_subproto, sublen);
	return 0;
}

/* A header value may not break the block: no CR, LF or NUL. */
static int
preamble_field_ok(const char *v, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (v[i] == '\r' || v[i] == '\n' || v[i] == '\0')
			return 0;
	return 1;
}

static int
preamble_headers(struct preamble_out *o, const struct preamble_info *pi)
{
	char	 addr[INET6_ADDRSTRLEN], port[8];
	size_t	 i;

	if (!preamble_field_ok(pi->pi_path, pi->pi_path_len) ||
	    (pi->pi_query != NULL &&
	    !preamble_field_ok(pi->pi_query, pi->pi_query_len)) ||
	    (pi->pi_subproto != NULL && !preamble_field_ok(pi->pi_subproto,
	    strlen(pi->pi_subproto))))
		return PREAMBLE_ERR_VALUE;
	for (i = 0; i < pi->pi_nfields; i++)
		if (!preamble_field_ok(pi->pi_fields[i].pf_name,
		    pi->pi_fields[i].pf_name_len) ||
		    !preamble_field_ok(pi->pi_fields[i].pf_value,
		    pi->pi_fields[i].pf_value_len))
			return PREAMBLE_ERR_VALUE;

	preamble_addr_str(&pi->pi_src, addr, sizeof(addr));
	snprintf(port, sizeof(port), "%u", (unsigned int)pi->pi_src.pa_port);
	preamble_puts(o, "Remote-Addr: ");
	preamble_puts(o, addr);
	preamble_puts(o, "\r\nRemote-Port: ");
	preamble_puts(o, port);
	preamble_puts(o, "\r\nPath: ");
	preamble_put(o, pi->pi_path, pi->pi_path_len);
	preamble_puts(o, "\r\nQuery: ");
	if (pi->pi_query != NULL)
		preamble_put(o, pi->pi_query, pi->pi_query_len);
	preamble_puts(o, "\r\nSubprotocol: ");
	if (pi->pi_subproto != NULL)
		preamble_puts(o, pi->pi_subproto);
	preamble_puts(o, pi->pi_tls ? "\r\nTLS: yes\r\n" : "\r\nTLS: no\r\n");
	for (i = 0; i < pi->pi_nfields; i++) {
		preamble_put(o, pi->pi_fields[i].pf_name,
		    pi->pi_fields[i].pf_name_len);
		preamble_puts(o, ": ");
		preamble_put(o, pi->pi_fields[i].pf_value,
		    pi->pi_fields[i].pf_value_len);
		preamble_puts(o, "\r\n");
	}
	preamble_puts(o, "\r\n");
	return 0;
}

ssize_t
preamble_parse_proxy(const uint8_t *buf, size_t len,
    struct preamble_proxy *out)
{
	static const char v1sig[] = "PROXY ";
	size_t	 n;

	memset(out, 0, sizeof(*out));
	if (len == 0)
		return 0;
	if (buf[0] == 'P') {
		n = len < sizeof(v1sig) - 1 ? len : sizeof(v1sig) - 1;
		if (memcmp(buf, v1sig, n) != 0)
			return PREAMBLE_ERR_NOT_PROXY;
		return preamble_parse_v1(buf, len, out);
	}
	n = len < PREAMBLE_V2_SIGLEN ? len : PREAMBLE_V2_SIGLEN;
	if (memcmp(buf, PREAMBLE_V2_SIG, n) != 0)
		return PREAMBLE_ERR_NOT_PROXY;
	return preamble_parse_v2(buf, len, out);
}

/*
 * "PROXY TCP4 SRC DST SPORT DPORT\r\n", "PROXY TCP6 ...", or "PROXY
 * UNKNOWN" and anything up to "\r\n"; at most 107 bytes in all.
 */
static ssize_t
preamble_parse_v1(const uint8_t *buf, size_t len,
    struct preamble_proxy *out)
{
	const char	*line = (const char *)buf, *f[6];
	size_t		 flen[6], i, end, nf, start;
	int		 family;

	out->pp_version = 1;
	/* The line, CR LF included, is at most PREAMBLE_V1_MAX bytes. */
	nf = len;
	if (nf > PREAMBLE_V1_MAX)
		nf = PREAMBLE_V1_MAX;
	for (end = 0; end + 1 < nf; end++)
		if (buf[end] == '\r' && buf[end + 1] == '\n')
			break;
	if (end + 1 >= nf) {
		/*
		 * Fail early on what cannot be part of the line, looking at
		 * the same bytes whatever came after them, so that the
		 * verdict does not change as more arrives.
		 */
		for (i = 0; i < nf; i++)
			if (buf[i] == '\n' || buf[i] == '\0' ||
			    (buf[i] == '\r' && i + 1 < nf))
				return PREAMBLE_ERR_MALFORMED;
		return len >= PREAMBLE_V1_MAX ? PREAMBLE_ERR_TOO_BIG : 0;
	}

	/* No NUL, and no CR or LF but the final pair, even for UNKNOWN. */
	for (i = 0; i < end; i++)
		if (buf[i] == '\0' || buf[i] == '\r' || buf[i] == '\n')
			return PREAMBLE_ERR_MALFORMED;

	/* Split on single spaces: PROXY PROTO SRC DST SPORT DPORT. */
	nf = 0;
	start = 0;
	for (i = 0; i <= end && nf < 6; i++) {
		if (i == end || buf[i] == ' ') {
			f[nf] = line + start;
			flen[nf] = i - start;
			nf++;
			start = i + 1;
		}
	}
	if (nf >= 2 && flen[1] == 7 && memcmp(f[1], "UNKNOWN", 7) == 0) {
		out->pp_local = 1;
		return (ssize_t)(end + 2);
	}
	if (nf != 6 || start <= end)	/* fewer fields, or a seventh */
		return PREAMBLE_ERR_MALFORMED;
	if (flen[1] == 4 && memcmp(f[1], "TCP4", 4) == 0)
		family = AF_INET;
	else if (flen[1] == 4 && memcmp(f[1], "TCP6", 4) == 0)
		family = AF_INET6;
	else
		return PREAMBLE_ERR_MALFORMED;
	if (preamble_v1_addr(f[2], flen[2], family, &out->pp_src) == -1 ||
	    preamble_v1_addr(f[3], flen[3], family, &out->pp_dst) == -1 ||
	    preamble_v1_port(f[4], flen[4], &out->pp_src.pa_port) == -1 ||
	    preamble_v1_port(f[5], flen[5], &out->pp_dst.pa_port) == -1)
		return PREAMBLE_ERR_MALFORMED;
	return (ssize_t)(end + 2);
}

static int
preamble_v1_addr(const char *s, size_t n, int family,
    struct preamble_addr *a)
{
	char	 tmp[INET6_ADDRSTRLEN + 1];

	if (n == 0 || n >= sizeof(tmp))
		return -1;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	if (inet_pton(family, tmp, a->pa_addr) != 1)
		return -1;
	a->pa_family = family;
	return 0;
}

/* 0..65535 in decimal, no sign, no leading zero (but "0" itself). */
static int
preamble_v1_port(const char *s, size_t n, uint16_t *port)
{
	unsigned long	 v = 0;
	size_t		 i;

	if (n == 0 || n > 5 || (n > 1 && s[0] == '0'))
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

/*
 * Signature (12), version and command (1: 0x20 LOCAL, 0x21 PROXY),
 * family and transport (1), length of the rest (2, big-endian), then the
 * addresses of the family and any TLVs, which are skipped.
 */
static ssize_t
preamble_parse_v2(const uint8_t *buf, size_t len,
    struct preamble_proxy *out)
{
	size_t	 rest, total, alen;
	int	 cmd;

	out->pp_version = 2;
	if (len < PREAMBLE_V2_HDR)
		return len > PREAMBLE_V2_SIGLEN && (buf[12] & 0xf0) != 0x20 ?
		    PREAMBLE_ERR_MALFORMED : 0;
	if ((buf[12] & 0xf0) != 0x20)
		return PREAMBLE_ERR_MALFORMED;
	cmd = buf[12] & 0x0f;
	if (cmd != 0x0 && cmd != 0x1)
		return PREAMBLE_ERR_MALFORMED;
	rest = ((size_t)buf[14] << 8) | buf[15];
	total = PREAMBLE_V2_HDR + rest;
	if (total > PREAMBLE_PROXY_MAX)
		return PREAMBLE_ERR_TOO_BIG;
	switch (buf[13] >> 4) {
	case 0x0:			/* AF_UNSPEC */
		alen = 0;
		break;
	case 0x1:			/* AF_INET */
		alen = 12;
		break;
	case 0x2:			/* AF_INET6 */
		alen = 36;
		break;
	case 0x3:			/* AF_UNIX: 2 x 108 bytes */
		alen = 216;
		break;
	default:
		return PREAMBLE_ERR_MALFORMED;
	}
	if ((buf[13] & 0x0f) > 0x2)	/* UNSPEC, STREAM or DGRAM */
		return PREAMBLE_ERR_MALFORMED;
	if (rest < alen)
		return PREAMBLE_ERR_MALFORMED;
	if (len < total)
		return 0;

	buf += PREAMBLE_V2_HDR;
	if (cmd == 0x0 || (buf[-3] >> 4) == 0x0 || (buf[-3] >> 4) == 0x3) {
		/* LOCAL (a health check), or no IP addresses to tell. */
		out->pp_local = 1;
		return (ssize_t)total;
	}
	if (alen == 12) {
		out->pp_src.pa_family = out->pp_dst.pa_family = AF_INET;
		memcpy(out->pp_src.pa_addr, buf, 4);
		memcpy(out->pp_dst.pa_addr, buf + 4, 4);
		buf += 8;
	} else {
		out->pp_src.pa_family = out->pp_dst.pa_family = AF_INET6;
		memcpy(out->pp_src.pa_addr, buf, 16);
		memcpy(out->pp_dst.pa_addr, buf + 16, 16);
		buf += 32;
	}
	out->pp_src.pa_port = (uint16_t)((buf[0] << 8) | buf[1]);
	out->pp_dst.pa_port = (uint16_t)((buf[2] << 8) | buf[3]);
	return (ssize_t)total;
}
