#!/bin/sh
# Run every fuzz harness on a scratch copy of its seeds.
#   run.sh BUILD runs N   - N executions each (the short run in make test)
#   run.sh BUILD time S   - S seconds each (make fuzz)
# Prints one `ok - ` / `not ok - ` line per harness with its executions.
BUILD=$1 MODE=$2 N=$3
top=$(cd "$(dirname "$0")/../.." && pwd)
for bin in "$BUILD"/fuzz/fuzz_*; do
	name=${bin##*/fuzz_}
	seeds=$top/tests/fuzz/seeds/$name
	work=$(mktemp -d)
	if [ "$MODE" = time ]; then limit="-max_total_time=$N"; else limit="-runs=$N"; fi
	if "$bin" $limit -max_len=4096 -timeout=30 -rss_limit_mb=2048 -print_final_stats=1 \
		"$work" "$seeds" > "$work.log" 2>&1; then
		execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work.log")
		echo "ok - fuzz $name: ${execs:-?} executions, no crash"
	else
		echo "not ok - fuzz $name: crashed or leaked (log follows)"
		tail -30 "$work.log"
	fi
	rm -rf "$work" "$work.log"
done
