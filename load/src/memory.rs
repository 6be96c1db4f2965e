//! The server's resident memory, read from `/proc/PID/status`.

use std::io;

/// The process's resident set size (`VmRSS`) in KiB.
pub fn rss_kib(pid: u32) -> io::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    parse_vm_rss(&status).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("no VmRSS line in /proc/{pid}/status"),
        )
    })
}

/// `VmRSS:     1234 kB` → 1234 (the kernel always writes kB).
fn parse_vm_rss(status: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
}

/// The server's RSS, if its pid is known. A failed read only costs the
/// memory figure: if the server died, the connections report that.
pub fn sample_rss(pid: Option<u32>) -> Option<u64> {
    let pid = pid?;
    rss_kib(pid)
        .map_err(|error| eprintln!("warning: cannot read the memory of pid {pid}: {error}"))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_vm_rss() {
        let status = "Name:\tx\nVmPeak:\t  9 kB\nVmRSS:\t    5120 kB\nThreads:\t3\n";
        assert_eq!(parse_vm_rss(status), Some(5120));
        assert_eq!(parse_vm_rss("Name:\tkthreadd\n"), None);
        assert!(rss_kib(std::process::id()).unwrap() > 0);
    }
}
