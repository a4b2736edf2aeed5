//! Microsoft Graph: transport, paging, batching, retries, clouds and authentication.
