//! `GET /v1/export.ndjson`: the archive in the import format, streamed,
//! for partners who want all of it at once (and for backups by admins).

use std::io::Write;

use actix_web::web::Bytes;
use actix_web::{get, web, HttpRequest, HttpResponse};
use tokio::sync::mpsc;

use crate::domain::keys::Role;
use crate::domain::PublicationStatus;
use crate::http::auth::Caller;
use crate::http::error::{ApiError, Problem};
use crate::http::params::Params;
use crate::state::AppState;

/// Bytes gathered before a chunk goes to the client.
const CHUNK: usize = 64 * 1024;

/// A `Write` that sends what is written to a response stream in chunks.
/// When the client goes away the next send fails, and so does the export.
struct ChannelWriter {
    tx: mpsc::Sender<Result<Bytes, std::io::Error>>,
    buffer: Vec<u8>,
}

impl ChannelWriter {
    fn send(&mut self) -> std::io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(
            &mut self.buffer,
            Vec::with_capacity(CHUNK),
        ));
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the client left"))
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.buffer.extend_from_slice(bytes);
        if self.buffer.len() >= CHUNK {
            self.send()?;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.send()
    }
}

/// Export the archive
///
/// The whole archive in the import format (one JSON record a line:
/// organisations, fields, projects, events, then publications), streamed.
/// Anonymous callers and partners get the published publications; an
/// admin key gets everything, drafts and withdrawn ones included, which
/// `arkiv import` restores.
#[utoipa::path(
    tag = "partners",
    responses(
        (status = 200, description = "The archive, one record a line", content_type = "application/x-ndjson", body = String),
        (status = 400, description = "A query parameter was sent", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "An invalid key was sent", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/export.ndjson")]
pub async fn export_archive(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    Params::parse(&req, &[])?;
    let everything = caller.has(Role::Admin);
    let (tx, rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(8);
    let db = state.db.clone();
    actix_web::rt::task::spawn_blocking(move || {
        let mut out = ChannelWriter {
            tx: tx.clone(),
            buffer: Vec::with_capacity(CHUNK),
        };
        let result = db
            .conn()
            .map_err(|error| error.to_string())
            .and_then(|mut conn| {
                crate::import::export::export_where(&mut conn, &mut out, |full| {
                    everything || full.row.status == PublicationStatus::Published
                })
                .map_err(|error| error.to_string())
            });
        if let Err(error) = result {
            // The status line is gone already: end the stream with an
            // error, so the client sees a broken transfer, not a short file.
            tracing::error!(%error, "the export stopped");
            let _ = tx.blocking_send(Err(std::io::Error::other(error)));
        }
    });
    let body = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    Ok(HttpResponse::Ok()
        .content_type("application/x-ndjson")
        .insert_header((
            "Content-Disposition",
            "attachment; filename=\"arkiv-export.ndjson\"",
        ))
        .streaming(body))
}
