# The lab's network, sourced by run.sh: four namespaces, nothing in the host's own namespace.
#
#   cc-bot    eth0 10.77.0.2  callclip
#   cc-pbx    eth0 10.77.0.3  Kamailio
#   cc-caller eth0 10.77.0.4  sipp, baresip
#   cc-net    br0 joining v-bot, v-pbx, v-caller (the other ends of the three eth0s)
#
# Every veth pair is created with both ends already inside lab namespaces, so no interface,
# address or route ever appears in the host's namespace.

LAB_NET=cc-net
LAB_NODES="cc-bot cc-pbx cc-caller"
LAB_PREFIX=10.77.0
BOT_IP=$LAB_PREFIX.2
PBX_IP=$LAB_PREFIX.3
CALLER_IP=$LAB_PREFIX.4

node_ip() {
	case $1 in
	cc-bot) echo "$BOT_IP" ;;
	cc-pbx) echo "$PBX_IP" ;;
	cc-caller) echo "$CALLER_IP" ;;
	esac
}

ns_exists() {
	ip netns list | awk '{print $1}' | grep -qx "$1"
}

# Kills what still runs inside the lab namespaces (only the lab's own processes can be there),
# then deletes the namespaces. Safe to call when nothing exists.
lab_down() {
	local ns pid
	for ns in $LAB_NODES $LAB_NET; do
		ns_exists "$ns" || continue
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill -TERM "$pid" 2>/dev/null
		done
	done
	sleep 0.3
	for ns in $LAB_NODES $LAB_NET; do
		ns_exists "$ns" || continue
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill -KILL "$pid" 2>/dev/null
		done
		ip netns del "$ns" 2>/dev/null
	done
}

lab_up() {
	local ns
	lab_down
	ip netns add $LAB_NET || return 1
	ip -n $LAB_NET link set lo up
	ip -n $LAB_NET link add br0 type bridge || return 1
	ip -n $LAB_NET link set br0 up
	for ns in $LAB_NODES; do
		ip netns add "$ns" || return 1
		ip -n "$ns" link set lo up
		ip -n $LAB_NET link add "v-${ns#cc-}" type veth peer name eth0 netns "$ns" || return 1
		ip -n $LAB_NET link set "v-${ns#cc-}" master br0 up
		ip -n "$ns" addr add "$(node_ip "$ns")/24" dev eth0
		ip -n "$ns" link set eth0 up
	done
}

# Impairs both directions of every UDP flow of the caller: 80 ms ± 30 ms delay, 5 % loss,
# reordering. With sch_netem, netem on both ends of the caller's veth; on a kernel without it,
# impair.py holds the caller's UDP packets in an NFQUEUE (iptables) for the same delay and loss,
# its jitter reordering them. Sets IMPAIR_PID when impair.py runs; $1 is its log file.
lab_impair() {
	local spec="delay 80ms 30ms loss 5% reorder 25% 50%" log=$1 i
	# shellcheck disable=SC2086
	if ip netns exec cc-caller tc qdisc add dev eth0 root netem $spec 2>/dev/null; then
		# shellcheck disable=SC2086
		ip netns exec $LAB_NET tc qdisc add dev v-caller root netem $spec || return 1
		echo "impairment: tc netem $spec, on both ends of the caller's veth"
		return 0
	fi
	command -v iptables-legacy >/dev/null ||
		DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends iptables >"$log.apt" 2>&1 ||
		return 1
	ip netns exec cc-caller python3 "$HERE/impair.py" --queue 0 --delay-ms 80 --jitter-ms 30 --loss 5 \
		>"$log" 2>&1 &
	IMPAIR_PID=$!
	for i in $(seq 50); do
		grep -q "^impair: queue" "$log" && break
		sleep 0.1
	done
	grep -q "^impair: queue" "$log" || return 1
	ip netns exec cc-caller iptables-legacy -A OUTPUT -o eth0 -p udp -j NFQUEUE --queue-num 0 || return 1
	ip netns exec cc-caller iptables-legacy -A INPUT -i eth0 -p udp -j NFQUEUE --queue-num 0 || return 1
	echo "impairment: no sch_netem in this kernel; impair.py on NFQUEUE: UDP both ways delayed 80 ms ± 30 ms" \
		"(reordered), 5 % lost"
}
