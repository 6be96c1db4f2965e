//! What the machine allows: open files (ours and the server's) and local
//! ports, checked before a run so a limit is reported as one, not as a pile
//! of refused connections.

use std::io;

/// File descriptors kept aside for everything but the sockets: stdio, the
/// runtime's epoll and its wakers, the listening socket on the server side.
pub const SPARE_FDS: u64 = 64;

/// Raises this process's soft limit on open files to its hard limit and
/// returns the new soft limit.
pub fn raise_open_files() -> io::Result<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only writes the struct it is handed, which lives on
    // this stack frame for the duration of the call.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return Err(io::Error::last_os_error());
    }
    if limit.rlim_cur < limit.rlim_max {
        let raised = libc::rlimit {
            rlim_cur: limit.rlim_max,
            rlim_max: limit.rlim_max,
        };
        // SAFETY: setrlimit only reads the struct, valid for the call.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } != 0 {
            return Err(io::Error::last_os_error());
        }
        limit = raised;
    }
    Ok(limit.rlim_cur)
}

/// Another process's soft limit on open files, from `/proc/PID/limits`
/// (`None` for "unlimited").
pub fn open_files_of(pid: u32) -> io::Result<Option<u64>> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/limits"))?;
    parse_open_files(&text).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("no \"Max open files\" line in /proc/{pid}/limits"),
        )
    })
}

fn parse_open_files(limits: &str) -> Option<Option<u64>> {
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    let soft = line
        .trim_start_matches("Max open files")
        .split_whitespace()
        .next()?;
    if soft == "unlimited" {
        return Some(None);
    }
    soft.parse().ok().map(Some)
}

/// How many local ports one client address can connect from: every
/// connection to the server takes one (`net.ipv4.ip_local_port_range`).
pub fn local_ports() -> io::Result<u64> {
    let text = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")?;
    let mut bounds = text.split_whitespace().map(str::parse::<u64>);
    match (bounds.next(), bounds.next()) {
        (Some(Ok(low)), Some(Ok(high))) if high >= low => Ok(high - low + 1),
        _ => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("ip_local_port_range: unexpected {text:?}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_soft_open_files_limit() {
        let limits = "\
Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max open files            1024                 20000                files
";
        assert_eq!(parse_open_files(limits), Some(Some(1024)));
        let unlimited =
            "Max open files            unlimited            unlimited            files\n";
        assert_eq!(parse_open_files(unlimited), Some(None));
        assert_eq!(parse_open_files("Max processes 1 1 processes\n"), None);
    }

    #[test]
    fn reads_our_own_limits() {
        let raised = raise_open_files().unwrap();
        assert_eq!(open_files_of(std::process::id()).unwrap(), Some(raised));
        assert!(local_ports().unwrap() > 0);
    }
}
