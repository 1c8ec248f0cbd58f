# checks.sh - how the end-to-end scripts run sysboot and check what it said
# (sourced by e2e.sh and dfu_e2e.sh).
#
# Needs TMP, SYSBOOT and a fail function. CLIENT, when set, goes before the
# sysboot command line: "env UMOCKDEV_DIR=... LD_PRELOAD=..." to run it in
# an emulator's umockdev testbed (values without blanks).

# run EXPECTED_STATUS sysboot args...: output in $TMP/out, $TMP/err
run() {
	want=$1
	shift
	${CLIENT:-} "$SYSBOOT" "$@" > "$TMP/out" 2> "$TMP/err"
	got=$?
	if [ "$got" -ne "$want" ]; then
		cat "$TMP/out" "$TMP/err" >&2
		fail "sysboot $* exited $got, expected $want"
	fi
}

expect_err() {
	grep -qF -- "$1" "$TMP/err" || { cat "$TMP/err" >&2; fail "no '$1' in the error"; }
}

expect_out() {
	grep -qF -- "$1" "$TMP/out" || { cat "$TMP/out" >&2; fail "no '$1' in the output"; }
}
