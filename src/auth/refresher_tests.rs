//! The refresher under tokio's paused clock: schedule, backoff, expiry, restart.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use ractor::{Actor, ActorRef, ActorStatus};

use super::credentials::CredentialSource;
use super::refresher::{refresh_delay, Clock, RefresherArgs, RefresherMsg, TokenRefresher};
use super::token::{sign_token, TOKEN_EXPIRY};
use super::AuthError;
use crate::kafka::token::TokenCell;

/// Answers from a script (then keeps answering with the last entry), counting calls.
#[derive(Default)]
struct ScriptedCredentials {
    script: Mutex<VecDeque<Result<Option<SystemTime>, &'static str>>>,
    calls: Mutex<Vec<SystemTime>>,
    clock: Mutex<Option<Clock>>,
}

impl CredentialSource for ScriptedCredentials {
    async fn credentials(&self) -> Result<Credentials, AuthError> {
        let now = (self.clock.lock().unwrap().as_ref().unwrap())();
        self.calls.lock().unwrap().push(now);
        let mut script = self.script.lock().unwrap();
        let answer = if script.len() > 1 {
            script.pop_front()
        } else {
            script.front().cloned()
        };
        match answer.unwrap_or(Ok(None)) {
            Ok(expiry) => Ok(Credentials::new("AKIDEXAMPLE", "secret", None, expiry, "test")),
            Err(e) => Err(AuthError::Credentials(e.into())),
        }
    }

    fn describe(&self) -> String {
        "a script".into()
    }
}

/// A wall clock that moves with tokio's (paused) clock.
fn paused_clock() -> Clock {
    let (base_wall, base) = (
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_000_000),
        tokio::time::Instant::now(),
    );
    Arc::new(move || base_wall + base.elapsed())
}

struct Harness {
    actor: ActorRef<RefresherMsg>,
    cell: TokenCell,
    creds: Arc<ScriptedCredentials>,
    clock: Clock,
}

impl Harness {
    async fn start(script: Vec<Result<Option<SystemTime>, &'static str>>, preset: bool) -> Self {
        let clock = paused_clock();
        let creds = Arc::new(ScriptedCredentials::default());
        *creds.script.lock().unwrap() = script.into();
        *creds.clock.lock().unwrap() = Some(clock.clone());
        let cell = TokenCell::new();
        if preset {
            let c = Credentials::new("AKIDEXAMPLE", "secret", None, None, "test");
            cell.publish(sign_token("us-east-1", &c, clock(), "test").unwrap());
        }
        let args = RefresherArgs {
            region: "us-east-1".into(),
            user_agent: "test".into(),
            credentials: creds.clone(),
            cell: cell.clone(),
            clock: clock.clone(),
        };
        let (actor, _) = Actor::spawn(None, TokenRefresher::default(), args).await.unwrap();
        Self {
            actor,
            cell,
            creds,
            clock,
        }
    }

    fn calls(&self) -> usize {
        self.creds.calls.lock().unwrap().len()
    }

    /// Seconds after the first call at which each call happened.
    fn call_times(&self) -> Vec<u64> {
        let calls = self.creds.calls.lock().unwrap();
        calls
            .iter()
            .map(|t| t.duration_since(calls[0]).unwrap().as_secs())
            .collect()
    }

    fn remaining(&self) -> Duration {
        self.cell
            .current()
            .map_or(Duration::ZERO, |t| t.remaining((self.clock)()))
    }
}

async fn advance(d: Duration) {
    // Small steps so timers and actor messages interleave as they would in real time.
    let step = Duration::from_millis(250);
    let mut left = d;
    while !left.is_zero() {
        let s = step.min(left);
        tokio::time::advance(s).await;
        tokio::task::yield_now().await;
        left -= s;
    }
}

#[tokio::test(start_paused = true)]
async fn signs_at_once_then_refreshes_at_eighty_percent_of_the_lifetime() {
    let h = Harness::start(vec![Ok(None)], false).await;
    advance(Duration::from_secs(1)).await;
    assert_eq!(h.calls(), 1, "the first token is signed at start");
    assert!(h.cell.current().is_some());
    advance(Duration::from_secs(715)).await;
    assert_eq!(h.calls(), 1, "nothing before 80% of 900 s");
    advance(Duration::from_secs(10)).await;
    assert_eq!(h.calls(), 2);
    advance(Duration::from_secs(720)).await;
    assert_eq!(h.call_times(), vec![0, 720, 1440]);
}

#[tokio::test(start_paused = true)]
async fn credentials_expiring_sooner_bring_the_refresh_forward() {
    let clock = paused_clock();
    let soon = clock() + Duration::from_secs(100);
    let h = Harness::start(vec![Ok(Some(soon)), Ok(None)], false).await;
    advance(Duration::from_secs(1)).await;
    assert!(h.remaining() <= Duration::from_secs(100), "capped by the credentials");
    advance(Duration::from_secs(80)).await;
    assert_eq!(h.calls(), 2, "refreshed at 80% of the 100 s the credentials had");
    assert!(h.remaining() > Duration::from_secs(800), "then a full-length token");
}

#[tokio::test(start_paused = true)]
async fn failures_back_off_keep_the_valid_token_and_recover() {
    let h = Harness::start(
        vec![
            Ok(None),
            Err("imds timeout"),
            Err("imds timeout"),
            Err("imds timeout"),
            Ok(None),
        ],
        false,
    )
    .await;
    advance(Duration::from_secs(1)).await;
    let first = h.cell.current().unwrap();
    advance(Duration::from_secs(720)).await;
    assert_eq!(h.calls(), 2, "the refresh at 720 s failed");
    assert_eq!(h.cell.current().unwrap(), first, "the still-valid token keeps serving");
    advance(Duration::from_secs(10)).await;
    assert_eq!(h.call_times()[1..], [720, 721, 723, 727], "retries after 1 s, 2 s, 4 s");
    assert_ne!(h.cell.current().unwrap(), first, "the retry that succeeded published");
    assert_eq!(h.actor.get_status(), ActorStatus::Running);
}

#[tokio::test(start_paused = true)]
async fn the_actor_fails_only_once_the_token_has_expired() {
    let h = Harness::start(vec![Ok(None), Err("AccessDenied")], false).await;
    advance(Duration::from_secs(1)).await;
    advance(Duration::from_secs(850)).await;
    assert_eq!(
        h.actor.get_status(),
        ActorStatus::Running,
        "the token is still valid at 851 s"
    );
    assert!(h.calls() > 4, "retrying meanwhile");
    advance(Duration::from_secs(60)).await;
    assert!(h.remaining().is_zero());
    assert_eq!(
        h.actor.get_status(),
        ActorStatus::Stopped,
        "failed, for its supervisor to restart"
    );
    let last = *h.call_times().last().unwrap();
    assert!(
        (898..=900).contains(&last),
        "a last try just before the expiry, at {last} s"
    );
}

#[tokio::test(start_paused = true)]
async fn a_restarted_refresher_reuses_the_token_it_finds() {
    let h = Harness::start(vec![Ok(None)], true).await;
    advance(Duration::from_secs(10)).await;
    assert_eq!(h.calls(), 0, "the token in the cell is fresh: refresh at 80% of it");
    advance(Duration::from_secs(711)).await;
    assert_eq!(h.calls(), 1);
}

#[test]
fn refresh_delay_is_eighty_percent_of_what_is_left_with_a_floor() {
    let c = Credentials::new("AKIDEXAMPLE", "secret", None, None, "test");
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_000_000);
    let t = sign_token("us-east-1", &c, now, "ua").unwrap();
    assert_eq!(refresh_delay(&t, now), TOKEN_EXPIRY.mul_f64(0.8));
    assert_eq!(
        refresh_delay(&t, now + Duration::from_secs(500)),
        Duration::from_secs(320)
    );
    assert_eq!(refresh_delay(&t, now + TOKEN_EXPIRY), Duration::from_secs(1), "floor");
}
