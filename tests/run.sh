#!/bin/sh
# Runs every test binary in BUILD/tests, reads cmocka's TAP output and prints
# one closing line "N passed, N failed". A binary that dies without reporting
# counts as one failure.
#
# The binaries run side by side (CASEBOT_TEST_JOBS at a time, 4 unless set):
# the integration tests spend their time waiting on the daemon's rate limits
# and timers, not on a CPU, and each picks free ports and its own temporary
# directories. The slowest start first, so the wall time is about that of the
# slowest one. Each binary's report is printed in name order once all ended,
# with how long it took.
build=${1:-build}
jobs=${CASEBOT_TEST_JOBS:-4}
# The tests that run binaries (casebot, casebot-test, tgsim) take them from
# this build, so that make asan runs the sanitized ones.
CASEBOT_BUILD=$build
export CASEBOT_BUILD
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

list=""
for t in "$build"/tests/test_*; do
	case "$t" in *.o|*.d) continue ;; esac
	[ -x "$t" ] || continue
	list="$list $(basename "$t")"
done
# Known slow ones first; the rest in name order.
slow="test_staff test_whatsapp_flow test_daemon test_staff_long test_erase test_sim test_cli"
order=""
for n in $slow; do
	case " $list " in *" $n "*) order="$order $n" ;; esac
done
for n in $list; do
	case " $slow " in *" $n "*) ;; *) order="$order $n" ;; esac
done

printf '%s\n' $order | xargs -P "$jobs" -I NAME sh -c '
	s=$(date +%s)
	CMOCKA_MESSAGE_OUTPUT=TAP "$2/tests/$3" >"$1/$3.log" 2>&1
	echo $? >"$1/$3.rc"
	echo $(($(date +%s) - s)) >"$1/$3.s"' sh "$dir" "$build" NAME

passed=0
failed=0
for n in $list; do
	log="$dir/$n.log"
	rc=$(cat "$dir/$n.rc" 2>/dev/null || echo 1)
	p=$(grep -c '^ok ' "$log")
	f=$(grep -c '^not ok ' "$log")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		echo "$n: exited $rc without a failing test"
	fi
	if [ "$f" -ne 0 ]; then
		grep -v '^ok ' "$log" | sed "s/^/$n: /"
	fi
	echo "$n: $p passed, $f failed ($(cat "$dir/$n.s" 2>/dev/null) s)" >&2
	passed=$((passed + p))
	failed=$((failed + f))
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
