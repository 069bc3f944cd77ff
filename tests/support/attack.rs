//! Attacks on the `/metrics` listener, as a client on another host would
//! make them: bounded in time, on loopback only, from threads at the lowest
//! priority (an attacker elsewhere does not share our cores), with a
//! legitimate scrape from another loopback address timed during and after,
//! and the server's own CPU read from /proc.
#![allow(dead_code)]

use super::raw_http::{basic_auth, request_on, Response};
use socket2::{Domain, Socket, Type};
use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The address the legitimate scraper connects from.
pub const SCRAPER: &str = "127.0.0.2";

/// A TCP connection from `source` (a loopback address) to `to`, with an
/// optional small receive buffer (a reader that takes little at a time).
pub fn connect_from(source: &str, to: SocketAddr, recv_buffer: Option<usize>) -> TcpStream {
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    if let Some(size) = recv_buffer {
        socket.set_recv_buffer_size(size).unwrap();
    }
    socket
        .bind(&format!("{source}:0").parse::<SocketAddr>().unwrap().into())
        .unwrap();
    socket
        .connect_timeout(&to.into(), Duration::from_secs(5))
        .unwrap();
    socket.into()
}

/// Lowers the calling thread to nice 19.
pub fn lowest_priority() {
    // SAFETY: plain syscalls on the calling thread's own id.
    unsafe {
        let tid = libc::gettid();
        libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, 19);
    }
}

/// CPU time (user + system) used so far by this process's threads whose
/// name starts with `photon-metrics` (the listener, render and auth
/// threads): the server's share, without the attackers' threads.
pub fn server_cpu() -> Duration {
    // SAFETY: `sysconf` only reads a configuration value; it takes no
    // pointer.
    let ticks_per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as u64;
    let mut ticks = 0;
    for task in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
        let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else {
            continue;
        };
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        if !stat[open + 1..close].starts_with("photon-metrics") {
            continue;
        }
        let fields: Vec<&str> = stat[close + 2..].split(' ').collect();
        // utime and stime: fields 14 and 15 of stat, 12 and 13 after comm.
        ticks += fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    }
    Duration::from_millis(ticks * 1000 / ticks_per_second)
}

/// Resident memory now, in KiB.
pub fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/self/status")
}

/// One legitimate scrape from [`SCRAPER`]: its response and how long it took.
pub fn scrape(to: SocketAddr, headers: &[(&str, &str)]) -> (std::io::Result<Response>, Duration) {
    let start = Instant::now();
    let stream = connect_from(SCRAPER, to, None);
    let connected = start.elapsed();
    if connected > Duration::from_millis(200) {
        eprintln!("connect took {connected:?}");
    }
    let response = request_on(stream, "GET", "/metrics", headers, Duration::from_secs(30));
    (response, start.elapsed())
}

/// The `Authorization` header of guess `n` in a wrong-password flood: user
/// `prometheus`, password `guess-{n}`.
pub fn wrong_password(n: u64) -> String {
    basic_auth(&format!("prometheus:guess-{n}"))
}

/// Guess `n` of a wrong-password flood: `GET /metrics` on `tcp` with
/// [`wrong_password`]`(n)`, the whole response.
pub fn guess(tcp: TcpStream, n: u64, timeout: Duration) -> std::io::Result<Response> {
    request_on(
        tcp,
        "GET",
        "/metrics",
        &[("Authorization", &wrong_password(n))],
        timeout,
    )
}

/// Attack threads running `each` in a loop until stopped.
pub struct Flood {
    stop: Arc<AtomicBool>,
    sent: Arc<AtomicU64>,
    threads: Vec<JoinHandle<()>>,
    started: Instant,
}

impl Flood {
    /// `threads` threads at the lowest priority, each calling `each(n)` with
    /// a running number until [`stop`](Self::stop) or `limit`, whichever is
    /// first.
    pub fn start(
        threads: usize,
        limit: Duration,
        each: impl Fn(u64) + Send + Sync + 'static,
    ) -> Flood {
        let stop = Arc::new(AtomicBool::new(false));
        let sent = Arc::new(AtomicU64::new(0));
        let each = Arc::new(each);
        let started = Instant::now();
        let threads = (0..threads)
            .map(|_| {
                let (stop, sent, each) = (stop.clone(), sent.clone(), each.clone());
                std::thread::spawn(move || {
                    lowest_priority();
                    while !stop.load(Ordering::Relaxed) && started.elapsed() < limit {
                        let n = sent.fetch_add(1, Ordering::Relaxed);
                        each(n);
                    }
                })
            })
            .collect();
        Flood {
            stop,
            sent,
            threads,
            started,
        }
    }

    /// Stops the attack and waits for its threads; returns the requests sent.
    pub fn stop(self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads {
            t.join().unwrap();
        }
        self.sent.load(Ordering::Relaxed)
    }

    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }
}

/// Scrapes every `every` while `during` lasts and returns the slowest
/// scrape; every scrape must answer `expect`.
pub fn scrape_while(
    to: SocketAddr,
    headers: &[(&str, &str)],
    during: Duration,
    every: Duration,
    expect: u16,
) -> (usize, Duration) {
    let start = Instant::now();
    let mut count = 0;
    let mut slowest = Duration::ZERO;
    while start.elapsed() < during {
        let (response, took) = scrape(to, headers);
        let response =
            response.unwrap_or_else(|e| panic!("scrape {count} failed after {took:?}: {e}"));
        assert_eq!(
            response.status,
            expect,
            "scrape {count}: {}",
            response.text()
        );
        slowest = slowest.max(took);
        count += 1;
        std::thread::sleep(every);
    }
    (count, slowest)
}

/// The server's CPU over `window`, starting now.
pub fn server_cpu_over(window: Duration) -> Duration {
    let before = server_cpu();
    std::thread::sleep(window);
    server_cpu() - before
}

/// `count` attacker addresses, 127.0.1.1 onwards: none is [`SCRAPER`]'s.
pub fn attackers(count: usize) -> Vec<String> {
    assert!((1..=250).contains(&count));
    (1..=count).map(|n| format!("127.0.1.{n}")).collect()
}

/// A connection from `source`, or `None` when the server did not accept
/// it in time (an attacker carries on).
pub fn try_connect_from(
    source: &str,
    to: SocketAddr,
    recv_buffer: Option<usize>,
) -> Option<TcpStream> {
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).ok()?;
    if let Some(size) = recv_buffer {
        socket.set_recv_buffer_size(size).ok()?;
    }
    socket
        .bind(&format!("{source}:0").parse::<SocketAddr>().unwrap().into())
        .ok()?;
    socket
        .connect_timeout(&to.into(), Duration::from_secs(2))
        .ok()?;
    Some(socket.into())
}

/// What a held connection does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hold {
    /// Connects and sends nothing.
    Idle,
    /// Sends a request head one byte a second, never finishing it.
    Slowloris,
    /// Sends a GET and never reads (a 4 KiB receive buffer).
    SlowReader,
}

/// Connections held open from many addresses, each reopened as soon as
/// the server closes it: an attacker that keeps every slot it can.
pub struct Holders {
    stop: Arc<AtomicBool>,
    reopened: Arc<AtomicU64>,
    threads: Vec<JoinHandle<()>>,
}

impl Holders {
    /// `per_address` connections from each of `addresses`, doing `hold`,
    /// for at most `limit`; four low-priority threads share the work.
    pub fn start(
        to: SocketAddr,
        addresses: &[String],
        per_address: usize,
        hold: Hold,
        limit: Duration,
    ) -> Holders {
        let stop = Arc::new(AtomicBool::new(false));
        let reopened = Arc::new(AtomicU64::new(0));
        let started = Instant::now();
        let threads = (0..4)
            .map(|t| {
                let mine: Vec<String> = addresses.iter().skip(t).step_by(4).cloned().collect();
                let (stop, reopened) = (stop.clone(), reopened.clone());
                std::thread::spawn(move || {
                    lowest_priority();
                    let open = |source: &str| -> Option<TcpStream> {
                        let recv = (hold == Hold::SlowReader).then_some(4096);
                        let mut s = try_connect_from(source, to, recv)?;
                        let _ = match hold {
                            Hold::Idle => Ok(()),
                            Hold::Slowloris => s.write_all(b"G"),
                            Hold::SlowReader => {
                                s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
                            }
                        };
                        s.set_nonblocking(true).ok()?;
                        Some(s)
                    };
                    let mut held: Vec<(String, Option<TcpStream>)> = mine
                        .iter()
                        .flat_map(|a| (0..per_address).map(move |_| (a.clone(), None)))
                        .collect();
                    let mut last_trickle = Instant::now();
                    while !stop.load(Ordering::Relaxed) && started.elapsed() < limit {
                        let trickle = hold == Hold::Slowloris
                            && last_trickle.elapsed() >= Duration::from_secs(1);
                        if trickle {
                            last_trickle = Instant::now();
                        }
                        for (source, conn) in held.iter_mut() {
                            if stop.load(Ordering::Relaxed) {
                                break;
                            }
                            let closed = match conn {
                                None => true,
                                Some(s) => {
                                    let mut byte = [0u8; 1];
                                    let gone = match std::io::Read::read(s, &mut byte) {
                                        Ok(0) => true,
                                        // A slow reader's answer arriving: leave it unread.
                                        Ok(_) => hold != Hold::SlowReader,
                                        Err(e) => e.kind() != std::io::ErrorKind::WouldBlock,
                                    };
                                    gone || (trickle && s.write_all(b"E").is_err())
                                }
                            };
                            if closed {
                                if conn.is_some() {
                                    reopened.fetch_add(1, Ordering::Relaxed);
                                }
                                *conn = open(source);
                            }
                        }
                        std::thread::sleep(Duration::from_millis(20));
                    }
                })
            })
            .collect();
        Holders {
            stop,
            reopened,
            threads,
        }
    }

    /// Stops holding (the connections close); returns how many were reopened.
    pub fn stop(self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads {
            t.join().unwrap();
        }
        self.reopened.load(Ordering::Relaxed)
    }
}
