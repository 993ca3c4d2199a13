//! Data files' names: each format's extension as the Confluent S3 sink names it, the start offset
//! read back from the name of a data file of any format (so files written before a change of
//! `format.class`, `parquet.codec` or `s3.compression.type` still count), and each file's
//! `Content-Type`.

use crate::config::{Compression, FormatClass, SinkConfig};

/// The suffix a gzip file's key carries after its format's extension.
pub const GZIP_SUFFIX: &str = ".gz";
/// The suffix of a zstd file's key.
pub const ZSTD_SUFFIX: &str = ".zst";
/// The suffix of a Parquet file's key (after its codec's: `.snappy.parquet`).
pub const PARQUET_SUFFIX: &str = ".parquet";

/// The suffix of an Avro file's key.
pub const AVRO_SUFFIX: &str = ".avro";

/// The extensions of Parquet files, one per `parquet.codec`, as parquet-mr names them.
const PARQUET_EXTENSIONS: [&str; 4] = [".snappy.parquet", ".zstd.parquet", ".gz.parquet", ".parquet"];

/// The extension of the data files `[sink]` writes: `json`, `bin` (raw values), each with `.gz`
/// or `.zst` when compressed, or a Parquet file's codec and `parquet` (`snappy.parquet`).
pub fn extension(sink: &SinkConfig) -> &'static str {
    match (sink.format(), sink.compression) {
        (FormatClass::Parquet, _) => sink.parquet_codec.extension(),
        (FormatClass::Avro, _) => "avro",
        (FormatClass::ByteArray, Compression::None) => "bin",
        (FormatClass::ByteArray, Compression::Gzip) => "bin.gz",
        (FormatClass::ByteArray, Compression::Zstd) => "bin.zst",
        (FormatClass::Json, Compression::None) => "json",
        (FormatClass::Json, Compression::Gzip) => "json.gz",
        (FormatClass::Json, Compression::Zstd) => "json.zst",
    }
}

/// Whether files of `extension` hold raw values (`bin`, compressed or not).
pub fn is_raw(extension: &str) -> bool {
    strip_compression(extension) == "bin"
}

/// `name` without a compression suffix, if it has one.
pub fn strip_compression(name: &str) -> &str {
    name.strip_suffix(GZIP_SUFFIX)
        .or_else(|| name.strip_suffix(ZSTD_SUFFIX))
        .unwrap_or(name)
}

/// The digits before a data file's extension (`0000000100` of `0000000100.json.gz`), or
/// `None` when `name` is not a data file's. A layout of raw values (`raw`) reads only raw-value
/// files; any other reads JSON lines of any compression, Parquet of any codec and Avro.
pub fn strip_extension(name: &str, raw: bool) -> Option<&str> {
    if raw {
        return strip_compression(name).strip_suffix(".bin");
    }
    PARQUET_EXTENSIONS
        .iter()
        .find_map(|ext| name.strip_suffix(ext))
        .or_else(|| name.strip_suffix(AVRO_SUFFIX))
        .or_else(|| strip_compression(name).strip_suffix(".json"))
}

/// A data file's key without its extension (`…/t+0+0000000100` of `…/t+0+0000000100.json.gz`),
/// or `None` when `key` does not end in a data file's extension.
pub fn data_stem(key: &str) -> Option<&str> {
    PARQUET_EXTENSIONS
        .iter()
        .find_map(|ext| key.strip_suffix(ext))
        .or_else(|| key.strip_suffix(AVRO_SUFFIX))
        .or_else(|| strip_compression(key).strip_suffix(".json"))
        .or_else(|| strip_compression(key).strip_suffix(".bin"))
}

/// The `Content-Type` of a file by its key: gzip, zstd, Parquet, raw values, or JSON lines.
pub fn content_type(key: &str) -> &'static str {
    if key.ends_with(GZIP_SUFFIX) {
        "application/gzip"
    } else if key.ends_with(ZSTD_SUFFIX) {
        "application/zstd"
    } else if key.ends_with(PARQUET_SUFFIX) {
        "application/vnd.apache.parquet"
    } else if key.ends_with(AVRO_SUFFIX) {
        "application/avro"
    } else if key.ends_with(".bin") {
        "application/octet-stream"
    } else {
        "application/json"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_format_and_compression_has_its_confluent_extension() {
        let sink = |toml: &str| crate::config::parse_str(&format!("[sink]\n{toml}")).unwrap().sink;
        assert_eq!(extension(&sink("")), "json");
        assert_eq!(extension(&sink("\"s3.compression.type\" = \"gzip\"")), "json.gz");
        assert_eq!(extension(&sink("\"s3.compression.type\" = \"zstd\"")), "json.zst");
        assert_eq!(extension(&sink("\"value.converter\" = \"bytes\"")), "bin");
        let raw_gz = "\"value.converter\" = \"bytes\"\n\"s3.compression.type\" = \"gzip\"";
        assert_eq!(extension(&sink(raw_gz)), "bin.gz");
        assert_eq!(extension(&sink("\"format.class\" = \"parquet\"")), "snappy.parquet");
        let zstd = "\"format.class\" = \"parquet\"\n\"parquet.codec\" = \"zstd\"";
        assert_eq!(extension(&sink(zstd)), "zstd.parquet");
    }

    #[test]
    fn a_data_file_of_any_format_gives_its_digits_and_anything_else_none() {
        for name in [
            "5.json",
            "5.json.gz",
            "5.json.zst",
            "5.snappy.parquet",
            "5.gz.parquet",
            "5.parquet",
        ] {
            assert_eq!(strip_extension(name, false), Some("5"), "{name}");
            assert_eq!(strip_extension(name, true), None, "{name}");
        }
        for name in ["5.bin", "5.bin.gz", "5.bin.zst"] {
            assert_eq!(strip_extension(name, true), Some("5"), "{name}");
            assert_eq!(strip_extension(name, false), None, "{name}");
        }
        assert_eq!(strip_extension("notes.txt", false), None);
        assert_eq!(strip_compression("t+0+5.json.zst"), "t+0+5.json");
        assert!(is_raw("bin.gz") && !is_raw("json"));
    }

    #[test]
    fn content_types_follow_the_key() {
        assert_eq!(content_type("a.json"), "application/json");
        assert_eq!(content_type("a.json.gz"), "application/gzip");
        assert_eq!(content_type("a.bin.zst"), "application/zstd");
        assert_eq!(content_type("a.zstd.parquet"), "application/vnd.apache.parquet");
        assert_eq!(content_type("a.bin"), "application/octet-stream");
    }
}
