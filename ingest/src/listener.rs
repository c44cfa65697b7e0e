//! Syslog listeners. UDP: one datagram is one message (up to 65,507 bytes),
//! read in bursts (`recvmmsg` until the socket is empty) and queued as
//! one batch. TCP: RFC 6587 octet counting (`<len> <msg>`) or LF framing,
//! decided frame by frame; optional TLS. Neither ever waits on the
//! database: they only push to the bounded queue.

use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use socket2::{Domain, Protocol, Socket, Type};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::net::{TcpListener, UdpSocket};
use tokio_rustls::rustls;
use tokio_rustls::TlsAcceptor;

use crate::metrics::{metrics, DropReason};
use crate::pipeline::{Handler, Message, Queue};
use crate::senders::Senders;
use crate::Transport;

/// Largest UDP payload over IPv4.
pub const UDP_MAX: usize = 65_507;
/// Messages queued per UDP burst at most.
const UDP_BATCH: usize = 256;
/// TCP connections served at once; more wait in the kernel's backlog.
const TCP_MAX_CONNECTIONS: usize = 4_096;
/// Longest TLS handshake (and never longer than the idle timeout): a peer
/// that connects and never finishes it gives its slot back.
pub const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Per-connection limits of the TCP listener.
#[derive(Debug, Clone, Copy)]
pub struct TcpLimits {
    /// Longest frame; longer ones are dropped and counted.
    pub max_frame: usize,
    /// A connection that sends nothing this long is closed (idle senders
    /// reconnect; half-open sockets would otherwise hold a slot forever).
    pub idle_timeout: Duration,
}

/// Binds UDP with the requested `SO_RCVBUF` (forced past `rmem_max` when
/// the process may). Returns the socket and the buffer the kernel granted.
pub fn bind_udp(addr: SocketAddr, rcvbuf: usize) -> io::Result<(UdpSocket, usize)> {
    let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    if rcvbuf > 0 {
        if let Err(e) = socket.set_recv_buffer_size(rcvbuf) {
            tracing::warn!(error = %e, "SO_RCVBUF refused");
        }
        // The kernel doubles what it grants; below half of the ask means capped.
        if socket.recv_buffer_size().unwrap_or(0) < rcvbuf {
            force_rcvbuf(&socket, rcvbuf);
        }
    }
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    let granted = socket.recv_buffer_size().unwrap_or(0);
    if rcvbuf > 0 && granted < rcvbuf {
        tracing::warn!(
            requested = rcvbuf,
            granted,
            "UDP receive buffer capped by net.core.rmem_max; raise it (sysctl) for floods"
        );
    }
    Ok((UdpSocket::from_std(socket.into())?, granted))
}

#[cfg(target_os = "linux")]
fn force_rcvbuf(socket: &Socket, rcvbuf: usize) {
    use std::os::fd::AsRawFd;
    let size = rcvbuf.min(i32::MAX as usize) as libc::c_int;
    // SAFETY: a valid socket descriptor and a pointer to a live c_int of the given length.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVBUFFORCE,
            &size as *const libc::c_int as *const libc::c_void,
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc != 0 {
        tracing::debug!("SO_RCVBUFFORCE not permitted; keeping the capped buffer");
    }
}

#[cfg(not(target_os = "linux"))]
fn force_rcvbuf(_: &Socket, _: usize) {}

/// Counts `batch` as received, drops (and counts) what its senders may not
/// send, and returns the rest.
fn admit(mut batch: Vec<Message>, transport: Transport, senders: &Senders) -> Vec<Message> {
    let m = metrics();
    m.received(transport, batch.len() as u64);
    let refused = senders.filter(&mut batch, |msg| msg.peer.map(|p| p.ip()));
    if refused.not_allowed > 0 {
        m.dropped(DropReason::SenderNotAllowed, refused.not_allowed);
    }
    if refused.rate_limited > 0 {
        m.dropped(DropReason::PeerRateLimited, refused.rate_limited);
    }
    batch
}

/// [`admit`], and queues the rest.
fn admit_and_push(batch: Vec<Message>, transport: Transport, senders: &Senders, queue: &Queue) {
    queue.push(admit(batch, transport, senders));
}

/// Receives datagrams until `shutdown`. A burst that emptied the socket
/// before filling a batch, while the workers have nothing queued and the
/// queue would take all of it, is handled here: the receiver keeps up, and
/// handing it to a worker would cost a thread wake-up (and its cache) per
/// few datagrams; the queue's bounds drop nothing that queueing would not
/// have dropped. Full batches, and any while the workers are behind, are
/// queued for them.
pub async fn run_udp(
    socket: UdpSocket,
    queue: Queue,
    senders: Senders,
    handler: Handler,
    shutdown: platform::http::shutdown::Shutdown,
) {
    let mut rx = udp_batch::Receiver::new();
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            r = socket.readable() => {
                if let Err(e) = r {
                    tracing::error!(error = %e, "UDP socket failed");
                    return;
                }
            }
        }
        let mut batch = Vec::with_capacity(UDP_BATCH);
        let now = Utc::now();
        loop {
            match rx.receive(&socket, now, &mut batch) {
                Ok(0) => break,
                Ok(_) => {
                    if batch.len() >= UDP_BATCH {
                        let full = std::mem::replace(&mut batch, Vec::with_capacity(UDP_BATCH));
                        admit_and_push(full, Transport::Udp, &senders, &queue);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    // ICMP errors and the like: the socket stays usable.
                    tracing::debug!(error = %e, "UDP receive error");
                    break;
                }
            }
        }
        if batch.is_empty() {
            continue;
        }
        let batch = admit(batch, Transport::Udp, &senders);
        if queue.would_take_whole(&batch) {
            handler.handle(batch);
        } else {
            queue.push(batch);
        }
    }
}

/// Reading datagrams several at a time: on Linux one `recvmmsg` takes up to
/// `BURST` of them (a syscall per datagram was most of the receive thread's
/// time under a flood); elsewhere one `recv_from` each.
mod udp_batch {
    use super::*;

    #[cfg(target_os = "linux")]
    const BURST: usize = 32;

    #[cfg(target_os = "linux")]
    pub struct Receiver {
        /// One full-size buffer per datagram of a burst (a datagram may be
        /// 65,507 bytes); allocated once.
        bufs: Vec<Vec<u8>>,
        addrs: Vec<libc::sockaddr_storage>,
    }

    #[cfg(target_os = "linux")]
    impl Receiver {
        pub fn new() -> Self {
            Receiver {
                bufs: (0..BURST).map(|_| vec![0u8; 65_536]).collect(),
                // SAFETY: sockaddr_storage is plain old data; all zeroes is valid.
                addrs: vec![unsafe { std::mem::zeroed() }; BURST],
            }
        }

        /// Appends what one burst brought to `out`; WouldBlock when nothing waits.
        pub fn receive(
            &mut self,
            socket: &UdpSocket,
            now: chrono::DateTime<Utc>,
            out: &mut Vec<Message>,
        ) -> io::Result<usize> {
            use std::os::fd::AsRawFd;
            let mut iovecs: Vec<libc::iovec> = self
                .bufs
                .iter_mut()
                .map(|b| libc::iovec {
                    iov_base: b.as_mut_ptr().cast(),
                    iov_len: b.len(),
                })
                .collect();
            let mut headers: Vec<libc::mmsghdr> = iovecs
                .iter_mut()
                .zip(self.addrs.iter_mut())
                .map(|(iov, addr)| {
                    // SAFETY: msghdr is plain old data; the fields we need are set below.
                    let mut h: libc::msghdr = unsafe { std::mem::zeroed() };
                    h.msg_name = (addr as *mut libc::sockaddr_storage).cast();
                    h.msg_namelen =
                        std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
                    h.msg_iov = iov;
                    h.msg_iovlen = 1;
                    libc::mmsghdr {
                        msg_hdr: h,
                        msg_len: 0,
                    }
                })
                .collect();
            let fd = socket.as_raw_fd();
            let n = socket.try_io(tokio::io::Interest::READABLE, || {
                // SAFETY: every header points at a live buffer and address of
                // ours, of the lengths given, for the duration of the call.
                let rc = unsafe {
                    libc::recvmmsg(
                        fd,
                        headers.as_mut_ptr(),
                        headers.len() as libc::c_uint,
                        libc::MSG_DONTWAIT,
                        std::ptr::null_mut(),
                    )
                };
                if rc < 0 {
                    Err(io::Error::last_os_error())
                } else {
                    Ok(rc as usize)
                }
            })?;
            for (i, h) in headers.iter().take(n).enumerate() {
                let len = (h.msg_len as usize).min(UDP_MAX);
                let peer = peer_of(&self.addrs[i]);
                out.push(Message {
                    bytes: self.bufs[i][..len].to_vec(),
                    transport: Transport::Udp,
                    peer,
                    received_at: now,
                });
            }
            Ok(n)
        }
    }

    /// The sender's address the kernel wrote into `addr`.
    #[cfg(target_os = "linux")]
    fn peer_of(addr: &libc::sockaddr_storage) -> Option<SocketAddr> {
        use std::net::{Ipv4Addr, Ipv6Addr, SocketAddrV4, SocketAddrV6};
        match addr.ss_family as libc::c_int {
            libc::AF_INET => {
                // SAFETY: the family says the storage holds a sockaddr_in,
                // which is smaller than sockaddr_storage and less aligned.
                let a = unsafe {
                    &*(addr as *const libc::sockaddr_storage).cast::<libc::sockaddr_in>()
                };
                Some(SocketAddr::V4(SocketAddrV4::new(
                    Ipv4Addr::from(u32::from_be(a.sin_addr.s_addr)),
                    u16::from_be(a.sin_port),
                )))
            }
            libc::AF_INET6 => {
                // SAFETY: as above, for sockaddr_in6.
                let a = unsafe {
                    &*(addr as *const libc::sockaddr_storage).cast::<libc::sockaddr_in6>()
                };
                Some(SocketAddr::V6(SocketAddrV6::new(
                    Ipv6Addr::from(a.sin6_addr.s6_addr),
                    u16::from_be(a.sin6_port),
                    a.sin6_flowinfo,
                    a.sin6_scope_id,
                )))
            }
            _ => None,
        }
    }

    #[cfg(not(target_os = "linux"))]
    pub struct Receiver {
        buf: Vec<u8>,
    }

    #[cfg(not(target_os = "linux"))]
    impl Receiver {
        pub fn new() -> Self {
            Receiver {
                buf: vec![0u8; 65_536],
            }
        }

        pub fn receive(
            &mut self,
            socket: &UdpSocket,
            now: chrono::DateTime<Utc>,
            out: &mut Vec<Message>,
        ) -> io::Result<usize> {
            let (n, peer) = socket.try_recv_from(&mut self.buf)?;
            out.push(Message {
                bytes: self.buf[..n.min(UDP_MAX)].to_vec(),
                transport: Transport::Udp,
                peer: Some(peer),
                received_at: now,
            });
            Ok(1)
        }
    }
}

/// Loads a PEM certificate chain and key into a TLS acceptor.
pub fn tls_acceptor(cert: &Path, key: &Path) -> Result<TlsAcceptor, String> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| format!("TLS certificate {}: {e}", cert.display()))?
        .collect::<Result<_, _>>()
        .map_err(|e| format!("TLS certificate {}: {e}", cert.display()))?;
    if certs.is_empty() {
        return Err(format!(
            "TLS certificate {}: no certificate in it",
            cert.display()
        ));
    }
    let key =
        PrivateKeyDer::from_pem_file(key).map_err(|e| format!("TLS key {}: {e}", key.display()))?;
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| format!("TLS: {e}"))?
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .map_err(|e| format!("TLS certificate and key: {e}"))?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// Accepts TCP connections until `shutdown`. A connection from outside the
/// allowed senders, or over its sender's connection cap, is closed before a
/// byte is read, and counted.
pub async fn run_tcp(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    queue: Queue,
    senders: Senders,
    limits: TcpLimits,
    shutdown: platform::http::shutdown::Shutdown,
) {
    let slots = Arc::new(tokio::sync::Semaphore::new(TCP_MAX_CONNECTIONS));
    let handshake = TLS_HANDSHAKE_TIMEOUT.min(limits.idle_timeout);
    loop {
        let permit = tokio::select! {
            _ = shutdown.cancelled() => return,
            p = slots.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => return },
        };
        let (stream, peer) = tokio::select! {
            _ = shutdown.cancelled() => return,
            r = listener.accept() => match r {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(error = %e, "TCP accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        if !senders.allows(peer.ip()) {
            metrics().dropped(DropReason::ConnectionNotAllowed, 1);
            tracing::debug!(%peer, "syslog connection from outside the allowed senders; closed");
            continue;
        }
        let Some(slot) = senders.connect(peer.ip()) else {
            metrics().dropped(DropReason::TooManyConnections, 1);
            tracing::debug!(%peer, "syslog sender holds its most connections; closed");
            continue;
        };
        let _ = stream.set_nodelay(true);
        let queue = queue.clone();
        let senders = senders.clone();
        let tls = tls.clone();
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let _slot = slot;
            let queue = (&queue, &senders);
            match tls {
                None => read_frames(stream, peer, queue, limits, &shutdown).await,
                Some(acceptor) => {
                    let accepted = tokio::select! {
                        _ = shutdown.cancelled() => return,
                        a = tokio::time::timeout(handshake, acceptor.accept(stream)) => a,
                    };
                    match accepted {
                        Ok(Ok(s)) => read_frames(s, peer, queue, limits, &shutdown).await,
                        Ok(Err(e)) => tracing::info!(%peer, error = %e, "TLS handshake failed"),
                        Err(_) => tracing::info!(
                            %peer,
                            seconds = handshake.as_secs_f64(),
                            "TLS handshake timed out; connection closed"
                        ),
                    }
                }
            }
        });
    }
}

/// What the framer found at the start of its buffer.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame {
    /// A whole message, and the bytes it used.
    Message(Vec<u8>, usize),
    /// A frame over the limit, skipped; the bytes it used so far.
    TooLarge(usize),
    /// Not enough bytes yet.
    Incomplete,
}

/// RFC 6587 framing, decided per frame: digits then a space is octet
/// counting, anything else is one line up to LF.
#[derive(Debug, Default)]
pub struct Framer {
    /// Bytes still to skip of an oversized frame (octet counting).
    skip: usize,
    /// Skipping an oversized LF line up to its end.
    skip_line: bool,
}

impl Framer {
    /// Takes what it can from the front of `buf`; `eof` flushes a last line.
    pub fn next(&mut self, buf: &[u8], max_frame: usize, eof: bool) -> Frame {
        if self.skip > 0 {
            let n = self.skip.min(buf.len());
            self.skip -= n;
            return if n == 0 {
                Frame::Incomplete
            } else {
                Frame::Message(vec![], n)
            };
        }
        if self.skip_line {
            return match memchr(b'\n', buf) {
                Some(i) => {
                    self.skip_line = false;
                    Frame::Message(vec![], i + 1)
                }
                None if buf.is_empty() => Frame::Incomplete,
                None => Frame::Message(vec![], buf.len()),
            };
        }
        if buf.is_empty() {
            return Frame::Incomplete;
        }
        // Octet counting: 1-9 digits, a space, then exactly that many bytes.
        let digits = buf
            .iter()
            .take(10)
            .take_while(|b| b.is_ascii_digit())
            .count();
        if digits > 0 && buf[0] != b'0' {
            match buf.get(digits) {
                Some(b' ') if digits <= 9 => {
                    let len: usize = std::str::from_utf8(&buf[..digits])
                        .ok()
                        .and_then(|s| s.parse().ok())
                        .unwrap_or(usize::MAX);
                    let start = digits + 1;
                    if len > max_frame {
                        let have = buf.len() - start;
                        if have >= len {
                            return Frame::TooLarge(start + len);
                        }
                        self.skip = len - have;
                        return Frame::TooLarge(buf.len());
                    }
                    if buf.len() - start >= len {
                        return Frame::Message(buf[start..start + len].to_vec(), start + len);
                    }
                    return if eof {
                        Frame::Message(buf[start..].to_vec(), buf.len())
                    } else {
                        Frame::Incomplete
                    };
                }
                None if !eof => return Frame::Incomplete,
                _ => {} // digits then something else: an LF-framed line
            }
        }
        match memchr(b'\n', buf) {
            Some(i) if i > max_frame => Frame::TooLarge(i + 1),
            Some(i) => {
                let line = &buf[..i];
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                Frame::Message(line.to_vec(), i + 1)
            }
            None if buf.len() > max_frame => {
                self.skip_line = true;
                Frame::TooLarge(buf.len())
            }
            None if eof => Frame::Message(buf.to_vec(), buf.len()),
            None => Frame::Incomplete,
        }
    }
}

fn memchr(needle: u8, hay: &[u8]) -> Option<usize> {
    hay.iter().position(|b| *b == needle)
}

async fn read_frames<S: AsyncRead + Unpin>(
    mut stream: S,
    peer: SocketAddr,
    (queue, senders): (&Queue, &Senders),
    limits: TcpLimits,
    shutdown: &platform::http::shutdown::Shutdown,
) {
    let TcpLimits {
        max_frame,
        idle_timeout,
    } = limits;
    let m = metrics();
    let mut framer = Framer::default();
    let mut buf: Vec<u8> = Vec::with_capacity(64 * 1024);
    let mut chunk = vec![0u8; 64 * 1024];
    let mut eof = false;
    while !eof {
        let n = tokio::select! {
            _ = shutdown.cancelled() => return,
            // `read` is cancel-safe: a timeout loses no byte.
            r = tokio::time::timeout(idle_timeout, stream.read(&mut chunk)) => match r {
                Ok(Ok(n)) => n,
                Ok(Err(e)) => {
                    tracing::debug!(%peer, error = %e, "TCP read failed");
                    0
                }
                // Closed like an end of stream: a last unterminated line
                // still counts.
                Err(_) => {
                    tracing::info!(
                        %peer,
                        seconds = idle_timeout.as_secs_f64(),
                        "syslog connection idle; closed"
                    );
                    0
                }
            },
        };
        if n == 0 {
            eof = true;
        } else {
            buf.extend_from_slice(&chunk[..n]);
        }
        let now = Utc::now();
        let mut batch = Vec::new();
        let mut used = 0;
        let mut too_large = 0u64;
        loop {
            match framer.next(&buf[used..], max_frame, eof) {
                Frame::Incomplete => break,
                Frame::TooLarge(k) => {
                    used += k;
                    too_large += 1;
                }
                Frame::Message(bytes, k) => {
                    used += k;
                    // Skipped remainders and blank lines are not messages.
                    if bytes.iter().any(|b| !b.is_ascii_whitespace()) {
                        batch.push(Message {
                            bytes,
                            transport: Transport::Tcp,
                            peer: Some(peer),
                            received_at: now,
                        });
                    }
                }
            }
            if used >= buf.len() {
                break;
            }
        }
        buf.drain(..used);
        if too_large > 0 {
            // Received, and dropped as such (the framed messages are counted
            // as received when admitted).
            m.received(Transport::Tcp, too_large);
            m.dropped(DropReason::FrameTooLarge, too_large);
            tracing::info!(%peer, count = too_large, max_frame, "oversized syslog frames dropped");
        }
        if !batch.is_empty() {
            admit_and_push(batch, Transport::Tcp, senders, queue);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(input: &[u8], max: usize) -> Vec<Result<Vec<u8>, ()>> {
        let mut f = Framer::default();
        let mut out = vec![];
        let mut at = 0;
        loop {
            match f.next(&input[at..], max, true) {
                Frame::Incomplete => break,
                Frame::TooLarge(k) => {
                    out.push(Err(()));
                    at += k;
                }
                Frame::Message(b, k) => {
                    if !b.is_empty() {
                        out.push(Ok(b));
                    }
                    at += k;
                }
            }
            if at >= input.len() {
                break;
            }
        }
        out
    }

    #[test]
    fn octet_counting_and_lf_mixed() {
        let input = b"5 hello<13>line one\n11 hello\nworld2026-11-27 text\n";
        let got = frames(input, 1000);
        assert_eq!(
            got,
            vec![
                Ok(b"hello".to_vec()),
                Ok(b"<13>line one".to_vec()),
                Ok(b"hello\nworld".to_vec()),
                Ok(b"2026-11-27 text".to_vec()),
            ]
        );
    }

    #[test]
    fn oversized_frames_are_skipped_and_the_stream_goes_on() {
        let mut input = b"20 aaaaaaaaaaaaaaaaaaaa".to_vec();
        input.extend_from_slice(b"3 abc");
        input.extend_from_slice(&[b'x'; 50]);
        input.extend_from_slice(b"\nok\n");
        let got = frames(&input, 10);
        assert_eq!(
            got,
            vec![Err(()), Ok(b"abc".to_vec()), Err(()), Ok(b"ok".to_vec())]
        );
    }

    #[test]
    fn incomplete_octet_frame_waits() {
        let mut f = Framer::default();
        assert_eq!(f.next(b"10 abc", 100, false), Frame::Incomplete);
        assert_eq!(f.next(b"12", 100, false), Frame::Incomplete);
        assert_eq!(f.next(b"<13>no newline yet", 100, false), Frame::Incomplete);
    }
}
