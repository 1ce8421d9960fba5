#!/bin/sh
# Prints N guest tokens (comma-separated), each with a cart holding one item
# of variant 1, from the server at ${URL:-http://127.0.0.1:3111/shop-api}.
set -eu
url=${URL:-http://127.0.0.1:3111/shop-api}
n=${1:-200}
out=""
for _ in $(seq "$n"); do
  tok=$(curl -s -D - -o /dev/null "$url" -H 'content-type: application/json' \
    -d '{"query":"mutation { addItemToOrder(productVariantId: \"1\", quantity: 1) { __typename } }"}' |
    tr -d '\r' | awk -F': ' 'tolower($1)=="vendure-auth-token" {print $2}')
  out="${out:+$out,}$tok"
done
printf '%s\n' "$out"
