//! Which `next` / `rd` return targets are honoured after sign-in: same-origin paths,
//! or absolute URLs on hosts the operator listed in `forward_auth.allowed_hosts`.
//! Everything else (protocol-relative `//host`, `/\host`, `https:host`, encoded or
//! whitespace-smuggled variants, `javascript:`…) is refused, and callers fall back to
//! the default page.

use url::Url;

/// The redirect rules of one installation.
#[derive(Clone, Debug)]
pub struct RedirectPolicy {
    own: Url,
    allowed_hosts: Vec<String>,
}

impl RedirectPolicy {
    /// `public_url` is this installation's own origin; `allowed_hosts` are exact host
    /// names (optionally `host:port`) of protected apps.
    pub fn new(public_url: &Url, allowed_hosts: &[String]) -> RedirectPolicy {
        RedirectPolicy {
            own: public_url.clone(),
            allowed_hosts: allowed_hosts
                .iter()
                .map(|h| h.to_ascii_lowercase())
                .collect(),
        }
    }

    /// The target to redirect to, or `None` when `raw` is not safe.
    pub fn safe_target(&self, raw: &str) -> Option<String> {
        if raw.is_empty() || raw.len() > 2048 || has_smuggling(raw) {
            return None;
        }
        // Decode once and look again: `%2F%2Fevil` or `%5Cevil` must not pass.
        let decoded = percent_decode(raw)?;
        if has_smuggling(&decoded) {
            return None;
        }
        if raw.starts_with('/') {
            return (!raw.starts_with("//") && !decoded.starts_with("//")).then(|| raw.to_owned());
        }
        let url = Url::parse(raw).ok()?;
        if !matches!(url.scheme(), "http" | "https")
            || !url.username().is_empty()
            || url.password().is_some()
            || !raw
                .to_ascii_lowercase()
                .starts_with(&format!("{}://", url.scheme()))
        {
            return None;
        }
        // Never step down from https to http.
        if self.own.scheme() == "https" && url.scheme() != "https" {
            return None;
        }
        let host = url.host_str()?.to_ascii_lowercase();
        let same_origin = url.origin() == self.own.origin();
        let host_port = url
            .port()
            .map(|p| format!("{host}:{p}"))
            .unwrap_or_else(|| host.clone());
        let listed = self
            .allowed_hosts
            .iter()
            .any(|allowed| *allowed == host || *allowed == host_port);
        (same_origin || listed).then(|| url.to_string())
    }
}

/// Backslashes, control characters and whitespace: browsers drop or reinterpret them.
fn has_smuggling(s: &str) -> bool {
    s.chars()
        .any(|c| c == '\\' || c.is_control() || c.is_whitespace())
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RedirectPolicy {
        RedirectPolicy::new(
            &Url::parse("https://login.example.com").unwrap(),
            &[
                "app.example.com".to_owned(),
                "wiki.example.com:8443".to_owned(),
            ],
        )
    }

    #[test]
    fn honours_own_paths_and_listed_hosts() {
        let p = policy();
        assert_eq!(p.safe_target("/account").as_deref(), Some("/account"));
        assert_eq!(
            p.safe_target("/admin?x=1#y").as_deref(),
            Some("/admin?x=1#y")
        );
        assert_eq!(
            p.safe_target("https://app.example.com/tickets?id=4")
                .as_deref(),
            Some("https://app.example.com/tickets?id=4")
        );
        assert!(p.safe_target("https://wiki.example.com:8443/").is_some());
        assert!(p.safe_target("https://login.example.com/account").is_some());
    }

    #[test]
    fn refuses_everything_else() {
        let p = policy();
        for bad in [
            "",
            "//evil.com",
            "///evil.com",
            "/\\evil.com",
            "\\\\evil.com",
            "https:evil.com",
            "https:/evil.com",
            "http://app.example.com/",
            "https://evil.com/",
            "https://app.example.com.evil.com/",
            "https://evil.com@app.example.com/",
            "https://app.example.com@evil.com/",
            "https://wiki.example.com/",
            "javascript:alert(1)",
            "JavaScript:alert(1)",
            "data:text/html,hi",
            "%2F%2Fevil.com",
            "/%2F/evil.com",
            "/%2f%2fevil.com",
            "%2f%2fevil.com",
            "/%5Cevil.com",
            "/%09/evil.com",
            "/\t/evil.com",
            "/\n/evil.com",
            " //evil.com",
            "/%zz",
            "evil.com",
        ] {
            assert_eq!(p.safe_target(bad), None, "{bad:?}");
        }
    }
}
