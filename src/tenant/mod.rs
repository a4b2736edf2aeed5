//! Tenant side: collectors that read Graph into a `TenantSnapshot`.
