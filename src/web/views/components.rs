//! Small pieces shared by pages: the CSRF field, message banners, labelled inputs,
//! copyable values.

use maud::{Markup, html};

/// The hidden CSRF field every POST form carries.
pub fn csrf_input(token: &str) -> Markup {
    html! { input type="hidden" name="csrf_token" value=(token); }
}

/// A red banner, announced to screen readers.
pub fn error_banner(message: Option<&str>) -> Markup {
    html! {
        @if let Some(m) = message {
            div.banner.error role="alert" { (m) }
        }
    }
}

/// A red banner for a wait: the page script counts `wait_secs` down in words.
pub fn error_banner_counting(message: Option<&str>, wait_secs: Option<i64>) -> Markup {
    html! {
        @if let Some(m) = message {
            div.banner.error role="alert" data-countdown=[wait_secs] { (m) }
        }
    }
}

/// A green banner.
pub fn notice_banner(message: Option<&str>) -> Markup {
    html! {
        @if let Some(m) = message {
            div.banner.notice role="status" { (m) }
        }
    }
}

/// One line of a connection test: ✓ passed, ⚠ passed but needs attention soon, ✗
/// failed.
pub fn check_item(name: &str, passed: bool, warning: bool, detail: &str) -> Markup {
    let (class, mark) = match (passed, warning) {
        (true, false) => ("pass", "✓ "),
        (true, true) => ("warn", "⚠ "),
        (false, _) => ("fail", "✗ "),
    };
    html! {
        li class=(class) { strong { (mark) (name) } ": " (detail) }
    }
}

/// A wait in words: "1 second", "40 seconds", "about 3 minutes", "about 2 hours".
pub fn wait_in_words(secs: i64) -> String {
    let secs = secs.max(1);
    match secs {
        1 => "1 second".to_owned(),
        2..=90 => format!("{secs} seconds"),
        91..=5_399 => format!("about {} minutes", (secs + 30) / 60),
        _ => format!("about {} hours", (secs + 1_800) / 3_600),
    }
}

/// A labelled input.
pub struct Field<'a> {
    /// Unique on the page (`name` unless set apart with [`Field::id`]).
    pub id: &'a str,
    /// The form field's name.
    pub name: &'a str,
    pub label: &'a str,
    pub kind: &'a str,
    pub autocomplete: &'a str,
    pub value: &'a str,
    pub required: bool,
    pub hint: Option<&'a str>,
    pub autofocus: bool,
}

impl<'a> Field<'a> {
    pub fn new(name: &'a str, label: &'a str, kind: &'a str, autocomplete: &'a str) -> Field<'a> {
        Field {
            id: name,
            name,
            label,
            kind,
            autocomplete,
            value: "",
            required: true,
            hint: None,
            autofocus: false,
        }
    }

    /// An id of its own, for a page with two forms that share a field name.
    pub fn id(mut self, id: &'a str) -> Self {
        self.id = id;
        self
    }

    pub fn value(mut self, value: &'a str) -> Self {
        self.value = value;
        self
    }

    /// Focused when the page opens: the one field a step needs next.
    pub fn focused(mut self, yes: bool) -> Self {
        self.autofocus = yes;
        self
    }

    pub fn optional(mut self) -> Self {
        self.required = false;
        self
    }

    pub fn hint(mut self, hint: &'a str) -> Self {
        self.hint = Some(hint);
        self
    }

    pub fn render(&self) -> Markup {
        let hint_id = format!("{}-hint", self.id);
        html! {
            div.field {
                label for=(self.id) { (self.label) }
                @if let Some(hint) = self.hint {
                    p.hint id=(hint_id) { (hint) }
                }
                input id=(self.id) name=(self.name) type=(self.kind) autocomplete=(self.autocomplete)
                    value=(self.value) required[self.required] autofocus[self.autofocus]
                    aria-describedby=[self.hint.map(|_| hint_id.as_str())];
            }
        }
    }
}

/// A six-digit code input (numeric keyboard on phones), field `code`, element id `id`.
pub fn code_field(id: &str, label: &str, hint: &str) -> Markup {
    code_input(id, label, hint, false)
}

/// The same, focused when the page opens (for a step that asks for nothing else).
pub fn code_field_focused(id: &str, label: &str, hint: &str) -> Markup {
    code_input(id, label, hint, true)
}

fn code_input(id: &str, label: &str, hint: &str, autofocus: bool) -> Markup {
    let hint_id = format!("{id}-hint");
    html! {
        div.field {
            label for=(id) { (label) }
            p.hint id=(hint_id) { (hint) }
            input id=(id) name="code" type="text" inputmode="numeric"
                autocomplete="one-time-code" required aria-describedby=(hint_id)
                autofocus[autofocus];
        }
    }
}

/// A recovery code input: letters and digits, so the full keyboard (field `code`).
pub fn recovery_code_field(id: &str) -> Markup {
    let hint_id = format!("{id}-hint");
    html! {
        div.field {
            label for=(id) { "Recovery code" }
            p.hint id=(hint_id) { "One of the codes you saved when you set up your app. Each works once." }
            input id=(id) name="code" type="text" inputmode="text" autocapitalize="none"
                autocomplete="off" spellcheck="false" required aria-describedby=(hint_id);
        }
    }
}

/// A read-only value with a copy button (the button works only with JavaScript; the
/// value can always be selected by hand).
pub fn copy_field(id: &str, label: &str, value: &str) -> Markup {
    html! {
        div.field.copy {
            label for=(id) { (label) }
            div.copyrow {
                input id=(id) type="text" readonly value=(value);
                button.secondary type="button" data-copy=(id) hidden { "Copy" }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::wait_in_words;

    #[test]
    fn waits_read_as_words() {
        assert_eq!(wait_in_words(1), "1 second");
        assert_eq!(wait_in_words(0), "1 second");
        assert_eq!(wait_in_words(40), "40 seconds");
        assert_eq!(wait_in_words(180), "about 3 minutes");
        assert_eq!(wait_in_words(7_200), "about 2 hours");
    }
}
