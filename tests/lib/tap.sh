# SPDX-License-Identifier: GPL-2.0
# TAP helpers for shell test suites: source this, then call
#   ok "what"; fail "what" "why"; skip "what" "why"; check "what" CMD...
#   done_testing   (prints the plan; exit status 1 if anything failed)
_tap_n=0
_tap_failed=0
ok() { _tap_n=$((_tap_n + 1)); echo "ok $_tap_n - $1"; }
fail() {
	_tap_n=$((_tap_n + 1)); _tap_failed=$((_tap_failed + 1))
	echo "not ok $_tap_n - $1"
	[ -n "${2:-}" ] && echo "# $2"
	return 0
}
skip() { _tap_n=$((_tap_n + 1)); echo "ok $_tap_n - $1 # SKIP ${2:-}"; }
# check "what" CMD...: runs CMD, passes when it exits 0; its output is shown
# as TAP comments when it fails.
check() {
	local what=$1 out
	shift
	if out=$("$@" 2>&1); then
		ok "$what"
	else
		fail "$what" "command failed: $*"
		printf '%s\n' "$out" | sed 's/^/#   /'
	fi
}
done_testing() {
	echo "1..$_tap_n"
	[ "$_tap_failed" -eq 0 ]
}
