//! A minimal SIP UDP caller for the latency benchmark: one INVITE with a PCMU + telephone-event
//! offer, ACK, BYE; an RTP thread that sends PCMU silence every 20 ms and RFC 4733 digits on
//! request, and a receive thread that timestamps the gateway's first non-silent PCMU packet.

use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

const PTIME: Duration = Duration::from_millis(20);
const EVENT_PT: u8 = 101;
/// RFC 4733 §3.2: event code of `#`.
const EVENT_POUND: u8 = 11;

pub struct Caller {
    sip: UdpSocket,
    gateway: SocketAddr,
    call_id: String,
    to: String,
    contact: String,
    digits: mpsc::Sender<mpsc::Sender<Instant>>,
    armed: Arc<AtomicBool>,
    heard: mpsc::Receiver<Instant>,
}

pub struct Dialing {
    sip: UdpSocket,
    rtp: UdpSocket,
    gateway: SocketAddr,
    call_id: String,
}

/// Sends the INVITE; the gateway (notify mode) then waits for the bot to answer.
pub fn dial(gateway: SocketAddr) -> Dialing {
    let sip = UdpSocket::bind("127.0.0.1:0").expect("bind SIP");
    let rtp = UdpSocket::bind("127.0.0.1:0").expect("bind RTP");
    let lp = sip.local_addr().expect("addr").port();
    let mp = rtp.local_addr().expect("addr").port();
    let call_id = format!("bench-{lp}@127.0.0.1");
    let sdp = format!(
        "v=0\r\no=bench 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
         m=audio {mp} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n\
         a=fmtp:101 0-16\r\na=ptime:20\r\na=sendrecv\r\n"
    );
    let invite = format!(
        "INVITE sip:bot@{gateway} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{lp};branch=z9hG4bK-bench-inv\r\n\
         From: <sip:bench@127.0.0.1:{lp}>;tag=bench\r\nTo: <sip:bot@{gateway}>\r\nCall-ID: {call_id}\r\n\
         CSeq: 1 INVITE\r\nContact: <sip:bench@127.0.0.1:{lp}>\r\nMax-Forwards: 70\r\n\
         Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{sdp}",
        sdp.len()
    );
    sip.send_to(invite.as_bytes(), gateway)
        .expect("send INVITE");
    Dialing {
        sip,
        rtp,
        gateway,
        call_id,
    }
}

fn header<'a>(msg: &'a str, names: &[&str]) -> Option<&'a str> {
    msg.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        names
            .iter()
            .any(|n| k.trim().eq_ignore_ascii_case(n))
            .then_some(v.trim())
    })
}

impl Dialing {
    /// Waits for the 200 to the INVITE, ACKs it and starts the RTP threads.
    pub fn established(self) -> Caller {
        self.sip
            .set_read_timeout(Some(Duration::from_secs(20)))
            .ok();
        let mut buf = vec![0u8; 8192];
        let ok = loop {
            let (n, _) = self
                .sip
                .recv_from(&mut buf)
                .expect("no 200 OK to the INVITE");
            let msg = String::from_utf8_lossy(buf.get(..n).unwrap_or_default()).into_owned();
            let cseq = header(&msg, &["CSeq"]).unwrap_or("");
            if msg.starts_with("SIP/2.0 200") && cseq.contains("INVITE") {
                break msg;
            }
        };
        let to = header(&ok, &["To", "t"]).expect("To").to_string();
        let contact = header(&ok, &["Contact", "m"])
            .and_then(|c| {
                c.split_once('<')
                    .and_then(|(_, r)| r.split_once('>'))
                    .map(|x| x.0.to_string())
            })
            .unwrap_or_else(|| format!("sip:bot@{}", self.gateway));
        let port: u16 = ok
            .lines()
            .find_map(|l| l.strip_prefix("m=audio "))
            .and_then(|r| r.split_whitespace().next())
            .and_then(|p| p.parse().ok())
            .expect("m=audio port in the answer");
        let media = SocketAddr::from(([127, 0, 0, 1], port));
        let caller = Caller {
            sip: self.sip,
            gateway: self.gateway,
            call_id: self.call_id,
            to,
            contact,
            digits: mpsc::channel().0,
            armed: Arc::default(),
            heard: mpsc::channel().1,
        };
        caller.send_request("ACK", 1, "ack");
        let (digits_tx, digits_rx) = mpsc::channel();
        let (heard_tx, heard_rx) = mpsc::channel();
        let rx = self.rtp.try_clone().expect("clone RTP socket");
        let armed = caller.armed.clone();
        std::thread::spawn(move || receive(rx, armed, heard_tx));
        std::thread::spawn(move || send(self.rtp, media, digits_rx));
        Caller {
            digits: digits_tx,
            heard: heard_rx,
            ..caller
        }
    }
}

impl Caller {
    fn send_request(&self, method: &str, cseq: u32, branch: &str) {
        let lp = self.sip.local_addr().expect("addr").port();
        let req = format!(
            "{method} {} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{lp};branch=z9hG4bK-bench-{branch}\r\n\
             From: <sip:bench@127.0.0.1:{lp}>;tag=bench\r\nTo: {}\r\nCall-ID: {}\r\nCSeq: {cseq} {method}\r\n\
             Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
            self.contact, self.to, self.call_id
        );
        self.sip
            .send_to(req.as_bytes(), self.gateway)
            .expect("send request");
    }

    /// Queues a `#` (RFC 4733); returns when its first event packet has left the socket, with
    /// that instant.
    pub fn send_pound(&self) -> Instant {
        let (tx, rx) = mpsc::channel();
        self.digits.send(tx).expect("RTP thread alive");
        rx.recv().expect("digit sent")
    }

    /// From now on, the next non-silent PCMU packet from the gateway is reported by `heard`.
    pub fn arm(&self) {
        while self.heard.try_recv().is_ok() {}
        self.armed.store(true, Ordering::SeqCst);
    }

    pub fn heard(&self, within: Duration) -> Option<Instant> {
        self.heard.recv_timeout(within).ok()
    }

    pub fn hang_up(&self) {
        self.send_request("BYE", 2, "bye");
    }
}

fn rtp_header(marker: bool, pt: u8, seq: u16, ts: u32) -> Vec<u8> {
    let mut p = vec![0x80, (u8::from(marker) << 7) | pt];
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&ts.to_be_bytes());
    p.extend_from_slice(&0x6265_6e63u32.to_be_bytes());
    p
}

/// PCMU silence every 20 ms; a requested digit replaces the audio for 160 ms (8 packets, the
/// first with the marker), then three end packets (RFC 4733 §2.5.1.3, §2.5.1.4).
fn send(sock: UdpSocket, to: SocketAddr, digits: mpsc::Receiver<mpsc::Sender<Instant>>) {
    let (mut seq, mut ts) = (1u16, 0u32);
    let mut next = Instant::now();
    let mut event: Option<(u32, u16, Option<mpsc::Sender<Instant>>)> = None;
    loop {
        next += PTIME;
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
        if event.is_none() {
            if let Ok(reply) = digits.try_recv() {
                event = Some((ts, 0, Some(reply)));
            }
        }
        let pkt = match event.as_mut() {
            Some((start, sent, _)) => {
                *sent += 1;
                let end = *sent > 8;
                let duration = 160 * (*sent).min(8);
                let mut p = rtp_header(*sent == 1, EVENT_PT, seq, *start);
                p.extend_from_slice(&[EVENT_POUND, (u8::from(end) << 7) | 10]);
                p.extend_from_slice(&duration.to_be_bytes());
                p
            }
            None => {
                let mut p = rtp_header(false, 0, seq, ts);
                p.extend_from_slice(&[0xFF; 160]);
                p
            }
        };
        if sock.send_to(&pkt, to).is_err() {
            return;
        }
        let sent_at = Instant::now();
        seq = seq.wrapping_add(1);
        ts = ts.wrapping_add(160);
        if let Some((_, sent, reply)) = event.as_mut() {
            if let Some(r) = reply.take() {
                let _ = r.send(sent_at);
            }
            if *sent >= 11 {
                event = None;
            }
        }
    }
}

/// Reports the arrival of the first PCMU packet with real audio in it once `armed`.
fn receive(sock: UdpSocket, armed: Arc<AtomicBool>, heard: mpsc::Sender<Instant>) {
    let mut buf = [0u8; 2048];
    loop {
        let Ok(n) = sock.recv(&mut buf) else { return };
        let at = Instant::now();
        let pkt = buf.get(..n).unwrap_or_default();
        if pkt.len() <= 12 || pkt.get(1).map(|b| b & 0x7F) != Some(0) {
            continue;
        }
        // µ-law: 0xFF/0x7F is zero; a low 7-bit value is a loud sample.
        let loud = pkt.iter().skip(12).filter(|b| *b & 0x7F < 0x70).count();
        if loud > 10 && armed.swap(false, Ordering::SeqCst) && heard.send(at).is_err() {
            return;
        }
    }
}
