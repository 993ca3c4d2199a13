//! The sink's S3 store against a real s3s-fs server: conditional writes, and the CRC32 that
//! stands in for SigV4's payload hash is sent, checked by the server and stored.

use aws_sdk_s3::types::ChecksumMode;
use bytes::Bytes;
use tickstream::s3::embedded::EmbeddedS3;
use tickstream::s3::{client, PutOutcome, S3Error, S3SegmentStore, SegmentMeta, SegmentStore};

fn meta(records: u64) -> SegmentMeta {
    SegmentMeta {
        start_offset: 0,
        end_offset: records as i64,
        records,
        error: None,
    }
}

/// An s3s-fs server on 127.0.0.1 with a fresh bucket, and the store over it.
struct Server {
    _dir: tempfile::TempDir,
    s3: EmbeddedS3,
    bucket: String,
    sdk: aws_sdk_s3::Client,
    store: S3SegmentStore,
}

impl Server {
    async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let s3 = EmbeddedS3::start(&dir.path().join("s3"), 0).await.unwrap();
        let bucket = format!("bucket-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
        let sdk = client::build(&s3.endpoint()).await;
        let store = S3SegmentStore::new(sdk.clone(), bucket.clone());
        store.ensure_bucket().await.unwrap();
        Self {
            _dir: dir,
            s3,
            bucket,
            sdk,
            store,
        }
    }
}

#[tokio::test]
async fn a_put_carries_a_crc32_the_server_checks_and_keeps_and_never_overwrites() {
    let Server {
        _dir,
        s3,
        bucket,
        sdk,
        store,
    } = Server::start().await;

    let key = "topics/t/partition=0/t+0+0000000000.json";
    let body = Bytes::from_static(b"{\"a\":1}\n{\"a\":2}\n");
    assert_eq!(
        store.put_new(key, body.clone(), meta(2)).await.unwrap(),
        PutOutcome::Created
    );

    let head = sdk
        .head_object()
        .bucket(&bucket)
        .key(key)
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .unwrap();
    // CRC32 of the body, big-endian, base64: what the server computed from the bytes it got
    // and compared with the header.
    let expected = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(crc32fast::hash(&body).to_be_bytes())
    };
    assert_eq!(head.checksum_crc32(), Some(expected.as_str()));
    assert_eq!(store.get(key).await.unwrap(), body);

    assert_eq!(
        store.put_new(key, body.clone(), meta(2)).await.unwrap(),
        PutOutcome::AlreadyIdentical
    );
    let other = Bytes::from_static(b"{\"a\":3}\n");
    assert!(matches!(
        store.put_new(key, other, meta(1)).await,
        Err(S3Error::Conflict { .. })
    ));
    s3.stop().await;
}

#[tokio::test]
async fn a_body_that_does_not_match_its_crc32_is_refused_as_bad_digest() {
    let Server {
        _dir, s3, bucket, sdk, ..
    } = Server::start().await;

    // The CRC32 of other bytes: as if the body had changed on its way.
    let wrong = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(crc32fast::hash(b"other").to_be_bytes())
    };
    let err = sdk
        .put_object()
        .bucket(&bucket)
        .key("k.json")
        .checksum_crc32(wrong)
        .body(Bytes::from_static(b"{\"a\":1}\n").into())
        .customize()
        .disable_payload_signing()
        .send()
        .await
        .expect_err("a mismatched CRC32 is refused");
    use aws_sdk_s3::error::ProvideErrorMetadata;
    assert_eq!(err.code(), Some("BadDigest"), "{err:?}");
    s3.stop().await;
}

/// A file without tickstream's end-offset metadata (another tool's, or one whose metadata a
/// crashed server lost: the chaos smoke caught this with gzip) holds as many records as its
/// format splits it into: lines of the file as decompressed, or raw values at their separator.
#[tokio::test]
async fn a_file_without_metadata_holds_the_records_its_format_splits_it_into() {
    let Server {
        _dir,
        s3,
        bucket,
        sdk,
        store,
    } = Server::start().await;

    let lines = b"{\"a\":1}\n".repeat(50);
    let gz =
        tickstream::format::compression::compress(lines.clone(), tickstream::config::Compression::Gzip, 6).unwrap();
    let raw_newlines = gz.iter().filter(|b| **b == b'\n').count();
    // Raw values (`value.converter = "bytes"`) between `format.bytearray.separator = "|"`: one
    // holds a newline, one is empty (a tombstone written as an empty value).
    let raw = b"a|line\nbreak||b|".to_vec();
    // An Avro file of 50 longs, each 5: its datum is the byte 0x0a, a newline.
    let mut avro =
        tickstream::format::avro::ContainerWriter::new("\"long\"", tickstream::format::avro::Codec::Null, [9; 16]);
    (0..50).for_each(|_| avro.append(&[0x0a]));
    for (key, body) in [
        ("topics/t/partition=0/t+0+0000000100.json", lines),
        ("topics/t/partition=0/t+0+0000000200.json.gz", gz),
        ("topics/t/partition=0/t+0+0000000300.bin", raw),
        ("topics/t/partition=0/t+0+0000000400.avro", avro.finish()),
    ] {
        sdk.put_object()
            .bucket(&bucket)
            .key(key)
            .body(body.into())
            .send()
            .await
            .unwrap();
    }
    let reader = tickstream::format::Reader::new(b"|");
    let layout = tickstream::s3::keys::KeyLayout::json("topics", "t", 10);
    let files = tickstream::sink::resume::Files {
        store: &store,
        layout: &layout,
        reader: &reader,
    };
    let extent = |key: &'static str| async move { files.extent(key).await.unwrap() };
    use tickstream::sink::segmenter::Extent::Records;
    assert_eq!(extent("topics/t/partition=0/t+0+0000000100.json").await, Records(50));
    assert_eq!(
        extent("topics/t/partition=0/t+0+0000000200.json.gz").await,
        Records(50),
        "the 50 records, not the {raw_newlines} newline bytes of the compressed file"
    );
    assert_eq!(
        extent("topics/t/partition=0/t+0+0000000300.bin").await,
        Records(4),
        "raw values are counted at their separator, not at newlines"
    );
    assert_eq!(
        extent("topics/t/partition=0/t+0+0000000400.avro").await,
        Records(50),
        "an Avro file's records, decoded with its schema"
    );
    s3.stop().await;
}
