#!/bin/bash
# Builds a long PCMU speech pcap for the load benchmark: caller_8k.wav repeated REPEAT times
# (default 8, about 96 s), so every call keeps sending speech for the whole measuring window.
# usage: bench/make_long_pcap.sh MEDIA_DIR [REPEAT]   (MEDIA_DIR from make_all.sh)
# writes MEDIA_DIR/pcap/caller_long_pcmu.pcap
set -eu
M=$1; R=${2:-8}
PEERS=${CALLCLIP_PEERS:-$(cd "$(dirname "$0")/../../shared/peers" && pwd)}
OUT=$M/pcap/caller_long_pcmu.pcap
[ -f "$OUT" ] && exit 0
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
FILES=(); for _ in $(seq "$R"); do FILES+=("$M/audio/caller_8k.wav"); done
sox -R "${FILES[@]}" "$TMP/long.wav"
python3 "$PEERS/bin/wav2rtp_pcap.py" "$TMP/long.wav" "$OUT.tmp" --codec pcmu >/dev/null
mv "$OUT.tmp" "$OUT"
