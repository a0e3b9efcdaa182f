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

/// A green banner.
pub fn notice_banner(message: Option<&str>) -> Markup {
    html! {
        @if let Some(m) = message {
            div.banner.notice role="status" { (m) }
        }
    }
}

/// A labelled input.
pub struct Field<'a> {
    pub id: &'a str,
    pub label: &'a str,
    pub kind: &'a str,
    pub autocomplete: &'a str,
    pub value: &'a str,
    pub required: bool,
    pub hint: Option<&'a str>,
}

impl<'a> Field<'a> {
    pub fn new(id: &'a str, label: &'a str, kind: &'a str, autocomplete: &'a str) -> Field<'a> {
        Field {
            id,
            label,
            kind,
            autocomplete,
            value: "",
            required: true,
            hint: None,
        }
    }

    pub fn value(mut self, value: &'a str) -> Self {
        self.value = value;
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
                input id=(self.id) name=(self.id) type=(self.kind) autocomplete=(self.autocomplete)
                    value=(self.value) required[self.required]
                    aria-describedby=[self.hint.map(|_| hint_id.as_str())];
            }
        }
    }
}

/// A six-digit code input (numeric keyboard on phones).
pub fn code_field(label: &str, hint: &str) -> Markup {
    html! {
        div.field {
            label for="code" { (label) }
            p.hint id="code-hint" { (hint) }
            input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code"
                required aria-describedby="code-hint";
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
