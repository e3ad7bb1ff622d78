#!/usr/bin/env python3
"""Network impairment without sch_netem: delay, jitter, loss and reordering in user space.

For kernels built without netem. iptables sends the packets to be impaired to an NFQUEUE; this
program holds each one for DELAY ± JITTER ms (uniform, so packets overtake each other:
reordering), drops LOSS % of them, and hands the verdict back to the kernel when its time comes.
NFQUEUE accepts verdicts in any order, so a later packet with a shorter delay leaves first.

usage: impair.py --queue 0 --delay-ms 80 --jitter-ms 30 --loss 5 [--seed 1]
Runs until SIGTERM/SIGINT; prints counts on exit. Needs CAP_NET_ADMIN in the namespace.
Only the Python standard library: the netlink messages are packed by hand
(linux/netfilter/nfnetlink_queue.h).
"""
import argparse, heapq, random, select, signal, socket, struct, sys, time

NETLINK_NETFILTER = 12
NFNL_SUBSYS_QUEUE = 3
NFQNL_MSG_PACKET, NFQNL_MSG_VERDICT, NFQNL_MSG_CONFIG = 0, 1, 2
NFQNL_CFG_CMD_BIND = 1
NFQA_CFG_CMD, NFQA_CFG_PARAMS = 1, 2
NFQA_PACKET_HDR = 1
NFQA_VERDICT_HDR = 2
NFQNL_COPY_META = 1
NLM_F_REQUEST, NLM_F_ACK = 1, 4
NLMSG_ERROR = 2
NF_DROP, NF_ACCEPT = 0, 1


def attr(kind, payload):
    length = 4 + len(payload)
    return struct.pack('=HH', length, kind) + payload + b'\0' * (-length % 4)


def message(msg_type, queue, attrs, flags=NLM_F_REQUEST):
    body = struct.pack('=BBH', socket.AF_UNSPEC, 0, socket.htons(queue)) + b''.join(attrs)
    kind = (NFNL_SUBSYS_QUEUE << 8) | msg_type
    return struct.pack('=IHHII', 16 + len(body), kind, flags, 0, 0) + body


def attrs_of(data):
    out, off = {}, 0
    while off + 4 <= len(data):
        length, kind = struct.unpack_from('=HH', data, off)
        if length < 4:
            break
        out[kind & 0x7fff] = data[off + 4:off + length]
        off += (length + 3) & ~3
    return out


def packets(buf):
    """Packet ids of the NFQNL_MSG_PACKET messages in one netlink read."""
    off = 0
    while off + 16 <= len(buf):
        length, kind, _flags, _seq, _pid = struct.unpack_from('=IHHII', buf, off)
        if length < 16:
            return
        if kind == NLMSG_ERROR:
            (err,) = struct.unpack_from('=i', buf, off + 16)
            if err:
                raise OSError(-err, 'nfqueue: netlink error')
        elif kind == (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET:
            hdr = attrs_of(buf[off + 20:off + length]).get(NFQA_PACKET_HDR)
            if hdr and len(hdr) >= 4:
                yield struct.unpack_from('>I', hdr)[0]
        off += (length + 3) & ~3


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--queue', type=int, default=0)
    ap.add_argument('--delay-ms', type=float, default=80)
    ap.add_argument('--jitter-ms', type=float, default=30)
    ap.add_argument('--loss', type=float, default=5, help='percent of packets dropped')
    ap.add_argument('--seed', type=int, default=1)
    a = ap.parse_args()
    rng = random.Random(a.seed)

    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
    sock.bind((0, 0))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    bind = attr(NFQA_CFG_CMD, struct.pack('=BBH', NFQNL_CFG_CMD_BIND, 0, 0))
    params = attr(NFQA_CFG_PARAMS, struct.pack('>IB', 0, NFQNL_COPY_META))
    for cfg in (bind, params):
        sock.send(message(NFQNL_MSG_CONFIG, a.queue, [cfg], NLM_F_REQUEST | NLM_F_ACK))
        list(packets(sock.recv(65536)))
    print('impair: queue %d, delay %g ms ± %g ms, loss %g %%' % (a.queue, a.delay_ms, a.jitter_ms, a.loss),
          flush=True)

    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    held, seen, dropped = [], 0, 0   # held: heap of (release time, packet id)

    def verdict(pid, v):
        sock.send(message(NFQNL_MSG_VERDICT, a.queue, [attr(NFQA_VERDICT_HDR, struct.pack('>II', v, pid))]))

    while not stop:
        now = time.monotonic()
        while held and held[0][0] <= now:
            verdict(heapq.heappop(held)[1], NF_ACCEPT)
        wait = max(0.0, held[0][0] - now) if held else 0.5
        try:
            ready, _, _ = select.select([sock], [], [], wait)
        except InterruptedError:
            continue
        if not ready:
            continue
        for pid in packets(sock.recv(65536)):
            seen += 1
            if rng.random() * 100 < a.loss:
                dropped += 1
                verdict(pid, NF_DROP)
                continue
            delay = max(0.0, a.delay_ms + rng.uniform(-a.jitter_ms, a.jitter_ms)) / 1000
            heapq.heappush(held, (time.monotonic() + delay, pid))
    for _, pid in held:
        verdict(pid, NF_ACCEPT)
    print('impair: %d packets, %d dropped' % (seen, dropped), flush=True)


if __name__ == '__main__':
    sys.exit(main())
