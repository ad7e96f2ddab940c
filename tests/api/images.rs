//! Images: `PUT/DELETE /v1/{collection}/{id_or_slug}/image`, the `image`
//! object on everything that has one, and `GET /v1/images/{sha256}/{w}.webp`.

use actix_web::http::Method;
use actix_web::test::TestRequest;
use serde_json::{json, Value};

use super::{assert_problem, bearer, demo_app, Reply, TestApp};
use crate::on_both_backends;
use arkiv::domain::keys::Role;

const PUBLICATION: &str = "/v1/publications/conclusions-expert-discussion-2024-10-31";
const ORGANISATION: &str = "/v1/organisations/new-social-initiative";

/// An RGB gradient, encoded as `format`.
fn picture(width: u32, height: u32, format: image::ImageFormat) -> Vec<u8> {
    let pixels = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x * 255 / width) as u8, (y * 255 / height) as u8, 90])
    });
    let mut bytes = Vec::new();
    image::DynamicImage::ImageRgb8(pixels)
        .write_to(&mut std::io::Cursor::new(&mut bytes), format)
        .expect("encode");
    bytes
}

/// A PNG that is what it says but decodes to `width` × `height` 16-bit
/// RGBA pixels (8 bytes each) of zeros: a few hundred kilobytes that
/// inflate to hundreds of megabytes.
fn png_bomb(width: u32, height: u32) -> Vec<u8> {
    use std::io::Write;
    fn chunk(out: &mut Vec<u8>, kind: &[u8], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut crc = flate2::Crc::new();
        crc.update(kind);
        crc.update(data);
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        out.extend_from_slice(&crc.sum().to_be_bytes());
    }
    let mut header = Vec::new();
    header.extend_from_slice(&width.to_be_bytes());
    header.extend_from_slice(&height.to_be_bytes());
    header.extend_from_slice(&[16, 6, 0, 0, 0]);
    let row = vec![0u8; 1 + width as usize * 8];
    let mut zlib = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    for _ in 0..height {
        zlib.write_all(&row).expect("deflate");
    }
    let data = zlib.finish().expect("deflate");
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    chunk(&mut png, b"IHDR", &header);
    chunk(&mut png, b"IDAT", &data);
    chunk(&mut png, b"IEND", &[]);
    png
}

/// The ETag of `uri` as an editor reads it.
async fn etag(app: &TestApp, uri: &str, key: &str) -> String {
    app.send(TestRequest::get().uri(uri).insert_header(bearer(key)))
        .await
        .header("etag")
        .expect("ETag")
}

/// Removes the image of `uri` with the ETag read first.
async fn remove(app: &TestApp, uri: &str, key: &str) -> Reply {
    let tag = etag(app, uri, key).await;
    app.send(
        TestRequest::delete()
            .uri(&format!("{uri}/image"))
            .insert_header(bearer(key))
            .insert_header(("If-Match", tag)),
    )
    .await
}

/// Uploads `bytes` as the image of `uri` with the ETag read first.
async fn upload(app: &TestApp, uri: &str, key: &str, bytes: Vec<u8>) -> Reply {
    let tag = etag(app, uri, key).await;
    app.send(
        TestRequest::put()
            .uri(&format!("{}/image", uri.split('?').next().unwrap_or(uri)))
            .insert_header(bearer(key))
            .insert_header(("If-Match", tag))
            .insert_header(("Content-Type", "application/octet-stream"))
            .set_payload(bytes),
    )
    .await
}

/// The path of an absolute URL the API issued.
fn path_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    rest.find('/')
        .map_or(String::new(), |at| rest[at..].to_owned())
}

fn widths(image: &Value) -> Vec<u64> {
    image["renditions"]
        .as_array()
        .map(|all| all.iter().filter_map(|r| r["width"].as_u64()).collect())
        .unwrap_or_default()
}

on_both_backends!(images_are_rendered_served_and_described, |backend| {
    let app = demo_app(backend);
    let editor = app.key(Role::Editor);

    // A publication without a cover says so with null.
    let before = app.get(PUBLICATION).await.json();
    assert_eq!(before["image"], Value::Null, "{before}");

    let reply = upload(
        &app,
        PUBLICATION,
        &editor,
        picture(2000, 1000, image::ImageFormat::Png),
    )
    .await;
    assert_eq!(
        reply.status,
        200,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    let detail = reply.json();
    let image = &detail["image"];
    assert_eq!(
        (image["width"].as_u64(), image["height"].as_u64()),
        (Some(2000), Some(1000))
    );
    assert_eq!(widths(image), [320, 800, 1600]);
    assert_eq!(image["alt"], Value::Null);
    assert_eq!(image["credit"], Value::Null);

    // Every rendition is a WebP of the size it claims, immutable.
    for rendition in image["renditions"].as_array().expect("renditions") {
        assert_eq!(rendition["media_type"], "image/webp");
        let url = rendition["url"].as_str().expect("url");
        let served = app.get(&path_of(url)).await;
        assert_eq!(served.status, 200, "{url}");
        assert_eq!(served.header("content-type").as_deref(), Some("image/webp"));
        assert_eq!(
            served.header("cache-control").as_deref(),
            Some("public, max-age=31536000, immutable")
        );
        assert_eq!(
            served.header("x-content-type-options").as_deref(),
            Some("nosniff")
        );
        let decoded = image::load_from_memory_with_format(&served.body, image::ImageFormat::WebP)
            .expect("a WebP");
        assert_eq!(
            (u64::from(decoded.width()), u64::from(decoded.height())),
            (
                rendition["width"].as_u64().unwrap_or(0),
                rendition["height"].as_u64().unwrap_or(0)
            )
        );
    }

    // Lists carry the same image.
    let list = app.get("/v1/publications?limit=100").await.json();
    let item = list["items"]
        .as_array()
        .and_then(|items| {
            items
                .iter()
                .find(|i| i["slug"] == "conclusions-expert-discussion-2024-10-31")
        })
        .cloned()
        .expect("listed");
    assert_eq!(item["image"], detail["image"]);

    // Alt text per language and the credit are edited like any field;
    // each page gets the alt text in its language.
    let patched = app
        .change(
            Method::PATCH,
            PUBLICATION,
            &editor,
            Some(json!({"image": {"alt": {"en": "A gradient from red to blue", "sq": "Një gradient nga e kuqja në blu"}, "credit": "Photo: NSI photo archive"}})),
        )
        .await;
    assert_eq!(
        patched.status,
        200,
        "{}",
        String::from_utf8_lossy(&patched.body)
    );
    let albanian = app.get(&format!("{PUBLICATION}?lang=sq")).await.json();
    assert_eq!(albanian["image"]["alt"], "Një gradient nga e kuqja në blu");
    assert_eq!(albanian["image"]["credit"], "Photo: NSI photo archive");
    let english = app.get(&format!("{PUBLICATION}?lang=en")).await.json();
    assert_eq!(english["image"]["alt"], "A gradient from red to blue");

    // What the upload set cannot be set in a body; every such field is named.
    let refused = app
        .change(
            Method::PATCH,
            PUBLICATION,
            &editor,
            Some(json!({"image": {"width": 9999, "sha256": "0".repeat(64)}})),
        )
        .await;
    let problem = assert_problem(&refused, 422, "field_read_only");
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .map(|errors| errors.iter().filter_map(|e| e["field"].as_str()).collect())
        .unwrap_or_default();
    assert!(
        fields.contains(&"image.width") && fields.contains(&"image.sha256"),
        "{problem}"
    );

    // The same picture again keeps its texts; another one starts without.
    let again = upload(
        &app,
        PUBLICATION,
        &editor,
        picture(2000, 1000, image::ImageFormat::Png),
    )
    .await;
    assert_eq!(again.json()["image"]["credit"], "Photo: NSI photo archive");
    let other = upload(
        &app,
        PUBLICATION,
        &editor,
        picture(1000, 1000, image::ImageFormat::Jpeg),
    )
    .await;
    let other = other.json();
    assert_eq!(other["image"]["credit"], Value::Null);
    assert_eq!(
        widths(&other["image"]),
        [320, 800, 1000],
        "never wider than the source"
    );

    // A small logo gets one rendition at its own width, and every
    // reference to the organisation carries it.
    let logo = upload(
        &app,
        ORGANISATION,
        &editor,
        picture(200, 80, image::ImageFormat::Jpeg),
    )
    .await;
    assert_eq!(logo.status, 200, "{}", String::from_utf8_lossy(&logo.body));
    assert_eq!(widths(&logo.json()["image"]), [200]);
    let organisation = app.get(ORGANISATION).await.json();
    assert_eq!(widths(&organisation["image"]), [200]);
    let projects = app.get("/v1/projects").await.json();
    let implementer = projects["items"][0]["implementers"][0].clone();
    assert_eq!(implementer["slug"], "new-social-initiative");
    assert_eq!(implementer["image"], organisation["image"]);

    // The export carries the image, so export → import keeps it.
    let export = app
        .send(
            TestRequest::get()
                .uri("/v1/export.ndjson")
                .insert_header(bearer(&editor)),
        )
        .await;
    let text = String::from_utf8_lossy(&export.body).into_owned();
    let line: Value = text
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .find(|line| line["slug"] == "new-social-initiative")
        .expect("exported");
    assert_eq!(line["image"]["width"], 200);

    // Removing it: null again, and a second removal is a 404.
    let removed = remove(&app, ORGANISATION, &editor).await;
    assert_eq!(
        removed.status,
        200,
        "{}",
        String::from_utf8_lossy(&removed.body)
    );
    assert_eq!(app.get(ORGANISATION).await.json()["image"], Value::Null);
    let again = remove(&app, ORGANISATION, &editor).await;
    assert_problem(&again, 404, "not_found");
});

on_both_backends!(hostile_images_cost_a_422_not_the_server, |backend| {
    let app = demo_app(backend);
    let editor = app.key(Role::Editor);
    let files_before = stored_files(&app);

    // Not an image by its first bytes, whatever it claims.
    for bytes in [
        b"GIF89a\x01\x00\x01\x00\x00\x00\x00".to_vec(),
        b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>".to_vec(),
        b"%PDF-1.4\n%%EOF\n".to_vec(),
    ] {
        assert_problem(
            &upload(&app, PUBLICATION, &editor, bytes).await,
            415,
            "unsupported_media_type",
        );
    }
    // A header that claims 60,000 × 60,000 pixels, and a real bomb:
    // 5,000 × 5,000 16-bit RGBA zeros, 200 MB decoded.
    let mut claim = picture(1, 1, image::ImageFormat::Png);
    claim[16..20].copy_from_slice(&60_000u32.to_be_bytes());
    claim[20..24].copy_from_slice(&60_000u32.to_be_bytes());
    let mut crc = flate2::Crc::new();
    crc.update(&claim[12..29]);
    claim[29..33].copy_from_slice(&crc.sum().to_be_bytes());
    let bomb = png_bomb(5_000, 5_000);
    assert!(
        bomb.len() < 1 << 20,
        "the bomb is small: {} bytes",
        bomb.len()
    );
    for bytes in [claim, bomb] {
        assert_problem(
            &upload(&app, PUBLICATION, &editor, bytes).await,
            422,
            "image_too_large",
        );
    }
    // Cut short: a 422 that says it cannot be decoded.
    let mut truncated = picture(600, 400, image::ImageFormat::Png);
    truncated.truncate(truncated.len() / 2);
    assert_problem(
        &upload(&app, PUBLICATION, &editor, truncated).await,
        422,
        "image_invalid",
    );

    // A version is needed, and checked before the body is read.
    let unversioned = app
        .send(
            TestRequest::put()
                .uri(&format!("{PUBLICATION}/image"))
                .insert_header(bearer(&editor))
                .set_payload(picture(10, 10, image::ImageFormat::Png)),
        )
        .await;
    assert_problem(&unversioned, 428, "precondition_required");
    let stale = app
        .send(
            TestRequest::put()
                .uri(&format!("{PUBLICATION}/image"))
                .insert_header(bearer(&editor))
                .insert_header(("If-Match", "\"stale\""))
                .set_payload(picture(10, 10, image::ImageFormat::Png)),
        )
        .await;
    assert_problem(&stale, 412, "precondition_failed");
    let anonymous = app
        .send(
            TestRequest::put()
                .uri(&format!("{PUBLICATION}/image"))
                .set_payload(vec![0u8; 10]),
        )
        .await;
    assert_eq!(anonymous.status, 401);

    // Nothing refused was kept, the publication is as it was, and the
    // server still answers.
    assert_eq!(stored_files(&app), files_before);
    let detail = app.get(PUBLICATION).await;
    assert_eq!(detail.status, 200);
    assert_eq!(detail.json()["image"], Value::Null);

    // Rendition addresses take a hash and a width, nothing else.
    assert_problem(
        &app.get("/v1/images/not-a-hash/800.webp").await,
        400,
        "invalid_parameter",
    );
    let hash = "a".repeat(64);
    assert_problem(
        &app.get(&format!("/v1/images/{hash}/800.png")).await,
        400,
        "invalid_parameter",
    );
    assert_problem(
        &app.get(&format!("/v1/images/{hash}/800.webp")).await,
        404,
        "not_found",
    );
});

/// The names of the files in the file store (renditions aside).
fn stored_files(app: &TestApp) -> Vec<String> {
    let mut names: Vec<String> = walk(app.files.path())
        .into_iter()
        .filter(|path| !path.contains("renditions"))
        .collect();
    names.sort();
    names
}

fn walk(dir: &std::path::Path) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(walk(&path));
        } else {
            found.push(path.to_string_lossy().into_owned());
        }
    }
    found
}

on_both_backends!(the_demo_archive_comes_with_files_and_pictures, |backend| {
    let mut app = TestApp::new(crate::api::TestDb::new(backend).expect("backend"));
    let store = arkiv::files::FileStore::new(app.files.path().to_owned());
    arkiv::demo::load(&mut app.db.db.conn().expect("connection"), Some(&store)).expect("demo");
    app.restart(|state| state);

    // A PDF of each kind, served, its text extracted.
    let list = app.get("/v1/publications?limit=100&lang=en").await.json();
    let items = list["items"].as_array().cloned().unwrap_or_default();
    let mut kinds_with_files = std::collections::BTreeSet::new();
    let mut covers = 0;
    for item in &items {
        let slug = item["slug"].as_str().unwrap_or_default();
        let detail = app
            .get(&format!("/v1/publications/{slug}?lang=en"))
            .await
            .json();
        if !detail["image"].is_null() {
            covers += 1;
            let first = &detail["image"]["renditions"][0];
            let served = app
                .get(&path_of(first["url"].as_str().unwrap_or_default()))
                .await;
            assert_eq!(served.status, 200, "{slug}");
            assert_eq!(
                detail["image"]["credit"],
                "Illustration: arkiv demo archive"
            );
            assert!(detail["image"]["alt"].is_string(), "{slug}");
        }
        if detail["file"].is_null() {
            continue;
        }
        assert_eq!(detail["file"]["text_status"], "extracted", "{slug}");
        let pdf = app
            .get(&format!("/v1/publications/{slug}/variants/en/file"))
            .await;
        assert_eq!(pdf.status, 200);
        assert!(pdf.body.starts_with(b"%PDF-1.4"), "{slug}");
        kinds_with_files.insert(detail["kind"].as_str().unwrap_or_default().to_owned());
    }
    assert_eq!(
        kinds_with_files.into_iter().collect::<Vec<_>>(),
        [
            "discussion_conclusions",
            "media_monitoring",
            "policy_paper",
            "report"
        ]
    );
    assert!(covers >= 4, "{covers} covers");

    // Logos on organisations, in the page's language.
    let organisation = app.get(&format!("{ORGANISATION}?lang=sq")).await.json();
    assert_eq!(
        organisation["image"]["alt"],
        "Logoja e Iniciativa e Re Sociale"
    );
    assert_eq!(widths(&organisation["image"]), [320, 480]);
    let event = app
        .get("/v1/events/kosovo-peace-and-democracy-summit-2024")
        .await
        .json();
    assert_eq!(widths(&event["image"]), [320, 800, 1600]);
});
