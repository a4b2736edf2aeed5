//! Reference data: error codes, Windows releases, service plans, well-known ids.
