#!/usr/bin/env bash
# Quickstart: builds callclip and runs the gateway on its embedded defaults
# (SIP on 127.0.0.1:5080, API on http://127.0.0.1:8080). Extra arguments go to `callclip serve`.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
"$here/scripts/install-deps.sh"
cd "$here"
cargo build --release -p callclip
exec "$here/target/release/callclip" serve "$@"
