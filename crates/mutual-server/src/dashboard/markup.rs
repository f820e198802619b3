//! HTML built by hand, with one rule that makes it safe: markup can only be written from
//! `&'static str` literals ([`Markup::raw`]), and everything else — a certificate's subject,
//! a lint's details, a user's search — goes through [`Markup::text`], which escapes it.
//! A subject such as `CN=<script>` is text on the page, never markup.

use std::fmt::{self, Write};

/// A page or a fragment of one, being written.
#[derive(Debug, Default)]
pub(crate) struct Markup(String);

impl Markup {
    pub(crate) fn new() -> Self {
        Self(String::with_capacity(4096))
    }

    /// Markup written by this program: a literal, never a value from outside.
    pub(crate) fn raw(&mut self, markup: &'static str) -> &mut Self {
        self.0.push_str(markup);
        self
    }

    /// Any value, escaped for use in element content and in quoted attribute values.
    pub(crate) fn text(&mut self, value: impl fmt::Display) -> &mut Self {
        let mut escaper = Escaper(&mut self.0);
        let _ = write!(escaper, "{value}");
        self
    }

    /// A fragment built with the same rules.
    pub(crate) fn append(&mut self, fragment: Markup) -> &mut Self {
        self.0.push_str(&fragment.0);
        self
    }

    pub(crate) fn into_string(self) -> String {
        self.0
    }
}

/// Writes what it is given with `& < > " '` replaced by character references.
struct Escaper<'a>(&'a mut String);

impl Write for Escaper<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for c in s.chars() {
            match c {
                '&' => self.0.push_str("&amp;"),
                '<' => self.0.push_str("&lt;"),
                '>' => self.0.push_str("&gt;"),
                '"' => self.0.push_str("&quot;"),
                '\'' => self.0.push_str("&#39;"),
                c => self.0.push(c),
            }
        }
        Ok(())
    }
}

/// `value` escaped, for a query string inside an attribute: percent-encoded first.
pub(crate) fn query_value(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_escapes_every_character_that_could_end_text_or_an_attribute() {
        let mut m = Markup::new();
        m.raw("<p title=\"")
            .text("\"><script>alert('x')</script>&")
            .raw("\">");
        assert_eq!(
            m.into_string(),
            "<p title=\"&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;\">"
        );
    }

    #[test]
    fn text_leaves_ordinary_text_alone() {
        let mut m = Markup::new();
        m.text("CN=alice, O=Example — été");
        assert_eq!(m.into_string(), "CN=alice, O=Example — été");
    }
}
