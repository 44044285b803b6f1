//! How an assessment's rationale is stored: JSON without the sentences (they follow from the
//! numbers and are rendered again on read, in any language), compressed with LZ4 behind a
//! format byte. JSON keeps the document readable by any later version of the server (new
//! fields default, unknown ones are ignored); LZ4 cuts it to about a third at a few
//! microseconds a document, so a re-grade writes far fewer pages. Rows written before this
//! form keep their plain JSON in `document`, and read as before.

use crate::domain::scoring::Assessment;

/// The first byte of a compact rationale: LZ4 (size-prepended block) of JSON.
const LZ4_JSON: u8 = 1;

/// The compact form of `assessment`.
pub(super) fn encode(assessment: &Assessment) -> Result<Vec<u8>, String> {
    let json = if assessment.has_sentences() {
        serde_json::to_vec(&assessment.clone().without_sentences())
    } else {
        serde_json::to_vec(assessment)
    }
    .map_err(|error| error.to_string())?;
    let mut stored = vec![LZ4_JSON];
    stored.extend(lz4_flex::compress_prepend_size(&json));
    Ok(stored)
}

/// The assessment a row holds: its compact `rationale` if it has one, else its plain
/// `document`; with every sentence rendered.
pub(super) fn decode(document: &str, rationale: Option<&[u8]>) -> Result<Assessment, String> {
    let assessment: Assessment = match rationale {
        None => serde_json::from_str(document).map_err(|error| error.to_string())?,
        Some([LZ4_JSON, compressed @ ..]) => {
            let json = lz4_flex::decompress_size_prepended(compressed)
                .map_err(|error| error.to_string())?;
            serde_json::from_slice(&json).map_err(|error| error.to_string())?
        }
        Some(_) => return Err("unknown rationale format".to_owned()),
    };
    Ok(assessment.with_sentences())
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::*;
    use crate::domain::scoring::{
        Locale, assess,
        fixture::{good_figures, model, snapshot},
    };

    fn graded() -> Assessment {
        assess(&model(), &snapshot(good_figures()), Locale::En)
    }

    #[test]
    fn the_compact_form_reads_back_with_its_sentences() {
        let assessment = graded();
        let stored = encode(&assessment).expect("encodes");
        assert_eq!(decode("", Some(&stored)), Ok(assessment));
    }

    #[test]
    fn the_compact_form_is_a_fraction_of_the_plain_document() {
        let assessment = graded();
        let plain = serde_json::to_vec(&assessment).expect("serializes");
        let stored = encode(&assessment).expect("encodes");
        assert!(
            stored.len() * 2 < plain.len(),
            "{} of {}",
            stored.len(),
            plain.len()
        );
    }

    #[test]
    fn a_plain_document_of_an_older_row_still_reads() {
        let assessment = graded();
        let plain = serde_json::to_string(&assessment).expect("serializes");
        assert_eq!(decode(&plain, None), Ok(assessment));
    }

    #[test]
    fn an_unknown_format_is_refused() {
        assert!(decode("", Some(&[9, 1, 2])).is_err());
        assert!(decode("", Some(&[LZ4_JSON, 1, 2])).is_err());
    }
}
