//! Answers from identity providers (Entra and any OpenID provider) are read the same
//! careful way: a redirect is never followed, the body is read in chunks up to a limit,
//! and a failed request is described without the provider's own words.

/// The most bytes of an answer read from a provider.
pub(super) const RESPONSE_LIMIT: usize = 1024 * 1024;

/// Why an answer could not be read.
pub(super) enum ReadFailure {
    /// A redirect (3xx), which is never followed.
    Redirected,
    /// The connection failed while the body was read.
    CutOff(String),
    /// The body is over [`RESPONSE_LIMIT`].
    TooLarge,
}

/// The status and body of `response`, read up to [`RESPONSE_LIMIT`].
pub(super) async fn read_bounded(
    mut response: reqwest::Response,
) -> Result<(u16, Vec<u8>), ReadFailure> {
    let status = response.status().as_u16();
    if (300..400).contains(&status) {
        return Err(ReadFailure::Redirected);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| ReadFailure::CutOff(describe(&e)))?
    {
        if body.len() + chunk.len() > RESPONSE_LIMIT {
            return Err(ReadFailure::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok((status, body))
}

/// A failed request in a few words (never the URL or the provider's text).
pub(super) fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".to_owned()
    } else if e.is_connect() {
        "connection failed".to_owned()
    } else {
        "request failed".to_owned()
    }
}
