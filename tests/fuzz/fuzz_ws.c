/*
 * Fuzz the WebSocket frame decoder (ws.c) and, through text messages and
 * close reasons, the incremental UTF-8 validator.
 *
 * Input: one byte of options (server or client side, message limit,
 * RSV1 allowed), one byte seeding the split points, then the stream.
 * The stream is decoded whole, then cut at pseudo-random points the way
 * relay.c feeds it; both runs must tell the same story (messages, control
 * frames, the error), and every event must keep the decoder's contract.
 */
#include <sys/types.h>

#include "fuzz.h"
#include "utf8.h"
#include "ws.h"

#define MAX_STREAM	(1 << 20)

static const uint64_t	limits[4] = { 0, 125, 4096, 65536 };

/*
 * Decode buf as it arrives in slices; log complete messages, control
 * frames and the final error (or the lack of one).
 */
static void
fuzz_ws_run(int server, uint64_t max, uint8_t rsv, const uint8_t *in,
    size_t len, struct fuzz_rng *rng, struct fuzz_log *log)
{
	struct ws_decoder	 d;
	struct ws_event		 ev;
	struct fuzz_log		 msg = { NULL, 0, 0 };
	uint8_t			*pend;
	size_t			 have = 0, off = 0, n, zeros;
	ssize_t			 r;
	int			 err = 0;

	ws_decoder_init(&d, server, max);
	d.d_rsv_allowed = rsv;
	if ((pend = malloc(len ? len : 1)) == NULL)
		abort();
	fuzz_log_add(&msg, NULL, 0);
	while (off < len && err == 0) {
		n = rng != NULL ? fuzz_rng_cut(rng, len - off) : len - off;
		memcpy(pend + have, in + off, n);
		have += n;
		off += n;
		zeros = 0;
		for (;;) {
			r = ws_decode(&d, pend, have, &ev);
			if (r < 0) {
				FUZZ_ASSERT(ws_error_close_code((int)r) == 1002 ||
				    ws_error_close_code((int)r) == 1007 ||
				    ws_error_close_code((int)r) == 1009);
				FUZZ_ASSERT(ws_strerror((int)r) != NULL);
				err = (int)r;
				break;
			}
			FUZZ_ASSERT((size_t)r <= have);
			if (r == 0 && ev.type == WS_EV_NONE)
				break;
			/* an event without progress, twice running: a loop */
			zeros = r == 0 ? zeros + 1 : 0;
			FUZZ_ASSERT(zeros < 3);
			switch (ev.type) {
			case WS_EV_NONE:
				break;
			case WS_EV_DATA:
				FUZZ_ASSERT(ev.data == pend);
				FUZZ_ASSERT(ev.len == (size_t)r);
				FUZZ_ASSERT(ev.opcode == WS_OP_TEXT ||
				    ev.opcode == WS_OP_BINARY);
				fuzz_log_add(&msg, ev.data, ev.len);
				FUZZ_ASSERT(max == 0 || msg.l_len <= max);
				break;
			case WS_EV_MSG_END:
				FUZZ_ASSERT(ev.opcode == WS_OP_TEXT ||
				    ev.opcode == WS_OP_BINARY);
				/* compressed text is checked after inflating */
				if (ev.opcode == WS_OP_TEXT && ev.rsv == 0)
					FUZZ_ASSERT(utf8_valid(msg.l_buf,
					    msg.l_len));
				FUZZ_ASSERT((ev.rsv & ~rsv) == 0);
				fuzz_log_u64(log, 'M');
				fuzz_log_u64(log, (uint64_t)ev.opcode);
				fuzz_log_u64(log, (uint64_t)ev.rsv);
				fuzz_log_u64(log, msg.l_len);
				fuzz_log_add(log, msg.l_buf, msg.l_len);
				msg.l_len = 0;
				break;
			case WS_EV_PING:
			case WS_EV_PONG:
				FUZZ_ASSERT(ev.len <= WS_MAX_CONTROL);
				fuzz_log_u64(log, ev.type == WS_EV_PING ?
				    'P' : 'O');
				fuzz_log_u64(log, ev.len);
				fuzz_log_add(log, ev.data, ev.len);
				break;
			case WS_EV_CLOSE:
				FUZZ_ASSERT(ev.close_code == 0 ||
				    ws_close_code_valid(ev.close_code));
				FUZZ_ASSERT(ev.reason_len <= WS_MAX_CONTROL - 2);
				FUZZ_ASSERT(utf8_valid(ev.reason,
				    ev.reason_len));
				fuzz_log_u64(log, 'C');
				fuzz_log_u64(log, ev.close_code);
				fuzz_log_u64(log, ev.reason_len);
				fuzz_log_add(log, ev.reason, ev.reason_len);
				break;
			}
			if (r > 0) {
				memmove(pend, pend + r, have - (size_t)r);
				have -= (size_t)r;
			}
		}
	}
	fuzz_log_u64(log, 'E');
	fuzz_log_u64(log, (uint64_t)(int64_t)err);
	/* the client-to-server code path answers with this close code */
	if (err != 0)
		fuzz_log_u64(log, ws_error_close_code(err));
	fuzz_log_free(&msg);
	free(pend);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_log	 whole = { NULL, 0, 0 }, split = { NULL, 0, 0 };
	struct fuzz_rng	 rng;
	uint8_t		 hdr[WS_MAX_HEADER], payload[WS_MAX_CONTROL];
	uint64_t	 max;
	uint8_t		 rsv;
	size_t		 n;
	int		 server;

	if (size < 2 || size > MAX_STREAM)
		return 0;
	server = !(data[0] & 1);
	max = limits[(data[0] >> 1) & 3];
	rsv = (data[0] & 8) ? WS_RSV1 : 0;
	fuzz_rng_init(&rng, data[1]);

	fuzz_ws_run(server, max, rsv, data + 2, size - 2, NULL, &whole);
	fuzz_ws_run(server, max, rsv, data + 2, size - 2, &rng, &split);
	FUZZ_ASSERT(fuzz_log_eq(&whole, &split));
	fuzz_log_free(&whole);
	fuzz_log_free(&split);

	/* The encoders on fuzzed values. */
	n = ws_encode_header(hdr, data[0] & 1, data[1] & 0xf, 0,
	    size * 1000003u, (data[0] & 16) && size >= 6 ? data + 2 : NULL);
	FUZZ_ASSERT(n >= 2 && n <= WS_MAX_HEADER);
	n = ws_close_payload(payload, 1000 + data[1], (const char *)data + 2,
	    size - 2);
	FUZZ_ASSERT(n <= WS_MAX_CONTROL);
	FUZZ_ASSERT(n < 2 || utf8_valid(payload + 2, n - 2) ||
	    !utf8_valid(data + 2, size - 2));
	return 0;
}
