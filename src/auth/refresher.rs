//! The token-refresh actor: keeps a valid MSK IAM token in the [`TokenCell`].
//!
//! It signs a token, publishes it, and schedules the next signing at 80% of the token's remaining
//! lifetime (a token capped by short-lived credentials is refreshed correspondingly sooner). A
//! failed signing is retried with exponential backoff (1 s … 60 s, never past the expiry) while
//! the still-valid token keeps serving; only when the token in the cell has expired does the
//! actor fail, so its supervisor restarts it and the restart budget decides what happens next.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use ractor::{Actor, ActorProcessingErr, ActorRef};
use supervisors::{ChildSpec, Restart};

use super::credentials::CredentialSource;
use super::token::{sign_token, MskToken};
use super::AuthError;
use crate::kafka::token::TokenCell;
use crate::telemetry::events;

/// Refresh when this share of the token's lifetime has passed.
pub const REFRESH_AT: f64 = 0.8;
/// Never refresh sooner than this after a success (credentials about to expire are the
/// provider's to renew; this stops a hot loop if it hands back the same ones).
pub const MIN_REFRESH_DELAY: Duration = Duration::from_secs(1);
/// How often the expiry gauge is updated between refreshes.
const GAUGE_EVERY: Duration = Duration::from_secs(5);

/// The wall clock used for signing; tests pass one that follows tokio's paused clock.
pub type Clock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

/// The system clock.
pub fn system_clock() -> Clock {
    Arc::new(SystemTime::now)
}

/// When to refresh `token`, signed just now: after 80% of what is left of it.
pub fn refresh_delay(token: &MskToken, now: SystemTime) -> Duration {
    token.remaining(now).mul_f64(REFRESH_AT).max(MIN_REFRESH_DELAY)
}

/// The retry delays after failed refreshes.
fn retry_backoff() -> impl Iterator<Item = Duration> + Send {
    supervisors::backoff::steady_delays(Duration::from_secs(1), Duration::from_secs(60))
}

/// What the refresher needs.
pub struct RefresherArgs<C> {
    pub region: String,
    pub user_agent: String,
    pub credentials: Arc<C>,
    pub cell: TokenCell,
    pub clock: Clock,
}

impl<C> Clone for RefresherArgs<C> {
    fn clone(&self) -> Self {
        Self {
            region: self.region.clone(),
            user_agent: self.user_agent.clone(),
            credentials: self.credentials.clone(),
            cell: self.cell.clone(),
            clock: self.clock.clone(),
        }
    }
}

impl<C: CredentialSource> RefresherArgs<C> {
    /// Signs one token with fresh credentials.
    pub async fn sign(&self) -> Result<MskToken, AuthError> {
        let credentials = self.credentials.credentials().await?;
        sign_token(&self.region, &credentials, (self.clock)(), &self.user_agent)
    }
}

/// Messages (all internal: the actor drives itself with timers).
#[derive(Debug)]
pub enum RefresherMsg {
    Refresh,
    Gauge,
}

pub struct RefresherState<C> {
    args: RefresherArgs<C>,
    backoff: Box<dyn Iterator<Item = Duration> + Send>,
    /// The pending refresh timer (replaced, never stacked).
    timer: Option<tokio::task::JoinHandle<()>>,
}

/// The token-refresh actor.
pub struct TokenRefresher<C>(std::marker::PhantomData<fn() -> C>);

impl<C> Default for TokenRefresher<C> {
    fn default() -> Self {
        Self(std::marker::PhantomData)
    }
}

impl<C: CredentialSource> Actor for TokenRefresher<C> {
    type Msg = RefresherMsg;
    type State = RefresherState<C>;
    type Arguments = RefresherArgs<C>;

    async fn pre_start(
        &self,
        myself: ActorRef<RefresherMsg>,
        args: Self::Arguments,
    ) -> Result<Self::State, ActorProcessingErr> {
        // A token the previous incarnation left is reused until its refresh time.
        let now = (args.clock)();
        let first = args
            .cell
            .current()
            .map_or(Duration::ZERO, |t| refresh_delay(&t, now).min(t.remaining(now)));
        myself.send_interval(GAUGE_EVERY, || RefresherMsg::Gauge);
        let mut st = RefresherState {
            args,
            backoff: Box::new(retry_backoff()),
            timer: None,
        };
        st.schedule(&myself, first);
        Ok(st)
    }

    async fn post_stop(&self, _: ActorRef<RefresherMsg>, st: &mut Self::State) -> Result<(), ActorProcessingErr> {
        if let Some(t) = st.timer.take() {
            t.abort();
        }
        Ok(())
    }

    async fn handle(
        &self,
        myself: ActorRef<RefresherMsg>,
        msg: RefresherMsg,
        st: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            RefresherMsg::Refresh => st.refresh(&myself).await,
            RefresherMsg::Gauge => {
                events::token_remaining(st.remaining());
                Ok(())
            }
        }
    }
}

impl<C: CredentialSource> RefresherState<C> {
    fn remaining(&self) -> Duration {
        let now = (self.args.clock)();
        self.args.cell.current().map_or(Duration::ZERO, |t| t.remaining(now))
    }

    fn schedule(&mut self, myself: &ActorRef<RefresherMsg>, after: Duration) {
        if let Some(t) = self.timer.take() {
            t.abort();
        }
        let me = myself.clone();
        self.timer = Some(tokio::spawn(async move {
            tokio::time::sleep(after).await;
            let _ = me.cast(RefresherMsg::Refresh);
        }));
    }

    async fn refresh(&mut self, myself: &ActorRef<RefresherMsg>) -> Result<(), ActorProcessingErr> {
        match self.args.sign().await {
            Ok(token) => {
                let now = (self.args.clock)();
                let (remaining, next) = (token.remaining(now), refresh_delay(&token, now));
                self.args.cell.publish(token);
                self.backoff = Box::new(retry_backoff());
                events::token_refreshed(remaining, next);
                self.schedule(myself, next);
                Ok(())
            }
            Err(e) => {
                let remaining = self.remaining();
                if remaining.is_zero() {
                    events::token_refresh_failed(&e, remaining, Duration::ZERO);
                    return Err(format!(
                        "the MSK IAM token expired and could not be refreshed: {}",
                        crate::error::chain(&e)
                    )
                    .into());
                }
                let delay = self.backoff.next().unwrap_or(Duration::from_secs(60));
                // Retry once more just before the expiry rather than sleep past it.
                let delay = delay.min(
                    remaining
                        .saturating_sub(Duration::from_millis(500))
                        .max(MIN_REFRESH_DELAY),
                );
                events::token_refresh_failed(&e, remaining, delay);
                self.schedule(myself, delay);
                Ok(())
            }
        }
    }
}

/// The refresher as a supervised child (permanent: the token must always be kept fresh).
pub fn refresher_spec<C: CredentialSource>(args: RefresherArgs<C>, restart: Restart) -> ChildSpec {
    ChildSpec::new("token-refresher", "token_refresher", restart, move |sup| {
        let args = args.clone();
        async move {
            TokenRefresher::<C>::spawn_linked(None, TokenRefresher::default(), args, sup)
                .await
                .map(|(a, _)| a.get_cell())
        }
    })
}
