#!/bin/sh
# Runs every test binary in BUILD/tests, reads cmocka's TAP output and prints
# one closing line "N passed, N failed". A binary that dies without reporting
# counts as one failure.
#
# The binaries run side by side (CASEBOT_TEST_JOBS at a time, 8 unless set):
# the integration tests spend their time waiting on the daemon's rate limits
# and timers, not on a processor, and each test picks free ports and its own
# temporary directories. A slow binary runs as several processes, each with
# every n-th of its tests (CASEBOT_TEST_SHARD=k/n, tests/support/shard.c),
# so that no one of them holds the run up. The slowest start first, so the
# wall time is about that of the slowest piece. Each binary's report is
# printed in name order once all ended, with how long its slowest piece took.
build=${1:-build}
jobs=${CASEBOT_TEST_JOBS:-8}
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
# Known slow ones first, slowest first, each with how many pieces it runs
# as; the rest whole, in name order.
slow="test_whatsapp_flow:5 test_daemon:5 test_staff:5 test_faults:4 test_console:3 test_staff_long:2
      test_whatsapp_sim:3 test_cli:3 test_voice:2 test_sms_flow:3 test_erase:2 test_browser:1 test_router:2
      test_contract:2 test_whatsapp_staff:2 test_crash:1"
pieces() {
	for s in $slow; do
		[ "${s%%:*}" = "$1" ] && { echo "${s#*:}"; return; }
	done
	echo 1
}
# Each item is name:k:n, the k-th of n pieces of a binary.
order=""
for s in $slow; do
	case " $list " in *" ${s%%:*} "*) ;; *) continue ;; esac
	k=0
	while [ "$k" -lt "${s#*:}" ]; do
		order="$order ${s%%:*}:$k:${s#*:}"
		k=$((k + 1))
	done
done
for n in $list; do
	case " $slow " in *" $n:"*) ;; *) order="$order $n:0:1" ;; esac
done

printf '%s\n' $order | xargs -P "$jobs" -I ITEM sh -c '
	n=${3%%:*}
	k=${3#*:}
	of=${k#*:}
	k=${k%%:*}
	s=$(date +%s)
	if [ "$of" -gt 1 ]; then
		CASEBOT_TEST_SHARD=$k/$of CMOCKA_MESSAGE_OUTPUT=TAP "$2/tests/$n" >"$1/$n.$k.log" 2>&1
	else
		CMOCKA_MESSAGE_OUTPUT=TAP "$2/tests/$n" >"$1/$n.$k.log" 2>&1
	fi
	echo $? >"$1/$n.$k.rc"
	echo $(($(date +%s) - s)) >"$1/$n.$k.s"' sh "$dir" "$build" ITEM

passed=0
failed=0
for n in $list; do
	p=0
	f=0
	secs=0
	k=0
	while [ "$k" -lt "$(pieces "$n")" ]; do
		log="$dir/$n.$k.log"
		rc=$(cat "$dir/$n.$k.rc" 2>/dev/null || echo 1)
		kp=$(grep -c '^ok ' "$log" 2>/dev/null)
		kf=$(grep -c '^not ok ' "$log" 2>/dev/null)
		if [ "$rc" -ne 0 ] && [ "${kf:-0}" -eq 0 ]; then
			kf=1
			echo "$n: exited $rc without a failing test"
		fi
		if [ "$kf" -ne 0 ]; then
			grep -v '^ok ' "$log" | sed "s/^/$n: /"
		fi
		ks=$(cat "$dir/$n.$k.s" 2>/dev/null || echo 0)
		[ "$ks" -gt "$secs" ] && secs=$ks
		p=$((p + ${kp:-0}))
		f=$((f + kf))
		k=$((k + 1))
	done
	echo "$n: $p passed, $f failed ($secs s)" >&2
	passed=$((passed + p))
	failed=$((failed + f))
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
