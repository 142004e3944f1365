/*
 * Fuzz the backend framing decoders (framing.c): line and frame, and raw
 * for good measure, each with text or binary messages and a size limit.
 *
 * Input: one byte of options (mode, message type, limit), one byte
 * seeding the split points, then what the backend "sent".  Decoded whole
 * and in slices (as relay.c feeds it, unconsumed bytes kept in front of
 * the next read); both runs must give the same messages, close record,
 * error and end-of-stream verdict.
 */
#include <sys/types.h>

#include "framing.h"
#include "fuzz.h"
#include "utf8.h"

#define MAX_STREAM	(1 << 20)

static const uint64_t	limits[4] = { 0, 1, 100, 70000 };

static int
close_code_ok(unsigned int code)
{
	return (code >= 1000 && code <= 1003) ||
	    (code >= 1007 && code <= 1011) ||
	    (code >= 3000 && code <= 4999);
}

static void
fuzz_framing_run(enum framing mode, int type, uint64_t max,
    const uint8_t *in, size_t len, struct fuzz_rng *rng, struct fuzz_log *log)
{
	struct framing_decoder	 d;
	struct framing_event	 ev;
	struct fuzz_log		 msg = { NULL, 0, 0 };
	uint8_t			*pend;
	size_t			 have = 0, off = 0, n, zeros;
	ssize_t			 r;
	int			 err = 0, closed = 0;

	framing_decoder_init(&d, mode, type, max);
	if ((pend = malloc(len ? len : 1)) == NULL)
		abort();
	fuzz_log_add(&msg, NULL, 0);
	while (off < len && err == 0 && !closed) {
		n = rng != NULL ? fuzz_rng_cut(rng, len - off) : len - off;
		memcpy(pend + have, in + off, n);
		have += n;
		off += n;
		zeros = 0;
		for (;;) {
			r = framing_decode(&d, pend, have, &ev);
			if (r < 0) {
				FUZZ_ASSERT(r == FRAMING_ERR_TOO_BIG ||
				    r == FRAMING_ERR_UTF8 ||
				    r == FRAMING_ERR_TYPE ||
				    r == FRAMING_ERR_CLOSE);
				err = (int)r;
				break;
			}
			FUZZ_ASSERT((size_t)r <= have);
			if (r == 0 && ev.type == FRAMING_EV_NONE)
				break;
			zeros = r == 0 ? zeros + 1 : 0;
			FUZZ_ASSERT(zeros < 3);
			switch (ev.type) {
			case FRAMING_EV_NONE:
				break;
			case FRAMING_EV_DATA:
				FUZZ_ASSERT(ev.msg_type == FRAMING_TEXT ||
				    ev.msg_type == FRAMING_BINARY);
				if (r > 0)
					FUZZ_ASSERT(ev.data == pend &&
					    ev.len == (size_t)r);
				else
					FUZZ_ASSERT(ev.len > 0 &&
					    ev.len <= 4);
				fuzz_log_add(&msg, ev.data, ev.len);
				if (mode == FRAMING_RAW) {
					/*
					 * One message per read, no limit, and
					 * the bytes are the input's, in order.
					 */
					if (ev.msg_type == FRAMING_TEXT)
						FUZZ_ASSERT(utf8_valid(ev.data,
						    ev.len));
					FUZZ_ASSERT(msg.l_len <= len &&
					    (msg.l_len == 0 || memcmp(msg.l_buf,
					    in, msg.l_len) == 0));
				} else
					FUZZ_ASSERT(max == 0 ||
					    msg.l_len <= max);
				break;
			case FRAMING_EV_MSG_END:
				FUZZ_ASSERT(mode != FRAMING_RAW);
				FUZZ_ASSERT(ev.msg_type == FRAMING_TEXT ||
				    ev.msg_type == FRAMING_BINARY);
				if (ev.msg_type == FRAMING_TEXT)
					FUZZ_ASSERT(utf8_valid(msg.l_buf,
					    msg.l_len));
				if (mode == FRAMING_LINE)
					FUZZ_ASSERT(memchr(msg.l_buf, '\n',
					    msg.l_len) == NULL);
				fuzz_log_u64(log, 'M');
				fuzz_log_u64(log, (uint64_t)ev.msg_type);
				fuzz_log_u64(log, msg.l_len);
				fuzz_log_add(log, msg.l_buf, msg.l_len);
				msg.l_len = 0;
				break;
			case FRAMING_EV_CLOSE:
				FUZZ_ASSERT(mode == FRAMING_FRAME);
				FUZZ_ASSERT(ev.close_code == 0 ||
				    close_code_ok(ev.close_code));
				FUZZ_ASSERT(ev.reason_len <=
				    FRAMING_MAX_CLOSE - 2);
				fuzz_log_u64(log, 'C');
				fuzz_log_u64(log, ev.close_code);
				fuzz_log_u64(log, ev.reason_len);
				fuzz_log_add(log, ev.reason, ev.reason_len);
				/* relay.c stops reading at a close record */
				closed = 1;
				break;
			}
			if (r > 0) {
				memmove(pend, pend + r, have - (size_t)r);
				have -= (size_t)r;
			}
			if (closed)
				break;
		}
	}
	/*
	 * Which error is found first may depend on the cuts (a line both too
	 * long and not UTF-8; raw text checked per read): every error closes
	 * the client with 1011, so only that there was one must agree.  Raw
	 * bytes delivered before an error are a matter of cuts too.
	 */
	fuzz_log_u64(log, 'E');
	fuzz_log_u64(log, err != 0);
	if (mode == FRAMING_RAW && err == 0)
		fuzz_log_add(log, msg.l_buf, msg.l_len);
	if (err == 0 && !closed)
		fuzz_log_u64(log, framing_decoder_midmessage(&d) || have > 0);
	fuzz_log_free(&msg);
	free(pend);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_log	 whole = { NULL, 0, 0 }, split = { NULL, 0, 0 };
	struct fuzz_rng	 rng;
	enum framing	 mode;
	uint8_t		 out[FRAMING_HDR];
	uint64_t	 max;
	int		 type;

	if (size < 2 || size > MAX_STREAM)
		return 0;
	switch (data[0] % 3) {
	case 0:
		mode = FRAMING_LINE;
		break;
	case 1:
		mode = FRAMING_FRAME;
		break;
	default:
		mode = FRAMING_RAW;
		break;
	}
	type = (data[0] & 4) ? FRAMING_BINARY : FRAMING_TEXT;
	max = limits[(data[0] >> 3) & 3];
	fuzz_rng_init(&rng, data[1]);

	fuzz_framing_run(mode, type, max, data + 2, size - 2, NULL, &whole);
	fuzz_framing_run(mode, type, max, data + 2, size - 2, &rng, &split);
	FUZZ_ASSERT(fuzz_log_eq(&whole, &split));
	fuzz_log_free(&whole);
	fuzz_log_free(&split);

	FUZZ_ASSERT(framing_encode_prefix(mode, out, type, (uint32_t)size) ==
	    (mode == FRAMING_FRAME ? FRAMING_HDR : 0));
	FUZZ_ASSERT(framing_encode_suffix(mode, out) ==
	    (mode == FRAMING_LINE ? 1u : 0u));
	return 0;
}
