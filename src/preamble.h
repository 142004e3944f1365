/*
 * Client identity on the wire (pure: no I/O, no allocation).
 *
 * Two directions:
 *  - preamble_encode() formats what a route's `preamble` setting writes
 *    to the backend before the first relayed byte: the HAProxy PROXY
 *    protocol, version 1 (text) or 2 (binary, with the request target in
 *    a TLV of type 0xE0 and the subprotocol in one of type 0xE1), or a
 *    block of "Name: value\r\n" header lines ended by an empty line.
 *  - preamble_parse_proxy() reads the PROXY header (v1 or v2) a load
 *    balancer sends in front of a client connection, on listeners with
 *    `proxy_protocol = true`.
 *
 * The formats are described byte by byte in wsgated.conf(5); the PROXY
 * protocol itself in HAProxy's proxy-protocol.txt.
 */
#ifndef WSGATE_PREAMBLE_H
#define WSGATE_PREAMBLE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum preamble_kind {
	PREAMBLE_NONE = 0,
	PREAMBLE_PROXY_V1,
	PREAMBLE_PROXY_V2,
	PREAMBLE_HEADERS
};

enum preamble_error {
	PREAMBLE_ERR_NOT_PROXY = -1,	/* parse: not a PROXY header at all */
	PREAMBLE_ERR_MALFORMED = -2,	/* parse: a broken PROXY header */
	PREAMBLE_ERR_TOO_BIG = -3,	/* over the format's size limit */
	PREAMBLE_ERR_VALUE = -4		/* encode: a value with CR, LF or NUL */
};

/* PROXY v2 TLV types from the range left to applications (0xE0..0xEF). */
#define PREAMBLE_TLV_TARGET	0xE0	/* request-target, as received */
#define PREAMBLE_TLV_SUBPROTO	0xE1	/* chosen subprotocol, if any */
#define PREAMBLE_TLV_SSL	0x20	/* PP2_TYPE_SSL: client used TLS */

#define PREAMBLE_V1_MAX		107	/* the spec's longest v1 line */
#define PREAMBLE_V2_HDR		16	/* signature, command, family, len */
#define PREAMBLE_V2_SIG		"\r\n\r\n\0\r\nQUIT\n"
#define PREAMBLE_V2_SIGLEN	12
/* The longest PROXY header preamble_parse_proxy() accepts. */
#define PREAMBLE_PROXY_MAX	4096

/*
 * An endpoint of a connection.  pa_family is AF_INET or AF_INET6 with
 * the address in network byte order, or AF_UNSPEC when there is none to
 * tell (a client on a Unix-socket listener, a balancer's health check).
 */
struct preamble_addr {
	int		 pa_family;
	uint8_t		 pa_addr[16];
	uint16_t	 pa_port;	/* host byte order */
};

/* A request header to forward: name as configured, value as received. */
struct preamble_field {
	const char	*pf_name;
	size_t		 pf_name_len;
	const char	*pf_value;
	size_t		 pf_value_len;
};

/* What the encoders tell the backend about one client. */
struct preamble_info {
	struct preamble_addr	 pi_src;	/* the client */
	struct preamble_addr	 pi_dst;	/* the address it connected to */
	const char		*pi_target;	/* request-target as received */
	size_t			 pi_target_len;
	const char		*pi_path;	/* target up to '?' */
	size_t			 pi_path_len;
	const char		*pi_query;	/* after '?', NULL if none */
	size_t			 pi_query_len;
	const char		*pi_subproto;	/* NUL-terminated, NULL if none */
	int			 pi_tls;	/* the client connection is TLS */
	const struct preamble_field *pi_fields;	/* "headers" only */
	size_t			 pi_nfields;
};

/*
 * Format the preamble of kind for info into buf[0..size).  Returns 0
 * with the length in *len; or 0 with *len > size when buf is too small
 * (nothing usable was written: call again with *len bytes); or a
 * negative PREAMBLE_ERR_*: TOO_BIG when a PROXY v2 header would exceed
 * its 16-bit length, VALUE when a "headers" value holds CR, LF or NUL.
 * PREAMBLE_NONE is always 0 bytes.
 *
 * proxy-v1 writes "PROXY TCP4 ..." or "PROXY TCP6 ..." when both
 * addresses are of that family, "PROXY UNKNOWN\r\n" otherwise.
 */
int	 preamble_encode(enum preamble_kind, const struct preamble_info *,
	    uint8_t *buf, size_t size, size_t *len);

/* A PROXY header received from a load balancer. */
struct preamble_proxy {
	int			 pp_version;	/* 1 or 2 */
	int			 pp_local;	/* v2 LOCAL, v1 UNKNOWN, or a
						   family without addresses:
						   keep the socket's own */
	struct preamble_addr	 pp_src;	/* the client, unless pp_local */
	struct preamble_addr	 pp_dst;
};

/*
 * Parse the PROXY header at the start of buf[0..len), v1 or v2.  Returns
 * its length (the bytes to consume) when complete, 0 when more bytes are
 * needed, PREAMBLE_ERR_NOT_PROXY as soon as the first bytes cannot begin
 * one, PREAMBLE_ERR_MALFORMED for a broken one, PREAMBLE_ERR_TOO_BIG for
 * a v2 header over PREAMBLE_PROXY_MAX or a v1 line over
 * PREAMBLE_V1_MAX.  TLVs of a v2 header are skipped.
 */
ssize_t	 preamble_parse_proxy(const uint8_t *buf, size_t len,
	    struct preamble_proxy *out);

/* "none", "proxy-v1", "proxy-v2", "headers"; and back (-1: unknown). */
const char *preamble_name(enum preamble_kind);
int	 preamble_kind(const char *name);

#endif /* WSGATE_PREAMBLE_H */
