//! S3's endpoint rules, evaluated once per request shape (in practice per bucket) instead of
//! twice per request.
//!
//! The SDK picks each request's URL and signing scheme by running S3's endpoint rules (a
//! decision tree over the bucket name, region, endpoint URL and flags), once to choose the
//! auth scheme and once more for the request. Its own resolver remembers only its last answer,
//! and the rules' parameters include the object key, so a sink whose every PUT has a new key
//! ran the rules twice per file: 7% of a small PUT's instructions (callgrind,
//! `benches/RESULTS.md`). The rules never read the key (it is only among their parameters), so
//! this resolver keeps the SDK's answer for each request shape, everything but the key, and
//! hands out a copy; a listing's prefix or a copy's source, which vary per request, are not
//! kept. Anything it has not seen goes to the SDK's rules.

use std::sync::Mutex;

use aws_sdk_s3::config::endpoint::{DefaultResolver, Endpoint, EndpointFuture, Params, ResolveEndpoint};

/// Request shapes remembered; a sink uses one bucket, a few shapes at most.
const KEPT: usize = 8;

/// The SDK's endpoint rules with their answers kept per request shape: see the module
/// documentation.
#[derive(Debug, Default)]
pub struct KeptEndpoints {
    rules: DefaultResolver,
    kept: Mutex<Vec<(Params, Endpoint)>>,
}

impl KeptEndpoints {
    fn kept_for(&self, params: &Params) -> Option<Endpoint> {
        let kept = self.kept.lock().ok()?;
        kept.iter().find(|(p, _)| same_shape(p, params)).map(|(_, e)| e.clone())
    }

    fn keep(&self, params: &Params, endpoint: &Endpoint) {
        if params.prefix().is_some() || params.copy_source().is_some() {
            return;
        }
        if let Ok(mut kept) = self.kept.lock() {
            if kept.len() < KEPT && !kept.iter().any(|(p, _)| same_shape(p, params)) {
                kept.push((params.clone(), endpoint.clone()));
            }
        }
    }
}

impl ResolveEndpoint for KeptEndpoints {
    fn resolve_endpoint<'a>(&'a self, params: &'a Params) -> EndpointFuture<'a> {
        if let Some(endpoint) = self.kept_for(params) {
            return EndpointFuture::ready(Ok(endpoint));
        }
        EndpointFuture::new(async move {
            let endpoint = self.rules.resolve_endpoint(params).await?;
            self.keep(params, &endpoint);
            Ok(endpoint)
        })
    }
}

/// The parameters [`same_shape`] compares: every one of the SDK's but the key (a test holds
/// this list to the SDK's, so a parameter a new SDK adds cannot be missed).
#[cfg(test)]
const SHAPE: [&str; 16] = [
    "bucket",
    "region",
    "use_fips",
    "use_dual_stack",
    "endpoint",
    "force_path_style",
    "accelerate",
    "use_global_endpoint",
    "use_object_lambda_endpoint",
    "prefix",
    "copy_source",
    "disable_access_points",
    "disable_multi_region_access_points",
    "use_arn_region",
    "use_s3_express_control_endpoint",
    "disable_s3_express_session_auth",
];

/// Whether two requests' parameters differ at most in their key.
fn same_shape(a: &Params, b: &Params) -> bool {
    a.bucket() == b.bucket()
        && a.region() == b.region()
        && a.use_fips() == b.use_fips()
        && a.use_dual_stack() == b.use_dual_stack()
        && a.endpoint() == b.endpoint()
        && a.force_path_style() == b.force_path_style()
        && a.accelerate() == b.accelerate()
        && a.use_global_endpoint() == b.use_global_endpoint()
        && a.use_object_lambda_endpoint() == b.use_object_lambda_endpoint()
        && a.prefix() == b.prefix()
        && a.copy_source() == b.copy_source()
        && a.disable_access_points() == b.disable_access_points()
        && a.disable_multi_region_access_points() == b.disable_multi_region_access_points()
        && a.use_arn_region() == b.use_arn_region()
        && a.use_s3_express_control_endpoint() == b.use_s3_express_control_endpoint()
        && a.disable_s3_express_session_auth() == b.disable_s3_express_session_auth()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(bucket: &str, region: &str, endpoint: Option<&str>, key: Option<&str>) -> Params {
        Params::builder()
            .bucket(bucket)
            .region(region)
            .set_endpoint(endpoint.map(str::to_owned))
            .force_path_style(endpoint.is_some())
            .use_fips(false)
            .use_dual_stack(false)
            .accelerate(false)
            .use_global_endpoint(false)
            .disable_multi_region_access_points(false)
            .set_key(key.map(str::to_owned))
            .build()
            .unwrap()
    }

    /// Shapes the sink meets (AWS, a path-style server, dotted and dashed bucket names, an
    /// access point ARN, other regions) and keys of every kind.
    fn shapes() -> Vec<(String, String, Option<String>)> {
        let mut shapes = Vec::new();
        for bucket in [
            "ticks",
            "my.dotted.bucket",
            "a-b-c-123",
            "arn:aws:s3:us-west-2:123456789012:accesspoint/ap",
        ] {
            for region in ["us-east-1", "eu-west-1", "us-west-2", "cn-north-1"] {
                for endpoint in [None, Some("http://127.0.0.1:9000"), Some("https://minio.example:443")] {
                    shapes.push((bucket.to_owned(), region.to_owned(), endpoint.map(str::to_owned)));
                }
            }
        }
        shapes
    }

    const KEYS: [Option<&str>; 4] = [
        None,
        Some("topics/ticks/partition=0/ticks+0+0000000000.json"),
        Some("a key/with spaces+plus%and?query#frag"),
        Some("über/ключ/🙂"),
    ];

    async fn resolve(resolver: &impl ResolveEndpoint, p: &Params) -> Result<Endpoint, String> {
        resolver.resolve_endpoint(p).await.map_err(|e| e.to_string())
    }

    /// What the cache relies on: S3's rules answer the same whatever the key.
    #[tokio::test]
    async fn the_rules_answer_the_same_whatever_the_key() {
        let (rules, mut resolved) = (DefaultResolver::new(), 0);
        for (bucket, region, endpoint) in shapes() {
            let first = resolve(&rules, &params(&bucket, &region, endpoint.as_deref(), KEYS[0])).await;
            resolved += usize::from(first.is_ok());
            for key in KEYS {
                let other = resolve(&rules, &params(&bucket, &region, endpoint.as_deref(), key)).await;
                assert_eq!(first, other, "{bucket} {region} {endpoint:?} {key:?}");
            }
        }
        assert!(resolved * 2 > shapes().len(), "most shapes resolve: {resolved}");
    }

    /// Every shape, asked in turn with every key, gets what the SDK's rules give.
    #[tokio::test]
    async fn kept_answers_equal_the_rules_answers() {
        let (rules, kept) = (DefaultResolver::new(), KeptEndpoints::default());
        for round in 0..2 {
            for key in KEYS {
                for (bucket, region, endpoint) in shapes() {
                    let p = params(&bucket, &region, endpoint.as_deref(), key);
                    let want = resolve(&rules, &p).await;
                    assert_eq!(resolve(&kept, &p).await, want, "round {round}: {p:?}");
                }
            }
        }
        assert_eq!(kept.kept.lock().unwrap().len(), KEPT, "kept no more than {KEPT}");
    }

    #[tokio::test]
    async fn a_listing_prefix_is_not_kept() {
        let kept = KeptEndpoints::default();
        let p = Params::builder()
            .bucket("ticks")
            .region("us-east-1")
            .prefix("topics/")
            .build()
            .unwrap();
        assert!(resolve(&kept, &p).await.is_ok());
        assert!(kept.kept.lock().unwrap().is_empty());
    }

    /// `same_shape` compares every parameter the SDK has but the key: a parameter a newer SDK
    /// adds fails this until it is compared too.
    #[test]
    fn the_shape_covers_every_parameter_but_the_key() {
        let debug = format!("{:?}", params("b", "us-east-1", None, Some("k")));
        let inner = debug.trim_start_matches("Params {").trim_end_matches('}');
        let mut fields: Vec<&str> = inner
            .split(", ")
            .filter_map(|f| f.split_once(": ").map(|(name, _)| name.trim()))
            .filter(|name| {
                !name.is_empty()
                    && name
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            })
            .collect();
        fields.sort_unstable();
        let mut want: Vec<&str> = SHAPE.iter().copied().chain(["key"]).collect();
        want.sort_unstable();
        assert_eq!(fields, want, "{debug}");
    }
}
