//! Hashtags: the `#words` of a post's text, as the search index keeps them.
//!
//! A tag starts with `#` at the start of the text or after a character
//! that is neither a letter, a digit, `_`, `/` nor `&` (so `a#b`, a URL's
//! `/#anchor` and `&#38;` are not tags), runs over letters, digits and
//! `_`, has at least one letter, and is kept in lower case. A post has at
//! most [`MAX_TAGS`] distinct tags of at most [`MAX_TAG_CHARS`] characters
//! (a longer run is not a tag).

/// Most distinct tags kept per post.
pub const MAX_TAGS: usize = 16;
/// Longest tag, in characters (without the `#`).
pub const MAX_TAG_CHARS: usize = 64;

fn tag_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The tags of `text`, lower case, without `#`, in order of first use.
pub fn hashtags(text: &str) -> Vec<String> {
    let mut tags: Vec<String> = Vec::new();
    let mut prev: Option<char> = None;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let starts =
            c == '#' && prev.is_none_or(|p| !(tag_char(p) || p == '/' || p == '&' || p == '#'));
        prev = Some(c);
        if !starts {
            continue;
        }
        let rest = &text[i + 1..];
        let len: usize = rest
            .chars()
            .take_while(|c| tag_char(*c))
            .map(char::len_utf8)
            .sum();
        let word = &rest[..len];
        if len > 0 {
            // Skip the run so a `#` inside it is not looked at again.
            while chars.peek().is_some_and(|(j, _)| *j < i + 1 + len) {
                prev = chars.next().map(|(_, c)| c);
            }
        }
        if word.is_empty()
            || word.chars().count() > MAX_TAG_CHARS
            || !word.chars().any(char::is_alphabetic)
        {
            continue;
        }
        let tag = word.to_lowercase();
        if !tags.contains(&tag) {
            tags.push(tag);
            if tags.len() == MAX_TAGS {
                break;
            }
        }
    }
    tags
}

/// The tag a search for `query` names, when the query is one hashtag
/// (`#Birds` → `birds`).
pub fn tag_query(query: &str) -> Option<String> {
    let q = query.trim();
    let tags = hashtags(q);
    (tags.len() == 1 && q.starts_with('#') && q[1..].chars().all(tag_char)).then(|| tags[0].clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn tags_are_found_where_people_write_them() {
        assert_eq!(hashtags("#Birds at #dusk, #birds!"), vec!["birds", "dusk"]);
        assert_eq!(
            hashtags("(#murmuration) #Été_2026"),
            vec!["murmuration", "été_2026"]
        );
        assert_eq!(hashtags("line\n#two"), vec!["two"]);
    }

    #[test]
    fn what_is_not_a_tag() {
        assert!(hashtags("a#b c##d https://x.org/#anchor &#38; # alone #123 #").is_empty());
        let long = format!("#{}", "a".repeat(MAX_TAG_CHARS + 1));
        assert!(hashtags(&long).is_empty());
        let longest = format!("#{}", "a".repeat(MAX_TAG_CHARS));
        assert_eq!(hashtags(&longest).len(), 1);
        let many: String = (0..40).map(|i| format!("#t{i} ")).collect();
        assert_eq!(hashtags(&many).len(), MAX_TAGS);
    }

    #[test]
    fn a_search_for_one_tag_is_a_tag_search() {
        assert_eq!(tag_query("  #Birds "), Some("birds".into()));
        assert_eq!(tag_query("birds"), None);
        assert_eq!(tag_query("#birds #dusk"), None);
        assert_eq!(tag_query("#birds!"), None);
        assert_eq!(tag_query("#123"), None);
    }

    proptest! {
        #[test]
        fn any_text_gives_bounded_lower_case_tags(text in "\\PC{0,300}") {
            let tags = hashtags(&text);
            prop_assert!(tags.len() <= MAX_TAGS);
            for t in &tags {
                // Lower-casing may add a combining mark (İ → i̇).
                prop_assert!(!t.is_empty() && t.chars().count() <= MAX_TAG_CHARS * 3);
                prop_assert!(!t.contains('#') && !t.chars().any(char::is_whitespace));
                prop_assert_eq!(t.clone(), t.to_lowercase());
            }
        }
    }
}
