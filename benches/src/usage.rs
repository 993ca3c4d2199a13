//! A live process's CPU time and peak resident set, as the bench measures every contender.

/// User + system CPU seconds of a live process (all its threads, those that ended too), to the
/// nanosecond: the kernel's own sum of the time its threads ran, read through the process's CPU
/// clock. `/proc/<pid>/stat` rounds the same sum to clock ticks (10 ms), and a sink's
/// 300,000-record run takes 0.1 – 0.2 CPU s: a tick is 5 – 10% of that figure.
pub fn cpu_secs(pid: u32) -> Option<f64> {
    let pid = libc::pid_t::try_from(pid).ok()?;
    let mut clock: libc::clockid_t = 0;
    // SAFETY: `clock` is a valid place for the call to write the clock's id to.
    if unsafe { libc::clock_getcpuclockid(pid, &mut clock) } != 0 {
        return stat_cpu_secs(pid);
    }
    clock_secs(clock).or_else(|| stat_cpu_secs(pid))
}

/// The time on `clock`, in seconds.
fn clock_secs(clock: libc::clockid_t) -> Option<f64> {
    let mut now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `now` is a valid place for the call to write the time to.
    if unsafe { libc::clock_gettime(clock, &mut now) } != 0 {
        return None;
    }
    Some(now.tv_sec as f64 + now.tv_nsec as f64 * 1e-9)
}

/// The same sum from `/proc/<pid>/stat`, in clock ticks (which Linux keeps at 100 a second).
fn stat_cpu_secs(pid: libc::pid_t) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = after.split_whitespace().collect();
    let (utime, stime): (f64, f64) = (fields.get(11)?.parse().ok()?, fields.get(12)?.parse().ok()?);
    Some((utime + stime) / 100.0)
}

/// Peak resident set (VmHWM) of a live process, in MiB.
pub fn peak_rss_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib / 1024.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Spins on a thread of its own until that thread has run for `secs` of CPU.
    fn spin_on_a_thread(secs: f64) {
        std::thread::spawn(move || {
            let mut clock: libc::clockid_t = 0;
            // SAFETY: as in `cpu_secs`; `pthread_self` is this thread, alive during the call.
            assert_eq!(
                unsafe { libc::pthread_getcpuclockid(libc::pthread_self(), &mut clock) },
                0
            );
            while clock_secs(clock).unwrap() < secs {
                std::hint::black_box(0u64);
            }
        })
        .join()
        .unwrap();
    }

    #[test]
    fn a_process_cpu_counts_its_ended_threads_to_below_a_tick() {
        let me = std::process::id();
        let before = cpu_secs(me).unwrap();
        spin_on_a_thread(0.2);
        let (after, ticks) = (cpu_secs(me).unwrap(), stat_cpu_secs(me as libc::pid_t).unwrap());
        assert!(
            after - before >= 0.2,
            "a thread that ended is counted: {before} → {after}"
        );
        // The same sum as /proc's, which rounds it down to 10 ms ticks (and other tests'
        // threads may run between the two reads).
        assert!(
            after + 0.05 >= ticks && ticks + 0.05 >= after,
            "clock {after} against /proc {ticks}"
        );
        // Finer than a tick: /proc's figure is always a whole number of ticks; the clock's, read
        // three times around short spins, is not (by more than a microsecond) at least once.
        let reads: Vec<f64> = (0..3)
            .map(|_| {
                spin_on_a_thread(0.001);
                cpu_secs(me).unwrap()
            })
            .collect();
        let off_a_tick = |s: f64| ((s * 100.0).round() - s * 100.0).abs() > 1e-4;
        assert!(reads.iter().any(|&s| off_a_tick(s)), "{reads:?}");
        assert!(!off_a_tick(stat_cpu_secs(me as libc::pid_t).unwrap()));
    }
}
