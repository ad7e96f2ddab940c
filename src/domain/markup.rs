//! A publication body's declared format, and what is made of a body for
//! readers: HTML that is safe to insert into any page ([`to_html`]), and
//! the plain text that excerpts, reading times and the search index see
//! ([`plain_text`]).
//!
//! Markdown is rendered with pulldown-cmark, then cleaned by ammonia
//! against the allow-list of [`sanitiser`]: raw HTML and link targets in it
//! are the author's, so nothing of it is trusted. Plain text is built into
//! HTML here from escaped text, `<p>` and `<br>` only, which the cleaner
//! would leave exactly as it is (a property test holds it to that), so it
//! does not pay for the cleaner's parse on every read (D82).

use std::borrow::Cow;
use std::sync::LazyLock;

use pulldown_cmark::{Event, LinkType, Options, Parser, Tag, TagEnd};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// How a publication variant's body is written. Summaries, and the
/// descriptions of organisations, fields, projects and events, are always
/// plain text.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    ToSchema,
    diesel::AsExpression,
    diesel::FromSqlRow,
)]
#[diesel(sql_type = diesel::sql_types::Text)]
#[serde(rename_all = "snake_case")]
pub enum BodyFormat {
    /// Plain text: blank lines separate paragraphs, a single newline
    /// breaks a line; nothing in it is markup.
    #[default]
    Plain,
    /// CommonMark, with tables and ~~strikethrough~~. Raw HTML in it is
    /// cleaned like everything else.
    Markdown,
}

impl BodyFormat {
    pub const ALL: [BodyFormat; 2] = [Self::Plain, Self::Markdown];

    /// Returns the wire and storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Plain => "plain",
            Self::Markdown => "markdown",
        }
    }

    /// Parses a wire name, listing the allowed ones when it is not one.
    pub fn parse(raw: &str) -> Result<Self, String> {
        super::one_of(raw, &Self::ALL, |format| format.as_str()).copied()
    }

    /// Whether this is the default, which records leave out (so that a
    /// record written before formats existed hashes as it did).
    pub fn is_plain(&self) -> bool {
        *self == Self::Plain
    }
}

/// Returns the body as clean HTML in its format. An empty (or blank)
/// body gives `""`.
pub fn to_html(format: BodyFormat, body: &str) -> String {
    if body.trim().is_empty() {
        return String::new();
    }
    match format {
        BodyFormat::Plain => plain_to_html(body),
        BodyFormat::Markdown => sanitiser().clean(&markdown_to_html(body)).to_string(),
    }
}

/// Returns what a reader of the body reads, without markup: the body
/// itself when it is plain, the text of its Markdown otherwise (link
/// targets, raw HTML and syntax left out; blocks on lines of their own).
pub fn plain_text(format: BodyFormat, body: &str) -> Cow<'_, str> {
    match format {
        BodyFormat::Plain => Cow::Borrowed(body),
        BodyFormat::Markdown => Cow::Owned(markdown_text(body)),
    }
}

/// The Markdown extensions bodies may use: tables and strikethrough.
/// Footnotes, heading attributes and the like stay off: they would need
/// `id` and `class` attributes, which the sanitiser does not keep.
fn options() -> Options {
    Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH
}

/// Plain text as paragraphs: a blank line (or one of only spaces) ends a
/// paragraph, a single line break (`\n`, `\r\n` or `\r`) is a `<br>`.
/// The text is escaped as an HTML serialiser escapes text, so that the
/// result is already in the form the cleaner would give it.
fn plain_to_html(body: &str) -> String {
    let mut html = String::with_capacity(body.len() + body.len() / 8);
    let mut open = false;
    let lines = body.split('\n').flat_map(|line| {
        let line = line.strip_suffix('\r').unwrap_or(line);
        line.split('\r')
    });
    for line in lines {
        let line = line.trim_end();
        if line.trim_start().is_empty() {
            if open {
                html.push_str("</p>\n");
                open = false;
            }
            continue;
        }
        if open {
            html.push_str("<br>\n");
        } else {
            html.push_str("<p>");
            open = true;
        }
        escape_text_into(&mut html, line);
    }
    if open {
        html.push_str("</p>\n");
    }
    html
}

/// Appends `text` to `html` escaped for a text node: `&`, `<`, `>` and the
/// no-break space (which serialisers write as `&nbsp;`).
fn escape_text_into(html: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => html.push_str("&amp;"),
            '<' => html.push_str("&lt;"),
            '>' => html.push_str("&gt;"),
            '\u{a0}' => html.push_str("&nbsp;"),
            other => html.push(other),
        }
    }
}

/// Markdown as HTML, before cleaning.
/// How deeply a Markdown body may nest (lists, quotes, emphasis, raw
/// HTML elements). The sanitiser's HTML parser takes time that grows
/// faster than the body with depth: 100,000 nested `<div>`s kept a server
/// thread busy for minutes on every uncached read.
pub const MAX_NESTING: usize = 100;

/// The deepest nesting of a Markdown body: Markdown blocks and inlines,
/// and the elements its raw HTML opens (void elements and `/>` aside).
pub fn markdown_nesting(body: &str) -> usize {
    const VOID: [&str; 14] = [
        "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
        "source", "track", "wbr",
    ];
    let (mut depth, mut deepest) = (0_usize, 0_usize);
    for event in Parser::new_ext(body, options()) {
        match event {
            Event::Start(_) => depth += 1,
            Event::End(_) => depth = depth.saturating_sub(1),
            Event::Html(html) | Event::InlineHtml(html) => {
                for tag in html.split('<').skip(1) {
                    let Some((name, closing)) = raw_tag(&format!("<{tag}")) else {
                        continue;
                    };
                    let self_closing = tag.split('>').next().is_some_and(|t| t.ends_with('/'));
                    if closing {
                        depth = depth.saturating_sub(1);
                    } else if !self_closing && !VOID.contains(&name.as_str()) {
                        depth += 1;
                    }
                    deepest = deepest.max(depth);
                }
            }
            _ => {}
        }
        deepest = deepest.max(depth);
    }
    deepest
}

fn markdown_to_html(body: &str) -> String {
    let mut html = String::with_capacity(body.len() + body.len() / 4);
    pulldown_cmark::html::push_html(&mut html, reader_events(body));
    html
}

/// The events of a Markdown body, as readers are to get them:
///
/// - an image becomes a link to it (its alt text the link's text), or only
///   its alt text inside a link: a body loads nothing from elsewhere when
///   its page is opened;
/// - an autolink (`<scheme:…>`) whose scheme the cleaner refuses is left
///   out whole: it is nothing but that address, which the cleaner would
///   only turn from a link into text.
fn reader_events(body: &str) -> impl Iterator<Item = Event<'_>> {
    let mut in_link = 0_usize;
    let mut dropping = false;
    Parser::new_ext(body, options()).filter_map(move |event| match event {
        _ if dropping => {
            dropping = !matches!(event, Event::End(TagEnd::Link));
            None
        }
        Event::Start(Tag::Link {
            link_type: LinkType::Autolink,
            ref dest_url,
            ..
        }) if !allowed_scheme(dest_url) => {
            dropping = true;
            None
        }
        Event::Start(Tag::Link { .. }) => {
            in_link += 1;
            Some(event)
        }
        Event::End(TagEnd::Link) => {
            in_link = in_link.saturating_sub(1);
            Some(event)
        }
        Event::Start(Tag::Image {
            link_type,
            dest_url,
            title,
            id,
        }) => (in_link == 0).then_some(Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        })),
        Event::End(TagEnd::Image) => (in_link == 0).then_some(Event::End(TagEnd::Link)),
        other => Some(other),
    })
}

/// The elements the cleaner drops with everything in them: active content,
/// and the elements whose content is not text for a reader.
const DROPPED_WHOLE: [&str; 19] = [
    "script",
    "style",
    "iframe",
    "frame",
    "frameset",
    "object",
    "embed",
    "applet",
    "noscript",
    "noembed",
    "noframes",
    "template",
    "svg",
    "math",
    "textarea",
    "select",
    "xmp",
    "plaintext",
    "title",
];

/// The URL schemes links may have (besides none: relative URLs).
const URL_SCHEMES: [&str; 3] = ["http", "https", "mailto"];

/// Whether an autolink's address (which always starts with its scheme)
/// has one of [`URL_SCHEMES`].
fn allowed_scheme(address: &str) -> bool {
    address.split_once(':').is_some_and(|(scheme, _)| {
        URL_SCHEMES
            .iter()
            .any(|allowed| scheme.eq_ignore_ascii_case(allowed))
    })
}

/// The text of a Markdown body: what its HTML shows, without the tags.
/// Raw HTML is left out, and so is the text inside an inline element that
/// the cleaner drops whole (`a <script>x</script> b` reads `a b`); blocks
/// of raw HTML are left out with their text (D82).
fn markdown_text(body: &str) -> String {
    let mut text = String::with_capacity(body.len());
    // The element of DROPPED_WHOLE being skipped, till it closes or its
    // block ends.
    let mut skipping: Option<String> = None;
    for event in reader_events(body) {
        match event {
            Event::InlineHtml(tag) => match (raw_tag(&tag), &skipping) {
                (Some((name, false)), None) if DROPPED_WHOLE.contains(&name.as_str()) => {
                    skipping = Some(name);
                }
                (Some((name, true)), Some(skipped)) if name == *skipped => skipping = None,
                _ => {}
            },
            _ if skipping.is_some() && !matches!(event, Event::End(_)) => {}
            Event::Text(words) | Event::Code(words) => text.push_str(&words),
            Event::SoftBreak => text.push(' '),
            Event::HardBreak | Event::Rule => end_line(&mut text),
            Event::End(end) if ends_a_line(end) => {
                skipping = None;
                end_line(&mut text);
            }
            Event::End(TagEnd::TableCell) => text.push(' '),
            // Raw HTML blocks are markup, not text; math and footnotes are off.
            _ => {}
        }
    }
    text.truncate(text.trim_end().len());
    text
}

/// The element name of a raw HTML tag (`<Script src=…>`, `</script>`),
/// lowercased, and whether it closes the element.
fn raw_tag(html: &str) -> Option<(String, bool)> {
    let rest = html.strip_prefix('<')?;
    let (closing, rest) = match rest.strip_prefix('/') {
        Some(rest) => (true, rest),
        None => (false, rest),
    };
    let name: String = rest
        .chars()
        .take_while(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    (!name.is_empty()).then_some((name, closing))
}

/// Ends the line of text being written, once: the end of a list item and
/// of its list make one line break, not two.
fn end_line(text: &mut String) {
    text.truncate(text.trim_end_matches(' ').len());
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
}

/// Whether the end of this element ends a line of text (a block does; an
/// inline element does not).
fn ends_a_line(end: TagEnd) -> bool {
    matches!(
        end,
        TagEnd::Paragraph
            | TagEnd::Heading(_)
            | TagEnd::BlockQuote(_)
            | TagEnd::CodeBlock
            | TagEnd::HtmlBlock
            | TagEnd::List(_)
            | TagEnd::Item
            | TagEnd::FootnoteDefinition
            | TagEnd::DefinitionList
            | TagEnd::DefinitionListTitle
            | TagEnd::DefinitionListDefinition
            | TagEnd::Table
            | TagEnd::TableHead
            | TagEnd::TableRow
    )
}

/// The HTML cleaner, built once. What it keeps, and why, is decision D82:
///
/// - elements: text structure only (paragraphs, headings, lists, quotes,
///   code, tables, emphasis, links, `abbr`, `sub`/`sup`); no images, so a
///   page loads nothing from elsewhere; no script, style, frames, objects,
///   embeds, forms, SVG or MathML;
/// - attributes: `href` and `title` on links, `title` on `abbr`, `start` on
///   `ol`, nothing else (no `on…` handlers, no `style`, `class` or `id`);
/// - URLs: http, https, mailto and relative ones; every link gets
///   `rel="noopener noreferrer nofollow"`;
/// - the content of script, style and the other active elements is dropped
///   whole; comments are dropped.
fn sanitiser() -> &'static ammonia::Builder<'static> {
    static SANITISER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
        use std::collections::{HashMap, HashSet};

        let tags: HashSet<&str> = [
            "a",
            "abbr",
            "b",
            "blockquote",
            "br",
            "code",
            "dd",
            "del",
            "dl",
            "dt",
            "em",
            "h1",
            "h2",
            "h3",
            "h4",
            "h5",
            "h6",
            "hr",
            "i",
            "li",
            "ol",
            "p",
            "pre",
            "s",
            "strong",
            "sub",
            "sup",
            "table",
            "tbody",
            "td",
            "th",
            "thead",
            "tr",
            "ul",
        ]
        .into();
        let dropped_whole: HashSet<&str> = DROPPED_WHOLE.into();
        let attributes: HashMap<&str, HashSet<&str>> = [
            ("a", ["href", "title"].into()),
            ("abbr", ["title"].into()),
            ("ol", ["start"].into()),
        ]
        .into();
        let mut builder = ammonia::Builder::empty();
        builder
            .tags(tags)
            .clean_content_tags(dropped_whole)
            .tag_attributes(attributes)
            .tag_attribute_values(HashMap::new())
            .set_tag_attribute_values(HashMap::new())
            .generic_attributes(HashSet::new())
            .allowed_classes(HashMap::new())
            .url_schemes(URL_SCHEMES.into())
            .url_relative(ammonia::UrlRelative::PassThrough)
            .link_rel(Some("noopener noreferrer nofollow"))
            .strip_comments(true)
            .id_prefix(None);
        builder
    });
    &SANITISER
}

#[cfg(test)]
mod tests {

    #[test]
    fn nesting_is_measured_through_markdown_and_raw_html() {
        assert_eq!(markdown_nesting("plain words"), 1);
        assert!(markdown_nesting("> > > quoted") >= 4);
        let divs = format!("{}x{}", "<div>".repeat(500), "</div>".repeat(500));
        assert!(markdown_nesting(&divs) >= 500);
        let flat = "<br><img src=a.png/><p>a</p><p>b</p>".repeat(1_000);
        assert!(markdown_nesting(&flat) < 5, "{}", markdown_nesting(&flat));
        // Deep bodies are measured quickly, so the check costs a write little.
        let started = std::time::Instant::now();
        let deep = format!("{}x{}", "<div>".repeat(100_000), "</div>".repeat(100_000));
        assert!(markdown_nesting(&deep) > MAX_NESTING);
        assert!(markdown_nesting(&"> ".repeat(50_000)) > MAX_NESTING);
        assert!(started.elapsed() < std::time::Duration::from_secs(10));
    }

    use super::*;

    fn html(format: BodyFormat, body: &str) -> String {
        to_html(format, body)
    }

    #[test]
    fn wire_names_parse_back_and_match_serde() {
        for format in BodyFormat::ALL {
            assert_eq!(BodyFormat::parse(format.as_str()), Ok(format));
            assert_eq!(
                serde_json::to_value(format).ok(),
                Some(serde_json::Value::String(format.as_str().into()))
            );
        }
        assert!(BodyFormat::parse("html").is_err());
        assert_eq!(BodyFormat::default(), BodyFormat::Plain);
    }

    #[test]
    fn plain_text_is_escaped_paragraphs_with_line_breaks() {
        assert_eq!(
            html(
                BodyFormat::Plain,
                "First line\nsecond <b>line</b> & more\n\n  \nNext \"para\"\r\n"
            ),
            "<p>First line<br>\nsecond &lt;b&gt;line&lt;/b&gt; &amp; more</p>\n\
             <p>Next \"para\"</p>\n"
        );
        assert_eq!(html(BodyFormat::Plain, ""), "");
        assert_eq!(html(BodyFormat::Plain, " \n\n "), "");
        assert_eq!(html(BodyFormat::Markdown, "\n"), "");
    }

    #[test]
    fn markdown_renders_structure_and_links_get_rel() {
        let out = html(
            BodyFormat::Markdown,
            "# Findings\n\nSome *emphasis* and **strength**.\n\n\
             - one\n- two\n\n1. first\n\n[The site](https://example.org/a?b=1&c=2 \"Its title\")",
        );
        assert!(out.contains("<h1>Findings</h1>"), "{out}");
        assert!(out.contains("<em>emphasis</em>"), "{out}");
        assert!(out.contains("<strong>strength</strong>"), "{out}");
        assert!(out.contains("<ul>\n<li>one</li>"), "{out}");
        assert!(out.contains("<ol>\n<li>first</li>"), "{out}");
        assert!(
            out.contains(
                "<a href=\"https://example.org/a?b=1&amp;c=2\" title=\"Its title\" \
                 rel=\"noopener noreferrer nofollow\">The site</a>"
            ),
            "{out}"
        );
    }

    #[test]
    fn tables_strikethrough_and_relative_and_mail_links_are_kept() {
        let out = html(
            BodyFormat::Markdown,
            "| a | b |\n|:--|--:|\n| 1 | 2 |\n\n~~gone~~ [next](/v1/x) <mailto:desk@example.org>",
        );
        assert!(out.contains("<table>"), "{out}");
        // Alignment comes as `style`, which is not kept.
        assert!(out.contains("<th>a</th>"), "{out}");
        assert!(out.contains("<del>gone</del>"), "{out}");
        assert!(out.contains("href=\"/v1/x\""), "{out}");
        assert!(out.contains("href=\"mailto:desk@example.org\""), "{out}");
    }

    #[test]
    fn images_become_links_and_load_nothing() {
        let out = html(
            BodyFormat::Markdown,
            "![A chart](https://example.org/c.png) and [![badge](https://example.org/b.svg)](https://example.org)",
        );
        assert!(!out.contains("<img"), "{out}");
        assert!(
            out.contains(
                "<a href=\"https://example.org/c.png\" rel=\"noopener noreferrer nofollow\">A chart</a>"
            ),
            "{out}"
        );
        assert!(
            out.contains(
                "<a href=\"https://example.org\" rel=\"noopener noreferrer nofollow\">badge</a>"
            ),
            "{out}"
        );
    }

    #[test]
    fn active_content_is_removed() {
        let out = html(
            BodyFormat::Markdown,
            "Text <script>alert(1)</script> <span onclick=\"x()\" style=\"color:red\" class=\"c\" id=\"i\">kept</span>\n\n\
             <iframe src=\"https://example.org\"></iframe><svg><a href=\"https://example.org\">x</a></svg>\n\n\
             [bad](javascript:alert(1)) [data](data:text/html,hi) <a href=\"vbscript:x\">vb</a>",
        );
        for needle in [
            "<script",
            "alert(1)</",
            "onclick",
            "style=",
            "class=",
            "id=",
            "<iframe",
            "<svg",
            "javascript:",
            "data:",
            "vbscript:",
            "<span",
        ] {
            assert!(!out.to_lowercase().contains(needle), "{needle} in {out}");
        }
        assert!(out.contains("kept"), "{out}");
        assert!(out.contains(">bad</a>"), "{out}");
    }

    #[test]
    fn markdown_text_leaves_the_syntax_out() {
        let text = plain_text(
            BodyFormat::Markdown,
            "# Title\n\nSome **bold** and _em_ with a [link](https://example.org/x) \
             and `code`.\n\n- one\n- two\n\n<div>raw</div>\n\n![alt text](i.png)\n\n---\n\n| a | b |\n|---|---|\n| c | d |\n",
        );
        assert_eq!(
            text,
            "Title\nSome bold and em with a link and code.\none\ntwo\nalt text\na b\nc d"
        );
        for syntax in ["**", "#", "](", "<div>", "https://"] {
            assert!(!text.contains(syntax), "{syntax} in {text:?}");
        }
        assert_eq!(plain_text(BodyFormat::Plain, "**as is**"), "**as is**");
        // What the cleaner drops whole is not read either; other inline
        // HTML keeps its text.
        assert_eq!(
            plain_text(
                BodyFormat::Markdown,
                "a <ScRiPt>alert(1)</script> b <svg onload=x>c\n\nd <abbr title=\"e\">EU</abbr> \
                 <javascript:alert(1)> <https://example.org>"
            ),
            "a  b\nd EU  https://example.org"
        );
    }

    #[test]
    fn plain_html_is_what_the_cleaner_would_make_of_it() {
        for body in [
            "<script>alert(1)</script>",
            "a\u{a0}b & <c> \"d\" 'e'",
            "line\rline\r\n\r\nnext\u{c}\u{1}\u{7f}\u{feff}",
        ] {
            let html = plain_to_html(body);
            assert_eq!(sanitiser().clean(&html).to_string(), html);
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(1024))]

        /// Plain bodies skip the cleaner: this is what allows it.
        #[test]
        fn the_cleaner_leaves_plain_html_as_it_is(body in "[^\u{0}]{0,80}") {
            let html = plain_to_html(&body);
            proptest::prop_assert_eq!(sanitiser().clean(&html).to_string(), html);
        }

        #[test]
        fn the_cleaner_leaves_plain_html_of_markup_as_it_is(
            body in "([<>&\"'/=a-z \n\r\t\u{a0}]|<script>|<img src=x onerror=y>|&amp;|&#x3c;){0,40}"
        ) {
            let html = plain_to_html(&body);
            proptest::prop_assert_eq!(sanitiser().clean(&html).to_string(), html);
        }
    }
}
