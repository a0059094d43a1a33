//! Public reads run on their own threads ([`ReadThreads`], one per pooled read connection), at a
//! lower CPU priority than the writer and the request threads: when a crowd of readers keeps the
//! cores busy, the writer's commits and the parsing of requests still get the CPU when they need
//! it, so writes keep their latency. Streamed exports lower their own thread the same way.

use std::panic::AssertUnwindSafe;
use std::sync::{mpsc, Arc, Mutex};
use std::time::Instant;

use givetrail_store::db::CHECKOUT_TIMEOUT;

use crate::problem::ApiError;

/// How much lower the read threads' priority is (a Linux nice value: at 10, a busy reader gets
/// about a tenth of the CPU a runnable thread at 0 gets).
pub const READ_NICE: i32 = 10;

type Job = Box<dyn FnOnce() + Send>;

/// The threads public reads run on.
pub struct ReadThreads {
    jobs: Mutex<mpsc::Sender<(Instant, Job)>>,
}

impl ReadThreads {
    /// `threads` threads at [`READ_NICE`].
    pub fn start(threads: usize) -> std::io::Result<Self> {
        let (tx, rx) = mpsc::channel::<(Instant, Job)>();
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..threads.max(1) {
            let rx = rx.clone();
            std::thread::Builder::new()
                .name(format!("givetrail-read-{i}"))
                .spawn(move || {
                    lower_priority();
                    loop {
                        let next = rx
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner)
                            .recv();
                        let Ok((queued, job)) = next else { return };
                        // A read that waited longer than a connection checkout would have is
                        // dropped: its caller hears 503 (the sender of its answer is gone).
                        if queued.elapsed() < CHECKOUT_TIMEOUT {
                            let _ = std::panic::catch_unwind(AssertUnwindSafe(job));
                        }
                    }
                })?;
        }
        Ok(ReadThreads {
            jobs: Mutex::new(tx),
        })
    }

    /// Run `f` on a read thread and wait for its answer; 503 if it waited too long to start.
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = tx.send(f());
        });
        let sent = self
            .jobs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .send((Instant::now(), job));
        match (sent, rx.await) {
            (Ok(()), Ok(out)) => Ok(out),
            _ => Err(ApiError::busy(
                "no read thread came free in time; the server is busy",
            )),
        }
    }
}

/// Lower the calling thread's CPU priority by [`READ_NICE`] (Linux: a nice value is per thread;
/// raising it needs no privilege). Elsewhere, nothing.
pub fn lower_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: setpriority only reads its integer arguments; PRIO_PROCESS with who = 0 names the
    // calling thread on Linux. A failure leaves the priority as it was, which is harmless.
    unsafe {
        libc::setpriority(libc::PRIO_PROCESS, 0, READ_NICE);
    }
}
