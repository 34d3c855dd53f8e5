#!/usr/bin/env bash
# Runs the reliability tests in sequence and prints one PASS/FAIL line per test and a final
# "N passed, M failed" line; exits non-zero if any failed. Works as root (each test re-runs
# itself as `postgres`) or as postgres. Each test starts and stops its own throwaway cluster.
#
#   bash test/reliability/run.sh [--quick] [test ...]     tests: crash_and_kill soak soak_paths
#                                                         scheduler maintenance_worker
#                                                         dump_restore logical_replication
#   --quick: CI mode (about 7 minutes in all); without it the soaks and scheduler run longer.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
args=(); tests=()
for a in "$@"; do
    case $a in
        --quick) args+=(--quick) ;;
        *) tests+=("$a") ;;
    esac
done
[ ${#tests[@]} -gt 0 ] || tests=(crash_and_kill soak soak_paths scheduler maintenance_worker dump_restore logical_replication)
if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
    echo "run.sh: the postgres account is needed to start test clusters" >&2; exit 2
fi

passed=0; failed=0; results=()
for t in "${tests[@]}"; do
    echo "=== reliability: $t ${args[*]:-}"
    start=$(date +%s)
    if bash "$here/$t.sh" "${args[@]}"; then
        results+=("PASS $t ($(( $(date +%s) - start ))s)"); passed=$((passed + 1))
    else
        results+=("FAIL $t ($(( $(date +%s) - start ))s)"); failed=$((failed + 1))
    fi
    echo "${results[-1]}"
done
echo "=== reliability summary"
printf '%s\n' "${results[@]}"
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
