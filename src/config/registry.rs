//! `[sink]`'s Schema Registry settings, by the names Connect's `AvroConverter` reads them
//! (`value.converter.schema.registry.url`, `value.converter.basic.auth.*`, …).

use serde::{Deserialize, Serialize};

/// `value.converter.schema.registry.url`: one URL or several, comma-separated (tried in turn:
/// the first that answers serves until it stops answering).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(try_from = "String", into = "String")]
pub struct RegistryUrls(pub Vec<RegistryUrl>);

/// One registry URL: scheme, authority (without credentials) and path prefix, and the
/// credentials the URL carried (`http://user:password@host`).
#[derive(Clone, PartialEq, Eq)]
pub struct RegistryUrl {
    /// `http(s)://host:port/prefix`, without credentials or a trailing slash: safe to log.
    pub base: String,
    /// `user:password` from the URL, for `basic.auth.credentials.source = URL`.
    pub user_info: Option<Secret>,
    pub https: bool,
}

impl std::fmt::Debug for RegistryUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.base)
    }
}

impl TryFrom<String> for RegistryUrls {
    type Error = String;

    fn try_from(s: String) -> Result<Self, String> {
        let urls = s
            .split(',')
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .map(parse_url)
            .collect::<Result<Vec<_>, _>>()?;
        match urls.is_empty() {
            true => Err("names no URL".into()),
            false => Ok(Self(urls)),
        }
    }
}

fn parse_url(url: &str) -> Result<RegistryUrl, String> {
    let (https, rest) = match (url.strip_prefix("https://"), url.strip_prefix("http://")) {
        (Some(rest), _) => (true, rest),
        (_, Some(rest)) => (false, rest),
        _ => return Err(format!("{:?} is not an http:// or https:// URL", redact(url))),
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let (user_info, host) = match authority.rsplit_once('@') {
        Some((user, host)) => (Some(Secret(percent_decode(user))), host),
        None => (None, authority),
    };
    let uri: hyper::Uri = format!("http://{host}/")
        .parse()
        .map_err(|e| format!("{:?} is not a URL: {e}", redact(url)))?;
    if uri.host().is_none_or(str::is_empty) {
        return Err(format!("{:?} has no host", redact(url)));
    }
    let scheme = if https { "https" } else { "http" };
    Ok(RegistryUrl {
        base: format!("{scheme}://{host}{}", path.trim_end_matches('/')),
        user_info,
        https,
    })
}

/// `url` with any credentials replaced, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}***{}", &url[..s + 3], &url[at..]),
        _ => url.to_owned(),
    }
}

fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned()
}

impl From<RegistryUrls> for String {
    fn from(u: RegistryUrls) -> String {
        u.0.iter().map(|u| u.base.as_str()).collect::<Vec<_>>().join(",")
    }
}

/// `value.converter.basic.auth.credentials.source`: where the registry's basic-auth
/// credentials come from.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(try_from = "String", into = "String")]
pub enum AuthSource {
    /// `basic.auth.user.info` (when set; no credentials otherwise).
    #[default]
    UserInfo,
    /// The URL's `user:password@`.
    Url,
}

impl TryFrom<String> for AuthSource {
    type Error = String;

    fn try_from(s: String) -> Result<Self, String> {
        match s.to_ascii_uppercase().as_str() {
            "USER_INFO" => Ok(Self::UserInfo),
            "URL" => Ok(Self::Url),
            "SASL_INHERIT" => Err(
                "SASL_INHERIT (the Kafka client's SASL/PLAIN credentials) is not supported: set USER_INFO and \
                 value.converter.basic.auth.user.info"
                    .into(),
            ),
            other => Err(format!("{other:?} is not a credentials source: USER_INFO or URL")),
        }
    }
}

impl From<AuthSource> for String {
    fn from(a: AuthSource) -> String {
        match a {
            AuthSource::UserInfo => "USER_INFO",
            AuthSource::Url => "URL",
        }
        .into()
    }
}

/// A credential: never shown (`***` in logs, errors and the rendered configuration).
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

impl Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("***")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_a_list_with_credentials_kept_apart_from_what_is_logged() {
        let urls =
            RegistryUrls::try_from(" http://a:8081 , https://bob:p%40ss@b.example/registry/ ".to_owned()).unwrap();
        assert_eq!(urls.0[0].base, "http://a:8081");
        assert_eq!(urls.0[1].base, "https://b.example/registry");
        assert!(urls.0[1].https);
        assert_eq!(urls.0[1].user_info, Some(Secret("bob:p@ss".into())));
        assert!(!format!("{urls:?}").contains("p@ss") && !String::from(urls).contains("bob"));
    }

    #[test]
    fn a_url_that_is_not_one_is_named_without_its_password() {
        let e = RegistryUrls::try_from("localhost:8081".to_owned()).unwrap_err();
        assert!(
            e.contains("\"localhost:8081\" is not an http:// or https:// URL"),
            "{e}"
        );
        let e = RegistryUrls::try_from("http://u:secret@/x".to_owned()).unwrap_err();
        assert!(e.contains("\"http://***@/x\"") && !e.contains("secret"), "{e}");
        assert!(RegistryUrls::try_from(" , ".to_owned()).is_err());
        let e = AuthSource::try_from("SASL_INHERIT".to_owned()).unwrap_err();
        assert!(e.contains("not supported"), "{e}");
    }
}

/// Reads and writes a `[sink]` enum by the names Connect spells it with.
macro_rules! connect_names {
    ($ty:ty, $key:literal, $($name:literal => $variant:expr),+ $(,)?) => {
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                $(if s.eq_ignore_ascii_case($name) { return Ok($variant); })+
                Err(serde::de::Error::custom(format!(
                    concat!("{:?} is not a ", $key, ": ", $($name, " "),+),
                    s
                )))
            }
        }

        impl Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                $(if *self == $variant { return s.serialize_str($name); })+
                s.serialize_str("")
            }
        }
    };
}

use crate::record::avro::compat::{Compatibility, SubjectNames};
use crate::record::avro::json::DecimalFormat;

connect_names!(Compatibility, "schema.compatibility",
    "NONE" => Compatibility::None,
    "BACKWARD" => Compatibility::Backward,
    "FORWARD" => Compatibility::Forward,
    "FULL" => Compatibility::Full,
);

connect_names!(SubjectNames, "subject name strategy",
    "TopicNameStrategy" => SubjectNames::TopicName,
    "RecordNameStrategy" => SubjectNames::RecordName,
    "TopicRecordNameStrategy" => SubjectNames::TopicRecordName,
    "io.confluent.kafka.serializers.subject.TopicNameStrategy" => SubjectNames::TopicName,
    "io.confluent.kafka.serializers.subject.RecordNameStrategy" => SubjectNames::RecordName,
    "io.confluent.kafka.serializers.subject.TopicRecordNameStrategy" => SubjectNames::TopicRecordName,
);

connect_names!(DecimalFormat, "json.decimal.format",
    "BASE64" => DecimalFormat::Base64,
    "NUMERIC" => DecimalFormat::Numeric,
);
