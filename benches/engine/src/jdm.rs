//! A scoring model as GoRules' JSON Decision Model (JDM), the graph zen-engine evaluates:
//!
//! - one decision table per criterion (hit policy "first") gives its points and whether it is
//!   kept: a row for a missing value, one row per band, curve segment or table entry in the
//!   model's order, then a row for a value the mapping does not cover, both with the
//!   criterion's missing-input policy;
//! - one expression node does the engine's arithmetic: re-weights the kept criteria to 100
//!   (the last kept one takes the remainder), rounds each contribution to two decimals half
//!   away from zero (zen's `round` does the same), sums the total, maps it to a grade and
//!   lowers the grade to every fired knock-out's cap.
//!
//! Generated from the model, so the graph cannot drift from it; [`crate::disagreements`]
//! checks both engines agree on every customer before anything is timed. Knock-outs that block
//! credit or flag a review change neither the score nor the grade, so they are left out here
//! as they are in [`custgrade::domain::scoring::score`].

use custgrade::domain::{
    figures::FigureSet,
    scoring::{
        ScoringModel,
        engine::round2,
        input::{Input, InputKind, InputValue},
        knockout::{Comparison, Condition, Effect},
        mapping::{Band, CurvePoint, Mapping},
        model::{Criterion, MissingPolicy},
    },
};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use zen_engine::{Decision, model::GraphContent};
use zen_expression::variable::{Variable, VariableMap};

/// The model as a compiled zen decision, ready to evaluate again and again.
pub fn decision(model: &ScoringModel) -> Result<Decision, String> {
    let content: GraphContent =
        serde_json::from_value(graph(model)?).map_err(|error| error.to_string())?;
    let mut decision = Decision::from(content);
    decision.compile();
    Ok(decision)
}

/// The model's decision graph, as the JDM editor would save it.
pub fn graph(model: &ScoringModel) -> Result<Value, String> {
    let mut nodes = vec![json!({"id": "request", "name": "request", "type": "inputNode"})];
    let mut edges = Vec::new();
    for criterion in &model.criteria {
        let id = format!("points-{}", criterion.key);
        nodes.push(json!({
            "id": id,
            "name": criterion.key,
            "type": "decisionTableNode",
            "content": criterion_table(criterion)?,
        }));
        edges.push(edge("request", &id));
        edges.push(edge(&id, "score"));
    }
    let expressions: Vec<Value> = score_expressions(model)
        .into_iter()
        .enumerate()
        .map(|(index, (key, value))| json!({"id": format!("e{index}"), "key": key, "value": value}))
        .collect();
    nodes.push(json!({
        "id": "score",
        "name": "score",
        "type": "expressionNode",
        "content": {"expressions": expressions},
    }));
    nodes.push(json!({"id": "response", "name": "response", "type": "outputNode"}));
    edges.push(edge("request", "score"));
    edges.push(edge("score", "response"));
    Ok(json!({"nodes": nodes, "edges": edges}))
}

/// The request zen is given for `figures`: every input the model reads, by its field name,
/// numbers as the exact decimals custgrade reads, flags as booleans; missing ones left out.
pub fn context(model: &ScoringModel, figures: &FigureSet) -> Variable {
    let fields: VariableMap = crate::inputs(model)
        .into_iter()
        .filter_map(|input| {
            let value = match (input.kind(), input.value(figures)?) {
                (_, InputValue::Number(number)) => Variable::Number(number),
                (InputKind::Flag, InputValue::Category(flag)) => Variable::Bool(flag == "true"),
                (_, InputValue::Category(name)) => Variable::String(name.as_ref().into()),
            };
            Some((Variable::key(&input.field_name()), value))
        })
        .collect();
    Variable::from_object(fields)
}

/// The total score and the grade in zen's result.
pub fn score_and_grade(result: &Variable) -> Result<(Decimal, String), String> {
    let total = result.dot("total").and_then(|total| total.as_number());
    let grade = result
        .dot("grade")
        .and_then(|grade| grade.as_str().map(str::to_owned));
    total
        .zip(grade)
        .ok_or_else(|| format!("no total and grade in {result}"))
}

fn edge(from: &str, to: &str) -> Value {
    json!({"id": format!("{from}-{to}"), "sourceId": from, "targetId": to, "type": "edge"})
}

/// The criterion's points (`points.<key>`) and whether it is kept (`kept.<key>`).
fn criterion_table(criterion: &Criterion) -> Result<Value, String> {
    let field = criterion.input.field_name();
    let (missing_points, kept) = match &criterion.missing {
        MissingPolicy::Zero => (Decimal::ZERO, true),
        MissingPolicy::Neutral { points } => (points_constant(*points), true),
        MissingPolicy::Drop => (Decimal::ZERO, false),
    };
    let missing = (literal(missing_points), kept.to_string());
    let mut rows = vec![("== null".to_owned(), missing.clone())];
    let covered: Vec<(String, String)> = match &criterion.mapping {
        Mapping::Bands(bands) => bands
            .iter()
            .map(|band| (band_cell(band), literal(points_constant(band.points))))
            .collect(),
        Mapping::Curve(corners) => curve_rows(&field, corners)?,
        Mapping::Lookup { entries, default } => entries
            .iter()
            .filter_map(|(key, points)| {
                Some((
                    entry_cell(criterion.input, key)?,
                    literal(points_constant(*points)),
                ))
            })
            .chain(default.map(|points| (String::new(), literal(points_constant(points)))))
            .collect(),
    };
    rows.extend(
        covered
            .into_iter()
            .map(|(cell, points)| (cell, (points, "true".to_owned()))),
    );
    rows.push((String::new(), missing));
    let rules: Vec<Value> = rows
        .into_iter()
        .enumerate()
        .map(|(index, (cell, (points, kept)))| {
            json!({"_id": format!("r{index}"), "value": cell, "points": points, "kept": kept})
        })
        .collect();
    Ok(json!({
        "hitPolicy": "first",
        "inputs": [{"id": "value", "name": field, "field": field}],
        "outputs": [
            {"id": "points", "name": "points", "field": format!("points.{}", criterion.key)},
            {"id": "kept", "name": "kept", "field": format!("kept.{}", criterion.key)},
        ],
        "rules": rules,
    }))
}

/// `[80..90)`, `< 80`, `>= 95`, `[95..100]`.
fn band_cell(band: &Band) -> String {
    let close = if band.upper_inclusive { "]" } else { ")" };
    match (band.lower, band.upper) {
        (Some(lower), Some(upper)) => format!("[{}..{}{close}", literal(lower), literal(upper)),
        (Some(lower), None) => format!(">= {}", literal(lower)),
        (None, Some(upper)) if band.upper_inclusive => format!("<= {}", literal(upper)),
        (None, Some(upper)) => format!("< {}", literal(upper)),
        (None, None) => String::new(),
    }
}

/// At or below the first corner, at or beyond the last, then each segment interpolated as the
/// engine does: `from + (to - from) × (x - from.x) / (to.x - from.x)`, rounded.
fn curve_rows(field: &str, corners: &[CurvePoint]) -> Result<Vec<(String, String)>, String> {
    if let Some(corner) = corners
        .iter()
        .find(|corner| corner.points < Decimal::ZERO || corner.points > Decimal::ONE_HUNDRED)
    {
        return Err(format!("curve point {corner:?} is outside 0-100"));
    }
    let (Some(first), Some(last)) = (corners.first(), corners.last()) else {
        return Ok(Vec::new());
    };
    let mut rows = vec![
        (
            format!("<= {}", literal(first.x)),
            literal(round2(first.points)),
        ),
        (
            format!(">= {}", literal(last.x)),
            literal(round2(last.points)),
        ),
    ];
    for pair in corners.windows(2) {
        let [from, to] = pair else { continue };
        let (x0, x1, p0, p1) = (
            operand(from.x),
            operand(to.x),
            operand(from.points),
            operand(to.points),
        );
        rows.push((
            format!("[{}..{})", literal(from.x), literal(to.x)),
            format!("round({p0} + ({p1} - {p0}) * ({field} - {x0}) / ({x1} - {x0}), 2)"),
        ));
    }
    Ok(rows)
}

/// The cell that matches a table key: a rating in quotes, a flag or a number bare; `None` for
/// a key no value of the input can have.
fn entry_cell(input: Input, key: &str) -> Option<String> {
    match input.kind() {
        InputKind::Rating => Some(format!("\"{key}\"")),
        InputKind::Flag => matches!(key, "true" | "false").then(|| key.to_owned()),
        _ => {
            let number: Decimal = key.parse().ok()?;
            (number.normalize().to_string() == key).then(|| literal(number))
        }
    }
}

/// The expression node: (key, expression) in evaluation order; `$.key` reads an earlier one.
fn score_expressions(model: &ScoringModel) -> Vec<(String, String)> {
    let criteria = &model.criteria;
    let kept = |criterion: &Criterion| format!("kept.{}", criterion.key);
    let weight_key = |criterion: &Criterion| format!("weight_{}", criterion.key);
    let contribution_key = |criterion: &Criterion| format!("contribution_{}", criterion.key);

    let kept_weights: Vec<String> = criteria
        .iter()
        .map(|c| format!("({} ? {} : 0)", kept(c), literal(c.weight_percent)))
        .collect();
    let mut expressions = vec![("keptSum".to_owned(), sum(&kept_weights))];
    for (index, criterion) in criteria.iter().enumerate() {
        let later_kept: Vec<String> = criteria.iter().skip(index + 1).map(kept).collect();
        let earlier: Vec<String> = criteria
            .iter()
            .take(index)
            .map(|c| format!("$.{}", weight_key(c)))
            .collect();
        let remainder = format!("100 - ({})", sum(&earlier));
        let scaled = format!(
            "round({} * 100 / $.keptSum, 2)",
            literal(criterion.weight_percent)
        );
        let weight = if later_kept.is_empty() {
            remainder
        } else {
            format!("({}) ? {scaled} : {remainder}", later_kept.join(" or "))
        };
        expressions.push((
            weight_key(criterion),
            format!("($.keptSum > 0 and {}) ? ({weight}) : 0", kept(criterion)),
        ));
        expressions.push((
            contribution_key(criterion),
            format!(
                "round(points.{} * $.{} / 100, 2)",
                criterion.key,
                weight_key(criterion)
            ),
        ));
    }
    let contributions: Vec<String> = criteria
        .iter()
        .map(|c| format!("$.{}", contribution_key(c)))
        .collect();
    expressions.push(("total".to_owned(), sum(&contributions)));

    let last_rank = model.grades.len().saturating_sub(1);
    let rank = model.grades.iter().enumerate().rev().skip(1).fold(
        last_rank.to_string(),
        |otherwise, (rank, threshold)| {
            format!(
                "$.total >= {} ? {rank} : ({otherwise})",
                literal(threshold.min_score)
            )
        },
    );
    expressions.push(("rank0".to_owned(), rank));
    let mut previous = "rank0".to_owned();
    let caps = model
        .knock_outs
        .iter()
        .filter_map(|rule| match &rule.effect {
            Effect::CapGrade(cap) => Some((rule, model.grade_rank(cap)?)),
            Effect::BlockCredit | Effect::FlagReview => None,
        });
    for (index, (rule, cap)) in caps.enumerate() {
        let fires: Vec<String> = rule.when_any.iter().map(condition).collect();
        let key = format!("rank{}", index + 1);
        expressions.push((
            key.clone(),
            format!(
                "(({}) and {cap} > $.{previous}) ? {cap} : $.{previous}",
                fires.join(" or ")
            ),
        ));
        previous = key;
    }
    let grade = model.grades.iter().enumerate().rev().fold(
        "\"\"".to_owned(),
        |otherwise, (rank, threshold)| {
            format!(
                "$.{previous} == {rank} ? \"{}\" : ({otherwise})",
                threshold.grade
            )
        },
    );
    expressions.push(("grade".to_owned(), grade));
    expressions
}

/// A knock-out condition in zen's language, with the engine's rules: only `is_missing` holds
/// for a missing input, categories compare by name and cannot be ordered.
fn condition(condition: &Condition) -> String {
    let field = condition.input.field_name();
    if condition.op == Comparison::IsMissing {
        return format!("{field} == null");
    }
    let Some(expected) = condition.value.as_deref() else {
        return "false".to_owned();
    };
    let operator = match condition.op {
        Comparison::Gt => ">",
        Comparison::Ge => ">=",
        Comparison::Lt => "<",
        Comparison::Le => "<=",
        Comparison::Eq => "==",
        Comparison::Ne | Comparison::IsMissing => "!=",
    };
    let operand = match condition.input.kind() {
        InputKind::Rating if !condition.op.is_ordering() => Some(format!("\"{expected}\"")),
        InputKind::Flag if !condition.op.is_ordering() => match expected {
            "true" | "false" => Some(expected.to_owned()),
            _ => None,
        },
        InputKind::Rating | InputKind::Flag => return "false".to_owned(),
        _ => expected.trim().parse::<Decimal>().ok().map(operand),
    };
    match (operand, condition.op) {
        (Some(operand), _) => format!("({field} != null and {field} {operator} {operand})"),
        (None, Comparison::Ne) => format!("{field} != null"),
        (None, _) => "false".to_owned(),
    }
}

/// Points as the engine counts them: within 0-100, two decimals.
fn points_constant(points: Decimal) -> Decimal {
    round2(points.clamp(Decimal::ZERO, Decimal::ONE_HUNDRED))
}

/// A number as zen reads it: `100000`, `62.5`, `-20`.
fn literal(number: Decimal) -> String {
    number.normalize().to_string()
}

/// A number that may stand after an operator: negative ones in brackets.
fn operand(number: Decimal) -> String {
    if number.is_sign_negative() {
        format!("({})", literal(number))
    } else {
        literal(number)
    }
}

fn sum(terms: &[String]) -> String {
    if terms.is_empty() {
        "0".to_owned()
    } else {
        terms.join(" + ")
    }
}
