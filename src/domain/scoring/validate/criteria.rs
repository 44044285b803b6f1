//! Checks of the scorecard itself: keys, weights, missing policies, and that each mapping fits
//! its input and covers it without gaps, overlaps or a wrong direction.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use super::{Problems, is_points};
use crate::domain::scoring::{
    input::{Input, categories},
    mapping::{Band, CurvePoint, Mapping},
    model::{Criterion, MissingPolicy, ScoringModel},
};

pub(super) fn check(model: &ScoringModel, problems: &mut Problems) {
    if model.criteria.is_empty() {
        problems.add("criteria", "must have at least one criterion");
        return;
    }
    let total: Decimal = model.criteria.iter().map(|c| c.weight_percent).sum();
    if total != Decimal::ONE_HUNDRED {
        problems.add(
            "criteria",
            format!("weights must sum to 100, got {}", total.normalize()),
        );
    }
    let mut first_use: BTreeMap<&str, usize> = BTreeMap::new();
    for (index, criterion) in model.criteria.iter().enumerate() {
        let path = format!("criteria[{index}]");
        check_key(criterion, index, &path, &mut first_use, problems);
        if criterion.weight_percent <= Decimal::ZERO {
            problems.add(format!("{path}.weight_percent"), "must be above 0");
        }
        if let MissingPolicy::Neutral { points } = criterion.missing
            && !is_points(points)
        {
            problems.add(format!("{path}.missing.neutral.points"), "must be 0 to 100");
        }
        check_mapping(criterion, &format!("{path}.mapping"), problems);
    }
}

fn check_key<'m>(
    criterion: &'m Criterion,
    index: usize,
    path: &str,
    first_use: &mut BTreeMap<&'m str, usize>,
    problems: &mut Problems,
) {
    let key = criterion.key.as_str();
    let snake_case = key.starts_with(|c: char| c.is_ascii_lowercase())
        && key
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !snake_case {
        problems.add(
            format!("{path}.key"),
            format!("must be snake_case (a-z, 0-9, _), got {key:?}"),
        );
    }
    if let Some(first) = first_use.get(key) {
        problems.add(
            format!("{path}.key"),
            format!("duplicates criteria[{first}].key {key:?}"),
        );
    } else {
        first_use.insert(key, index);
    }
}

fn check_mapping(criterion: &Criterion, path: &str, problems: &mut Problems) {
    let kind = criterion.input.kind();
    match &criterion.mapping {
        Mapping::Bands(_) | Mapping::Curve(_) if !kind.is_numeric() => {
            problems.add(
                path,
                format!(
                    "bands and curves need a numeric input, {} is a category: use a lookup",
                    input_name(criterion.input)
                ),
            );
        }
        Mapping::Bands(bands) => check_bands(bands, &format!("{path}.bands"), problems),
        Mapping::Curve(corners) => check_curve(
            corners,
            criterion.higher_is_better,
            &format!("{path}.curve"),
            problems,
        ),
        Mapping::Lookup { entries, default } => {
            if !kind.is_categorical() {
                problems.add(
                    path,
                    format!(
                        "a lookup needs a category input (rating, flag, 1-5 scale), {} is a number: use bands or a curve",
                        input_name(criterion.input)
                    ),
                );
                return;
            }
            let path = format!("{path}.lookup");
            if entries.is_empty() {
                problems.add(format!("{path}.entries"), "must have at least one entry");
            }
            let known = categories(kind);
            for (key, points) in entries {
                if !known.contains(&key.as_str()) {
                    problems.add(
                        format!("{path}.entries.{key}"),
                        format!(
                            "is not a value of this input, which is one of {}",
                            known.join(", ")
                        ),
                    );
                }
                if !is_points(*points) {
                    problems.add(format!("{path}.entries.{key}"), "points must be 0 to 100");
                }
            }
            if default.is_some_and(|points| !is_points(points)) {
                problems.add(format!("{path}.default"), "must be 0 to 100");
            }
        }
    }
}

fn input_name(input: Input) -> String {
    serde_json::to_value(input)
        .ok()
        .and_then(|value| value.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn check_bands(bands: &[Band], path: &str, problems: &mut Problems) {
    if bands.is_empty() {
        problems.add(path, "must have at least one band");
    }
    let last = bands.len().saturating_sub(1);
    let mut previous: Option<&Band> = None;
    for (index, band) in bands.iter().enumerate() {
        let here = format!("{path}[{index}]");
        if !is_points(band.points) {
            problems.add(format!("{here}.points"), "must be 0 to 100");
        }
        if let (Some(lower), Some(upper)) = (band.lower, band.upper)
            && (lower > upper || (lower == upper && !band.upper_inclusive))
        {
            problems.add(&here, "lower must be below upper");
        }
        if band.upper.is_none() && index != last {
            problems.add(
                format!("{here}.upper"),
                "only the last band may be open above",
            );
        }
        if band.upper_inclusive && index != last {
            problems.add(
                format!("{here}.upper_inclusive"),
                "only the last band may include its upper end",
            );
        }
        match (previous.and_then(|p| p.upper), band.lower) {
            (_, None) if index > 0 => {
                problems.add(
                    format!("{here}.lower"),
                    "only the first band may be open below",
                );
            }
            (Some(end), Some(start)) if start > end => problems.add(
                &here,
                format!(
                    "leaves a gap after the previous band: nothing covers {} to {}",
                    end.normalize(),
                    start.normalize()
                ),
            ),
            (Some(end), Some(start)) if start < end => problems.add(
                &here,
                format!(
                    "overlaps the previous band, which runs to {}",
                    end.normalize()
                ),
            ),
            _ => {}
        }
        previous = Some(band);
    }
}

fn check_curve(
    corners: &[CurvePoint],
    higher_is_better: bool,
    path: &str,
    problems: &mut Problems,
) {
    if corners.is_empty() {
        problems.add(path, "must have at least one point");
    }
    let mut previous: Option<&CurvePoint> = None;
    for (index, corner) in corners.iter().enumerate() {
        let here = format!("{path}[{index}]");
        if !is_points(corner.points) {
            problems.add(format!("{here}.points"), "must be 0 to 100");
        }
        if let Some(before) = previous {
            if corner.x <= before.x {
                problems.add(
                    format!("{here}.x"),
                    format!(
                        "must be above the previous point's {}",
                        before.x.normalize()
                    ),
                );
            }
            let wrong_way = if higher_is_better {
                corner.points < before.points
            } else {
                corner.points > before.points
            };
            if wrong_way {
                let before_points = before.points.normalize();
                let message = if higher_is_better {
                    format!(
                        "must not fall below the previous point's {before_points}: higher is better"
                    )
                } else {
                    format!(
                        "must not rise above the previous point's {before_points}: lower is better"
                    )
                };
                problems.add(format!("{here}.points"), message);
            }
        }
        previous = Some(corner);
    }
}
