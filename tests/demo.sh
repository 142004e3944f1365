#!/bin/sh
# make demo: run wsgated in the foreground on 127.0.0.1:8080 with
# conf/wsgated.conf, in front of the demo echo backend on
# /tmp/wsgate-demo/echo.sock.  Ctrl-C stops both.
#
# Run from the top of the source tree, after "make wsgated
# tests/backends/echo-backend" (make demo does both).
set -u

DIR=/tmp/wsgate-demo
SOCK=$DIR/echo.sock
CONF=conf/wsgated.conf
BACKEND=./tests/backends/echo-backend
GATEWAY=./wsgated
PYTHON=${PYTHON:-/usr/bin/python3}

for f in "$GATEWAY" "$BACKEND"; do
	[ -x "$f" ] || { echo "demo: $f is not built (run make demo)" >&2; exit 1; }
done
[ -r "$CONF" ] || { echo "demo: $CONF is missing" >&2; exit 1; }

mkdir -p "$DIR" || exit 1

backend_pid=""
cleanup() {
	trap - EXIT INT TERM
	# Only what this script started: the backend removes its own socket
	# when it exits (and never replaces a live one of someone else).
	if [ -n "$backend_pid" ]; then
		kill "$backend_pid" 2>/dev/null
		wait "$backend_pid" 2>/dev/null
		rmdir "$DIR" 2>/dev/null
	fi
}
# Ctrl-C reaches wsgated too (same process group); it shuts down
# gracefully, and then the backend goes.
trap cleanup EXIT
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM

# Another demo (or anything else) on 8080 would make wsgated fail.
if "$PYTHON" -c 'import socket
socket.create_connection(("127.0.0.1", 8080), timeout=1)' 2>/dev/null; then
	echo "demo: 127.0.0.1:8080 is already in use (another demo running?)" >&2
	exit 1
fi

"$BACKEND" "$SOCK" &
backend_pid=$!

# Wait for the backend's socket (the backend replaces a stale one).
i=0
while :; do
	if [ -S "$SOCK" ] && "$PYTHON" -c 'import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])' "$SOCK" 2>/dev/null; then
		break
	fi
	if ! kill -0 "$backend_pid" 2>/dev/null; then
		echo "demo: the echo backend did not start" >&2
		backend_pid=""
		exit 1
	fi
	i=$((i + 1))
	if [ "$i" -ge 50 ]; then
		echo "demo: no echo backend on $SOCK after 5 s" >&2
		exit 1
	fi
	sleep 0.1
done

cat <<EOF

wsgate demo: wsgated on 127.0.0.1:8080, echo backend on $SOCK
  /echo   line framing: each text message comes back as it was sent
  /frame  frame framing: text and binary messages come back unchanged
  /deflate  the same with permessage-deflate (browsers offer it)

Connect from another terminal (type a line, it is echoed; Ctrl-D quits):
  $PYTHON -m websockets ws://127.0.0.1:8080/echo

Or from a browser's JavaScript console:
  ws = new WebSocket("ws://127.0.0.1:8080/echo"); ws.onmessage = e => console.log(e.data); ws.onopen = () => ws.send("hello, wsgate");

Press Ctrl-C here to stop.

EOF

"$GATEWAY" -c "$CONF"
status=$?
# 130 = stopped by Ctrl-C, which is how a demo ends
[ "$status" -eq 0 ] || [ "$status" -eq 130 ] ||
    echo "demo: wsgated exited with status $status" >&2
exit "$status"
