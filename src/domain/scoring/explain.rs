//! The rationale of an assessment as plain text a credit officer reads: a header, one table
//! row per criterion, the knock-outs, the credit recommendation, the reason codes and the
//! sentences, in English or Simplified Chinese. Apart from the engine because it only presents
//! numbers the engine already decided; nothing here changes a score.

use rust_decimal::Decimal;
use unicode_width::UnicodeWidthStr;

use super::{
    assessment::{Assessment, CriterionResult, MissingTreatment},
    input::{Input, InputKind, InputValue},
    knockout::Effect,
    mapping::{Band, Matched},
    policy::{CapKind, CreditRecommendation, PurchaseSource, ZeroLimitReason},
    rationale::{self, Locale, criterion_sentence, plain, two_decimals},
};

/// Renders `assessment` as a report in `locale`, the same text every time.
///
/// The per-criterion sentences are re-worded in `locale` when it is not the assessment's own;
/// knock-out descriptions are stored in every language.
pub fn explain(assessment: &Assessment, locale: Locale) -> String {
    let words = Words::of(locale);
    let mut report: Vec<String> = header(assessment, locale, &words);
    report.push(String::new());
    report.extend(criterion_table(assessment, locale));
    report.push(String::new());
    report.extend(knock_outs(assessment, locale, &words));
    report.push(String::new());
    report.extend(credit(assessment, locale, &words));
    report.push(String::new());
    report.extend(reasons(assessment, locale, &words));
    report.push(String::new());
    report.push(words.rationale.to_owned());
    for line in &assessment.criteria {
        let sentence = if locale == assessment.locale {
            line.sentence.clone()
        } else {
            criterion_sentence(line, locale)
        };
        report.push(format!("  - {sentence}"));
    }
    let mut text = report.join("\n");
    text.push('\n');
    text
}

/// The fixed wording of a report in one language.
struct Words {
    title: &'static str,
    model: &'static str,
    version: &'static str,
    as_of: &'static str,
    valid_until: &'static str,
    score: &'static str,
    of_100: &'static str,
    grade: &'static str,
    before_knock_outs: &'static str,
    columns: [&'static str; 7],
    total: &'static str,
    missing: &'static str,
    model_weight: &'static str,
    knock_outs: &'static str,
    none: &'static str,
    review: &'static str,
    credit: &'static str,
    limit: &'static str,
    based_on: &'static str,
    capped_by: &'static str,
    terms: &'static str,
    days: &'static str,
    service: &'static str,
    no_policy: &'static str,
    why_not: &'static str,
    nothing_lost: &'static str,
    points_lost: &'static str,
    rationale: &'static str,
}

impl Words {
    fn of(locale: Locale) -> Self {
        match locale {
            Locale::En => Self {
                title: "Assessment explained",
                model: "Model: ",
                version: ", version ",
                as_of: "Figures as of: ",
                valid_until: "Valid until: ",
                score: "Total score: ",
                of_100: " of 100",
                grade: "Grade: ",
                before_knock_outs: " before knock-outs",
                columns: [
                    "Criterion",
                    "Value",
                    "Matched",
                    "Points",
                    "Weight",
                    "Contribution",
                    "Max",
                ],
                total: "Total",
                missing: "missing",
                model_weight: "model",
                knock_outs: "Knock-outs:",
                none: "none",
                review: "Review required: a knock-out asks for a person to look before this grade \
                         is acted on.",
                credit: "Credit recommendation:",
                limit: "Credit limit: ",
                based_on: "Based on: ",
                capped_by: "Capped by: ",
                terms: "Payment terms: ",
                days: " days",
                service: "Service level: ",
                no_policy: "no policy for this grade",
                why_not: "Why not a higher grade:",
                nothing_lost: "no points were lost",
                points_lost: "points lost",
                rationale: "Rationale:",
            },
            Locale::ZhCn => Self {
                title: "评估说明",
                model: "模型：",
                version: "，版本 ",
                as_of: "数据日期：",
                valid_until: "有效期至：",
                score: "总分：",
                of_100: "（满分 100）",
                grade: "等级：",
                before_knock_outs: "否决规则前为 ",
                columns: [
                    "评分项",
                    "取值",
                    "匹配",
                    "得分",
                    "权重",
                    "贡献分",
                    "满分贡献",
                ],
                total: "合计",
                missing: "缺失",
                model_weight: "原 ",
                knock_outs: "否决规则：",
                none: "无",
                review: "需人工复核：否决规则要求在采用此等级前由人工复核。",
                credit: "授信建议：",
                limit: "信用额度：",
                based_on: "依据：",
                capped_by: "上限：",
                terms: "账期：",
                days: " 天",
                service: "服务等级：",
                no_policy: "该等级没有对应政策",
                why_not: "未获更高等级的原因：",
                nothing_lost: "无失分",
                points_lost: "失分",
                rationale: "评分说明：",
            },
        }
    }
}

fn header(assessment: &Assessment, locale: Locale, words: &Words) -> Vec<String> {
    let grade = if assessment.grade == assessment.grade_before_knock_outs {
        assessment.grade.clone()
    } else {
        let before = &assessment.grade_before_knock_outs;
        match locale {
            Locale::En => format!("{} ({before}{})", assessment.grade, words.before_knock_outs),
            Locale::ZhCn => format!(
                "{}（{}{before}）",
                assessment.grade, words.before_knock_outs
            ),
        }
    };
    vec![
        words.title.to_owned(),
        format!(
            "{}{}{}{}",
            words.model, assessment.model_name, words.version, assessment.model_version
        ),
        format!("{}{}", words.as_of, assessment.as_of.format("%Y-%m-%d")),
        format!(
            "{}{}",
            words.valid_until,
            assessment.valid_until.format("%Y-%m-%d")
        ),
        format!(
            "{}{}{}",
            words.score,
            two_decimals(assessment.total_score),
            words.of_100
        ),
        format!("{}{grade}", words.grade),
    ]
}

/// The criterion table: a heading, a rule, a row per criterion, a rule and the total row.
/// Every line has the same display width, wide characters counting two columns.
fn criterion_table(assessment: &Assessment, locale: Locale) -> Vec<String> {
    let words = Words::of(locale);
    let rows: Vec<[String; 7]> = assessment
        .criteria
        .iter()
        .map(|line| row(line, locale, &words))
        .collect();
    let weights: Decimal = assessment
        .criteria
        .iter()
        .map(|line| line.effective_weight_percent)
        .sum();
    let max: Decimal = assessment
        .criteria
        .iter()
        .map(|line| line.max_contribution)
        .sum();
    let total = [
        words.total.to_owned(),
        String::new(),
        String::new(),
        String::new(),
        format!("{} %", plain(weights)),
        two_decimals(assessment.total_score),
        two_decimals(max),
    ];
    let heading = words.columns.map(str::to_owned);

    let mut widths = [0_usize; 7];
    for cells in std::iter::once(&heading).chain(&rows).chain([&total]) {
        for (width, cell) in widths.iter_mut().zip(cells) {
            *width = (*width).max(cell.width());
        }
    }
    let rule = "-".repeat(widths.iter().sum::<usize>() + GAP.len() * (widths.len() - 1));
    let mut lines = vec![render(&heading, &widths), rule.clone()];
    lines.extend(rows.iter().map(|cells| render(cells, &widths)));
    lines.push(rule);
    lines.push(render(&total, &widths));
    lines
}

const GAP: &str = "  ";
/// The first three columns are text and read from the left; the numbers line up on the right.
const LEFT_ALIGNED: usize = 3;

fn render(cells: &[String; 7], widths: &[usize; 7]) -> String {
    let padded: Vec<String> = cells
        .iter()
        .zip(widths)
        .enumerate()
        .map(|(column, (cell, width))| {
            let fill = " ".repeat(width.saturating_sub(cell.width()));
            if column < LEFT_ALIGNED {
                format!("{cell}{fill}")
            } else {
                format!("{fill}{cell}")
            }
        })
        .collect();
    padded.join(GAP)
}

fn row(line: &CriterionResult, locale: Locale, words: &Words) -> [String; 7] {
    let value = line.value.as_ref().map_or_else(
        || words.missing.to_owned(),
        |value| value_text(line.input, value, locale),
    );
    let matched = match (&line.matched, line.missing) {
        (Some(matched), _) => matched_text(matched, locale),
        (None, treatment) => treatment_text(line.value.is_some(), treatment, locale),
    };
    let weight = if line.effective_weight_percent == line.weight_percent {
        format!("{} %", plain(line.effective_weight_percent))
    } else {
        let effective = plain(line.effective_weight_percent);
        let model = plain(line.weight_percent);
        match locale {
            Locale::En => format!("{effective} % ({} {model} %)", words.model_weight),
            Locale::ZhCn => format!("{effective} %（{}{model} %）", words.model_weight),
        }
    };
    [
        line.input.display_name(locale).to_owned(),
        value,
        matched,
        two_decimals(line.points),
        weight,
        two_decimals(line.contribution),
        two_decimals(line.max_contribution),
    ]
}

/// The band, segment or entry that gave the points, short enough for a table cell.
/// The band, segment or entry that gave a criterion its points, as a short phrase.
pub fn matched_text(matched: &Matched, locale: Locale) -> String {
    let zh = locale == Locale::ZhCn;
    match matched {
        Matched::Band { band, .. } if zh => format!("区间 {}", interval(band)),
        Matched::Band { band, .. } => format!("band {}", interval(band)),
        Matched::Segment { from, to } if zh => {
            format!("曲线段 [{}, {}]", plain(from.x), plain(to.x))
        }
        Matched::Segment { from, to } => format!("curve [{}, {}]", plain(from.x), plain(to.x)),
        Matched::BeforeCurve { first } if zh => format!("曲线起点 {}", plain(first.x)),
        Matched::BeforeCurve { first } => format!("curve start {}", plain(first.x)),
        Matched::AfterCurve { last } if zh => format!("曲线终点 {}", plain(last.x)),
        Matched::AfterCurve { last } => format!("curve end {}", plain(last.x)),
        Matched::Entry { key } if zh => format!("条目 \"{key}\""),
        Matched::Entry { key } => format!("entry \"{key}\""),
        Matched::Default { .. } if zh => "默认值（不在表中）".to_owned(),
        Matched::Default { .. } => "default (not in table)".to_owned(),
    }
}

/// What the missing-input policy did, for an input that is absent or not covered.
fn treatment_text(present: bool, treatment: Option<MissingTreatment>, locale: Locale) -> String {
    let (prefix, effect) = match locale {
        Locale::En => (
            if present { "not covered, " } else { "" },
            match treatment {
                Some(MissingTreatment::Dropped) => "left out, re-weighted",
                Some(MissingTreatment::CountedAsNeutral) => "counted as neutral",
                Some(MissingTreatment::CountedAsZero) | None => "counted as zero",
            },
        ),
        Locale::ZhCn => (
            if present { "不在映射范围，" } else { "" },
            match treatment {
                Some(MissingTreatment::Dropped) => "不计入，重新加权",
                Some(MissingTreatment::CountedAsNeutral) => "按中性分计",
                Some(MissingTreatment::CountedAsZero) | None => "按 0 分计",
            },
        ),
    };
    format!("{prefix}{effect}")
}

/// "[90, 95)", "[95, 100]", "< 80", ">= 1,000,000": plain ASCII, so no symbol of ambiguous
/// width can shift a column in a Chinese terminal.
fn interval(band: &Band) -> String {
    let close = if band.upper_inclusive { "]" } else { ")" };
    match (band.lower, band.upper) {
        (Some(lower), Some(upper)) => format!("[{}, {}{close}", grouped(lower), grouped(upper)),
        (None, Some(upper)) if band.upper_inclusive => format!("<= {}", grouped(upper)),
        (None, Some(upper)) => format!("< {}", grouped(upper)),
        (Some(lower), None) => format!(">= {}", grouped(lower)),
        (None, None) => "(-inf, +inf)".to_owned(),
    }
}

fn value_text(input: Input, value: &InputValue, locale: Locale) -> String {
    match value {
        InputValue::Number(number) if input.kind() == InputKind::Money => grouped(*number),
        _ => rationale::value_text(input, value, locale),
    }
}

fn knock_outs(assessment: &Assessment, locale: Locale, words: &Words) -> Vec<String> {
    if assessment.knock_outs.is_empty() {
        let gap = if locale == Locale::En { " " } else { "" };
        return vec![format!("{}{gap}{}", words.knock_outs, words.none)];
    }
    let mut lines = vec![words.knock_outs.to_owned()];
    for fired in &assessment.knock_outs {
        let effect = effect_text(&fired.effect, locale);
        let description = fired.description(locale);
        let line = match locale {
            Locale::En => format!("  - {}: {description} ({effect})", fired.key),
            Locale::ZhCn => format!("  - {}：{description}（{effect}）", fired.key),
        };
        lines.push(line);
    }
    if assessment.review_required {
        lines.push(words.review.to_owned());
    }
    lines
}

fn effect_text(effect: &Effect, locale: Locale) -> String {
    match (effect, locale) {
        (Effect::CapGrade(grade), Locale::En) => format!("caps the grade at {grade}"),
        (Effect::CapGrade(grade), Locale::ZhCn) => format!("等级上限为 {grade}"),
        (Effect::BlockCredit, Locale::En) => "blocks credit".to_owned(),
        (Effect::BlockCredit, Locale::ZhCn) => "停止授信".to_owned(),
        (Effect::FlagReview, Locale::En) => "flags for review".to_owned(),
        (Effect::FlagReview, Locale::ZhCn) => "需人工复核".to_owned(),
    }
}

fn credit(assessment: &Assessment, locale: Locale, words: &Words) -> Vec<String> {
    let mut lines = vec![words.credit.to_owned()];
    let Some(credit) = &assessment.credit else {
        lines.push(format!("  {}", words.no_policy));
        return lines;
    };
    let limit = grouped(credit.credit_limit);
    lines.push(match (zero_reason(credit, locale), locale) {
        (Some(reason), Locale::En) => format!("  {}{limit} ({reason})", words.limit),
        (Some(reason), Locale::ZhCn) => format!("  {}{limit}（{reason}）", words.limit),
        (None, _) => format!("  {}{limit}", words.limit),
    });
    if let Some(monthly) = &credit.monthly_purchases {
        let average = grouped(monthly.monthly_average);
        let basis = match (monthly.source, locale) {
            (PurchaseSource::SalesLast12Months, Locale::En) => {
                format!("average monthly purchases {average} (sales in the last 12 months)")
            }
            (PurchaseSource::AnnualPurchaseBudget, Locale::En) => {
                format!("average monthly purchases {average} (annual purchase budget)")
            }
            (PurchaseSource::SalesLast12Months, Locale::ZhCn) => {
                format!("月均采购额 {average}（近 12 个月销售额）")
            }
            (PurchaseSource::AnnualPurchaseBudget, Locale::ZhCn) => {
                format!("月均采购额 {average}（年采购预算）")
            }
        };
        lines.push(format!("  {}{basis}", words.based_on));
    }
    for cap in &credit.caps_applied {
        let amount = grouped(cap.amount);
        let cap = match (cap.kind, locale) {
            (CapKind::NetAssets, Locale::En) => format!("share of net assets, {amount}"),
            (CapKind::Revenue, Locale::En) => format!("share of revenue, {amount}"),
            (CapKind::NetAssets, Locale::ZhCn) => format!("净资产比例，{amount}"),
            (CapKind::Revenue, Locale::ZhCn) => format!("营业收入比例，{amount}"),
        };
        lines.push(format!("  {}{cap}", words.capped_by));
    }
    lines.push(format!(
        "  {}{}{}",
        words.terms, credit.payment_terms_days, words.days
    ));
    lines.push(format!("  {}{}", words.service, credit.service_level));
    lines
}

fn zero_reason(credit: &CreditRecommendation, locale: Locale) -> Option<String> {
    let reason = credit.zero_reason.as_ref()?;
    Some(match (reason, locale) {
        (ZeroLimitReason::CreditBlocked(keys), Locale::En) => {
            format!("credit blocked by knock-out {}", keys.join(", "))
        }
        (ZeroLimitReason::CreditBlocked(keys), Locale::ZhCn) => {
            format!("否决规则 {} 停止授信", keys.join("、"))
        }
        (ZeroLimitReason::NoPurchaseFigures, Locale::En) => {
            "neither sales in the last 12 months nor an annual purchase budget is known".to_owned()
        }
        (ZeroLimitReason::NoPurchaseFigures, Locale::ZhCn) => {
            "近 12 个月销售额与年采购预算均未知".to_owned()
        }
    })
}

fn reasons(assessment: &Assessment, locale: Locale, words: &Words) -> Vec<String> {
    if assessment.reason_codes.is_empty() {
        let gap = if locale == Locale::En { " " } else { "" };
        return vec![format!("{}{gap}{}", words.why_not, words.nothing_lost)];
    }
    let mut lines = vec![words.why_not.to_owned()];
    for (rank, code) in assessment.reason_codes.iter().enumerate() {
        let name = assessment
            .criteria
            .iter()
            .find(|line| line.key == code.criterion)
            .map_or(code.criterion.as_str(), |line| {
                line.input.display_name(locale)
            });
        let lost = two_decimals(code.points_lost);
        lines.push(match locale {
            Locale::En => format!("  {}. {name}: {lost} {}", rank + 1, words.points_lost),
            Locale::ZhCn => format!("  {}. {name}：{} {lost} 分", rank + 1, words.points_lost),
        });
    }
    lines
}

/// Money with thousands separators and without trailing zeros: 1,500,000, 273,518.4.
fn grouped(number: Decimal) -> String {
    let text = plain(number);
    let (sign, unsigned) = text
        .strip_prefix('-')
        .map_or(("", text.as_str()), |rest| ("-", rest));
    let (whole, fraction) = unsigned
        .split_once('.')
        .map_or((unsigned, None), |(whole, fraction)| {
            (whole, Some(fraction))
        });
    let digits: Vec<char> = whole.chars().collect();
    let mut out = String::from(sign);
    for (index, digit) in digits.iter().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(*digit);
    }
    if let Some(fraction) = fraction {
        out.push('.');
        out.push_str(fraction);
    }
    out
}

#[cfg(test)]
#[path = "explain_tests.rs"]
mod tests;
