# expect.sh - how the host's command-line scripts run sysboot and check
# what it said (sourced by cli.sh and image_cli.sh, which set TMP).

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# expect [-F] STATUS NEEDLE command...: exit status and a message (a grep
# pattern, or with -F text taken literally) on stdout/stderr
expect() {
	how=-q
	if [ "$1" = -F ]; then
		how=-qF
		shift
	fi
	want=$1
	needle=$2
	shift 2
	"$@" > "$TMP/out" 2>&1
	got=$?
	[ "$got" -eq "$want" ] || fail "$* exited $got, expected $want: $(cat "$TMP/out")"
	grep $how -- "$needle" "$TMP/out" || fail "$*: no '$needle' in: $(cat "$TMP/out")"
}
