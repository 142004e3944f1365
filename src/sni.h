/*
 * Server Name Indication: which of a listener's certificates answers a
 * client's server_name.  Pure: no OpenSSL, no sockets, no allocation.
 *
 * A certificate's names are its subjectAltName DNS entries, as
 * tls.c extracts them.  A name is matched the way browsers match a
 * reference identity against a certificate (RFC 6125 section 6.4):
 * ASCII case-insensitively, and a wildcard only as the whole left-most
 * label ("*.example.com" matches "a.example.com", but neither
 * "example.com" nor "a.b.example.com"), and only above a registered-
 * looking suffix of at least two labels ("*.com" matches nothing).
 */
#ifndef WSGATE_SNI_H
#define WSGATE_SNI_H

#include <stddef.h>

/* The names of one certificate (not owned by this module). */
struct sni_cert {
	char * const	*sc_names;	/* subjectAltName DNS entries */
	size_t		 sc_nnames;
};

/*
 * Does the certificate name pattern match host[0..hostlen)?  One
 * trailing dot on host is ignored ("a.example.com." is
 * "a.example.com").  Returns 1 or 0.
 */
int	sni_match(const char *pattern, const char *host, size_t hostlen);

/*
 * The certificate for host[0..hostlen) among certs[0..ncerts): the first
 * one with an exact name for it, else the first whose wildcard matches.
 * Returns its index, or -1 if none matches (the caller then uses its
 * default, the first).
 */
int	sni_select(const struct sni_cert *certs, size_t ncerts,
	    const char *host, size_t hostlen);

/*
 * Is pattern usable as a certificate DNS name: a host name, or a
 * wildcard "*." followed by a name of at least two labels?  Returns 1 or
 * 0.  (An unusable name is never matched; tls.c warns about it.)
 */
int	sni_pattern_ok(const char *pattern);

#endif /* WSGATE_SNI_H */
