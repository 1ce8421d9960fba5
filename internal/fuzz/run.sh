#!/usr/bin/env bash
# Runs the repository's fuzz targets, each for FUZZTIME (default 10s), one
# after the other: what CI runs after the tests (.ci/run), and `make fuzz`.
#
#   internal/fuzz/run.sh                      every target, 10 s each
#   FUZZTIME=10m internal/fuzz/run.sh FuzzPOST   one target (a regexp on the names), longer
#
# The list below is the one place the targets are named; the script fails
# when a `func FuzzX` of the repository is missing from it (or it names one
# that is gone), so a new target cannot be left out of CI. A failing target
# leaves its input in <package>/testdata/fuzz/<FuzzX>/; the script prints
# it and fails. docs/testing.md says how that input becomes a regression
# case.
set -euo pipefail
cd "$(dirname "$0")/../.."

# package target
targets=(
	"./config FuzzDuration"
	"./config FuzzParseRate"
	"./config FuzzSize"
	"./graph/gqlutil FuzzCheckQuery"
	"./graph/gqlutil FuzzPOST"
	"./listquery FuzzParse"
	"./requestctx FuzzChannelToken"
	"./requestctx FuzzSessionToken"
	"./service FuzzGetChannelFromToken"
	"./service FuzzGetSessionFromToken"
	"./service/session FuzzParseUserAgent"
	"./sessioncache FuzzCodecRoundTrip"
	"./sessioncache FuzzDecodeSession"
)

fuzztime=${FUZZTIME:-10s}
# How long go test may spend shrinking an input it found (a new
# interesting one, or a failure); its default, 60 s, would eat a short run.
minimizetime=${FUZZMINIMIZETIME:-5s}
filter=${1:-.}

# The targets the sources declare, as "package target".
declared=$(grep -rH --include='*_test.go' --exclude-dir=node_modules --exclude-dir=.git -E '^func Fuzz[A-Za-z0-9_]+\(' . |
	sed -E 's#^\./(.*)/[^/]*_test\.go:func (Fuzz[A-Za-z0-9_]+)\(.*#./\1 \2#' | sort -u)
listed=$(printf '%s\n' "${targets[@]}" | sort -u)
if [[ $declared != "$listed" ]]; then
	echo "fuzz: the targets in internal/fuzz/run.sh differ from the sources' (< sources, > list):" >&2
	diff <(echo "$declared") <(echo "$listed") >&2 || true
	exit 1
fi

failed=()
ran=0
for entry in "${targets[@]}"; do
	read -r pkg target <<<"$entry"
	if ! grep -qE -- "$filter" <<<"$target"; then
		continue
	fi
	ran=$((ran + 1))
	echo "fuzz: $target ($pkg) for $fuzztime"
	if ! go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" -fuzzminimizetime "$minimizetime" "$pkg"; then
		failed+=("$pkg $target")
	fi
done
if ((ran == 0)); then
	echo "fuzz: no target matches $filter" >&2
	exit 1
fi
if ((${#failed[@]} > 0)); then
	for entry in "${failed[@]}"; do
		read -r pkg target <<<"$entry"
		echo "fuzz: $target failed; its input (commit it with the fix: docs/testing.md):" >&2
		for f in $(git ls-files --others --exclude-standard -- "$pkg/testdata/fuzz/$target"); do
			echo "--- $f" >&2
			cat "$f" >&2
		done
	done
	exit 1
fi
