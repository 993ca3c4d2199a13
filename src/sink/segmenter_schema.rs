//! The segmenter's side of records with a schema: a record of another schema than its file's
//! is appended, projected onto the file's schema, or closes the file (`schema.compatibility`);
//! and what the partitioner reads of a converted record.

use super::{Dir, Segment, Segmenter};
use crate::format::Converted;
use crate::record::avro::compat::{decide, Decision};
use crate::record::avro::AvroRecord;
use crate::record::view::RecordView;
use crate::record::RecordError;

impl Segmenter {
    /// A record with a schema arriving at `dir`'s open file of another schema: appended as it
    /// is, projected onto the file's schema, or the file is closed first
    /// (`schema.compatibility`). A projection that fails closes the file instead.
    pub(super) fn fit_schema(
        &mut self,
        dir: &Dir,
        record: &AvroRecord<'_>,
        out: &mut Vec<Segment>,
    ) -> Result<Option<Converted<'static>>, RecordError> {
        let Some(file) = self.open.get(dir).and_then(|b| b.file.schema()).cloned() else {
            return Ok(None);
        };
        let r = &self.rules;
        match decide(r.compatibility, r.subjects, &self.layout.topic, &file, &record.schema)? {
            Decision::Same => Ok(None),
            Decision::Rotate => {
                self.close_dir(dir, out);
                Ok(None)
            }
            Decision::Project => match record.project(&file) {
                Ok(projected) => Ok(Some(Converted::Avro(projected))),
                Err(_) => {
                    self.close_dir(dir, out);
                    Ok(None)
                }
            },
        }
    }
}

/// A converted record as the partitioner reads it.
pub(super) fn view<'a>(record: &'a Converted<'a>) -> RecordView<'a> {
    match record {
        Converted::Line(line, _) => RecordView::Json(line),
        Converted::Avro(r) => RecordView::Avro(&r.value, &r.schema),
    }
}
