//! SQLite's writer lock (SPEC §6.4): the `writer` record is the lock itself; a holder is alive
//! while its process exists, or, within this process, while another [`Target`] of the same file
//! holds the role.

use crate::writer::Holder;
use crate::{journal, Target};
use std::sync::Mutex;

/// SQLite targets (by file identity) whose writer role a [`Target`] of this process holds. The
/// record names a process, not a connection: this tells two runs of one process apart (the
/// console runs each job on its own connection).
static HELD_HERE: Mutex<Vec<(u64, u64)>> = Mutex::new(Vec::new());

impl Target {
    /// Records (or forgets) that this `Target` holds its SQLite file's writer role (a server
    /// target has no file: nothing to record).
    pub(crate) fn note_held(&self, held: bool) {
        let Some(id) = self.opened else {
            return;
        };
        if self.holds_writer.replace(held) == held {
            return;
        }
        if let Ok(mut here) = HELD_HERE.lock() {
            if held {
                here.push(id);
            } else if let Some(i) = here.iter().position(|h| *h == id) {
                here.swap_remove(i);
            }
        }
    }

    /// Whether the holder of a SQLite target is still running: another process that exists,
    /// or another `Target` of this process.
    pub(crate) fn sqlite_holder_alive(&self, h: &Holder) -> bool {
        if h.pid != std::process::id() as i64 {
            return journal::pid_alive(h.pid);
        }
        !self.holds_writer.get()
            && self
                .opened
                .is_some_and(|id| HELD_HERE.lock().is_ok_and(|here| here.contains(&id)))
    }
}
