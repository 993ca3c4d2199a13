//! Ports for the servers that tests, the chaos suite and the bench start on 127.0.0.1.
//!
//! A port found by binding `127.0.0.1:0` and letting go lies in the kernel's ephemeral range
//! (`net.ipv4.ip_local_port_range`), where every outgoing connection takes its own port: a client
//! connecting to a mock broker between the pick and the server's bind can take it, and the server
//! then fails with "Address already in use" (CI saw exactly this). Below that range the kernel
//! hands out nothing by itself, so ports are picked there: each process starts at its own offset
//! (from its pid), walks a shared counter so it never offers the same port twice, and only offers
//! a port it could bind just now.
//!
//! Standard library only: the integration tests include this file by path (`tests/main.rs`).

use std::io;
use std::net::TcpListener;
use std::sync::atomic::{AtomicU32, Ordering};

/// The lowest port offered: above the well-known and most registered services' ports.
const LOWEST: u16 = 10_000;

/// How many ports this process was offered or passed over so far.
static TAKEN: AtomicU32 = AtomicU32::new(0);

/// A port on 127.0.0.1 that nothing listens on now and that the kernel does not hand out to
/// outgoing connections, never offered before in this process (a port offered once may be
/// between its server's kill and restart, so it is not offered again: ~22,000 ports a process).
pub fn free_port() -> io::Result<u16> {
    let below = ephemeral_start().unwrap_or(32_768);
    if below < LOWEST + 1_000 {
        // No room below the ephemeral range on this machine: fall back to the kernel's pick.
        return Ok(TcpListener::bind(("127.0.0.1", 0))?.local_addr()?.port());
    }
    loop {
        let step = TAKEN.fetch_add(1, Ordering::Relaxed);
        let Some(port) = nth(step, below) else {
            return Err(io::Error::new(
                io::ErrorKind::AddrNotAvailable,
                format!("every port on 127.0.0.1 between {LOWEST} and {below} was offered once already"),
            ));
        };
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return Ok(port);
        }
    }
}

/// The port offered at `step`: each process starts at its own place (from its pid) and walks
/// the ports below `below` once.
fn nth(step: u32, below: u16) -> Option<u16> {
    let span = u32::from(below - LOWEST);
    let offset = std::process::id().wrapping_mul(7_919) % span;
    (step < span).then(|| LOWEST + u16::try_from((offset + step) % span).unwrap_or(0))
}

/// The first port of the kernel's ephemeral range, where it says.
fn ephemeral_start() -> Option<u16> {
    let range = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range").ok()?;
    range.split_whitespace().next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_below_the_ephemeral_range_bindable_and_never_offered_twice() {
        let below = ephemeral_start().expect("this machine says its ephemeral range");
        let ports: Vec<u16> = (0..200).map(|_| free_port().unwrap()).collect();
        for &p in &ports {
            assert!((LOWEST..below).contains(&p), "{p} outside {LOWEST}..{below}");
            TcpListener::bind(("127.0.0.1", p)).unwrap_or_else(|e| panic!("{p}: {e}"));
        }
        let mut unique = ports.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), ports.len(), "a port offered twice");
    }

    #[test]
    fn a_port_someone_listens_on_is_not_offered() {
        let below = ephemeral_start().unwrap_or(32_768);
        let next = nth(TAKEN.load(Ordering::Relaxed), below).expect("ports left");
        let _held = TcpListener::bind(("127.0.0.1", next)).unwrap();
        assert_ne!(free_port().unwrap(), next, "{next} is held and was offered");
    }
}
