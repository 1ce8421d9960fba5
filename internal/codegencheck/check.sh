#!/bin/sh
# Proves that a typed client sees the Shop API as Vendure's: GraphQL Code
# Generator (the versions pinned in package-lock.json, with the config in
# codegen.ts) reads the served Shop schema's introspection result and must
# type Channel.defaultLanguageCode as Vendure's LanguageCode enum, the
# currencies as CurrencyCode, and DateTime as a string. For both APIs, every
# scalar must map to a type of its own: a scalar the config does not map
# comes out as `unknown` (or `any`), and fails the check.
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
for api in shop admin; do
	(cd "$root" && go run ./internal/codegencheck -api "$api") >"$tmp/$api-schema.json"
	SCHEMA="$tmp/$api-schema.json" OUT="$tmp/$api-types.ts" npx --no-install graphql-codegen --config codegen.ts --silent
done

status=0
expect() {
	if ! grep -qxF -- "$1" "$types"; then
		echo "codegencheck: the generated types ($types) lack the line: $1" >&2
		status=1
	fi
}

# Every scalar of both APIs maps to a type of its own, never to unknown or
# any (what the typescript plugin gives a scalar the config leaves out).
for api in shop admin; do
	scalars=$(awk '
		$0 == "export type Scalars = {" { on = 1; next }
		on && /^};/ { exit }
		on { print }' "$tmp/$api-types.ts")
	if [ -z "$scalars" ]; then
		echo "codegencheck: the generated $api types have no Scalars type" >&2
		status=1
	fi
	bad=$(printf '%s\n' "$scalars" | grep -E '(input|output): (unknown|any);' || true)
	if [ -n "$bad" ]; then
		echo "codegencheck: $api scalars without a type of their own (map them in codegen.ts and docs/typed-clients.md):" >&2
		printf '%s\n' "$bad" >&2
		status=1
	fi
done
for api in shop admin; do
	types="$tmp/$api-types.ts"
	expect "  ID: { input: string; output: string; }"
	expect "  DateTime: { input: string; output: string; }"
	expect "  Money: { input: number; output: number; }"
	expect "  JSON: { input: string | number | boolean | null | { [key: string]: unknown } | unknown[]; output: string | number | boolean | null | { [key: string]: unknown } | unknown[]; }"
done
types="$tmp/shop-types.ts"
expect "export enum LanguageCode {"
expect "export enum CurrencyCode {"
expect "  defaultLanguageCode: LanguageCode;"
expect "  availableLanguageCodes?: Maybe<Array<LanguageCode>>;"
expect "  defaultCurrencyCode: CurrencyCode;"
expect "  availableCurrencyCodes: Array<CurrencyCode>;"
expect "  zh_Hans = 'zh_Hans',"

# The codegen.ts example in docs/typed-clients.md maps the scalars as this one does.
scalar_map() { # file: the lines of its `scalars: { … }` block, trimmed, comments left out
	awk '
		/^ *scalars: \{/ { on = 1 }
		!on { next }
		{ sub(/^ +/, "") }
		/^\/\// { next }
		{ print; line = $0; depth += gsub(/\{/, "", line) - gsub(/\}/, "", line) }
		depth == 0 { exit }' "$1"
}
if [ "$(scalar_map "$here/codegen.ts")" != "$(scalar_map "$root/docs/typed-clients.md")" ]; then
	echo "codegencheck: the codegen.ts example in docs/typed-clients.md maps the scalars differently from $here/codegen.ts" >&2
	status=1
fi

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
	echo "codegencheck: ok (Channel.defaultLanguageCode is LanguageCode; every scalar of both APIs is typed: ID, DateTime string, Money number, JSON a JSON value)"
fi
exit "$status"
