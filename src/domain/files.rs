//! What a stored file may be: the media types allowed, told by a file's
//! first bytes, and the content address (SHA-256) that names it.

/// The media types a file may have, by the bytes it starts with. The
/// client's word (`Content-Type`, a name) is never taken for it.
pub const ALLOWED_MEDIA_TYPES: &[(&[u8], &str)] = &[(b"%PDF-", "application/pdf")];

/// The longest magic prefix in [`ALLOWED_MEDIA_TYPES`].
pub const MAGIC_LEN: usize = 5;

/// Returns the media type a file's first bytes show, if it is allowed.
pub fn sniff(head: &[u8]) -> Option<&'static str> {
    ALLOWED_MEDIA_TYPES
        .iter()
        .find(|(magic, _)| head.starts_with(magic))
        .map(|(_, media_type)| *media_type)
}

/// Whether `head`, the first bytes of an upload so far, can still become
/// an allowed file.
pub fn may_become_allowed(head: &[u8]) -> bool {
    ALLOWED_MEDIA_TYPES
        .iter()
        .any(|(magic, _)| magic.starts_with(head) || head.starts_with(magic))
}

/// Returns true for a lowercase hex SHA-256, the only names the file store uses.
pub fn is_sha256(text: &str) -> bool {
    text.len() == 64
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_types_come_from_magic_bytes_only() {
        assert_eq!(sniff(b"%PDF-1.7\n"), Some("application/pdf"));
        assert_eq!(sniff(b"<html><script>"), None);
        assert_eq!(sniff(b"%PD"), None);
        assert!(may_become_allowed(b"%PD"));
        assert!(may_become_allowed(b"%PDF-1.4"));
        assert!(!may_become_allowed(b"<ht"));
        assert!(is_sha256(&"ab".repeat(32)));
        assert!(!is_sha256("../../../../etc/passwd"));
        assert!(!is_sha256(&"AB".repeat(32)));
    }
}
