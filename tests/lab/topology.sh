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

# netem on both ends of the caller's veth, so both directions of every caller flow are
# delayed (80 ms ± 30 ms), lose 5 % of packets and are reordered.
lab_impair() {
	local spec="delay 80ms 30ms loss 5% reorder 25% 50%"
	# shellcheck disable=SC2086
	ip netns exec cc-caller tc qdisc add dev eth0 root netem $spec || return 1
	# shellcheck disable=SC2086
	ip netns exec $LAB_NET tc qdisc add dev v-caller root netem $spec || return 1
	echo "netem: $spec (both directions of the caller's link)"
}
