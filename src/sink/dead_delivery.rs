//! Delivering a dead-letter batch to the dead-letter topic (`errors.deadletterqueue.topic.name`):
//! each letter is sent until the broker acknowledges it, and only the letters not acknowledged
//! yet are sent again. A letter the topic refuses for good because of the letter itself (over the
//! producer's `message.max.bytes`) is set aside in S3 under `dlq/`, the topic's answer added to
//! its reason, so it holds nothing up; a topic that is missing or refuses access waits for a
//! person, said once in ten attempts, with its records in Kafka.

use std::time::Duration;

use backon::BackoffBuilder;

use super::dead_letter::{DeadLetter, DeadLetterTopic};
use super::gate::Gate;
use crate::error::{chain, ErrorClass};
use crate::record::TopicPartition;
use crate::telemetry::reachability::{Dependency, Reachability};
use crate::telemetry::refusals;

/// Sends `letters` of `tp` until each is acknowledged or refused for good; returns the refused
/// ones, each with the topic's answer added to its reason.
pub async fn send_each(
    dlq: &dyn DeadLetterTopic,
    gate: &Gate,
    reach: &Reachability,
    tp: &TopicPartition,
    letters: &[DeadLetter],
) -> Vec<DeadLetter> {
    let (mut left, mut refused) = (letters.to_vec(), Vec::new());
    let mut delays = super::upload::backoff().build();
    let (mut failing, mut attempts) = (None, 0u32);
    loop {
        let mut outcomes = dlq.send(&tp.topic, tp.partition, &left).await.into_iter();
        // The answer that keeps letters waiting: its class and its words.
        let (mut again, mut last) = (Vec::new(), None);
        for d in left {
            match outcomes.next() {
                Some(Ok(())) => {}
                Some(Err(e)) if e.class() == ErrorClass::Record => refused.push(DeadLetter {
                    reason: format!("{}; the dead-letter topic refused it: {}", d.reason, chain(&e)),
                    ..d
                }),
                Some(Err(e)) => {
                    again.push(d);
                    last = Some((e.class(), chain(&e)));
                }
                None => {
                    again.push(d);
                    last = Some((ErrorClass::Transient, "no answer for it".to_owned()));
                }
            }
        }
        left = again;
        let Some((class, why)) = last else { break };
        failing.get_or_insert_with(|| gate.retrying());
        let delay = delays.next().unwrap_or(Duration::from_secs(30));
        if class == ErrorClass::Transient {
            reach.failed(Dependency::Kafka, &why);
        } else {
            reach.noted(Dependency::Kafka, &why);
            if attempts % 10 == 0 {
                refusals::dead_letter_topic_refused(tp, left.len(), class, &why, attempts + 1);
            }
        }
        attempts += 1;
        tokio::time::sleep(delay).await;
    }
    if failing.is_some() {
        reach.answered(Dependency::Kafka);
    }
    refused
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use rdkafka::error::{KafkaError as RdKafkaError, RDKafkaErrorCode as Code};

    use super::*;
    use crate::kafka::KafkaError;

    /// A dead-letter topic that refuses values over 10 bytes for good, answers `failing` first
    /// with `code` for each odd offset, and remembers every offset sent.
    struct Topic {
        sent: Mutex<Vec<Vec<i64>>>,
        failing: Mutex<u32>,
        code: Code,
    }

    impl DeadLetterTopic for Topic {
        fn send<'a>(
            &'a self,
            _: &'a str,
            _: i32,
            letters: &'a [DeadLetter],
        ) -> futures::future::BoxFuture<'a, Vec<Result<(), KafkaError>>> {
            self.sent
                .lock()
                .unwrap()
                .push(letters.iter().map(|d| d.offset).collect());
            let mut failing = self.failing.lock().unwrap();
            let fail_odd = *failing > 0;
            *failing = failing.saturating_sub(1);
            let err = |code| KafkaError::Produce {
                topic: "dlq".into(),
                source: RdKafkaError::MessageProduction(code),
            };
            let out = letters
                .iter()
                .map(|d| match d.value.as_ref().map_or(0, |v| v.len()) {
                    n if n > 10 => Err(err(Code::MessageSizeTooLarge)),
                    _ if fail_odd && d.offset % 2 == 1 => Err(err(self.code)),
                    _ => Ok(()),
                })
                .collect();
            Box::pin(async move { out })
        }
    }

    fn letter(offset: i64, value: &str) -> DeadLetter {
        DeadLetter {
            offset,
            timestamp_ms: None,
            value: Some(bytes::Bytes::from(value.to_owned())),
            reason: "not JSON".into(),
        }
    }

    async fn run(code: Code, failing: u32) -> (Vec<DeadLetter>, Vec<Vec<i64>>, Gate) {
        let topic = Topic {
            sent: Mutex::default(),
            failing: Mutex::new(failing),
            code,
        };
        let gate = Gate::new(1_000);
        let letters = [
            letter(0, "a"),
            letter(1, "b"),
            letter(2, "far too long a value"),
            letter(3, "d"),
        ];
        let tp = TopicPartition::new("t", 0);
        let refused = send_each(&topic, &gate, &Reachability::default(), &tp, &letters).await;
        let sent = topic.sent.into_inner().unwrap();
        (refused, sent, gate)
    }

    #[tokio::test(start_paused = true)]
    async fn only_unacknowledged_letters_are_sent_again_and_a_letter_too_large_is_set_aside() {
        let (refused, sent, _) = run(Code::RequestTimedOut, 2).await;
        assert_eq!(
            sent,
            vec![vec![0, 1, 2, 3], vec![1, 3], vec![1, 3]],
            "acknowledged ones are not resent"
        );
        assert_eq!(refused.len(), 1);
        assert_eq!(refused[0].offset, 2);
        assert!(
            refused[0]
                .reason
                .starts_with("not JSON; the dead-letter topic refused it: producing to the topic dlq"),
            "{}",
            refused[0].reason
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_topic_that_needs_a_person_is_waited_on_and_the_partition_paused_meanwhile() {
        let (refused, sent, gate) = run(Code::TopicAuthorizationFailed, 25).await;
        assert_eq!(sent.len(), 26, "sent again until access is granted");
        assert!(sent[1..].iter().all(|s| s == &vec![1, 3]));
        assert_eq!(refused.iter().map(|d| d.offset).collect::<Vec<_>>(), vec![2]);
        assert!(!gate.is_failing(), "the pause ends with the delivery");
    }
}
