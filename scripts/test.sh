#!/usr/bin/env bash
# Runs the whole test suite: unit, scenario and end-to-end tests against the real SIP peers in
# ../shared/peers (sipp, baresip). Installs what is missing first.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
"$here/scripts/install-deps.sh" --test
cd "$here"
export CALLCLIP_PEERS="${CALLCLIP_PEERS:-$here/../shared/peers}"
cargo test --workspace --no-fail-fast 2>&1
