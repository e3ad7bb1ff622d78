#!/bin/bash
# callclip network lab: callclip registers with Kamailio (digest auth) and takes calls from sipp
# and baresip routed through it, each program in its own network namespace (topology.sh), with
# callclip's built-in voicemail flow (answer, beep, record until # or 3 s silence, hang up).
# Prints one PASS/FAIL line per check and exits 0 only when every check passed. Namespaces and
# processes are removed on exit, also on failure. Needs root (namespaces, tc, sipp's raw sockets).
#
# usage: tests/lab/run.sh [--impair]
#   --impair  netem on the caller's link (80 ms ± 30 ms delay, 5 % loss, reordering)
# env (default):
#   CALLCLIP_BIN    the callclip binary              (target/debug/callclip of this checkout)
#   LAB_DIR         logs, capture, recordings; kept  (a new temp dir)
#   CALLCLIP_PEERS  the SIP peers toolkit            (../shared/peers next to the checkout)
#   PEERS_OUT       media built by the toolkit       (/tmp/callclip-lab-media, built once)
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
# shellcheck source=tests/lab/topology.sh
. "$HERE/topology.sh"

IMPAIR=0
for arg in "$@"; do
	case $arg in
	--impair) IMPAIR=1 ;;
	*) echo "usage: $0 [--impair]" >&2; exit 2 ;;
	esac
done

BIN=${CALLCLIP_BIN:-$REPO/target/debug/callclip}
PEERS=${CALLCLIP_PEERS:-$REPO/../shared/peers}
export PEERS_OUT=${PEERS_OUT:-/tmp/callclip-lab-media}
LAB_DIR=${LAB_DIR:-$(mktemp -d -t callclip-lab.XXXXXX)}
mkdir -p "$LAB_DIR"
LAB_DIR=$(cd "$LAB_DIR" && pwd)
T0=$(date +%s.%N)
FAILED=0
PIDS=""

say() { printf '[%5.1fs] %s\n' "$(awk -v a="$(date +%s.%N)" -v b="$T0" 'BEGIN {print a - b}')" "$*"; }
pass() { echo "PASS $*"; }
fail() { echo "FAIL $*"; FAILED=$((FAILED + 1)); }
check() { # check NAME DETAIL CMD...: PASS when CMD succeeds
	local name=$1 detail=$2
	shift 2
	if "$@"; then pass "$name ($detail)"; else fail "$name ($detail)"; fi
}

# Polls CMD every 0.1 s for up to SECONDS.
wait_for() {
	local secs=$1 end
	shift
	end=$(($(date +%s) + secs))
	until "$@"; do
		[ "$(date +%s)" -lt "$end" ] || return 1
		sleep 0.1
	done
}

cleanup() {
	local rc=$? pid
	trap - EXIT INT TERM
	for pid in $PIDS; do kill -TERM "$pid" 2>/dev/null; done
	lab_down
	[ "$FAILED" -eq 0 ] || echo "lab logs kept in $LAB_DIR" >&2
	exit "$rc"
}

abort() { fail "$*"; say "aborting; logs in $LAB_DIR"; exit 1; }

[ "$(id -u)" = 0 ] || { echo "FAIL the lab needs root (network namespaces, tc, raw sockets)"; exit 1; }
[ -x "$BIN" ] || { echo "FAIL no callclip binary at $BIN (set CALLCLIP_BIN)"; exit 1; }
[ -f "$PEERS/README.md" ] || { echo "FAIL no peers toolkit at $PEERS (set CALLCLIP_PEERS)"; exit 1; }

# One lab at a time on a machine: the namespace names are fixed.
exec 8>/tmp/callclip-lab.lock
flock -w 180 8 || { echo "FAIL another lab run holds /tmp/callclip-lab.lock"; exit 1; }
trap cleanup EXIT
trap 'exit 130' INT TERM

if ! command -v kamailio >/dev/null; then
	say "installing kamailio"
	{ apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends kamailio; } \
		>"$LAB_DIR/apt.log" 2>&1 || abort "apt-get install kamailio (see $LAB_DIR/apt.log)"
fi
for tool in sipp baresip tshark soxi python3 curl; do
	command -v $tool >/dev/null && continue
	say "installing the SIP peers ($tool missing)"
	"$PEERS/install.sh" >"$LAB_DIR/peers-install.log" 2>&1 || abort "peers install.sh (see $LAB_DIR/peers-install.log)"
	break
done
MEDIA=$("$PEERS/bin/ensure_media.sh" 2>"$LAB_DIR/media.log") || abort "media build (see $LAB_DIR/media.log)"

say "lab dir $LAB_DIR; impairment $([ $IMPAIR = 1 ] && echo on || echo off)"
lab_up || abort "namespaces and bridge"
IMPAIR_PID=""
if [ $IMPAIR = 1 ]; then
	lab_impair "$LAB_DIR/impair.log" || abort "impairment of the caller's link (see $LAB_DIR/impair.log)"
	PIDS="$PIDS $IMPAIR_PID"
fi

# Signaling as the caller sees it, to show every message went through Kamailio.
ip netns exec cc-caller tshark -i eth0 -f "udp port 5060 or udp port 5062 or udp port 5070" \
	-w "$LAB_DIR/caller.pcap" >"$LAB_DIR/tshark.log" 2>&1 &
TSHARK_PID=$!
PIDS="$PIDS $TSHARK_PID"
wait_for 10 grep -q "Capturing on" "$LAB_DIR/tshark.log" || abort "tshark capture in cc-caller"

kamailio -c -f "$HERE/kamailio.cfg" >"$LAB_DIR/kamailio-check.log" 2>&1 ||
	abort "kamailio.cfg does not parse (see $LAB_DIR/kamailio-check.log)"
mkdir -p "$LAB_DIR/kamailio-run"
ip netns exec cc-pbx kamailio -DD -E -f "$HERE/kamailio.cfg" -Y "$LAB_DIR/kamailio-run" \
	-P "$LAB_DIR/kamailio-run/kamailio.pid" -l "udp:$PBX_IP:5060" -l "tcp:$PBX_IP:5060" \
	>"$LAB_DIR/kamailio.log" 2>&1 &
PIDS="$PIDS $!"
check "kamailio" "listening on $PBX_IP:5060 in cc-pbx" \
	wait_for 10 sh -c "ip netns exec cc-pbx ss -lun | grep -q '$PBX_IP:5060'"

# The sipp pcap holds 3.4 s of silence between the speech and its digits: a 5 s silence limit
# lets the stop tone, not the silence timer, end that recording.
mkdir -p "$LAB_DIR/bot"
(cd "$LAB_DIR/bot" && exec ip netns exec cc-bot env \
	CALLCLIP_SIP_LISTEN="$BOT_IP:5060" \
	CALLCLIP_API_LISTEN="$BOT_IP:8080" \
	CALLCLIP_API_PUBLIC_URL="http://$BOT_IP:8080" \
	CALLCLIP_API_TOKENS=lab-token \
	CALLCLIP_RTP_PORTS=30000-30099 \
	CALLCLIP_INCOMING_MODE=flow \
	CALLCLIP_CALLS_FLOW_MAX_SILENCE_SECONDS=5 \
	CALLCLIP_SIP_REGISTER_REGISTRAR="sip:$PBX_IP:5060" \
	CALLCLIP_SIP_REGISTER_USERNAME=bot \
	CALLCLIP_SIP_REGISTER_PASSWORD=secret \
	CALLCLIP_SIP_REGISTER_EXPIRES_SECONDS=600 \
	CALLCLIP_RECORDINGS_DIR="$LAB_DIR/bot/recordings" \
	CALLCLIP_NOTIFICATIONS_SPOOL_DIR="$LAB_DIR/bot/spool" \
	CALLCLIP_PROMPTS_DIR="$LAB_DIR/bot/prompts" \
	CALLCLIP_LOG="${CALLCLIP_LOG:-debug}" \
	"$BIN" serve >"$LAB_DIR/callclip.log" 2>&1) &
PIDS="$PIDS $!"
BOTLOG=$LAB_DIR/callclip.log
wait_for 15 grep -q "callclip ready" "$BOTLOG" || abort "callclip start (see $BOTLOG)"
check "register" "callclip REGISTERed bot with digest auth at kamailio" \
	wait_for 10 grep -q "registration event=Registered" "$BOTLOG"
check "topology" "cc-caller reaches callclip's /healthz at $BOT_IP:8080 across bridge cc-net/br0" \
	ip netns exec cc-caller curl -sf -m 5 -o /dev/null "http://$BOT_IP:8080/healthz"

# Completions the flow logged with reason stopToneDetected.
stop_tones() { grep "operation completed" "$BOTLOG" | grep -c 'reason="\?stopToneDetected'; }
wavs() { ls -1tr "$LAB_DIR/bot/recordings"/*.wav 2>/dev/null; }
duration() { soxi -D "$1" 2>/dev/null || echo 0; }
within() { awk -v d="$1" -v lo="$2" -v hi="$3" 'BEGIN {exit !(d >= lo && d <= hi)}'; }

# sipp: speech, then RFC 4733 digits 1 2 # at 6.4/6.9/7.4 s; the flow stops on # and hangs up.
say "sipp call to sip:bot@$PBX_IP"
ip netns exec cc-caller env LOGDIR="$LAB_DIR/sipp" TARGET="$PBX_IP:5060" LOCAL_IP="$CALLER_IP" \
	SERVICE=bot EXPECT_BYE=1 WAIT_MS=15000 TIMEOUT=40s \
	"$PEERS/sipp/run_uac.sh" -m 1 -trace_msg >"$LAB_DIR/sipp.out" 2>&1
RC=$?
check "sipp call" "answered through kamailio, hung up by callclip (sipp exit $RC)" [ $RC = 0 ]
check "sipp record" "operation completed reason=stopToneDetected" \
	wait_for 5 eval '[ "$(stop_tones)" -ge 1 ]'
SIPP_WAV=$(wavs | tail -n1)
D=$(duration "${SIPP_WAV:-/nonexistent}")
check "sipp recording" "${SIPP_WAV##*/} is ${D} s, want 5.5-7.5" within "$D" 5.5 7.5
# The pcap's speech spans 1.89 s (audio/caller_short_8k.wav); loss may shave it, not cut it.
SPAN=$("$PEERS/audio/measure.sh" "${SIPP_WAV:-/nonexistent}" 2>/dev/null | sed -n 's/.*non_silent_span=\([0-9.]*\)s.*/\1/p')
check "sipp speech" "recorded speech spans ${SPAN:-?} s, sent 1.89 s, want ±0.5 s" within "${SPAN:-0}" 1.39 2.39

# baresip: caller_8k.wav as microphone (speech from 1 s), # typed 6 s after the answer.
say "baresip call to sip:bot@$PBX_IP"
ip netns exec cc-caller python3 "$PEERS/baresip/baresip_call.py" --target "sip:bot@$PBX_IP" \
	--ip "$CALLER_IP" --wav "$MEDIA/audio/caller_8k.wav" --dtmf '#@6' --hangup-after 0 \
	--max-call 25 --log "$LAB_DIR/baresip.log" >"$LAB_DIR/baresip.out" 2>&1
RC=$?
check "baresip call" "answered through kamailio, hung up by callclip (exit $RC)" \
	sh -c "[ $RC = 0 ] && grep -q 'far end ended call' '$LAB_DIR/baresip.out'"
check "baresip record" "operation completed reason=stopToneDetected" \
	wait_for 5 eval '[ "$(stop_tones)" -ge 2 ]'
BARESIP_WAV=$(wavs | grep -vxF "${SIPP_WAV:-}" | tail -n1)
D=$(duration "${BARESIP_WAV:-/nonexistent}")
check "baresip recording" "${BARESIP_WAV##*/} is ${D} s, want 4.0-6.5" within "$D" 4.0 6.5

if [ $IMPAIR = 1 ]; then
	LOST=$(sed -n 's/.*call media ended.* lost=\([0-9]*\).*/\1/p' "$BOTLOG" | awk '{n += $1} END {print n + 0}')
	check "impairment" "callclip counted $LOST RTP packets lost from the caller and still recorded both calls" \
		[ "$LOST" -gt 0 ]
fi

# Kamailio's own account: it found the bot's binding and record-routed each INVITE to it.
ROUTED=$(grep -c "INVITE from $CALLER_IP:[0-9]* record-routed to sip:[^ ]*@$BOT_IP:5060" "$LAB_DIR/kamailio.log")
check "invite via kamailio" "$ROUTED INVITEs looked up and record-routed to callclip's registered contact" \
	[ "$ROUTED" -ge 2 ]

# What the caller saw: every SIP message came from Kamailio, and callclip's 200 OK carried the
# proxy's Record-Route (RFC 3261 §12.1.1), so ACK and BYE stay on the proxy path.
sleep 0.5
kill -INT "$TSHARK_PID"
wait "$TSHARK_PID"
tshark -r "$LAB_DIR/caller.pcap" -Y sip -T fields -E separator='|' -e ip.src -e ip.dst -e sip.Method \
	-e sip.Status-Code -e sip.CSeq.method -e sip.Record-Route -e sip.Call-ID \
	>"$LAB_DIR/caller-sip.txt" 2>/dev/null
RR=$(awk -F'|' -v pbx="$PBX_IP" '$1 == pbx && $4 == 200 && $5 == "INVITE" && index($6, "sip:" pbx) {print $7}' \
	"$LAB_DIR/caller-sip.txt" | sort -u | wc -l)
check "record-route" "$RR of 2 calls answered with kamailio's Record-Route <sip:$PBX_IP;lr> in the 200 OK" \
	[ "$RR" -ge 2 ]
BYES=$(awk -F'|' -v pbx="$PBX_IP" '$1 == pbx && $3 == "BYE" {print $7}' "$LAB_DIR/caller-sip.txt" | sort -u | wc -l)
check "bye via kamailio" "callclip's BYE reached the caller through kamailio in $BYES of 2 calls" [ "$BYES" -ge 2 ]
DIRECT=$(awk -F'|' -v bot="$BOT_IP" '$1 == bot || $2 == bot {print $3 $4}' "$LAB_DIR/caller-sip.txt" | sort -u | tr '\n' ' ')
check "no bypass" "SIP sent between caller and bot directly: ${DIRECT:-none}" [ -z "$DIRECT" ]

say "done: $FAILED failed"
[ "$FAILED" -eq 0 ]
