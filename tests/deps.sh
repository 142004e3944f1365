#!/bin/sh
# Make sure the Debian packages wsgate needs are installed.
#   deps.sh build   what compiling wsgated needs
#   deps.sh check   what the tests need as well
# As root, missing packages are installed with apt-get; otherwise the exact
# command is printed and the script fails.
set -u
what=${1:-build}
PATH="$PATH:/usr/sbin:/sbin"	# haproxy lives in sbin
missing=""

need_pc() {	# pkg-config module, Debian package
	pkg-config --exists "$1" 2>/dev/null || missing="$missing $2"
}

command -v pkg-config >/dev/null 2>&1 || missing="$missing pkg-config"
need_pc libevent_core libevent-dev
need_pc libevent_openssl libevent-dev
need_pc libevent_pthreads libevent-dev
need_pc openssl libssl-dev
need_pc libconfig libconfig-dev
need_pc zlib zlib1g-dev
need_pc libsystemd libsystemd-dev
if [ "$what" = check ]; then
	need_pc check check
	/usr/bin/python3 -c 'import websockets' >/dev/null 2>&1 ||
	    missing="$missing python3-websockets"
	# the ops tests: unit files, man pages, /bin/kill in ExecReload
	command -v systemd-analyze >/dev/null 2>&1 || missing="$missing systemd"
	command -v groff >/dev/null 2>&1 || missing="$missing groff-base"
	[ -x /bin/kill ] || missing="$missing procps"
	# the TLS tests make their certificates with the openssl CLI
	command -v openssl >/dev/null 2>&1 || missing="$missing openssl"
	# the legacy-service tests run real daemons, and a real browser
	for p in redis-server:redis-server memcached:memcached \
	    haproxy:haproxy chromium:chromium; do
		command -v "${p%%:*}" >/dev/null 2>&1 ||
		    missing="$missing ${p#*:}"
	done
	# the browser test: playwright-core as tests/browser/package-lock.json
	# pins it (skipped, not failed, without npm or if npm ci fails)
	b=$(dirname "$0")/browser
	if [ ! -f "$b/node_modules/playwright-core/package.json" ] &&
	    command -v npm >/dev/null 2>&1; then
		echo "deps.sh: npm ci in $b" >&2
		(cd "$b" && npm ci --no-audit --no-fund >&2) ||
		    echo "deps.sh: npm ci failed; the browser test will skip" >&2
	fi
fi
[ -z "$missing" ] && exit 0

# one name per package
missing=$(printf '%s\n' $missing | sort -u | tr '\n' ' ')
cmd="apt-get install -y $missing"
if [ "$(id -u)" -eq 0 ]; then
	echo "deps.sh: installing:$missing" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing >&2 ||
	    { apt-get update -q >&2 &&
	      DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing >&2; } ||
	    { echo "deps.sh: apt-get failed" >&2; exit 1; }
else
	echo "deps.sh: missing Debian packages; run as root:" >&2
	echo "    sudo $cmd" >&2
	exit 1
fi
