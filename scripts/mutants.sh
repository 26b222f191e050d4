#!/usr/bin/env bash
# Mutation testing of tokenlife-core (issue 18, docs/mutants.md): runs cargo-mutants on the
# whole core package (unit, property, integration and doc tests) and prints the score per
# file at the end. Arguments go to `cargo mutants` as they are, for example:
#
#   scripts/mutants.sh                                # every mutant of core
#   scripts/mutants.sh --file core/src/scope.rs       # one file
#   scripts/mutants.sh --shard 1/8                    # one eighth (CI)
#   scripts/mutants.sh --list                         # the mutants, without testing them
#   scripts/mutants.sh --file core/src/scope.rs -- -- --skip json::
#                                                     # skip tests that cannot catch them
#
# The equivalent mutants are excluded in .cargo/mutants.toml, each with its reason in
# docs/mutants.md, so every mutant reported as missed is a test to write.
#
# Environment: MUTANTS_JOBS (default 1: the machine is shared), MUTANTS_OUT (default
# target/mutants; the report is in $MUTANTS_OUT/mutants.out), CARGO_TARGET_DIR (default,
# with one job, target/mutants-build, kept between runs so that dependencies are built once),
# PROPTEST_CASES (default 256 for every property test, the JSON reader's 3000 included).
# Exit status: cargo-mutants' own (0 all caught, 2 some missed, 3 some timed out, 4 the
# tests fail without any mutant).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo-mutants >/dev/null 2>&1; then
    echo "cargo-mutants is not installed: cargo install cargo-mutants --locked" >&2
    exit 1
fi

out=${MUTANTS_OUT:-target/mutants}
jobs=${MUTANTS_JOBS:-1}
# One target directory kept between runs, so that dependencies are built once. Only for
# one job at a time: the copies of the tree that cargo-mutants builds in parallel give
# core's artifacts the same names, so jobs sharing one target directory test each other's
# mutants. With more jobs each copy builds in its own (cold) target directory; two runs at
# once need a CARGO_TARGET_DIR each.
if [ "$jobs" = 1 ]; then
    export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target/mutants-build}
fi
# Every mutant runs every test: the property tests at 256 cases rather than the 3000 of the
# JSON reader's, which would take half a minute a mutant on their own.
export PROPTEST_CASES=${PROPTEST_CASES:-256}
mkdir -p "$out"

listing=false
for arg in "$@"; do
    case $arg in
        --list | --list-files) listing=true ;;
    esac
done
if $listing; then
    exec cargo mutants --package tokenlife-core "$@"
fi

started=$(date +%s)
status=0
nice -n 10 cargo mutants --package tokenlife-core --jobs "$jobs" \
    --output "$out" "$@" || status=$?
elapsed=$(($(date +%s) - started))

report=$out/mutants.out
echo
echo "cargo-mutants on tokenlife-core: $(printf '%dm%02ds' $((elapsed / 60)) $((elapsed % 60))), exit status $status"
printf '%-28s %7s %7s %9s %8s %7s\n' file caught missed unviable timeout score
for outcome in caught missed unviable timeout; do
    [ -f "$report/$outcome.txt" ] || continue
    # Lines read "core/src/scope.rs:95:5: replace allows -> bool with true".
    sed "s/:.*//; s/\$/ $outcome/" "$report/$outcome.txt"
done | sort | awk '
    function row(name, c, m, u, t) {
        score = (c + m + t) ? sprintf("%.0f%%", 100 * (c + t) / (c + m + t)) : "-"
        printf "%-28s %7d %7d %9d %8d %7s\n", name, c, m, u, t, score
    }
    $1 != file { if (file != "") row(file, n["caught"], n["missed"], n["unviable"], n["timeout"])
                 file = $1; split("", n) }
    { n[$2]++; all[$2]++ }
    END {
        if (file != "") row(file, n["caught"], n["missed"], n["unviable"], n["timeout"])
        row("all", all["caught"], all["missed"], all["unviable"], all["timeout"])
    }'
if [ -s "$report/missed.txt" ]; then
    echo
    echo "missed (write a test that fails for each, or document it as equivalent):"
    sed 's/^/  /' "$report/missed.txt"
fi
exit "$status"
