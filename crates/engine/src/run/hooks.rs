//! Test hooks: holding the target a while, dying at a named point.

/// Test hook: sleeps for as many milliseconds as the environment variable `var` says.
pub(super) fn hold(var: &str) {
    if let Some(ms) = std::env::var(var).ok().and_then(|v| v.parse::<u64>().ok()) {
        std::thread::sleep(std::time::Duration::from_millis(ms));
    }
}

/// Test hook: `FERRY_FAIL_AT=<point>:<n>` makes the process die (as `kill -9` would) the n-th
/// time it passes the named point: `before-commit`, `after-commit`, `mid-chunk`.
pub(super) fn fail_point(point: &str, n: u64) {
    if let Ok(spec) = std::env::var("FERRY_FAIL_AT") {
        if let Some((p, k)) = spec.split_once(':') {
            if p == point && k.parse::<u64>().ok() == Some(n) {
                // A real SIGKILL: no destructors, no unwinding, no flushing.
                let _ = std::process::Command::new("kill")
                    .args(["-KILL", &std::process::id().to_string()])
                    .status();
                std::process::abort();
            }
        }
    }
}
