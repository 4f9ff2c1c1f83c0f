#!/bin/sh
# Run every fuzz harness on a scratch copy of its seeds.
#   run.sh BUILD runs N   - N executions each (the short run in make test)
#   run.sh BUILD time S   - S seconds each (make fuzz)
# Prints one `ok - ` / `not ok - ` line per harness with its executions.
# UndefinedBehaviorSanitizer's findings stop a harness like a crash (the
# harnesses are built with -fno-sanitize-recover=undefined).
BUILD=$1 MODE=$2 N=$3
top=$(cd "$(dirname "$0")/../.." && pwd)
for bin in "$BUILD"/fuzz/fuzz_*; do
	name=${bin##*/fuzz_}
	seeds=$top/tests/fuzz/seeds/$name
	work=$(mktemp -d)
	# Larger inputs where the answers are larger (the policy is 18 KiB);
	# fewer runs where one is slow (a whole command, a socket, all pages).
	maxlen=4096 runs=$N
	case $name in
	cli) maxlen=32768 runs=$((N / 20)) ;;
	http) runs=$((N / 10)) ;;
	ui) runs=$((N / 200)) ;;
	esac
	if [ "$MODE" = time ]; then limit="-max_total_time=$N"; else limit="-runs=$runs"; fi
	# What a crash leaves (the input that made it) goes to BUILD/fuzz/artifacts/.
	mkdir -p "$BUILD/fuzz/artifacts"
	if "$bin" $limit -max_len=$maxlen -timeout=30 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$BUILD/fuzz/artifacts/$name-" "$work" "$seeds" > "$work.log" 2>&1; then
		execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work.log")
		echo "ok - fuzz $name: ${execs:-?} executions, no crash"
	else
		echo "not ok - fuzz $name: crashed or leaked (log follows)"
		grep -v '^#\|^INFO\|NEW_FUNC' "$work.log" | tail -40
	fi
	rm -rf "$work" "$work.log"
done
