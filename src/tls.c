/*
 * TLS termination: the OpenSSL contexts of the TLS listeners (built from
 * the config, checked by -t, part of each config snapshot), SNI among
 * several certificates, ALPN, session tickets with rotated keys, and the
 * few things the connection code needs to know about a TLS bufferevent
 * (is the handshake done, send close_notify, why did it fail).
 *
 * Each certificate of a listener gets its own SSL_CTX, all configured
 * alike.  Connections start on the first (the default); the servername
 * callback switches to another with SSL_set_SSL_CTX() when the client's
 * server_name matches one of its subjectAltName DNS entries (sni.c).
 * The session-ticket callback and the session ID context stay those of
 * the first, as OpenSSL resumes sessions against the initial context.
 */
#include <sys/types.h>

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/util.h>

#include "log.h"
#include "sni.h"
#include "tickets.h"
#include "tls.h"

/*
 * TLS 1.2 ciphers when the config names none: forward secrecy and AEAD
 * only (Mozilla's "intermediate" list without DHE).  TLS 1.3 keeps
 * OpenSSL's default suites, which are all fine.
 */
#define TLS_CIPHERS							\
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"	\
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"	\
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
/* Appended to any list: what is never offered, whatever ciphers says. */
#define TLS_CIPHERS_NEVER						\
	":!aNULL:!eNULL:!EXPORT:!LOW:!RC4:!3DES:!DES:!MD5:!PSK:!SRP"

/*
 * A session-ticket key encrypts new tickets for TLS_TICKET_ROTATE
 * seconds, then only decrypts (and the ticket is renewed) for as long
 * again; tickets live TLS_TICKET_ROTATE seconds.  So no ticket outlives
 * its key, and a key is forgotten after at most twice that (tickets.c).
 */
#define TLS_TICKET_ROTATE	3600

static const unsigned char tls_alpn[] = "\x08http/1.1";

/* One certificate: its context and the names SNI matches. */
struct tls_cert {
	SSL_CTX			*tc_ctx;
	const char		*tc_file;	/* the snapshot's */
	char			**tc_names;	/* subjectAltName DNS entries */
	size_t			 tc_nnames;
};

/* A listener's contexts: conf_tls.t_ctx. */
struct tls_ctx {
	struct tls_cert		*x_certs;	/* [0] is the default */
	struct sni_cert		*x_sni;		/* x_certs' names, for sni.c */
	size_t			 x_ncerts;
};

/*
 * The ticket keys are process-wide, shared by every listener, every
 * worker and every snapshot (so a reload does not void the tickets out
 * there), and rotated lazily when a handshake needs one.
 */
static pthread_mutex_t		 tls_tickets_lock = PTHREAD_MUTEX_INITIALIZER;
static struct tickets_ring	 tls_tickets = {
	.tr_period = TLS_TICKET_ROTATE
};

/* One tls_conf_setup() in progress. */
struct tls_loader {
	conf_error_fn		 ld_err;
	void			*ld_arg;
	const char		*ld_path;
	int			 ld_nerrors;
};

static void	 tls_conf_error(struct tls_loader *, const char *,
		    const char *, ...) __attribute__((format(printf, 3, 4)));
static const char *tls_ossl_reason(char *, size_t);
static int	 tls_listener(struct tls_loader *, struct conf_listen *);
static SSL_CTX	*tls_ctx_new(struct tls_loader *, const struct conf_tls *,
		    const char *, int);
static int	 tls_load_cert(struct tls_loader *, SSL_CTX *,
		    const struct conf_tls_cert *);
static int	 tls_load_key(struct tls_loader *, SSL_CTX *,
		    const struct conf_tls_cert *);
static int	 tls_check_dates(struct tls_loader *,
		    const struct conf_tls_cert *, X509 *, int);
static void	 tls_time(char *, size_t, const ASN1_TIME *);
static int	 tls_names(struct tls_cert *, X509 *);
static void	 tls_ctx_free(void *);
static int	 tls_nopasscb(char *, int, int, void *);
static int	 tls_snicb(SSL *, int *, void *);
static int	 tls_alpncb(SSL *, const unsigned char **, unsigned char *,
		    const unsigned char *, unsigned int, void *);
static int	 tls_ticketcb(SSL *, unsigned char *, unsigned char *,
		    EVP_CIPHER_CTX *, EVP_MAC_CTX *, int);
static int	 tls_ticket_key(const unsigned char *, struct tickets_key *);
static int	 tls_random(void *, size_t);
static const char *tls_version_name(int);

/*
 * Report an error at "FILE:LINE" of the config (at), or at the config
 * file itself, control characters (from a path, say) shown as '?'.  The
 * OpenSSL error queue of this thread is cleared.
 */
static void
tls_conf_error(struct tls_loader *ld, const char *at, const char *fmt, ...)
{
	va_list	 ap;
	char	 buf[1024], *p;
	int	 n;

	ERR_clear_error();
	ld->ld_nerrors++;
	if (ld->ld_err == NULL)
		return;
	n = snprintf(buf, sizeof(buf), "%s: ", at != NULL ? at : ld->ld_path);
	if (n < 0 || (size_t)n >= sizeof(buf))
		n = 0;
	va_start(ap, fmt);
	vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
	va_end(ap);
	/* one line, whatever the paths in it hold */
	for (p = buf; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	ld->ld_err(ld->ld_arg, buf);
}

/*
 * The reason of the first error in this thread's OpenSSL queue (the
 * first is the cause, later ones say what failed because of it), or
 * "unknown error".
 */
static const char *
tls_ossl_reason(char *buf, size_t size)
{
	unsigned long	 e;
	const char	*r;

	if ((e = ERR_peek_error()) == 0) {
		snprintf(buf, size, "unknown error");
		return buf;
	}
	if (ERR_SYSTEM_ERROR(e))
		snprintf(buf, size, "%s", strerror(ERR_GET_REASON(e)));
	else if ((r = ERR_reason_error_string(e)) != NULL)
		snprintf(buf, size, "%s", r);
	else
		ERR_error_string_n(e, buf, size);
	return buf;
}

int
tls_conf_setup(struct conf *conf, conf_error_fn err, void *arg, int *nerrors)
{
	struct tls_loader	 ld;
	size_t			 i;

	memset(&ld, 0, sizeof(ld));
	ld.ld_err = err;
	ld.ld_arg = arg;
	ld.ld_path = conf->c_path;
	ERR_clear_error();
	for (i = 0; i < conf->c_nlistens; i++)
		if (conf->c_listens[i].l_tls != NULL)
			(void)tls_listener(&ld, &conf->c_listens[i]);
	ERR_clear_error();
	if (nerrors != NULL)
		*nerrors = ld.ld_nerrors;
	return ld.ld_nerrors > 0 ? -1 : 0;
}

/* Build one listener's contexts, reporting every error of its files. */
static int
tls_listener(struct tls_loader *ld, struct conf_listen *l)
{
	struct conf_tls	*t = l->l_tls;
	struct tls_ctx	*x;
	struct tls_cert	*tc;
	size_t		 i;
	int		 nerr = ld->ld_nerrors;

	if ((x = calloc(1, sizeof(*x))) == NULL ||
	    (x->x_certs = calloc(t->t_ncerts, sizeof(*x->x_certs))) == NULL ||
	    (x->x_sni = calloc(t->t_ncerts, sizeof(*x->x_sni))) == NULL) {
		if (x != NULL)
			free(x->x_certs);
		free(x);
		tls_conf_error(ld, t->t_at, "out of memory");
		return -1;
	}
	x->x_ncerts = t->t_ncerts;
	t->t_ctx = x;
	t->t_ctx_free = tls_ctx_free;

	for (i = 0; i < t->t_ncerts; i++) {
		tc = &x->x_certs[i];
		tc->tc_file = t->t_certs[i].tc_cert;
		/* Cipher errors are the same for every context: report once. */
		if ((tc->tc_ctx = tls_ctx_new(ld, t, l->l_name,
		    i == 0)) == NULL)
			break;
		SSL_CTX_set_app_data(tc->tc_ctx, tc);
		if (tls_load_cert(ld, tc->tc_ctx, &t->t_certs[i]) == -1)
			continue;
		if (tls_load_key(ld, tc->tc_ctx, &t->t_certs[i]) == -1)
			continue;
		if (tls_names(tc, SSL_CTX_get0_certificate(tc->tc_ctx)) == -1) {
			tls_conf_error(ld, t->t_certs[i].tc_cert_at,
			    "out of memory");
			continue;
		}
		x->x_sni[i].sc_names = tc->tc_names;
		x->x_sni[i].sc_nnames = tc->tc_nnames;
		if (i > 0 && tc->tc_nnames == 0)
			log_warnx("%s: certificate %s has no subjectAltName "
			    "DNS name: SNI can never choose it",
			    t->t_certs[i].tc_cert_at, tc->tc_file);
	}
	if (ld->ld_nerrors > nerr)
		return -1;
	if (x->x_ncerts > 1) {
		SSL_CTX_set_tlsext_servername_callback(x->x_certs[0].tc_ctx,
		    tls_snicb);
		SSL_CTX_set_tlsext_servername_arg(x->x_certs[0].tc_ctx, x);
	}
	return 0;
}

/*
 * A context with the listener's protocol settings, and no certificate
 * yet.  report: whether to report errors in the cipher lists (which
 * would be the same for every certificate).
 */
static SSL_CTX *
tls_ctx_new(struct tls_loader *ld, const struct conf_tls *t,
    const char *name, int report)
{
	SSL_CTX		*ctx;
	unsigned char	 sid[EVP_MAX_MD_SIZE];
	unsigned int	 sidlen = 0;
	char		*list, reason[256];
	int		 bad = 0;

	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
		tls_conf_error(ld, t->t_at, "cannot create a TLS context: %s",
		    tls_ossl_reason(reason, sizeof(reason)));
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, t->t_min_version == CONF_TLS_1_3 ?
	    TLS1_3_VERSION : TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE |
	    SSL_OP_PRIORITIZE_CHACHA | SSL_OP_NO_COMPRESSION |
	    SSL_OP_NO_RENEGOTIATION);
	SSL_CTX_clear_options(ctx, SSL_OP_NO_TICKET);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	(void)SSL_CTX_set_dh_auto(ctx, 1);

	if (asprintf(&list, "%s%s", t->t_ciphers != NULL ? t->t_ciphers :
	    TLS_CIPHERS, TLS_CIPHERS_NEVER) == -1) {
		tls_conf_error(ld, t->t_at, "out of memory");
		SSL_CTX_free(ctx);
		return NULL;
	}
	if (SSL_CTX_set_cipher_list(ctx, list) != 1) {
		bad = 1;
		if (report)
			tls_conf_error(ld, t->t_ciphers_at, "ciphers \"%s\": "
			    "no TLS 1.2 cipher OpenSSL supports is left (weak "
			    "ones are always excluded)", t->t_ciphers);
	}
	free(list);
	if (t->t_ciphersuites != NULL &&
	    SSL_CTX_set_ciphersuites(ctx, t->t_ciphersuites) != 1) {
		bad = 1;
		if (report)
			tls_conf_error(ld, t->t_ciphersuites_at,
			    "ciphersuites \"%s\": not a list of TLS 1.3 suites "
			    "OpenSSL supports (e.g. TLS_AES_128_GCM_SHA256)",
			    t->t_ciphersuites);
	}

	/*
	 * Sessions are resumed with tickets only: no server-side cache to
	 * grow and to share between the workers.  The session ID context
	 * keeps tickets from one listener off the others.
	 */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_timeout(ctx, TLS_TICKET_ROTATE);
	if (EVP_Digest(name, strlen(name), sid, &sidlen, EVP_sha256(),
	    NULL) != 1 || SSL_CTX_set_session_id_context(ctx, sid,
	    sidlen > SSL_MAX_SID_CTX_LENGTH ? SSL_MAX_SID_CTX_LENGTH :
	    sidlen) != 1 ||
	    SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, tls_ticketcb) != 1) {
		bad = 1;
		tls_conf_error(ld, t->t_at, "cannot set up session tickets: %s",
		    tls_ossl_reason(reason, sizeof(reason)));
	}
	SSL_CTX_set_alpn_select_cb(ctx, tls_alpncb, NULL);
	SSL_CTX_set_default_passwd_cb(ctx, tls_nopasscb);
	if (bad) {
		SSL_CTX_free(ctx);
		ERR_clear_error();
		return NULL;
	}
	return ctx;
}

/* Never ask for a passphrase: there is nobody to answer. */
static int
tls_nopasscb(char *buf, int size, int rwflag, void *arg)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)arg;
	return -1;
}

/*
 * The PEM chain, leaf first, into ctx; every certificate of it must be
 * within its validity period.
 */
static int
tls_load_cert(struct tls_loader *ld, SSL_CTX *ctx,
    const struct conf_tls_cert *tcc)
{
	FILE		*fp;
	BIO		*bio;
	X509		*x;
	char		 reason[256];
	int		 n, rv = 0;

	if ((fp = fopen(tcc->tc_cert, "r")) == NULL) {
		tls_conf_error(ld, tcc->tc_cert_at, "cannot read certificate "
		    "%s: %s", tcc->tc_cert, strerror(errno));
		return -1;
	}
	if ((bio = BIO_new_fp(fp, BIO_CLOSE)) == NULL) {
		fclose(fp);
		tls_conf_error(ld, tcc->tc_cert_at, "out of memory");
		return -1;
	}
	if ((x = PEM_read_bio_X509_AUX(bio, NULL, tls_nopasscb,
	    NULL)) == NULL) {
		tls_conf_error(ld, tcc->tc_cert_at, "certificate %s: no PEM "
		    "certificate in it (%s)", tcc->tc_cert,
		    tls_ossl_reason(reason, sizeof(reason)));
		BIO_free(bio);
		return -1;
	}
	if (tls_check_dates(ld, tcc, x, 0) == -1)
		rv = -1;
	if (SSL_CTX_use_certificate(ctx, x) != 1) {
		tls_conf_error(ld, tcc->tc_cert_at, "certificate %s: %s",
		    tcc->tc_cert, tls_ossl_reason(reason, sizeof(reason)));
		rv = -1;
	}
	X509_free(x);

	/* The rest of the chain, up to the end of the file. */
	SSL_CTX_clear_chain_certs(ctx);
	for (n = 1; rv == 0; n++) {
		if ((x = PEM_read_bio_X509(bio, NULL, tls_nopasscb,
		    NULL)) == NULL) {
			if (ERR_GET_LIB(ERR_peek_last_error()) == ERR_LIB_PEM &&
			    ERR_GET_REASON(ERR_peek_last_error()) ==
			    PEM_R_NO_START_LINE)
				ERR_clear_error();	/* the end */
			else {
				tls_conf_error(ld, tcc->tc_cert_at,
				    "certificate %s: certificate %d of the "
				    "chain: %s", tcc->tc_cert, n + 1,
				    tls_ossl_reason(reason, sizeof(reason)));
				rv = -1;
			}
			break;
		}
		if (tls_check_dates(ld, tcc, x, n) == -1)
			rv = -1;
		if (SSL_CTX_add0_chain_cert(ctx, x) != 1) {
			tls_conf_error(ld, tcc->tc_cert_at, "certificate %s: "
			    "certificate %d of the chain: %s", tcc->tc_cert,
			    n + 1, tls_ossl_reason(reason, sizeof(reason)));
			X509_free(x);
			rv = -1;
		}
	}
	BIO_free(bio);
	return rv;
}

/*
 * Certificate n (0: the leaf) of tcc's chain has expired (an error) or is
 * not valid yet (a warning: clocks differ, and it will be soon).
 */
static int
tls_check_dates(struct tls_loader *ld, const struct conf_tls_cert *tcc,
    X509 *x, int n)
{
	char	 when[64], which[64];

	if (n == 0)
		snprintf(which, sizeof(which), "certificate");
	else
		snprintf(which, sizeof(which), "chain certificate %d of",
		    n + 1);
	if (X509_cmp_current_time(X509_get0_notAfter(x)) < 0) {
		tls_time(when, sizeof(when), X509_get0_notAfter(x));
		tls_conf_error(ld, tcc->tc_cert_at, "%s %s expired on %s",
		    which, tcc->tc_cert, when);
		return -1;
	}
	if (X509_cmp_current_time(X509_get0_notBefore(x)) > 0) {
		tls_time(when, sizeof(when), X509_get0_notBefore(x));
		log_warnx("%s: %s %s is not valid before %s", tcc->tc_cert_at,
		    which, tcc->tc_cert, when);
	}
	return 0;
}

static void
tls_time(char *buf, size_t size, const ASN1_TIME *t)
{
	struct tm	 tm;

	if (ASN1_TIME_to_tm(t, &tm) != 1 ||
	    strftime(buf, size, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		snprintf(buf, size, "(a date OpenSSL cannot read)");
}

/* The private key into ctx; it must match the certificate. */
static int
tls_load_key(struct tls_loader *ld, SSL_CTX *ctx,
    const struct conf_tls_cert *tcc)
{
	FILE		*fp;
	BIO		*bio;
	EVP_PKEY	*pkey;
	X509		*leaf;
	unsigned long	 e;
	char		 reason[256];
	int		 rv = 0;

	if ((fp = fopen(tcc->tc_key, "r")) == NULL) {
		tls_conf_error(ld, tcc->tc_key_at, "cannot read key %s: %s",
		    tcc->tc_key, strerror(errno));
		return -1;
	}
	if ((bio = BIO_new_fp(fp, BIO_CLOSE)) == NULL) {
		fclose(fp);
		tls_conf_error(ld, tcc->tc_key_at, "out of memory");
		return -1;
	}
	pkey = PEM_read_bio_PrivateKey(bio, NULL, tls_nopasscb, NULL);
	BIO_free(bio);
	if (pkey == NULL) {
		e = ERR_peek_last_error();
		if (ERR_GET_LIB(e) == ERR_LIB_PEM &&
		    (ERR_GET_REASON(e) == PEM_R_BAD_PASSWORD_READ ||
		    ERR_GET_REASON(e) == PEM_R_PROBLEMS_GETTING_PASSWORD))
			tls_conf_error(ld, tcc->tc_key_at, "key %s is "
			    "encrypted: wsgated cannot ask for a passphrase "
			    "(decrypt it with openssl pkey)", tcc->tc_key);
		else
			tls_conf_error(ld, tcc->tc_key_at, "key %s: no PEM "
			    "private key in it (%s)", tcc->tc_key,
			    tls_ossl_reason(reason, sizeof(reason)));
		return -1;
	}
	if ((leaf = SSL_CTX_get0_certificate(ctx)) != NULL &&
	    X509_check_private_key(leaf, pkey) != 1) {
		tls_conf_error(ld, tcc->tc_key_at, "key %s does not match "
		    "certificate %s", tcc->tc_key, tcc->tc_cert);
		rv = -1;
	} else if (SSL_CTX_use_PrivateKey(ctx, pkey) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		tls_conf_error(ld, tcc->tc_key_at, "key %s: %s", tcc->tc_key,
		    tls_ossl_reason(reason, sizeof(reason)));
		rv = -1;
	}
	EVP_PKEY_free(pkey);
	ERR_clear_error();
	return rv;
}

/*
 * The subjectAltName DNS entries of the leaf, for SNI.  Entries SNI
 * could never match (an embedded NUL, a wildcard in the wrong place) are
 * left out.  Returns 0, or -1 if out of memory.
 */
static int
tls_names(struct tls_cert *tc, X509 *leaf)
{
	GENERAL_NAMES		*gens;
	const GENERAL_NAME	*gen;
	const unsigned char	*data;
	char			*name;
	int			 i, n, len;

	if (leaf == NULL || (gens = X509_get_ext_d2i(leaf,
	    NID_subject_alt_name, NULL, NULL)) == NULL) {
		ERR_clear_error();
		return 0;
	}
	n = sk_GENERAL_NAME_num(gens);
	if ((tc->tc_names = calloc(n > 0 ? (size_t)n : 1,
	    sizeof(*tc->tc_names))) == NULL) {
		GENERAL_NAMES_free(gens);
		return -1;
	}
	for (i = 0; i < n; i++) {
		gen = sk_GENERAL_NAME_value(gens, i);
		if (gen->type != GEN_DNS)
			continue;
		data = ASN1_STRING_get0_data(gen->d.dNSName);
		len = ASN1_STRING_length(gen->d.dNSName);
		if (len <= 0 || memchr(data, '\0', (size_t)len) != NULL)
			continue;
		if ((name = strndup((const char *)data, (size_t)len)) == NULL) {
			GENERAL_NAMES_free(gens);
			return -1;
		}
		if (!sni_pattern_ok(name)) {
			free(name);
			continue;
		}
		tc->tc_names[tc->tc_nnames++] = name;
	}
	GENERAL_NAMES_free(gens);
	return 0;
}

/* conf_tls.t_ctx_free: called when the snapshot is freed. */
static void
tls_ctx_free(void *arg)
{
	struct tls_ctx	*x = arg;
	size_t		 i, j;

	for (i = 0; i < x->x_ncerts; i++) {
		/* Connections still running hold their own references. */
		SSL_CTX_free(x->x_certs[i].tc_ctx);
		for (j = 0; j < x->x_certs[i].tc_nnames; j++)
			free(x->x_certs[i].tc_names[j]);
		free(x->x_certs[i].tc_names);
	}
	free(x->x_certs);
	free(x->x_sni);
	free(x);
}

/*
 * The client's server_name picks the certificate: switch the connection
 * to that certificate's context.  No name, or a name no certificate has:
 * the default.
 */
static int
tls_snicb(SSL *ssl, int *alert, void *arg)
{
	struct tls_ctx	*x = arg;
	const char	*name;
	int		 i;

	if ((name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name)) == NULL)
		return SSL_TLSEXT_ERR_NOACK;
	i = sni_select(x->x_sni, x->x_ncerts, name, strlen(name));
	if (i > 0 && SSL_set_SSL_CTX(ssl, x->x_certs[i].tc_ctx) == NULL) {
		*alert = SSL_AD_INTERNAL_ERROR;
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	}
	return SSL_TLSEXT_ERR_OK;
}

/*
 * ALPN: http/1.1 only.  A client that offers ALPN without it (h2 only,
 * say) gets the no_application_protocol alert rather than a connection
 * that would not speak its protocol.
 */
static int
tls_alpncb(SSL *ssl, const unsigned char **out, unsigned char *outlen,
    const unsigned char *in, unsigned int inlen, void *arg)
{
	unsigned char	*sel;

	(void)ssl;
	(void)arg;
	if (SSL_select_next_proto(&sel, outlen, tls_alpn,
	    sizeof(tls_alpn) - 1, in, inlen) != OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	*out = sel;
	return SSL_TLSEXT_ERR_OK;
}

/* tickets_random_fn: OpenSSL's CSPRNG. */
static int
tls_random(void *buf, size_t len)
{
	return RAND_bytes(buf, (int)len) == 1 ? 0 : -1;
}

/* tickets_get() on the process's ring, under its lock. */
static int
tls_ticket_key(const unsigned char *name, struct tickets_key *k)
{
	struct timespec	 ts;
	int		 rv;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	pthread_mutex_lock(&tls_tickets_lock);
	rv = tickets_get(&tls_tickets, (long long)ts.tv_sec, name, k,
	    tls_random);
	pthread_mutex_unlock(&tls_tickets_lock);
	return rv;
}

/*
 * Encrypt (enc) or decrypt a session ticket: AES-256-CBC and
 * HMAC-SHA256 with the keys above, as OpenSSL's own tickets are.
 */
static int
tls_ticketcb(SSL *ssl, unsigned char *name, unsigned char *iv,
    EVP_CIPHER_CTX *ectx, EVP_MAC_CTX *hctx, int enc)
{
	struct tickets_key	 k;
	OSSL_PARAM		 params[3];
	int			 rv;

	(void)ssl;
	if (enc) {
		if (tls_ticket_key(NULL, &k) != 1 ||
		    RAND_bytes(iv, EVP_CIPHER_get_iv_length(
		    EVP_aes_256_cbc())) != 1) {
			rv = -1;
			goto done;
		}
		memcpy(name, k.tk_name, sizeof(k.tk_name));
		rv = EVP_EncryptInit_ex(ectx, EVP_aes_256_cbc(), NULL,
		    k.tk_aes, iv) == 1 ? 1 : -1;
	} else {
		if ((rv = tls_ticket_key(name, &k)) <= 0)
			goto done;	/* unknown key: a full handshake */
		if (EVP_DecryptInit_ex(ectx, EVP_aes_256_cbc(), NULL,
		    k.tk_aes, iv) != 1)
			rv = -1;
	}
	if (rv > 0) {
		params[0] = OSSL_PARAM_construct_octet_string(
		    OSSL_MAC_PARAM_KEY, k.tk_hmac, sizeof(k.tk_hmac));
		params[1] = OSSL_PARAM_construct_utf8_string(
		    OSSL_MAC_PARAM_DIGEST, "SHA256", 0);
		params[2] = OSSL_PARAM_construct_end();
		if (EVP_MAC_CTX_set_params(hctx, params) != 1)
			rv = -1;
	}
 done:
	OPENSSL_cleanse(&k, sizeof(k));
	return rv;
}

struct bufferevent *
tls_accept(struct event_base *base, int fd, const struct conf_tls *t)
{
	struct tls_ctx		*x = t->t_ctx;
	struct bufferevent	*bev;
	SSL			*ssl;

	if (x == NULL)
		return NULL;
	if ((ssl = SSL_new(x->x_certs[0].tc_ctx)) == NULL) {
		ERR_clear_error();
		return NULL;
	}
	/* On failure libevent frees ssl itself (BEV_OPT_CLOSE_ON_FREE). */
	if ((bev = bufferevent_openssl_socket_new(base, fd, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		ERR_clear_error();
		return NULL;
	}
	/*
	 * A peer that closes without close_notify is an EOF, not an
	 * error: WebSocket has its own close handshake, and many clients
	 * skip the alert after it.
	 */
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	return bev;
}

int
tls_is(struct bufferevent *bev)
{
	return bev != NULL && bufferevent_openssl_get_ssl(bev) != NULL;
}

int
tls_handshaking(struct bufferevent *bev)
{
	SSL	*ssl;

	if (bev == NULL || (ssl = bufferevent_openssl_get_ssl(bev)) == NULL)
		return 0;
	return !SSL_is_init_finished(ssl);
}

int
tls_close_notify(struct bufferevent *bev)
{
	SSL	*ssl;
	int	 r, e;

	if ((ssl = bufferevent_openssl_get_ssl(bev)) == NULL ||
	    !SSL_is_init_finished(ssl))
		return 1;
	ERR_clear_error();
	if ((r = SSL_shutdown(ssl)) >= 0)
		return 1;
	e = SSL_get_error(ssl, r);
	ERR_clear_error();
	return e == SSL_ERROR_WANT_WRITE ? 0 : 1;
}

static const char *
tls_version_name(int v)
{
	switch (v) {
	case SSL3_VERSION:
		return "SSLv3";
	case TLS1_VERSION:
		return "TLSv1.0";
	case TLS1_1_VERSION:
		return "TLSv1.1";
	case TLS1_2_VERSION:
		return "TLSv1.2";
	case TLS1_3_VERSION:
		return "TLSv1.3";
	}
	return "an unknown version";
}

enum tls_failure
tls_error(struct bufferevent *bev, char *buf, size_t size)
{
	SSL		*ssl = bufferevent_openssl_get_ssl(bev);
	unsigned long	 e, first = 0;
	const char	*r, *sni, *hint = "";
	char		 hbuf[128], name[96];
	int		 n, err = EVUTIL_SOCKET_ERROR();

	/*
	 * libevent saves the SSL_get_error() code (SSL_ERROR_SSL, ...)
	 * and then the error queue, and hands them back last first.
	 */
	while ((e = bufferevent_get_openssl_error(bev)) != 0)
		if (ERR_GET_LIB(e) != 0 || ERR_SYSTEM_ERROR(e))
			first = e;
	if (first == 0) {
		if (err != 0) {
			snprintf(buf, size, "%s",
			    evutil_socket_error_to_string(err));
			return TLS_FAIL_OTHER;
		}
		snprintf(buf, size, "connection closed");
		return TLS_FAIL_EOF;
	}
	if (ERR_SYSTEM_ERROR(first)) {
		snprintf(buf, size, "%s", strerror(ERR_GET_REASON(first)));
		return TLS_FAIL_OTHER;
	}
	if (ERR_GET_LIB(first) == ERR_LIB_SSL) {
		switch (ERR_GET_REASON(first)) {
		case SSL_R_HTTP_REQUEST:
			snprintf(buf, size, "plain HTTP request sent to a TLS "
			    "port (use wss://, or a ws:// listener)");
			return TLS_FAIL_PLAIN_HTTP;
		case SSL_R_HTTPS_PROXY_REQUEST:
			hint = " (an HTTP proxy request on a TLS port)";
			break;
		case SSL_R_UNEXPECTED_EOF_WHILE_READING:
			snprintf(buf, size, "connection closed without "
			    "close_notify");
			return TLS_FAIL_EOF;
		case SSL_R_UNSUPPORTED_PROTOCOL:
		case SSL_R_WRONG_VERSION_NUMBER:
			if (ssl != NULL && SSL_client_version(ssl) != 0 &&
			    SSL_client_version(ssl) < TLS1_2_VERSION) {
				snprintf(hbuf, sizeof(hbuf), " (the client "
				    "offers %s at most; see min_version)",
				    tls_version_name(SSL_client_version(ssl)));
				hint = hbuf;
			} else if (ERR_GET_REASON(first) ==
			    SSL_R_WRONG_VERSION_NUMBER)
				hint = " (not TLS, or a TLS version too old)";
			break;
		case SSL_R_NO_SHARED_CIPHER:
			hint = " (the client offers none of the ciphers and "
			    "ciphersuites configured)";
			break;
		case SSL_R_NO_APPLICATION_PROTOCOL:
			hint = " (the client offers ALPN without http/1.1)";
			break;
		case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
		case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
		case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
		case SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED:
			hint = " (the client does not accept the certificate)";
			break;
		}
	}
	if ((r = ERR_reason_error_string(first)) != NULL)
		n = snprintf(buf, size, "%s%s", r, hint);
	else {
		ERR_error_string_n(first, buf, size);
		n = (int)strlen(buf);
	}
	/* The name the client asked for tells which site it meant. */
	if (ssl != NULL && (sni = SSL_get_servername(ssl,
	    TLSEXT_NAMETYPE_host_name)) != NULL && n >= 0 &&
	    (size_t)n < size) {
		log_printable(name, sizeof(name), sni, strlen(sni));
		snprintf(buf + n, size - (size_t)n, " sni=%s", name);
	}
	return TLS_FAIL_OTHER;
}

void
tls_describe(struct bufferevent *bev, char *buf, size_t size)
{
	SSL			*ssl = bufferevent_openssl_get_ssl(bev);
	const struct tls_cert	*tc;
	const unsigned char	*alpn;
	const char		*sni;
	char			 name[96];
	unsigned int		 alpnlen;
	int			 n;

	if (ssl == NULL) {
		snprintf(buf, size, "plain");
		return;
	}
	n = snprintf(buf, size, "%s %s", SSL_get_version(ssl),
	    SSL_get_cipher_name(ssl));
	if ((sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name)) !=
	    NULL && n >= 0 && (size_t)n < size) {
		log_printable(name, sizeof(name), sni, strlen(sni));
		n += snprintf(buf + n, size - (size_t)n, " sni=%s", name);
	}
	tc = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
	if (tc != NULL && n >= 0 && (size_t)n < size)
		n += snprintf(buf + n, size - (size_t)n, " cert=%s",
		    tc->tc_file);
	SSL_get0_alpn_selected(ssl, &alpn, &alpnlen);
	if (alpnlen > 0 && n >= 0 && (size_t)n < size)
		n += snprintf(buf + n, size - (size_t)n, " alpn=%.*s",
		    (int)alpnlen, (const char *)alpn);
	if (SSL_session_reused(ssl) && n >= 0 && (size_t)n < size)
		snprintf(buf + n, size - (size_t)n, " resumed");
}
