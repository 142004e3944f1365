/*
 * Session-ticket key rotation; see tickets.h.  Pure code: no OpenSSL,
 * no clock, no lock of its own.
 */
#include <stddef.h>
#include <string.h>

#include "tickets.h"

void
tickets_init(struct tickets_ring *r, long long period)
{
	memset(r, 0, sizeof(*r));
	r->tr_period = period > 0 ? period : 1;
}

int
tickets_get(struct tickets_ring *r, long long now, const unsigned char *name,
    struct tickets_key *key, tickets_random_fn rnd)
{
	int	 i;

	if (r->tr_nkeys == 0 || now >= r->tr_rotate_at) {
		/*
		 * The current key becomes the previous one, unless it has
		 * been idle for a whole period past its time: then its
		 * tickets are all expired, and it goes too.
		 */
		if (r->tr_nkeys > 0 && now < r->tr_rotate_at + r->tr_period) {
			r->tr_keys[1] = r->tr_keys[0];
			r->tr_nkeys = 2;
		} else
			r->tr_nkeys = 0;
		if (rnd(&r->tr_keys[0], sizeof(r->tr_keys[0])) != 0) {
			memset(r->tr_keys, 0, sizeof(r->tr_keys));
			r->tr_nkeys = 0;
			return -1;
		}
		if (r->tr_nkeys == 0)
			r->tr_nkeys = 1;
		r->tr_rotate_at = now + r->tr_period;
	}
	for (i = 0; i < r->tr_nkeys; i++) {
		if (name == NULL || memcmp(name, r->tr_keys[i].tk_name,
		    TICKETS_NAME_LEN) == 0) {
			*key = r->tr_keys[i];
			return i + 1;
		}
	}
	return 0;
}
