//! Why the mock could not start.

#[derive(Debug, thiserror::Error)]
pub enum MockError {
    #[error("unknown fixture tenant '{0}' (known: contoso, fabrikam, northwind)")]
    UnknownFixture(String),
    #[error("fixture {file}: {message}")]
    Fixture { file: String, message: String },
    #[error("cannot start the mock server: {0}")]
    Io(#[from] std::io::Error),
    #[error("mock server thread failed: {0}")]
    Thread(String),
}
