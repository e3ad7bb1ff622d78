#!/usr/bin/env bash
# Installs the system packages callclip needs, only when something is missing.
# usage: scripts/install-deps.sh [--test]   (--test adds the SIP test peers and lab tools)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
pkgs="cmake pkg-config libasound2-dev libopus-dev"
if [ "${1:-}" = "--test" ]; then
  pkgs="$pkgs sip-tester baresip-core sox libsox-fmt-all espeak-ng tshark python3 iproute2 kamailio iptables"
fi
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "install-deps: installing:$missing"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
fi
if [ "${1:-}" = "--test" ]; then
  peers="${CALLCLIP_PEERS:-$here/../shared/peers}"
  if [ -x "$peers/install.sh" ]; then "$peers/install.sh"; fi
fi
