//! Mock Microsoft Graph (skeleton; filled in by issue 3).
