//! A book of customers generated from a scoring model, the same on every run: each input takes
//! values at and around every band edge, curve corner and knock-out threshold, in between, far
//! out, at random, every category and missing. Customers differ in an overall quality, so the
//! book mixes excellent, middling and failing customers the way a real one does, and
//! [`coverage_gaps`] proves that every band, segment, entry, missing-input policy, knock-out
//! and grade of the model is reached.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use custgrade::domain::{
    figures::FiguresSnapshot,
    scoring::{
        Locale, ScoringModel, assess,
        input::{Input, InputKind, InputValue, categories},
        mapping::{Mapping, Matched},
        model::MissingPolicy,
    },
};
use rust_decimal::Decimal;
use serde_json::{Map, Value};

/// How many values drawn at random each numeric input gets besides the ones at the edges.
const RANDOM_VALUES: usize = 12;
const SEED: u64 = 0x5eed_c057_9a4d_e000;

/// `customers` snapshots for `model`.
pub fn book(
    model: &ScoringModel,
    customers: usize,
) -> Result<Vec<FiguresSnapshot>, serde_json::Error> {
    let mut random = SplitMix64(SEED);
    let pools: Vec<(Input, Vec<Option<InputValue>>)> = crate::inputs(model)
        .into_iter()
        .map(|input| (input, ranked_values(model, input, &mut random)))
        .collect();
    let as_of = NaiveDate::from_ymd_opt(2026, 3, 31).unwrap_or_default();
    (0..customers)
        .map(|_| {
            let quality = random.unit();
            let mut fields = Map::new();
            for (input, pool) in &pools {
                if let Some(value) = pick(pool, quality, &mut random) {
                    fields.insert(input.field_name(), json_value(input.kind(), value));
                }
            }
            Ok(FiguresSnapshot {
                as_of,
                source: "engine benchmark".into(),
                currency: Some("CNY".into()),
                figures: serde_json::from_value(Value::Object(fields))?,
            })
        })
        .collect()
}

/// What of `model` no customer of `book` reaches: bands, curve segments and ends, table
/// entries, missing-input treatments, knock-outs and final grades. Empty when all are.
pub fn coverage_gaps(model: &ScoringModel, book: &[FiguresSnapshot]) -> Vec<String> {
    let mut wanted = BTreeSet::new();
    for criterion in &model.criteria {
        let key = &criterion.key;
        match &criterion.mapping {
            Mapping::Bands(bands) => {
                wanted.extend((0..bands.len()).map(|index| format!("{key}: band {index}")));
            }
            Mapping::Curve(corners) => {
                wanted.insert(format!("{key}: before the curve"));
                wanted.insert(format!("{key}: after the curve"));
                wanted.extend(
                    corners
                        .iter()
                        .skip(1)
                        .map(|corner| format!("{key}: segment to {}", corner.x)),
                );
            }
            Mapping::Lookup { entries, default } => {
                let keys = categories(criterion.input.kind())
                    .iter()
                    .copied()
                    .filter(|category| entries.contains_key(*category));
                wanted.extend(keys.map(|entry| format!("{key}: entry {entry}")));
                if default.is_some() {
                    wanted.insert(format!("{key}: default"));
                }
            }
        }
        wanted.insert(format!("{key}: missing"));
    }
    wanted.extend(
        model
            .knock_outs
            .iter()
            .map(|rule| format!("knock-out {}", rule.key)),
    );
    wanted.extend(
        model
            .grades
            .iter()
            .map(|grade| format!("grade {}", grade.grade)),
    );

    for snapshot in book {
        let assessment = assess(model, snapshot, Locale::En);
        for line in &assessment.criteria {
            let key = &line.key;
            let reached = match &line.matched {
                Some(Matched::Band { index, .. }) => format!("{key}: band {index}"),
                Some(Matched::BeforeCurve { .. }) => format!("{key}: before the curve"),
                Some(Matched::AfterCurve { .. }) => format!("{key}: after the curve"),
                Some(Matched::Segment { to, .. }) => format!("{key}: segment to {}", to.x),
                Some(Matched::Entry { key: entry }) => format!("{key}: entry {entry}"),
                Some(Matched::Default { .. }) => format!("{key}: default"),
                None => format!("{key}: missing"),
            };
            wanted.remove(&reached);
        }
        for fired in &assessment.knock_outs {
            wanted.remove(&format!("knock-out {}", fired.key));
        }
        wanted.remove(&format!("grade {}", assessment.grade));
    }
    wanted.into_iter().collect()
}

/// Every value `input` is given, missing included, from the worst for the customer to the
/// best: by the points of the first criterion that reads it, less 100 for each knock-out that
/// the value alone fires.
fn ranked_values(
    model: &ScoringModel,
    input: Input,
    random: &mut SplitMix64,
) -> Vec<Option<InputValue>> {
    let mut values: Vec<Option<InputValue>> = match input.kind() {
        InputKind::Rating | InputKind::Flag => categories(input.kind())
            .iter()
            .map(|category| Some(InputValue::Category((*category).into())))
            .collect(),
        InputKind::Scale1To5 => (1..=5)
            .map(|step| Some(InputValue::Number(Decimal::from(step))))
            .collect(),
        _ => numbers(input, &cuts(model, input), random)
            .into_iter()
            .map(|number| Some(InputValue::Number(number)))
            .collect(),
    };
    values.push(None);
    let merit = |value: &Option<InputValue>| {
        let points = model
            .criteria
            .iter()
            .find(|criterion| criterion.input == input)
            .map_or(Decimal::ZERO, |criterion| {
                let mapped = value.as_ref().and_then(|v| criterion.mapping.map(v));
                mapped.map_or(
                    match &criterion.missing {
                        MissingPolicy::Zero => Decimal::ZERO,
                        MissingPolicy::Neutral { points } => *points,
                        MissingPolicy::Drop => Decimal::from(50),
                    },
                    |mapped| mapped.points,
                )
            });
        let fired = model
            .knock_outs
            .iter()
            .filter(|rule| {
                rule.when_any
                    .iter()
                    .any(|condition| condition.input == input && condition.holds(value.as_ref()))
            })
            .count();
        points - Decimal::from(100 * fired)
    };
    values.sort_by_key(merit);
    values
}

/// The numbers at which the model's treatment of `input` changes.
fn cuts(model: &ScoringModel, input: Input) -> Vec<Decimal> {
    let mut cuts = Vec::new();
    for criterion in model.criteria.iter().filter(|c| c.input == input) {
        match &criterion.mapping {
            Mapping::Bands(bands) => {
                cuts.extend(
                    bands
                        .iter()
                        .flat_map(|band| band.lower.into_iter().chain(band.upper)),
                );
            }
            Mapping::Curve(corners) => cuts.extend(corners.iter().map(|corner| corner.x)),
            Mapping::Lookup { .. } => {}
        }
    }
    let conditions = model
        .knock_outs
        .iter()
        .flat_map(|rule| &rule.when_any)
        .filter(|condition| condition.input == input);
    cuts.extend(
        conditions.filter_map(|condition| condition.value.as_deref()?.parse::<Decimal>().ok()),
    );
    cuts.sort();
    cuts.dedup();
    cuts
}

/// Values of a numeric input: at, just below and just above each cut, between neighbouring
/// cuts, beyond both ends, and some at random in that span; whole for counts, to two decimals
/// otherwise, as figures are reported. No value is negative unless the model cuts at or below zero, and no percentage is
/// above 100 unless the model cuts there.
fn numbers(input: Input, cuts: &[Decimal], random: &mut SplitMix64) -> Vec<Decimal> {
    let kind = input.kind();
    let (low_cut, high_cut) = match (cuts.first(), cuts.last()) {
        (Some(low), Some(high)) => (*low, *high),
        _ => (Decimal::ZERO, Decimal::ONE_HUNDRED),
    };
    let least_margin = match kind {
        InputKind::Money => Decimal::from(1_000_000),
        _ => Decimal::TEN,
    };
    let margin = ((high_cut - low_cut) / Decimal::TWO).max(least_margin);
    let mut low = low_cut - margin;
    let mut high = high_cut + margin;
    if low_cut > Decimal::ZERO {
        low = low.max(Decimal::ZERO);
    }
    if input.field_name().ends_with("_percent") && high_cut < Decimal::ONE_HUNDRED {
        high = high.min(Decimal::ONE_HUNDRED);
    }
    let step = match kind {
        InputKind::Count => Decimal::ONE,
        _ => Decimal::new(1, 2),
    };
    let mut numbers = vec![low, high];
    for cut in cuts {
        numbers.extend([*cut - step, *cut, *cut + step]);
    }
    numbers.extend(
        cuts.windows(2)
            .map(|pair| (pair[0] + pair[1]) / Decimal::TWO),
    );
    for _ in 0..RANDOM_VALUES {
        let fraction = Decimal::try_from(random.unit()).unwrap_or_default();
        numbers.push(low + (high - low) * fraction);
    }
    let mut numbers: Vec<Decimal> = numbers
        .into_iter()
        .filter(|number| (low..=high).contains(number))
        .map(|number| match kind {
            InputKind::Count => number.round(),
            _ => number.round_dp(2),
        })
        .collect();
    numbers.sort();
    numbers.dedup();
    numbers
}

/// A value from `pool` around the position `quality` gives, sometimes anywhere.
fn pick<'p>(
    pool: &'p [Option<InputValue>],
    quality: f64,
    random: &mut SplitMix64,
) -> Option<&'p InputValue> {
    let last = pool.len().saturating_sub(1) as f64;
    let position = if random.unit() < 0.1 {
        random.unit() * last
    } else {
        (quality + (random.unit() - 0.5) * 0.6).clamp(0.0, 1.0) * last
    };
    pool.get(position.round() as usize)?.as_ref()
}

/// `value` as the figures API spells it for an input of `kind`.
fn json_value(kind: InputKind, value: &InputValue) -> Value {
    match (kind, value) {
        (InputKind::Flag, InputValue::Category(flag)) => Value::Bool(flag == "true"),
        (_, InputValue::Category(name)) => Value::String(name.to_string()),
        (InputKind::Money, InputValue::Number(amount)) => Value::String(amount.to_string()),
        (InputKind::Measure, InputValue::Number(number)) => {
            serde_json::Number::from_f64(number.to_string().parse().unwrap_or_default())
                .map_or(Value::Null, Value::Number)
        }
        (_, InputValue::Number(number)) => {
            Value::Number(i64::try_from(*number).unwrap_or_default().into())
        }
    }
}

/// A small deterministic generator (SplitMix64), so that the book is the same on every run.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}
