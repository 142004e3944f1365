/*
 * SNI certificate selection: name matching with RFC 6125 wildcards.
 * Pure code; see sni.h for the rules.
 */
#include <stddef.h>
#include <string.h>

#include "sni.h"

#define SNI_MAX_NAME	253
#define SNI_MAX_LABEL	63

static int	sni_lower(int);
static int	sni_eq(const char *, const char *, size_t);
static int	sni_labels(const char *, size_t);

/* ASCII only: the C locale's tolower() without the locale. */
static int
sni_lower(int ch)
{
	return ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch;
}

static int
sni_eq(const char *a, const char *b, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		if (sni_lower((unsigned char)a[i]) !=
		    sni_lower((unsigned char)b[i]))
			return 0;
	return 1;
}

/*
 * The number of labels of a host name s[0..len), or -1 if it is not one
 * (an empty or over-long label, a byte that is not a letter, a digit,
 * '-' or '_').
 */
static int
sni_labels(const char *s, size_t len)
{
	size_t	 i, label = 0;
	int	 n = 1;

	if (len == 0 || len > SNI_MAX_NAME)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] == '.') {
			if (label == 0)
				return -1;
			label = 0;
			n++;
			continue;
		}
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_'))
			return -1;
		if (++label > SNI_MAX_LABEL)
			return -1;
	}
	return label == 0 ? -1 : n;
}

int
sni_pattern_ok(const char *pattern)
{
	size_t	 len = strlen(pattern);

	if (len >= 2 && pattern[0] == '*' && pattern[1] == '.')
		return sni_labels(pattern + 2, len - 2) >= 2;
	return sni_labels(pattern, len) >= 1;
}

int
sni_match(const char *pattern, const char *host, size_t hostlen)
{
	size_t	 plen = strlen(pattern), first;

	if (hostlen > 0 && host[hostlen - 1] == '.')
		hostlen--;
	if (sni_labels(host, hostlen) < 1 || !sni_pattern_ok(pattern))
		return 0;
	if (pattern[0] != '*')
		return plen == hostlen && sni_eq(pattern, host, hostlen);

	/* "*.rest": one whole label of host, then ".rest". */
	for (first = 0; first < hostlen && host[first] != '.'; first++)
		;
	return first > 0 && hostlen - first == plen - 1 &&
	    sni_eq(pattern + 1, host + first, plen - 1);
}

int
sni_select(const struct sni_cert *certs, size_t ncerts, const char *host,
    size_t hostlen)
{
	size_t	 i, j;
	int	 wild = -1;

	for (i = 0; i < ncerts; i++) {
		for (j = 0; j < certs[i].sc_nnames; j++) {
			if (!sni_match(certs[i].sc_names[j], host, hostlen))
				continue;
			if (certs[i].sc_names[j][0] != '*')
				return (int)i;
			if (wild == -1)
				wild = (int)i;
		}
	}
	return wild;
}
