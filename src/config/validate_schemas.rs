//! Checks of records with schemas: the registry Avro records need, JsonConverter envelopes,
//! `schema.compatibility` (the file formats they fit are checked with the other formats).

use super::validate::Problems;
use super::{SinkConfig, ValueConverter, ValueSchema};

/// Records with schemas: the registry Avro records need, envelopes, `schema.compatibility`.
pub(super) fn schemas(s: &SinkConfig, p: &mut Problems) {
    let avro = s.value_converter == ValueConverter::Avro;
    p.check(
        !avro || s.registry_url.is_some(),
        "sink.value.converter.schema.registry.url",
        "must be set: value.converter = \"avro\" fetches each record's writer schema from it".into(),
    );
    p.check(
        avro || s.registry_url.is_none(),
        "sink.value.converter.schema.registry.url",
        format!(
            "is set, but value.converter is {:?}: only \"avro\" reads a registry",
            s.value_converter
        ),
    );
    p.check(
        !s.schemas_enable || s.value_converter == ValueConverter::Json,
        "sink.value.converter.schemas.enable",
        format!(
            "reads JsonConverter's envelopes: it needs value.converter = \"json\", got {:?}",
            s.value_converter
        ),
    );
    p.check(
        !(s.schemas_enable && s.value_schema != ValueSchema::None),
        "sink.value.schema",
        "checks plain JSON values; an envelope's payload is checked by its own schema \
         (value.converter.schemas.enable = true)"
            .into(),
    );
    if s.registry_auth_source == super::AuthSource::Url {
        let bare: Vec<&str> = s
            .registry_url
            .iter()
            .flat_map(|u| &u.0)
            .filter(|u| u.user_info.is_none())
            .map(|u| u.base.as_str())
            .collect();
        p.check(
            bare.is_empty(),
            "sink.value.converter.basic.auth.credentials.source",
            format!("is URL, but {} carries no user:password@", bare.join(", ")),
        );
    }
    if let Some(ca) = &s.registry_ca_location {
        p.check(
            ca.is_file(),
            "sink.value.converter.schema.registry.ssl.ca.location",
            format!("{} is not a readable file", ca.display()),
        );
    }
    p.check(
        s.schema_compatibility == crate::record::avro::compat::Compatibility::None || avro || s.schemas_enable,
        "sink.schema.compatibility",
        "compares the versions of records' schemas: it needs value.converter = \"avro\" or \
         value.converter.schemas.enable = true"
            .into(),
    );
}

#[cfg(test)]
mod tests {
    use super::super::validate::tests::problems_text as problems;

    #[test]
    fn records_with_schemas_need_their_registry_and_fitting_formats() {
        const AVRO: &str = "[sink]\n\"value.converter\" = \"io.confluent.connect.avro.AvroConverter\"\n";
        let no_url = problems(AVRO);
        assert!(
            no_url.contains("sink.value.converter.schema.registry.url") && no_url.contains("must be set"),
            "{no_url}"
        );
        let ok = problems(&format!(
            "{AVRO}\"value.converter.schema.registry.url\" = \"http://a:8081,http://b:8081\"\n\
             \"format.class\" = \"io.confluent.connect.s3.format.avro.AvroFormat\"\n\"avro.codec\" = \"snappy\"\n\
             \"schema.compatibility\" = \"BACKWARD\"\n\"value.converter.value.subject.name.strategy\" = \
             \"io.confluent.kafka.serializers.subject.RecordNameStrategy\"\n"
        ));
        assert_eq!(ok, "", "Connect's names are accepted");
        let json_avro = problems("[sink]\n\"format.class\" = \"avro\"\n");
        assert!(
            json_avro.contains("sink.format.class") && json_avro.contains("schemas.enable"),
            "{json_avro}"
        );
        let gz = problems(&format!(
            "{AVRO}\"value.converter.schema.registry.url\" = \"http://a:8081\"\n\"format.class\" = \"avro\"\n\
             \"s3.compression.type\" = \"gzip\"\n"
        ));
        assert!(gz.contains("avro.codec"), "{gz}");
        let stray = problems("[sink]\n\"value.converter.schema.registry.url\" = \"http://a:8081\"\n");
        assert!(stray.contains("only \"avro\" reads a registry"), "{stray}");
        let compat = problems("[sink]\n\"schema.compatibility\" = \"FULL\"\n");
        assert!(compat.contains("sink.schema.compatibility"), "{compat}");
        let strings = problems("[sink]\n\"value.converter\" = \"string\"\n\"value.converter.schemas.enable\" = true\n");
        assert!(strings.contains("needs value.converter = \"json\""), "{strings}");
        let nulls = problems(
            "[sink]\n\"value.converter.schemas.enable\" = true\n\"format.class\" = \"parquet\"\n\
             \"behavior.on.null.values\" = \"write\"\n",
        );
        assert!(nulls.contains("sink.behavior.on.null.values"), "{nulls}");
        let url_creds = problems(&format!(
            "{AVRO}\"value.converter.schema.registry.url\" = \"http://a:8081\"\n\
             \"value.converter.basic.auth.credentials.source\" = \"URL\"\n"
        ));
        assert!(url_creds.contains("carries no user:password@"), "{url_creds}");
        let codec = problems("[sink]\n\"avro.codec\" = \"bzip2\"\n");
        assert!(codec.contains("not supported"), "{codec}");
        let compat_name = problems("[sink]\n\"schema.compatibility\" = \"SIDEWAYS\"\n");
        assert!(compat_name.contains("is not a schema.compatibility"), "{compat_name}");
    }
}
