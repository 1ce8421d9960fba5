#!/usr/bin/env bash
# update-assets.sh fetches the pinned GraphiQL and React builds that the
# playground serves (package playground embeds them from dist/), verifies
# them, copies them with their LICENSE files, and rewrites dist/manifest.json,
# which records where each file came from and its subresource-integrity hash.
#
# Usage: graph/playground/update-assets.sh   (needs npm, node, a network)
#
# To move to another version: change its version below, run the script once;
# it fails and prints the registry's tarball integrity for the new version.
# Check it (npm view <pkg>@<version> dist.integrity, the release notes), put
# it in the table, run the script again, then run
#   go test ./graph/playground/ ./e2e/ -run Playground
# which loads the page in Chromium with every other host blocked.
#
# Why these versions: graphiql 4.1.2 is the last release that ships a UMD
# build (one plain script defining window.GraphiQL); graphiql 5 is ESM only
# and runs Monaco in web workers, which needs an import map or a bundler and
# worker-src in the CSP. React 19 ships no UMD builds, so React stays on the
# last 18.x; graphiql 4 accepts react ^18 || ^19.
set -euo pipefail
cd "$(dirname "$0")"

# package version tarball-integrity (sha512, as in the registry's dist.integrity)
packages=(
  "graphiql 4.1.2 sha512-rNlzQIAzm6i2KBXmVQWBgLvt0TloxFVB2d18bukvdsvjEuFDHsKx5IVOomL1W1o5WW+tE54+ioHb2AEKzO2cUg=="
  "react 18.3.1 sha512-wS+hAgJShR0KhEvPJArfuPVN1+Hz1t0Y6n5jLrGQbkb4urgPE/0Rve+1kMB1v/oWgHgm4WIcV+i7F2pTVj+2iQ=="
  "react-dom 18.3.1 sha512-5m4nQKp+rZRb09LNH59GM4BxTh9251/ylbKIbpe7TpGxfJ+9kv6BLkLBXIjjspbgbnIBNqlI23tRnTWT0snUIw=="
)

# package file-in-the-tarball served-name
files=(
  "graphiql graphiql.min.js graphiql.min.js"
  "graphiql graphiql.min.css graphiql.min.css"
  "react umd/react.production.min.js react.production.min.js"
  "react-dom umd/react-dom.production.min.js react-dom.production.min.js"
)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

sri() { # file -> sha384-<base64>, the form of an integrity attribute
  printf 'sha384-%s' "$(openssl dgst -sha384 -binary "$1" | base64 -w0)"
}

declare -A version
for line in "${packages[@]}"; do
  read -r name ver want <<<"$line"
  version[$name]=$ver
  # npm pack checks the tarball against the registry's integrity; we check
  # it against the pinned one too, so a changed registry entry (or a typo in
  # the version) stops the update instead of slipping in.
  tgz=$(cd "$work" && npm pack --silent "$name@$ver")
  got="sha512-$(openssl dgst -sha512 -binary "$work/$tgz" | base64 -w0)"
  if [[ $got != "$want" ]]; then
    echo "update-assets: $name@$ver has integrity $got, pinned $want" >&2
    echo "update-assets: registry says: $(npm view "$name@$ver" dist.integrity)" >&2
    exit 1
  fi
  mkdir -p "$work/$name"
  tar -xzf "$work/$tgz" -C "$work/$name" --strip-components=1
  mkdir -p "dist/$name"
  cp "$work/$name/LICENSE" "dist/$name/LICENSE"
done

manifest="$work/manifest.json"
{
  echo '{'
  echo '  "note": "written by update-assets.sh; do not edit",'
  echo '  "files": ['
  sep=""
  for line in "${files[@]}"; do
    read -r name src served <<<"$line"
    cp "$work/$name/$src" "dist/$name/$served"
    printf '%s    {"name": "%s", "package": "%s", "version": "%s", "source": "%s", "integrity": "%s"}' \
      "$sep" "$served" "$name" "${version[$name]}" "$src" "$(sri "dist/$name/$served")"
    sep=$',\n'
  done
  printf '\n  ]\n}\n'
} >"$manifest"
# The manifest must be valid JSON before it replaces the old one.
node -e 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))' "$manifest"
cp "$manifest" dist/manifest.json
echo "update-assets: dist/ updated; now run: go test ./graph/playground/ ./e2e/ -run Playground"
