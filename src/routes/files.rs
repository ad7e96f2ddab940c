//! `/v1/publications/{id_or_slug}/variants/{lang}/file`: a variant's file
//! (the PDF), with Range requests, an ETag and a safe `Content-Disposition`.

use std::str::FromStr;

use actix_files::NamedFile;
use actix_web::http::header::{
    self, Charset, ContentDisposition, DispositionParam, DispositionType, ExtendedValue,
    HeaderValue,
};
use actix_web::{get, web, HttpRequest, HttpResponse};

use crate::db::publications::Bodies;
use crate::domain::{IdOrSlug, Lang};
use crate::http::auth::Caller;
use crate::http::error::{ApiError, ErrorCode, Problem};
use crate::http::params::Params;
use crate::state::AppState;

/// Returns a file name safe to put in `Content-Disposition`: the last path
/// component, without control characters, quotes or separators.
pub fn safe_file_name(name: &str, fallback: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '"' | ';' | '\\' | '/'))
        .collect::<String>()
        .trim_matches(|c: char| c == '.' || c.is_whitespace())
        .chars()
        .take(200)
        .collect();
    if cleaned.is_empty() {
        fallback.to_owned()
    } else {
        cleaned
    }
}

/// Download a variant's file
///
/// The file (usually a PDF) of one language variant of a published
/// publication (of any publication, with an editor key). Honours `Range`
/// (206) and `If-None-Match` (304); the `Content-Disposition` carries the
/// original file name, made safe.
#[utoipa::path(
    tag = "publications",
    params(
        ("id_or_slug" = String, Path, description = "The publication's UUID or slug", example = "conclusions-expert-discussion-2024-10-31"),
        ("lang" = String, Path, description = "A stored language tag: en, sq, sr-Latn, sr-Cyrl", example = "sq"),
    ),
    responses(
        (status = 200, description = "The file, with `X-Content-Type-Options: nosniff` and `Content-Security-Policy: default-src 'none'; sandbox`", content_type = "application/pdf", headers(("ETag" = String), ("Content-Disposition" = String), ("Accept-Ranges" = String), ("Content-Security-Policy" = String), ("X-Content-Type-Options" = String))),
        (status = 206, description = "The requested byte range", content_type = "application/pdf"),
        (status = 304, description = "The client's copy (If-None-Match) is current"),
        (status = 400, description = "A malformed id, slug or language tag", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No published publication, variant or file", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "The publication was withdrawn", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/publications/{id_or_slug}/variants/{lang}/file")]
pub async fn download_variant_file(
    req: HttpRequest,
    caller: Caller,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    Params::parse(&req, &[])?;
    let (raw, raw_lang) = path.into_inner();
    let key = IdOrSlug::parse(&raw).map_err(|message| ApiError::invalid("id_or_slug", message))?;
    let lang = Lang::from_str(&raw_lang).map_err(|message| ApiError::invalid("lang", message))?;
    // Editors also get the files of drafts and withdrawn publications.
    let full = super::publications::find_for(&state, &caller, &key, &raw, Bodies::None).await?;
    let no_file = || {
        ApiError::new(
            ErrorCode::NotFound,
            format!("the {lang} variant of {raw:?} has no file"),
        )
    };
    let variant = full
        .variants
        .iter()
        .find(|v| v.lang == lang.as_str())
        .ok_or_else(no_file)?;
    let (Some(sha256), Some(media_type)) = (&variant.file_sha256, &variant.file_media_type) else {
        return Err(no_file());
    };
    if !crate::domain::files::is_sha256(sha256) {
        return Err(ApiError::internal(format!(
            "stored file hash {sha256:?} is not a SHA-256"
        )));
    }
    let file = match NamedFile::open_async(state.files.path_of(sha256)).await {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            tracing::warn!(publication = %full.row.slug, %lang, %sha256, "a file named in the archive is missing from the store");
            return Err(ApiError::new(
                ErrorCode::NotFound,
                format!("the file of the {lang} variant of {raw:?} is not in the file store"),
            ));
        }
        Err(error) => return Err(ApiError::internal(error)),
    };
    let fallback = format!("{}-{}.pdf", full.row.slug, lang.as_str());
    let name = safe_file_name(variant.file_name.as_deref().unwrap_or_default(), &fallback);
    let ascii: String = name
        .chars()
        .map(|c| if c.is_ascii() { c } else { '_' })
        .collect();
    let mut parameters = vec![DispositionParam::Filename(ascii)];
    if !name.is_ascii() {
        parameters.push(DispositionParam::FilenameExt(ExtendedValue {
            charset: Charset::Ext("UTF-8".into()),
            language_tag: None,
            value: name.into_bytes(),
        }));
    }
    // Only a PDF is shown inline; anything else (a row written before
    // media types came from magic bytes) is a download of opaque bytes.
    let (content_type, disposition) = match media_type.as_str() {
        "application/pdf" => (actix_web::mime::APPLICATION_PDF, DispositionType::Inline),
        _ => (
            actix_web::mime::APPLICATION_OCTET_STREAM,
            DispositionType::Attachment,
        ),
    };
    let file = file
        .set_content_type(content_type)
        .set_content_disposition(ContentDisposition {
            disposition,
            parameters,
        })
        .use_last_modified(false)
        // PDFs compress themselves; gzip would spend CPU to save little.
        .set_content_encoding(actix_web::http::header::ContentEncoding::Identity);
    let mut response = file.into_response(&req);
    // A download is the whole file, or a range from its first byte (a
    // viewer fetching the rest in pieces counts once).
    let whole = match response.status() {
        actix_web::http::StatusCode::OK => true,
        actix_web::http::StatusCode::PARTIAL_CONTENT => req
            .headers()
            .get(header::RANGE)
            .and_then(|value| value.to_str().ok())
            .is_some_and(starts_at_zero),
        _ => false,
    };
    if whole {
        super::stats::count(
            &req,
            &caller,
            &state,
            crate::stats::Event::Download,
            &full.row.id,
            lang.as_str(),
        );
    }
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // A file is never a page of the API's origin: no scripts, no
    // requests, no forms, even if a browser renders it.
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(FILE_CSP),
    );
    Ok(response)
}

/// Whether a `Range` header's first range starts at byte 0 (`bytes=0-`,
/// `bytes=0-1023`, `bytes=0-99,200-299`).
fn starts_at_zero(range: &str) -> bool {
    let Some(ranges) = range.trim().strip_prefix("bytes=") else {
        return false;
    };
    let first = ranges.split(',').next().unwrap_or_default().trim();
    first
        .split_once('-')
        .is_some_and(|(start, _)| start.trim() == "0")
}

/// The `Content-Security-Policy` of every served file.
pub const FILE_CSP: &str = "default-src 'none'; sandbox";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_range_from_the_first_byte_is_a_download() {
        assert!(starts_at_zero("bytes=0-"));
        assert!(starts_at_zero("bytes=0-1023"));
        assert!(starts_at_zero(" bytes=0-99, 200-299"));
        assert!(!starts_at_zero("bytes=1024-"));
        assert!(!starts_at_zero("bytes=-500"));
        assert!(!starts_at_zero("bytes=00x-"));
        assert!(!starts_at_zero("items=0-1"));
    }

    #[test]
    fn file_names_lose_paths_quotes_and_control_characters() {
        assert_eq!(safe_file_name("../../etc/passwd", "x.pdf"), "passwd");
        assert_eq!(
            safe_file_name("C:\\\\reports\\\\a\"b;.pdf", "x.pdf"),
            "ab.pdf"
        );
        assert_eq!(safe_file_name("line\nbreak.pdf", "x.pdf"), "linebreak.pdf");
        assert_eq!(safe_file_name("...", "x.pdf"), "x.pdf");
        assert_eq!(
            safe_file_name("Përfundimet.pdf", "x.pdf"),
            "Përfundimet.pdf"
        );
    }
}
