//! Reading a response body with a byte limit: chunk by chunk, stopping at the limit, so a 10 GB
//! or endless (chunked) answer from Graph or the identity platform costs at most the limit in
//! memory, never all of it.

/// Why a body could not be read.
#[derive(Debug)]
pub(crate) enum BodyError {
    /// More than the limit (announced by `Content-Length` or counted while reading).
    TooLarge,
    /// The connection failed mid-body.
    Read(reqwest::Error),
}

/// The body of `resp`, at most `limit` bytes.
pub(crate) async fn read_limited(
    mut resp: reqwest::Response,
    limit: u64,
) -> Result<Vec<u8>, BodyError> {
    if resp.content_length().is_some_and(|n| n > limit) {
        return Err(BodyError::TooLarge);
    }
    // Reserve what was announced (bounded by the limit above), not more.
    let hint = resp.content_length().unwrap_or(0).min(1 << 20);
    let mut body = Vec::with_capacity(usize::try_from(hint).unwrap_or(0));
    while let Some(chunk) = resp.chunk().await.map_err(BodyError::Read)? {
        if (body.len() + chunk.len()) as u64 > limit {
            return Err(BodyError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// At most the first `limit` bytes of `resp`'s body; the rest is not read (for error answers,
/// whose status says what matters and whose body only adds a code and a message).
pub(crate) async fn read_prefix(
    mut resp: reqwest::Response,
    limit: u64,
) -> Result<Vec<u8>, reqwest::Error> {
    let cap = usize::try_from(limit).unwrap_or(usize::MAX);
    let mut body = Vec::new();
    while body.len() < cap {
        let Some(chunk) = resp.chunk().await? else {
            break;
        };
        let take = chunk.len().min(cap - body.len());
        body.extend_from_slice(&chunk[..take]);
    }
    Ok(body)
}
