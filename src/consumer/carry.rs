//! Which of a record's key, headers and timestamp type the router copies out of librdkafka's
//! message: only what the sinks write (`store.kafka.keys`, `store.kafka.headers`,
//! `store.kafka.metadata`), so the default path copies nothing more than the value.

use bytes::Bytes;
use rdkafka::bindings as rdsys;
use rdkafka::message::{BorrowedMessage, Headers, Message, Timestamp};

use crate::record::KeyHeaders;

/// What to copy from each message.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Carry {
    pub keys: bool,
    pub headers: bool,
    pub metadata: bool,
}

impl Carry {
    /// What the sinks of `rules` write beside their data files.
    pub fn of(rules: &crate::sink::rules::Rules) -> Self {
        rules.companions.as_ref().map_or(Self::default(), |c| Self {
            keys: c.wants_keys(),
            headers: c.wants_headers(),
            metadata: c.wants_metadata(),
        })
    }

    fn any(&self) -> bool {
        self.keys || self.headers || self.metadata
    }

    /// The key and headers of a message the consumer's own queue gave.
    pub fn borrowed(&self, m: &BorrowedMessage<'_>) -> Option<Box<KeyHeaders>> {
        if !self.any() {
            return None;
        }
        let key = self.keys.then(|| m.key().map(Bytes::copy_from_slice)).flatten();
        let headers = match (self.headers, m.headers()) {
            (true, Some(h)) => h
                .iter()
                .map(|h| (h.key.to_owned(), h.value.map(Bytes::copy_from_slice)))
                .collect(),
            _ => Vec::new(),
        };
        let log_append_time = matches!(m.timestamp(), Timestamp::LogAppendTime(_));
        Some(Box::new(KeyHeaders {
            key,
            headers,
            log_append_time,
        }))
    }

    /// The key and headers of a message of a batch read.
    ///
    /// # Safety
    /// `m` must be a live message of librdkafka's, not destroyed while this runs.
    pub unsafe fn raw(&self, m: *mut rdsys::rd_kafka_message_t) -> Option<Box<KeyHeaders>> {
        if !self.any() {
            return None;
        }
        // SAFETY: the caller keeps `m` alive; its key pointer and length describe one buffer.
        let msg = unsafe { &*m };
        let key = (self.keys && !msg.key.is_null())
            .then(|| Bytes::copy_from_slice(unsafe { std::slice::from_raw_parts(msg.key as *const u8, msg.key_len) }));
        let mut headers = Vec::new();
        if self.headers {
            let mut hdrs: *mut rdsys::rd_kafka_headers_t = std::ptr::null_mut();
            // SAFETY: a live message and a valid out-pointer; the headers belong to the message.
            let found = unsafe { rdsys::rd_kafka_message_headers(m, &mut hdrs) };
            if found == rdsys::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR && !hdrs.is_null() {
                for idx in 0.. {
                    let (mut name, mut value, mut size) = (std::ptr::null(), std::ptr::null(), 0usize);
                    // SAFETY: `hdrs` is the message's; librdkafka fills the three out-pointers
                    // with pointers into it while `idx` is in range.
                    let err = unsafe { rdsys::rd_kafka_header_get_all(hdrs, idx, &mut name, &mut value, &mut size) };
                    if err != rdsys::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR {
                        break;
                    }
                    // SAFETY: a header's name is a NUL-terminated string and its value `size`
                    // bytes (or null), both owned by the message.
                    let name = unsafe { std::ffi::CStr::from_ptr(name) }.to_string_lossy().into_owned();
                    let value = (!value.is_null()).then(|| {
                        Bytes::copy_from_slice(unsafe { std::slice::from_raw_parts(value as *const u8, size) })
                    });
                    headers.push((name, value));
                }
            }
        }
        let mut kind = rdsys::rd_kafka_timestamp_type_t::RD_KAFKA_TIMESTAMP_NOT_AVAILABLE;
        // SAFETY: a live message and a valid out-pointer.
        unsafe { rdsys::rd_kafka_message_timestamp(m, &mut kind) };
        let log_append_time = kind == rdsys::rd_kafka_timestamp_type_t::RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME;
        Some(Box::new(KeyHeaders {
            key,
            headers,
            log_append_time,
        }))
    }
}
