//! Table renderer for people (filled in with the device diagnosis work).
