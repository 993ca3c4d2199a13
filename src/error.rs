//! One way to say what went wrong: an error and each of its causes on one line, for logs, for
//! `/readyz` and for the process's last line. Errors keep their causes as `#[source]`; nothing
//! flattens them into strings before they reach here.

use std::error::Error;

/// `err` and its causes, outermost first, joined by `": "` (a cause whose text its parent
/// already ends with is not repeated).
pub fn chain(err: &(dyn Error + 'static)) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !text.is_empty() && !out.ends_with(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("S3 PutObject on s3://b/k")]
    struct Put(#[source] std::io::Error);

    #[derive(Debug, thiserror::Error)]
    #[error("upload failed")]
    struct Upload(#[source] Put);

    #[test]
    fn every_cause_is_said_once_in_order() {
        let e = Upload(Put(std::io::Error::new(
            std::io::ErrorKind::ConnectionRefused,
            "connection refused",
        )));
        assert_eq!(chain(&e), "upload failed: S3 PutObject on s3://b/k: connection refused");
    }

    #[test]
    fn a_cause_its_parent_already_states_is_not_repeated() {
        #[derive(Debug, thiserror::Error)]
        #[error("reading: {0}")]
        struct Flat(#[source] std::io::Error);
        let e = Flat(std::io::Error::other("disk gone"));
        assert_eq!(chain(&e), "reading: disk gone");
    }
}
