//! A response as a test reads it: status, headers, body, and what a browser would find
//! in the page (form fields, forms, links, recovery codes).

use actix_web::http::{StatusCode, header};

/// A response as a test reads it.
#[derive(Debug)]
pub struct Page {
    pub status: StatusCode,
    pub headers: header::HeaderMap,
    pub body: String,
    pub set_cookies: Vec<String>,
}

impl Page {
    pub fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn has(&self, text: &str) -> bool {
        self.body.contains(text)
    }

    /// The `value` of the input named or identified by `name`.
    pub fn input_value(&self, name: &str) -> Option<String> {
        for pattern in [format!("name=\"{name}\""), format!("id=\"{name}\"")] {
            if let Some(start) = self.body.find(&pattern) {
                let tag_start = self.body[..start].rfind('<')?;
                let tag_end = start + self.body[start..].find('>')?;
                let tag = &self.body[tag_start..tag_end];
                let value = tag.split("value=\"").nth(1)?.split('"').next()?;
                return Some(html_unescape(value));
            }
        }
        None
    }

    /// The body with the CSRF token value removed, for comparing pages.
    pub fn body_without_csrf(&self) -> String {
        match self.input_value("csrf_token") {
            Some(token) if !token.is_empty() => self.body.replace(&token, "CSRF"),
            _ => self.body.clone(),
        }
    }

    /// Every `<form method="post">` on the page: its action and its hidden fields
    /// (the CSRF token left out: `Browser::post` adds the current one).
    pub fn post_forms(&self) -> Vec<(String, Vec<(String, String)>)> {
        let mut forms = Vec::new();
        for chunk in self.body.split("<form").skip(1) {
            let Some(tag_end) = chunk.find('>') else {
                continue;
            };
            let tag = &chunk[..tag_end];
            if !tag.contains("method=\"post\"") {
                continue;
            }
            let Some(action) = attribute(tag, "action") else {
                continue;
            };
            let inner = chunk[tag_end..].split("</form>").next().unwrap_or_default();
            let fields = inner
                .split("<input")
                .skip(1)
                .filter_map(|input| {
                    let tag = &input[..input.find('>')?];
                    if !tag.contains("type=\"hidden\"") {
                        return None;
                    }
                    let name = attribute(tag, "name")?;
                    (name != "csrf_token")
                        .then(|| (name, attribute(tag, "value").unwrap_or_default()))
                })
                .collect();
            forms.push((action, fields));
        }
        forms
    }

    /// Every link target (`href`) on the page.
    pub fn links(&self) -> Vec<String> {
        self.body
            .split("<a ")
            .skip(1)
            .filter_map(|a| attribute(&format!(" {}", &a[..a.find('>')?]), "href"))
            .collect()
    }

    /// Text inside every `<code>` element.
    pub fn codes(&self) -> Vec<String> {
        self.body
            .split("<code>")
            .skip(1)
            .filter_map(|p| p.split("</code>").next())
            .map(html_unescape)
            .collect()
    }
}

/// The value of attribute `name` in the inside of an HTML tag.
fn attribute(tag: &str, name: &str) -> Option<String> {
    let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    let end = start + tag[start..].find('"')?;
    Some(html_unescape(&tag[start..end]))
}

fn html_unescape(s: &str) -> String {
    s.replace("&amp;", "&")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#39;", "'")
}
