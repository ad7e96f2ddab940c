//! What a search's text asks for. The query syntax (words, `"phrases"`,
//! `-exclusion`, `OR`, `field:` prefixes) is parsed into tantivy's user
//! input tree, which arkiv checks and rewrites before any index sees it:
//!
//! - a field prefix names a kind of text, `title:` for the titles of every
//!   language, or one language's field, `title_en:`;
//! - a text the syntax rejects, or that asks for what a reader's search has
//!   no use for (an unknown field, a range, a regex, `field:*`), is run as
//!   its plain words instead, never an error;
//! - a query that only excludes (`-draft`) finds everything else.
//!
//! The typo-tolerant retry walks the same tree, so an exclusion stays an
//! exclusion and a phrase stays a phrase: only plain words take typos.

use tantivy::query_grammar::{
    self, Delimiter, Occur, UserInputAst, UserInputLeaf, UserInputLiteral,
};

use super::schema::TEXT_LANGUAGES;

/// The deepest nesting of parentheses a text is parsed with. tantivy's
/// grammar recurses through several frames for each level, and a few
/// hundred `(` overflowed the stack of the thread parsing them, which
/// aborts the whole server. Nobody's search nests this deep: a text that
/// does runs as its plain words.
pub const MAX_NESTING: usize = 16;

/// The field prefixes that stand for several fields: every language's.
pub const FIELD_KINDS: [&str; 3] = ["title", "summary", "body"];
/// The field prefixes that are one field.
pub const SINGLE_FIELDS: [&str; 2] = ["keywords", "authors"];

/// A search text, parsed and checked: its tree, ready for the query parser.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    pub ast: UserInputAst,
    /// False when the text was run as plain words.
    pub as_typed: bool,
}

impl Parsed {
    /// Parses a search text; None when it has nothing to look for.
    pub fn new(text: &str) -> Option<Self> {
        let text = text.trim();
        if text.is_empty() {
            return None;
        }
        let resolved = if nesting(text) > MAX_NESTING {
            None
        } else {
            let (ast, errors) = query_grammar::parse_query_lenient(text);
            if errors.is_empty() {
                resolve(ast)
            } else {
                None
            }
        };
        let parsed = match resolved {
            Some(ast) if is_empty(&ast) => return None,
            Some(ast) => Self {
                ast: with_something_to_find(ast),
                as_typed: true,
            },
            None => Self::plain_words(text),
        };
        (!is_empty(&parsed.ast)).then_some(parsed)
    }

    /// The text's words, every one required, without any syntax.
    pub fn plain_words(text: &str) -> Self {
        let words = words(text)
            .map(|word| (Some(Occur::Must), literal(None, word)))
            .collect();
        Self {
            ast: UserInputAst::Clause(words),
            as_typed: false,
        }
    }

    /// Whether a phrase asks for its words near each other rather than
    /// side by side (`"a b"~2`), which common-word pairs can't answer.
    pub fn has_slop(&self) -> bool {
        let mut slop = false;
        visit_literals(&self.ast, false, &mut |literal| slop |= literal.slop > 0);
        slop
    }
}

/// How deep a text's parentheses nest, counting every `(` not yet
/// closed (escaped or quoted ones too: counting more only makes a text
/// plain words sooner).
fn nesting(text: &str) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    for c in text.chars() {
        match c {
            '(' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            ')' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

/// The words of a text: its runs of letters and digits.
pub fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
}

/// A literal leaf: a word (or words) to find in a field or the defaults.
pub fn literal(field: Option<String>, text: &str) -> UserInputAst {
    UserInputAst::Leaf(Box::new(UserInputLeaf::Literal(UserInputLiteral {
        field_name: field,
        phrase: text.to_owned(),
        delimiter: Delimiter::None,
        slop: 0,
        prefix: false,
    })))
}

/// Whether a literal is a plain word (or hyphenated words) searched in the
/// default fields: what a typo may be forgiven in.
pub fn is_plain(literal: &UserInputLiteral) -> bool {
    literal.field_name.is_none()
        && literal.delimiter == Delimiter::None
        && literal.slop == 0
        && !literal.prefix
}

/// Checks a tree and resolves its field prefixes; None when it asks for
/// something a search doesn't offer.
fn resolve(ast: UserInputAst) -> Option<UserInputAst> {
    match ast {
        UserInputAst::Clause(children) => children
            .into_iter()
            .map(|(occur, child)| resolve(child).map(|child| (occur, child)))
            .collect::<Option<Vec<_>>>()
            .map(UserInputAst::Clause),
        UserInputAst::Boost(child, boost) => {
            resolve(*child).map(|child| UserInputAst::Boost(Box::new(child), boost))
        }
        UserInputAst::Leaf(leaf) => match *leaf {
            UserInputLeaf::Literal(literal) => resolve_literal(literal),
            UserInputLeaf::All => Some(UserInputAst::Leaf(Box::new(UserInputLeaf::All))),
            UserInputLeaf::Range { .. }
            | UserInputLeaf::Set { .. }
            | UserInputLeaf::Exists { .. }
            | UserInputLeaf::Regex { .. } => None,
        },
    }
}

/// Maps a literal's field prefix to the schema's fields: `title:` to the
/// titles of every language, either of them in any case.
fn resolve_literal(literal: UserInputLiteral) -> Option<UserInputAst> {
    let Some(prefix) = literal.field_name.as_deref() else {
        return Some(UserInputAst::Leaf(Box::new(UserInputLeaf::Literal(
            literal,
        ))));
    };
    let prefix = prefix.to_lowercase();
    let one = |field: String| {
        UserInputAst::Leaf(Box::new(UserInputLeaf::Literal(UserInputLiteral {
            field_name: Some(field),
            ..literal.clone()
        })))
    };
    if FIELD_KINDS.contains(&prefix.as_str()) {
        let each = TEXT_LANGUAGES
            .iter()
            .map(|lang| (Some(Occur::Should), one(format!("{prefix}_{lang}"))))
            .collect();
        return Some(UserInputAst::Clause(each));
    }
    let per_language = FIELD_KINDS.iter().any(|kind| {
        prefix
            .strip_prefix(kind)
            .and_then(|rest| rest.strip_prefix('_'))
            .is_some_and(|lang| TEXT_LANGUAGES.contains(&lang))
    });
    (per_language || SINGLE_FIELDS.contains(&prefix.as_str())).then(|| one(prefix))
}

/// A query that only excludes finds everything else.
fn with_something_to_find(ast: UserInputAst) -> UserInputAst {
    match ast {
        UserInputAst::Clause(mut children)
            if !children.is_empty()
                && children
                    .iter()
                    .all(|(occur, _)| *occur == Some(Occur::MustNot)) =>
        {
            children.push((
                Some(Occur::Should),
                UserInputAst::Leaf(Box::new(UserInputLeaf::All)),
            ));
            UserInputAst::Clause(children)
        }
        other => other,
    }
}

/// Whether a tree has nothing to look for (a lone `-`, only punctuation).
fn is_empty(ast: &UserInputAst) -> bool {
    match ast {
        UserInputAst::Clause(children) => children.iter().all(|(_, child)| is_empty(child)),
        UserInputAst::Boost(child, _) => is_empty(child),
        UserInputAst::Leaf(leaf) => match leaf.as_ref() {
            UserInputLeaf::Literal(literal) => words(&literal.phrase).next().is_none(),
            _ => false,
        },
    }
}

/// Calls `visit` with each literal of a tree; with `required`, only those
/// a match may have (not those under an exclusion, which a hit never has).
pub fn visit_literals(
    ast: &UserInputAst,
    required: bool,
    visit: &mut impl FnMut(&UserInputLiteral),
) {
    match ast {
        UserInputAst::Clause(children) => {
            for (occur, child) in children {
                if !(required && *occur == Some(Occur::MustNot)) {
                    visit_literals(child, required, visit);
                }
            }
        }
        UserInputAst::Boost(child, _) => visit_literals(child, required, visit),
        UserInputAst::Leaf(leaf) => {
            if let UserInputLeaf::Literal(literal) = leaf.as_ref() {
                visit(literal);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> Parsed {
        Parsed::new(text).unwrap_or_else(|| panic!("{text:?} has nothing to find"))
    }

    fn fields(ast: &UserInputAst) -> Vec<Option<String>> {
        let mut fields = Vec::new();
        visit_literals(ast, false, &mut |literal| {
            fields.push(literal.field_name.clone())
        });
        fields
    }

    #[test]
    fn syntax_is_kept_as_typed() {
        for text in [
            "europe",
            "\"of the\"",
            "europe -dialogue",
            "europe OR asia",
            "title_en:europe",
            "(europe OR asia) dialogue^2",
            "*",
        ] {
            assert!(parsed(text).as_typed, "{text}");
        }
        assert!(parsed("\"a b\"~2").has_slop());
        assert!(!parsed("\"a b\"").has_slop());
    }

    #[test]
    fn a_kind_of_text_is_every_language_s_field() {
        let title = parsed("Title:europe");
        assert!(title.as_typed);
        assert_eq!(
            fields(&title.ast),
            ["title_en", "title_sq", "title_sr"].map(|f| Some(f.to_owned()))
        );
        assert_eq!(
            fields(&parsed("authors:ivanović").ast),
            [Some("authors".into())]
        );
        assert_eq!(
            fields(&parsed("body_sq:prishtinë").ast),
            [Some("body_sq".into())]
        );
    }

    #[test]
    fn what_a_search_does_not_offer_runs_as_plain_words() {
        for (text, plain) in [
            (
                "Conclusions: Challenges normalization",
                "Conclusions Challenges normalization",
            ),
            ("x:*", "x"),
            ("title_en:*", "title_en"),
            ("year:abc", "year abc"),
            ("title_xx:europe", "title_xx europe"),
            ("published_on:[2020 TO 2021]", "published_on 2020 TO 2021"),
            ("kind: IN [report]", "kind IN report"),
        ] {
            let found = parsed(text);
            assert!(!found.as_typed, "{text} ran as typed");
            assert_eq!(found, Parsed::plain_words(plain), "{text}");
        }
    }

    #[test]
    fn only_exclusions_find_everything_else() {
        let UserInputAst::Clause(children) = parsed("-europe").ast else {
            panic!("not a clause");
        };
        assert_eq!(children.len(), 2);
        assert_eq!(children[0].0, Some(Occur::MustNot));
        assert_eq!(
            children[1],
            (
                Some(Occur::Should),
                UserInputAst::Leaf(Box::new(UserInputLeaf::All))
            )
        );
    }

    #[test]
    fn deep_nesting_runs_as_plain_words() {
        let nested = |depth: usize| format!("{}europe{}", "(".repeat(depth), ")".repeat(depth));
        assert!(parsed(&nested(MAX_NESTING)).as_typed);
        assert_eq!(
            parsed(&nested(MAX_NESTING + 1)),
            Parsed::plain_words("europe")
        );
        // Far past what overflowed the parser's stack, unclosed too.
        assert_eq!(parsed(&nested(5_000)), Parsed::plain_words("europe"));
        assert_eq!(Parsed::new(&"(".repeat(5_000)), None);
        assert_eq!(Parsed::new(&"-(".repeat(5_000)), None);
        assert_eq!(nesting("(a) (b (c)) ((("), 3);
        assert_eq!(nesting(")))((("), 3);
    }

    #[test]
    fn nothing_to_find_is_none() {
        for text in ["", "   ", "-", "\"\"", "--", "!!"] {
            let found = Parsed::new(text);
            assert!(found.is_none(), "{text:?} gave {found:?}");
        }
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    /// Pieces of the query syntax, and words in the archive's scripts, to
    /// build texts from: far likelier than random characters to reach the
    /// grammar's corners.
    #[rustfmt::skip]
    const PIECES: &[&str] = &[
        " ", " ", "\"", "-", "+", " OR ", " AND ", " NOT ", "(", ")", "[", "]", "{", "}", "*",
        "~", "~2", "^", "^2.5", "^-1", "\\", ":", "!", "'", "IN", " TO ", "title:", "Title:",
        "summary:", "body_sr:", "title_en:", "keywords:", "authors:", "year:", "x:",
        "published_on:>", "europe", "dialogue", "Prishtinë", "Приштина", "Ивановић", "e\u{301}",
        "\u{301}", "\u{200b}", "ǅ", "ﬁ", "1", "2024", "a", "\t", "\u{0}",
    ];

    /// Texts from syntax pieces, up to 40 of them.
    fn syntax() -> impl Strategy<Value = String> {
        prop::collection::vec(prop::sample::select(PIECES), 0..40)
            .prop_map(|pieces| pieces.concat())
    }

    /// Syntax inside parentheses opened and closed up to 1,000 deep (the
    /// longest text a search takes).
    fn nested() -> impl Strategy<Value = String> {
        (0usize..1000, syntax(), 0usize..1000).prop_map(|(open, inside, close)| {
            format!("{}{inside}{}", "(".repeat(open), ")".repeat(close))
        })
    }

    /// Any characters, up to 300 of them.
    fn any_text() -> impl Strategy<Value = String> {
        prop::collection::vec(any::<char>(), 0..300).prop_map(String::from_iter)
    }

    /// The fields a parsed tree may name: each kind of text in each
    /// language, and the single fields.
    fn known_fields() -> Vec<String> {
        let mut known: Vec<String> = FIELD_KINDS
            .iter()
            .flat_map(|kind| {
                TEXT_LANGUAGES
                    .iter()
                    .map(move |lang| format!("{kind}_{lang}"))
            })
            .collect();
        known.extend(SINGLE_FIELDS.iter().map(|field| (*field).to_owned()));
        known
    }

    /// What holds of every text: no panic; a text with nothing to find
    /// has no words but syntax (`OR`, `AND`, `NOT`, field prefixes, the
    /// numbers of `^2` and `~2`); one run as plain words is exactly its
    /// words; a parsed tree names only the schema's text fields and has
    /// something to look for.
    fn check(text: &str) -> Result<(), TestCaseError> {
        let known = known_fields();
        let Some(parsed) = Parsed::new(text) else {
            let syntax = regex_lite::Regex::new(r"[^\s:]*:|[\^~][-+]?[0-9.]*")
                .map_err(|error| TestCaseError::fail(error.to_string()))?;
            let unprefixed = syntax.replace_all(text, " ");
            prop_assert!(
                words(&unprefixed).all(|word| ["OR", "AND", "NOT"].contains(&word)),
                "{:?} has words but nothing to find",
                text
            );
            return Ok(());
        };
        prop_assert!(!is_empty(&parsed.ast), "{:?}: {:?}", text, parsed);
        if !parsed.as_typed {
            prop_assert_eq!(&parsed, &Parsed::plain_words(text), "{:?}", text);
        }
        let mut named = Vec::new();
        visit_literals(&parsed.ast, false, &mut |literal| {
            named.extend(literal.field_name.clone())
        });
        for field in named {
            prop_assert!(known.contains(&field), "{:?} names {:?}", text, field);
        }
        let _ = parsed.has_slop();
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1024))]

        #[test]
        fn any_text_parses_or_runs_as_its_words(text in any_text()) {
            check(&text)?;
        }

        #[test]
        fn any_syntax_parses_or_runs_as_its_words(text in syntax()) {
            check(&text)?;
        }

        #[test]
        fn any_nesting_parses_or_runs_as_its_words(text in nested()) {
            check(&text)?;
        }
    }
}
