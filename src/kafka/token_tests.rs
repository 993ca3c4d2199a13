//! The cell librdkafka's callback reads: valid token, expired token, none; never blocking.

use std::sync::mpsc;
use std::time::{Duration, SystemTime};

use super::token::{MskToken, TokenCell, PRINCIPAL};

/// A token as the refresher publishes one: signed now, valid for 900 s.
fn token_at(now: SystemTime) -> MskToken {
    MskToken::new("eyJ0b2tlbiI".into(), now, now + Duration::from_secs(900))
}

#[test]
fn the_callback_answer_carries_the_token_and_its_expiry() {
    let now = SystemTime::now();
    let cell = TokenCell::new();
    let t = token_at(now);
    cell.publish(t.clone());
    let answer = cell.oauth_token(now).unwrap();
    assert_eq!(answer.token, t.secret_value());
    assert_eq!(answer.principal_name, PRINCIPAL);
    assert_eq!(answer.lifetime_ms, t.expires_at_unix_ms());
}

#[test]
fn no_token_or_an_expired_one_is_an_error_without_secrets() {
    let now = SystemTime::now();
    let cell = TokenCell::new();
    assert!(cell
        .oauth_token(now)
        .err()
        .expect("an error")
        .to_string()
        .contains("no MSK IAM token yet"));
    let t = token_at(now - Duration::from_secs(901));
    cell.publish(t.clone());
    let err = cell.oauth_token(now).err().expect("an error").to_string();
    assert!(err.contains("expired"), "{err}");
    assert!(!err.contains(t.secret_value()));
}

#[test]
fn reading_never_waits_for_a_refresh_in_progress() {
    // The refresher signs outside the lock and holds it only to swap a pointer; a reader on
    // another thread (librdkafka's) gets an answer while a writer is hammering the cell.
    let cell = TokenCell::new();
    cell.publish(token_at(SystemTime::now()));
    let writer = {
        let cell = cell.clone();
        std::thread::spawn(move || {
            for _ in 0..2_000 {
                cell.publish(token_at(SystemTime::now()));
            }
        })
    };
    let (tx, rx) = mpsc::channel();
    let reader = {
        let cell = cell.clone();
        std::thread::spawn(move || {
            for _ in 0..10_000 {
                cell.oauth_token(SystemTime::now()).unwrap();
            }
            tx.send(()).unwrap();
        })
    };
    rx.recv_timeout(Duration::from_secs(60))
        .expect("10,000 reads finish while a writer publishes");
    reader.join().unwrap();
    writer.join().unwrap();
}
