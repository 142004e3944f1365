#!/bin/sh
# Run each libFuzzer target for $FUZZ_SECONDS (make fuzz).  New inputs go
# to a scratch corpus under tests/fuzz/build/corpus/ (the checked-in seeds
# are only read); a crash, leak or timeout input is copied into
# tests/fuzz/regress/<target>/, which `make check` replays, and the run
# fails.
set -u
cd "$(dirname "$0")"
secs=${FUZZ_SECONDS:-60}
jobs=${FUZZ_JOBS:-1}
status=0
for t in "$@"; do
	corpus=build/corpus/$t
	arts=build/artifacts/$t
	mkdir -p "$corpus" "$arts" "regress/$t"
	dict=
	[ -f "$t.dict" ] && dict="-dict=$t.dict"
	echo "fuzz: $t for ${secs}s"
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$PWD/lsan.supp \
	./build/fuzz_$t -max_total_time="$secs" -timeout=10 -rss_limit_mb=1024 \
	    -max_len=65536 -print_final_stats=1 $dict \
	    -artifact_prefix="$arts/" "$corpus" "seeds/$t" \
	    >"build/$t.log" 2>&1
	rc=$?
	grep -E '^(stat::number_of_executed_units|stat::new_units_added|#[0-9]+ +DONE)' \
	    "build/$t.log" | sed "s/^/fuzz: $t: /"
	if [ $rc -ne 0 ]; then
		status=1
		echo "fuzz: $t FAILED (exit $rc); log: tests/fuzz/build/$t.log"
		tail -40 "build/$t.log"
		for a in "$arts"/*; do
			[ -f "$a" ] || continue
			cp "$a" "regress/$t/"
			echo "fuzz: $t: added regress/$t/$(basename "$a")"
		done
	fi
done
exit $status
