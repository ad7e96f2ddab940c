//! What became of a file's text: extracted, none to extract, or failed
//! with a reason an editor can act on.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Whether a variant file's text was extracted (and is searchable).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TextStatus {
    /// Text was extracted and is searchable.
    Extracted,
    /// The file was read but holds no text (a scan, say).
    NoText,
    /// The extractor could not read the file; `text_error` says why.
    Failed,
}

impl TextStatus {
    pub const ALL: [TextStatus; 3] = [Self::Extracted, Self::NoText, Self::Failed];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Extracted => "extracted",
            Self::NoText => "no_text",
            Self::Failed => "failed",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, String> {
        super::one_of(raw, &Self::ALL, |status| status.as_str()).copied()
    }
}

/// Why a file's text could not be extracted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TextError {
    /// The extractor ran past its time limit and was stopped.
    ExtractTimeout,
    /// The extractor crashed on the file (a malformed or hostile PDF).
    ExtractCrashed,
    /// The extractor ran past its memory limit (a decompression bomb, say).
    ExtractMemory,
    /// The file holds more text than the extractor may return.
    ExtractTooLarge,
    /// The file is encrypted with a password.
    Encrypted,
    /// The extractor refused the file as not a readable PDF.
    ExtractFailed,
}

impl TextError {
    pub const ALL: [TextError; 6] = [
        Self::ExtractTimeout,
        Self::ExtractCrashed,
        Self::ExtractMemory,
        Self::ExtractTooLarge,
        Self::Encrypted,
        Self::ExtractFailed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ExtractTimeout => "extract_timeout",
            Self::ExtractCrashed => "extract_crashed",
            Self::ExtractMemory => "extract_memory",
            Self::ExtractTooLarge => "extract_too_large",
            Self::Encrypted => "encrypted",
            Self::ExtractFailed => "extract_failed",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, String> {
        super::one_of(raw, &Self::ALL, |error| error.as_str()).copied()
    }
}

impl std::fmt::Display for TextError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_parse_back_and_match_serde() {
        for status in TextStatus::ALL {
            assert_eq!(TextStatus::parse(status.as_str()), Ok(status));
            assert_eq!(
                serde_json::to_value(status).ok(),
                Some(serde_json::Value::String(status.as_str().into()))
            );
        }
        for error in TextError::ALL {
            assert_eq!(TextError::parse(error.as_str()), Ok(error));
            assert_eq!(
                serde_json::to_value(error).ok(),
                Some(serde_json::Value::String(error.as_str().into()))
            );
        }
        assert!(TextError::parse("timeout").is_err());
    }
}
