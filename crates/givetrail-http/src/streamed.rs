//! Whole-log exports are streamed, not built in memory: the export runs on a blocking thread and
//! writes into a [`Chunks`] sink, which hands the body to the client in chunks of about
//! [`CHUNK`] bytes through a channel holding at most [`IN_FLIGHT`] of them. A response in flight
//! holds a few chunks, whatever the size of the document, and a client that reads slowly slows
//! the export down rather than making it pile up. A client that goes away closes the channel,
//! and the export stops at its next write; an export that fails midway aborts the response, so
//! the client sees a broken transfer, never a short document that looks whole.

use std::fmt;

use actix_web::web::Bytes;
use actix_web::{HttpResponse, ResponseError};
use tokio::sync::mpsc;

/// Bytes gathered before a chunk is handed to the client.
pub const CHUNK: usize = 64 * 1024;
/// Chunks waiting for the client at most.
pub const IN_FLIGHT: usize = 4;

type Chunk = Result<Bytes, std::io::Error>;

/// The sink an export writes to: text (`fmt::Write`, for XML) or bytes (`io::Write`, for
/// `serde_json::to_writer`).
pub struct Chunks {
    buf: Vec<u8>,
    tx: mpsc::Sender<Chunk>,
}

impl Chunks {
    fn push(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.buf.extend_from_slice(bytes);
        if self.buf.len() >= CHUNK {
            self.send()?;
        }
        Ok(())
    }

    fn send(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK * 2));
        self.tx
            .blocking_send(Ok(Bytes::from(chunk)))
            .map_err(|_| std::io::ErrorKind::BrokenPipe.into())
    }
}

impl fmt::Write for Chunks {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.push(s.as_bytes()).map_err(|_| fmt::Error)
    }
}

impl std::io::Write for Chunks {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.push(bytes).map(|()| bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A 200 response of `content_type` whose body `write` makes as the client reads it.
pub fn response<E: fmt::Display>(
    content_type: &'static str,
    write: impl FnOnce(&mut Chunks) -> Result<(), E> + Send + 'static,
) -> HttpResponse {
    let (tx, rx) = mpsc::channel::<Chunk>(IN_FLIGHT);
    // Its own thread, at the read threads' lower priority (`crate::readers::lower_priority`); the
    // class admission of exports bounds how many run at once.
    let spawned = std::thread::Builder::new()
        .name("givetrail-export".into())
        .spawn(move || {
            crate::readers::lower_priority();
            let mut sink = Chunks {
                buf: Vec::with_capacity(CHUNK * 2),
                tx: tx.clone(),
            };
            let written = write(&mut sink)
                .map_err(|e| e.to_string())
                .and_then(|()| sink.send().map_err(|e| e.to_string()));
            if let Err(e) = written {
                if !tx.is_closed() {
                    tracing::error!(error = %e, "streamed export failed");
                    let _ = tx.blocking_send(Err(std::io::Error::other("the export failed")));
                }
            }
        });
    if let Err(e) = spawned {
        return crate::problem::ApiError::internal(&e).error_response();
    }
    let body = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    });
    HttpResponse::Ok()
        .content_type(content_type)
        .streaming(body)
}
