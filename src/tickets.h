/*
 * Session-ticket keys and their rotation.  Pure: the caller brings the
 * clock, the random bytes and the lock (tls.c holds one key ring for the
 * whole process, behind a mutex, and feeds it RAND_bytes()).
 *
 * A key encrypts new tickets for one period, then only decrypts them (a
 * ticket it decrypts should be renewed) for one more period, then is
 * forgotten.  With tickets that live at most one period, no ticket
 * outlives its key, and no key lives longer than two periods.
 */
#ifndef WSGATE_TICKETS_H
#define WSGATE_TICKETS_H

#include <stddef.h>

#define TICKETS_NAME_LEN	16

struct tickets_key {
	unsigned char	 tk_name[TICKETS_NAME_LEN];	/* in the ticket */
	unsigned char	 tk_aes[32];			/* AES-256 key */
	unsigned char	 tk_hmac[32];			/* HMAC-SHA256 key */
};

struct tickets_ring {
	struct tickets_key	 tr_keys[2];	/* [0] encrypts, [1] before it */
	int			 tr_nkeys;
	long long		 tr_rotate_at;	/* when [0] stops encrypting */
	long long		 tr_period;	/* seconds */
};

/* Fill buf[0..len) with random bytes; 0 on success, -1 on failure. */
typedef int (*tickets_random_fn)(void *buf, size_t len);

/* An empty ring whose keys rotate every period seconds (> 0). */
void	tickets_init(struct tickets_ring *, long long period);

/*
 * At time now (seconds, any monotonic clock): rotate if it is time, then
 * copy into *key the current key (name NULL) or the key called name.
 * Returns 1 for the current key (encrypt, or decrypt as is), 2 for the
 * previous one (decrypt, then renew the ticket), 0 if no key has that
 * name (a full handshake), -1 if random bytes could not be had (the ring
 * is then empty).
 */
int	tickets_get(struct tickets_ring *, long long now,
	    const unsigned char *name, struct tickets_key *key,
	    tickets_random_fn rnd);

#endif /* WSGATE_TICKETS_H */
