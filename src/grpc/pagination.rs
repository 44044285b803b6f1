//! Page sizes and page tokens. A token is opaque to callers: it carries where the last page
//! stopped and a fingerprint of the filters, so a token reused with other filters is refused
//! instead of silently returning a wrong page.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::domain::InvalidValue;

pub const DEFAULT_PAGE_SIZE: u64 = 50;
pub const MAX_PAGE_SIZE: u64 = 1000;
/// The largest page of a list whose items are big (an assessment with its whole rationale is
/// a few KiB), so a page stays well under the 4 MiB a gRPC client accepts by default.
pub const MAX_LARGE_PAGE_SIZE: u64 = 100;

/// The number of items to return: 0 means the default; above the maximum is lowered to it.
pub fn page_size(requested: i32) -> Result<u64, InvalidValue> {
    page_size_up_to(requested, MAX_PAGE_SIZE)
}

/// [`page_size`] for a list whose pages hold at most `max` items.
pub fn page_size_up_to(requested: i32, max: u64) -> Result<u64, InvalidValue> {
    match u64::try_from(requested) {
        Err(_) => Err(InvalidValue::new("must not be negative")),
        Ok(0) => Ok(DEFAULT_PAGE_SIZE.min(max)),
        Ok(size) => Ok(size.min(max)),
    }
}

#[derive(Serialize, Deserialize)]
struct Token {
    /// Where the previous page stopped, in the list's own cursor format.
    after: String,
    /// A fingerprint of the filters the list was called with.
    filter: String,
}

/// The token of the page after one ending with `items`: the last item's cursor, written by
/// `encode`, when more follow; empty on the last page.
pub fn next_page_token<T>(
    items: &[T],
    has_more: bool,
    encode: impl FnOnce(&T) -> String,
) -> String {
    match items.last() {
        Some(last) if has_more => encode(last),
        _ => String::new(),
    }
}

/// The token that continues a list after `cursor` under `filter`.
pub fn encode(cursor: &str, filter: &impl Serialize) -> String {
    let token = Token {
        after: cursor.to_owned(),
        filter: fingerprint(filter),
    };
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&token).unwrap_or_default())
}

/// The token that continues a list ordered on two keys (a time and an id, a date and a
/// revision) after `(first, second)` under `filter`.
pub fn encode_pair(
    first: impl std::fmt::Display,
    second: impl std::fmt::Display,
    filter: &impl Serialize,
) -> String {
    encode(&format!("{first}/{second}"), filter)
}

/// The two-key cursor of a token [`encode_pair`] made, each part read by `parse`; `None`
/// for the first page.
pub fn decode_pair<A, B>(
    token: &str,
    filter: &impl Serialize,
    parse: impl FnOnce(&str, &str) -> Option<(A, B)>,
) -> Result<Option<(A, B)>, InvalidValue> {
    let Some(raw) = decode(token, filter)? else {
        return Ok(None);
    };
    raw.split_once('/')
        .and_then(|(first, second)| parse(first, second))
        .map(Some)
        .ok_or_else(|| InvalidValue::new("is not a page token this server issued"))
}

/// The cursor a token carries, `None` for the first page.
pub fn decode(token: &str, filter: &impl Serialize) -> Result<Option<String>, InvalidValue> {
    if token.is_empty() {
        return Ok(None);
    }
    let token: Token = URL_SAFE_NO_PAD
        .decode(token)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(|| InvalidValue::new("is not a page token this server issued"))?;
    if token.filter != fingerprint(filter) {
        return Err(InvalidValue::new(
            "was issued for other filters; send the same filters as the first call",
        ));
    }
    Ok(Some(token.after))
}

fn fingerprint(filter: &impl Serialize) -> String {
    let canonical = serde_json::to_vec(filter).unwrap_or_default();
    hex::encode(&Sha256::digest(canonical)[..12])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_sizes_default_and_cap() {
        assert_eq!(page_size(0), Ok(DEFAULT_PAGE_SIZE));
        assert_eq!(page_size(7), Ok(7));
        assert_eq!(page_size(5000), Ok(MAX_PAGE_SIZE));
        assert!(page_size(-1).is_err());
        assert_eq!(page_size_up_to(5000, MAX_LARGE_PAGE_SIZE), Ok(100));
        assert_eq!(page_size_up_to(0, 20), Ok(20));
    }

    #[test]
    fn a_token_returns_its_cursor_under_the_same_filter() {
        let token = encode("abc", &("east", 1));
        assert_eq!(decode(&token, &("east", 1)), Ok(Some("abc".to_owned())));
    }

    #[test]
    fn a_token_is_refused_under_another_filter() {
        let token = encode("abc", &("east", 1));
        assert!(decode(&token, &("west", 1)).is_err());
    }

    #[test]
    fn a_pair_cursor_returns_both_keys_and_refuses_a_bad_part() {
        let token = encode_pair("2026-09-30", 2, &"f");
        let parse = |a: &str, b: &str| Some((a.to_owned(), b.parse::<i32>().ok()?));
        assert_eq!(
            decode_pair(&token, &"f", parse),
            Ok(Some(("2026-09-30".to_owned(), 2)))
        );
        let bad = encode_pair("2026-09-30", "x", &"f");
        assert!(decode_pair(&bad, &"f", parse).is_err());
        assert_eq!(decode_pair("", &"f", parse), Ok(None));
    }

    #[test]
    fn garbage_is_not_a_token() {
        assert!(decode("not a token", &()).is_err());
        assert_eq!(decode("", &()), Ok(None));
    }
}
