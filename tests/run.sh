#!/bin/sh
# Runs every test binary in BUILD/tests, reads cmocka's TAP output and prints
# one closing line "N passed, N failed". A binary that dies without reporting
# counts as one failure.
build=${1:-build}
# The tests that run binaries (casebot, casebot-test, tgsim) take them from
# this build, so that make asan runs the sanitized ones.
CASEBOT_BUILD=$build
export CASEBOT_BUILD
passed=0
failed=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for t in "$build"/tests/test_*; do
	case "$t" in *.o|*.d) continue ;; esac
	[ -x "$t" ] || continue
	name=$(basename "$t")
	CMOCKA_MESSAGE_OUTPUT=TAP "$t" >"$log" 2>&1
	rc=$?
	p=$(grep -c '^ok ' "$log")
	f=$(grep -c '^not ok ' "$log")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		echo "$name: exited $rc without a failing test"
	fi
	if [ "$f" -ne 0 ]; then
		grep -v '^ok ' "$log" | sed "s/^/$name: /"
	fi
	echo "$name: $p passed, $f failed" >&2
	passed=$((passed + p))
	failed=$((failed + f))
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
