//! Test hooks (fault injection for the CLI's tests), read from the environment only in a build
//! with the `test-hooks` feature; in any other build every hook does nothing.
//!
//! - `FERRY_FAIL_AT=<point>:<n>`: the process dies (SIGKILL: no destructors, no unwinding, no
//!   flushing) the n-th time it passes the named [`FailPoint`] (`upgrade-error` fails instead).
//! - `FERRY_TEST_HOLD_MS`, `FERRY_TEST_HOLD_SPOOL_MS`: a run sleeps that long at a [`Hold`].
//! - `FERRY_TEST_MAX_PAGES`: a SQLite connection's database size limit (a full disk).
//! - `FERRY_TEST_HANDOFF_ROWS`: rows per hand-off to the writer thread (7 by default here).

/// A point where `FERRY_FAIL_AT` stops the process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailPoint {
    /// A run's chunk is written and checkpointed, not yet committed (`before-commit`).
    BeforeCommit,
    /// A run's chunk is committed, the next one not yet begun (`after-commit`).
    AfterCommit,
    /// A run has processed its n-th record (`mid-chunk`).
    MidChunk,
    /// An upgrade has run its n-th statement (`upgrade`).
    Upgrade,
    /// An upgrade's n-th statement fails (`upgrade-error`).
    UpgradeError,
}

/// A point where a test holds the process a while.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hold {
    /// A run that holds the target, before it reads (`FERRY_TEST_HOLD_MS`).
    Target,
    /// A run with its spool written (`FERRY_TEST_HOLD_SPOOL_MS`).
    Spool,
}

/// Dies (SIGKILL) if `FERRY_FAIL_AT` names this point and `n`.
#[inline]
pub fn fail_at(point: FailPoint, n: u64) {
    #[cfg(feature = "test-hooks")]
    if enabled::named(point, n) {
        enabled::die();
    }
    #[cfg(not(feature = "test-hooks"))]
    let _ = (point, n);
}

/// The injected failure of a statement, if `FERRY_FAIL_AT` names this point and `n`.
#[inline]
pub(crate) fn injected(point: FailPoint, n: u64) -> Option<crate::StoreError> {
    #[cfg(feature = "test-hooks")]
    if enabled::named(point, n) {
        return Some(crate::StoreError::Other(
            "injected failure (FERRY_FAIL_AT)".into(),
        ));
    }
    #[cfg(not(feature = "test-hooks"))]
    let _ = (point, n);
    None
}

/// Sleeps as many milliseconds as the hold's variable says.
#[inline]
pub fn hold(at: Hold) {
    #[cfg(feature = "test-hooks")]
    enabled::hold(at);
    #[cfg(not(feature = "test-hooks"))]
    let _ = at;
}

/// `FERRY_TEST_MAX_PAGES`: the page limit to give a SQLite connection.
#[inline]
pub(crate) fn max_pages() -> Option<u64> {
    #[cfg(feature = "test-hooks")]
    return enabled::number("FERRY_TEST_MAX_PAGES");
    #[cfg(not(feature = "test-hooks"))]
    None
}

/// Rows per hand-off to the writer thread: in a build with the test hooks, a handful (so that
/// every test's transactions go through the writer thread), or `FERRY_TEST_HANDOFF_ROWS`.
#[inline]
pub(crate) fn handoff_rows() -> Option<usize> {
    #[cfg(feature = "test-hooks")]
    return Some(enabled::number("FERRY_TEST_HANDOFF_ROWS").map_or(7, |n| n.max(1) as usize));
    #[cfg(not(feature = "test-hooks"))]
    None
}

#[cfg(feature = "test-hooks")]
mod enabled {
    use super::{FailPoint, Hold};

    impl FailPoint {
        fn name(self) -> &'static str {
            match self {
                FailPoint::BeforeCommit => "before-commit",
                FailPoint::AfterCommit => "after-commit",
                FailPoint::MidChunk => "mid-chunk",
                FailPoint::Upgrade => "upgrade",
                FailPoint::UpgradeError => "upgrade-error",
            }
        }
    }

    pub(super) fn named(point: FailPoint, n: u64) -> bool {
        // Read once per process (the tests set it for the process they start): `mid-chunk` is
        // asked after every record, and `getenv` takes the environment's lock each time.
        static SPEC: std::sync::OnceLock<Option<(String, u64)>> = std::sync::OnceLock::new();
        SPEC.get_or_init(|| {
            let spec = std::env::var("FERRY_FAIL_AT").ok()?;
            let (p, k) = spec.split_once(':')?;
            Some((p.to_string(), k.parse::<u64>().ok()?))
        })
        .as_ref()
        .is_some_and(|(p, k)| p == point.name() && *k == n)
    }

    /// A real SIGKILL of this process.
    pub(super) fn die() -> ! {
        // SAFETY: kill(2) on this process's own id; SIGKILL cannot be caught, so nothing of
        // this process runs after it is delivered.
        unsafe {
            libc::kill(libc::getpid(), libc::SIGKILL);
        }
        std::process::abort()
    }

    pub(super) fn number(var: &str) -> Option<u64> {
        std::env::var(var).ok().and_then(|v| v.parse::<u64>().ok())
    }

    pub(super) fn hold(at: Hold) {
        let var = match at {
            Hold::Target => "FERRY_TEST_HOLD_MS",
            Hold::Spool => "FERRY_TEST_HOLD_SPOOL_MS",
        };
        if let Some(ms) = number(var) {
            std::thread::sleep(std::time::Duration::from_millis(ms));
        }
    }
}
