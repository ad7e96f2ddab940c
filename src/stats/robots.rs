//! Which user agents are robots: the COUNTER Robots list (MIT, © COUNTER
//! Online Metrics; `COUNTER_Robots_list.json` and its licence beside this
//! file), or a list of the same form named by `ARKIV_ROBOTS_FILE`.
//!
//! The patterns are regular expressions matched anywhere in the user
//! agent, ignoring case, as COUNTER applies them. They are joined into one
//! expression, so a check is one pass over the user agent; the verdicts of
//! the most recent user agents are remembered, since a site's readers send
//! few distinct ones.

use std::collections::HashMap;
use std::sync::Mutex;

use regex::Regex;

/// The list arkiv ships with.
const COUNTER_LIST: &str = include_str!("COUNTER_Robots_list.json");

/// User agents longer than this are robots: no browser sends one.
const MAX_USER_AGENT: usize = 1024;

/// How many user agents' verdicts are remembered before starting over.
const REMEMBERED: usize = 4096;

pub struct Robots {
    pattern: Regex,
    count: usize,
    verdicts: Mutex<HashMap<Box<str>, bool>>,
}

impl Robots {
    /// The COUNTER list shipped with arkiv (compiled in, and checked by a
    /// test; should it ever fail to parse, nothing is taken for a robot
    /// and the error is logged).
    pub fn counter() -> Self {
        Self::parse(COUNTER_LIST).unwrap_or_else(|error| {
            tracing::error!(%error, "the shipped robots list does not parse");
            Self {
                pattern: Regex::new("$^").unwrap_or_else(|_| unreachable!()),
                count: 0,
                verdicts: Mutex::new(HashMap::new()),
            }
        })
    }

    /// Reads a list: a JSON array of `{"pattern": …}` objects (the COUNTER
    /// form), or one pattern a line (`#` starts a comment).
    pub fn parse(text: &str) -> Result<Self, String> {
        let patterns: Vec<String> = if text.trim_start().starts_with('[') {
            #[derive(serde::Deserialize)]
            struct Entry {
                pattern: String,
            }
            let entries: Vec<Entry> = serde_json::from_str(text)
                .map_err(|error| format!("not a robots list of {{\"pattern\": …}}: {error}"))?;
            entries.into_iter().map(|entry| entry.pattern).collect()
        } else {
            text.lines()
                .map(str::trim)
                .filter(|line| !line.is_empty() && !line.starts_with('#'))
                .map(str::to_owned)
                .collect()
        };
        if patterns.is_empty() {
            return Err("the robots list has no patterns".into());
        }
        for pattern in &patterns {
            Regex::new(pattern)
                .map_err(|error| format!("robots pattern {pattern:?} is invalid: {error}"))?;
        }
        let joined = format!(
            "(?i){}",
            patterns
                .iter()
                .map(|pattern| format!("(?:{pattern})"))
                .collect::<Vec<_>>()
                .join("|")
        );
        let pattern = regex::RegexBuilder::new(&joined)
            .size_limit(64 << 20)
            .build()
            .map_err(|error| format!("the robots list does not compile: {error}"))?;
        Ok(Self {
            pattern,
            count: patterns.len(),
            verdicts: Mutex::new(HashMap::new()),
        })
    }

    /// Reads the list in a file.
    pub fn load(path: &std::path::Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|error| format!("cannot read the robots list {}: {error}", path.display()))?;
        Self::parse(&text).map_err(|error| format!("{}: {error}", path.display()))
    }

    /// How many patterns the list has.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether the list is empty (it never is: parsing refuses that).
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Whether a request with this `User-Agent` (None: without one) comes
    /// from a robot. COUNTER's `^.?$` pattern makes an absent or one-letter
    /// user agent a robot.
    pub fn is_robot(&self, user_agent: Option<&str>) -> bool {
        let agent = user_agent.unwrap_or("");
        if agent.len() > MAX_USER_AGENT {
            return true;
        }
        if let Ok(verdicts) = self.verdicts.lock() {
            if let Some(&verdict) = verdicts.get(agent) {
                return verdict;
            }
        }
        let verdict = self.pattern.is_match(agent);
        if let Ok(mut verdicts) = self.verdicts.lock() {
            if verdicts.len() >= REMEMBERED {
                verdicts.clear();
            }
            verdicts.insert(agent.into(), verdict);
        }
        verdict
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";

    #[test]
    fn every_pattern_of_the_shipped_list_compiles() {
        let robots = Robots::counter();
        assert!(robots.len() > 300, "{}", robots.len());
    }

    #[test]
    fn robots_crawlers_and_tools_are_known_browsers_are_not() {
        let robots = Robots::counter();
        for agent in [
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
            "curl/8.5.0",
            "python-requests/2.31.0",
            "Wget/1.21.4",
            "",
            "x",
        ] {
            assert!(robots.is_robot(Some(agent)), "{agent:?} is a robot");
        }
        assert!(robots.is_robot(None));
        assert!(robots.is_robot(Some(&"a".repeat(MAX_USER_AGENT + 1))));
        for agent in [
            FIREFOX,
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
        ] {
            // Twice: once computed, once remembered.
            assert!(!robots.is_robot(Some(agent)), "{agent:?} is a browser");
            assert!(!robots.is_robot(Some(agent)), "{agent:?} is a browser");
        }
    }

    #[test]
    fn a_list_of_lines_or_json_replaces_the_shipped_one() {
        let robots = Robots::parse("# ours\nFirefox\n").expect("list");
        assert_eq!(robots.len(), 1);
        assert!(robots.is_robot(Some(FIREFOX)));
        assert!(!robots.is_robot(Some("curl/8.5.0")));
        let robots = Robots::parse(r#"[{"pattern": "^curl/"}]"#).expect("list");
        assert!(robots.is_robot(Some("CURL/8")));
        assert!(Robots::parse("[").is_err());
        assert!(Robots::parse("# nothing\n").is_err());
        assert!(Robots::parse("(unclosed\n").is_err());
    }
}
