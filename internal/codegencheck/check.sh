#!/bin/sh
# Proves that a typed client sees the Shop API as Vendure's: GraphQL Code
# Generator (the versions pinned in package-lock.json, with the config in
# codegen.ts) reads the served Shop schema's introspection result and must
# type Channel.defaultLanguageCode as Vendure's LanguageCode enum, the
# currencies as CurrencyCode, and DateTime as a string.
#
# Run from anywhere: internal/codegencheck/check.sh
# Needs Go, Node 20+ and the npm registry (npm ci); exits non-zero on any
# difference, naming it.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cd "$here"
npm ci --no-audit --no-fund --loglevel=error
(cd "$root" && go run ./internal/codegencheck -api shop) >"$tmp/shop-schema.json"
SCHEMA="$tmp/shop-schema.json" OUT="$tmp/shop-types.ts" npx --no-install graphql-codegen --config codegen.ts --silent
types="$tmp/shop-types.ts"

status=0
expect() {
	if ! grep -qxF -- "$1" "$types"; then
		echo "codegencheck: the generated types lack the line: $1" >&2
		status=1
	fi
}
expect "export enum LanguageCode {"
expect "export enum CurrencyCode {"
expect "  defaultLanguageCode: LanguageCode;"
expect "  availableLanguageCodes?: Maybe<Array<LanguageCode>>;"
expect "  defaultCurrencyCode: CurrencyCode;"
expect "  availableCurrencyCodes: Array<CurrencyCode>;"
expect "  DateTime: { input: string; output: string; }"
expect "  zh_Hans = 'zh_Hans',"

# Every value of Vendure's enums, as schema/common holds them, is a member.
for enum in LanguageCode CurrencyCode; do
	file="$root/schema/common/$(echo "$enum" | sed 's/Code$//' | tr 'A-Z' 'a-z')-code.graphqls"
	want=$(grep -c '^    [A-Za-z_]*$' "$file")
	got=$(awk -v enum="$enum" '
		$0 == "export enum " enum " {" { on = 1; next }
		on && /^}/ { exit }
		on && /^  [A-Za-z_]+ = / { n++ }
		END { print n + 0 }' "$types")
	if [ "$got" -ne "$want" ]; then
		echo "codegencheck: $enum has $got members in the generated types, $want in $file" >&2
		status=1
	fi
done

if [ "$status" -eq 0 ]; then
	echo "codegencheck: ok (Channel.defaultLanguageCode is LanguageCode, DateTime is string)"
fi
exit "$status"
