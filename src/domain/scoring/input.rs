//! The inputs a criterion can read: one name per field of a [`FigureSet`], its kind, its
//! display names, and its value as the engine uses it. Kept apart so models (data) name inputs
//! with the same words as the figures API, and so adding a figure is a change in one place.

use std::borrow::Cow;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::rationale::Locale;
use crate::domain::figures::FigureSet;

/// One field of a [`FigureSet`], named exactly as the field is (`on_time_payment_rate_percent`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Input {
    AnnualRevenue,
    EmployeeCount,
    DebtToAssetRatioPercent,
    CurrentRatio,
    NetProfitMarginPercent,
    OperatingCashFlow,
    NetAssets,
    FinancialStatementsProvided,
    CreditRating,
    MarketSharePercent,
    BrandStrength,
    AnnualPurchaseBudget,
    PurchaseFrequencyPerYear,
    #[serde(rename = "sales_last_12_months")]
    SalesLast12Months,
    GrossMarginPercent,
    CooperationYears,
    CompletedProjects,
    RepeatPurchaseRatePercent,
    OnTimePaymentRatePercent,
    LongestOverdueDays,
    ContractFulfilmentRatePercent,
    RevenueGrowthPercent,
    MarketOutlook,
    InnovationCapability,
    StrategicFit,
}

/// What sort of value an input holds, which decides the mappings and conditions that fit it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InputKind {
    /// An exact amount in the snapshot's currency.
    Money,
    /// A measured quantity (a ratio, a percentage, years).
    Measure,
    /// A whole number of things or days.
    Count,
    /// A staff assessment from 1 (worst) to 5 (best): a number, and also a category "1".."5".
    Scale1To5,
    /// An agency rating, "AAA" to "D".
    Rating,
    /// Yes or no, "true" or "false".
    Flag,
}

impl InputKind {
    /// Whether values compare as numbers (bands, curves, `gt`/`lt` conditions).
    pub fn is_numeric(self) -> bool {
        matches!(
            self,
            Self::Money | Self::Measure | Self::Count | Self::Scale1To5
        )
    }

    /// Whether values can be looked up in a table by name.
    pub fn is_categorical(self) -> bool {
        matches!(self, Self::Scale1To5 | Self::Rating | Self::Flag)
    }
}

/// An input's value as the engine reads it: exact numbers, or a category's name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InputValue {
    Number(Decimal),
    /// A static name when the engine reads it from the figures; owned when read back.
    Category(Cow<'static, str>),
}

impl InputValue {
    /// The key a lookup table is searched with: the category, or the number's plain text ("3").
    pub fn lookup_key(&self) -> String {
        self.key_text().into_owned()
    }

    /// [`InputValue::lookup_key`], borrowed when the value is already a name.
    pub fn key_text(&self) -> Cow<'_, str> {
        match self {
            Self::Number(number) => Cow::Owned(number.normalize().to_string()),
            Self::Category(name) => Cow::Borrowed(name.as_ref()),
        }
    }
}

impl Input {
    /// Every input, in the order of the figures.
    pub const ALL: [Input; 25] = [
        Self::AnnualRevenue,
        Self::EmployeeCount,
        Self::DebtToAssetRatioPercent,
        Self::CurrentRatio,
        Self::NetProfitMarginPercent,
        Self::OperatingCashFlow,
        Self::NetAssets,
        Self::FinancialStatementsProvided,
        Self::CreditRating,
        Self::MarketSharePercent,
        Self::BrandStrength,
        Self::AnnualPurchaseBudget,
        Self::PurchaseFrequencyPerYear,
        Self::SalesLast12Months,
        Self::GrossMarginPercent,
        Self::CooperationYears,
        Self::CompletedProjects,
        Self::RepeatPurchaseRatePercent,
        Self::OnTimePaymentRatePercent,
        Self::LongestOverdueDays,
        Self::ContractFulfilmentRatePercent,
        Self::RevenueGrowthPercent,
        Self::MarketOutlook,
        Self::InnovationCapability,
        Self::StrategicFit,
    ];

    /// The input's name in models and in the figures API (`on_time_payment_rate_percent`).
    pub fn field_name(self) -> String {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::String(name)) => name,
            _ => format!("{self:?}"),
        }
    }

    pub fn kind(self) -> InputKind {
        use Input::*;
        match self {
            AnnualRevenue | OperatingCashFlow | NetAssets | AnnualPurchaseBudget
            | SalesLast12Months => InputKind::Money,
            EmployeeCount | PurchaseFrequencyPerYear | CompletedProjects | LongestOverdueDays => {
                InputKind::Count
            }
            DebtToAssetRatioPercent
            | CurrentRatio
            | NetProfitMarginPercent
            | MarketSharePercent
            | GrossMarginPercent
            | CooperationYears
            | RepeatPurchaseRatePercent
            | OnTimePaymentRatePercent
            | ContractFulfilmentRatePercent
            | RevenueGrowthPercent => InputKind::Measure,
            BrandStrength | MarketOutlook | InnovationCapability | StrategicFit => {
                InputKind::Scale1To5
            }
            CreditRating => InputKind::Rating,
            FinancialStatementsProvided => InputKind::Flag,
        }
    }

    /// The value in `figures`, or `None` when it is missing. A measure whose text does not fit
    /// a decimal (beyond every accepted range) counts as missing rather than as a wrong number.
    pub fn value(self, figures: &FigureSet) -> Option<InputValue> {
        use Input::*;
        let f = figures;
        match self {
            AnnualRevenue => money(f.annual_revenue),
            OperatingCashFlow => money(f.operating_cash_flow),
            NetAssets => money(f.net_assets),
            AnnualPurchaseBudget => money(f.annual_purchase_budget),
            SalesLast12Months => money(f.sales_last_12_months),
            EmployeeCount => f.employee_count.map(|n| InputValue::Number(n.into())),
            PurchaseFrequencyPerYear => count(f.purchase_frequency_per_year),
            CompletedProjects => count(f.completed_projects),
            LongestOverdueDays => count(f.longest_overdue_days),
            BrandStrength => count(f.brand_strength),
            MarketOutlook => count(f.market_outlook),
            InnovationCapability => count(f.innovation_capability),
            StrategicFit => count(f.strategic_fit),
            DebtToAssetRatioPercent => measure(f.debt_to_asset_ratio_percent),
            CurrentRatio => measure(f.current_ratio),
            NetProfitMarginPercent => measure(f.net_profit_margin_percent),
            MarketSharePercent => measure(f.market_share_percent),
            GrossMarginPercent => measure(f.gross_margin_percent),
            CooperationYears => measure(f.cooperation_years),
            RepeatPurchaseRatePercent => measure(f.repeat_purchase_rate_percent),
            OnTimePaymentRatePercent => measure(f.on_time_payment_rate_percent),
            ContractFulfilmentRatePercent => measure(f.contract_fulfilment_rate_percent),
            RevenueGrowthPercent => measure(f.revenue_growth_percent),
            CreditRating => f
                .credit_rating
                .map(|r| InputValue::Category(Cow::Borrowed(r.name()))),
            FinancialStatementsProvided => f
                .financial_statements_provided
                .map(|provided| InputValue::Category(Cow::Borrowed(flag_name(provided)))),
        }
    }

    /// The name a rationale sentence uses.
    pub fn display_name(self, locale: Locale) -> &'static str {
        let (en, zh) = self.names();
        match locale {
            Locale::En => en,
            Locale::ZhCn => zh,
        }
    }

    /// The unit written after a value in a sentence (" %", " days"), empty for none.
    pub fn unit(self, locale: Locale) -> &'static str {
        use Input::*;
        match (self, locale) {
            (LongestOverdueDays, Locale::En) => " days",
            (LongestOverdueDays, Locale::ZhCn) => " 天",
            (CooperationYears, Locale::En) => " years",
            (CooperationYears, Locale::ZhCn) => " 年",
            (
                DebtToAssetRatioPercent
                | NetProfitMarginPercent
                | MarketSharePercent
                | GrossMarginPercent
                | RepeatPurchaseRatePercent
                | OnTimePaymentRatePercent
                | ContractFulfilmentRatePercent
                | RevenueGrowthPercent,
                _,
            ) => " %",
            _ => "",
        }
    }

    fn names(self) -> (&'static str, &'static str) {
        use Input::*;
        match self {
            AnnualRevenue => ("Annual revenue", "年营业收入"),
            EmployeeCount => ("Employee count", "员工人数"),
            DebtToAssetRatioPercent => ("Debt-to-asset ratio", "资产负债率"),
            CurrentRatio => ("Current ratio", "流动比率"),
            NetProfitMarginPercent => ("Net profit margin", "净利润率"),
            OperatingCashFlow => ("Operating cash flow", "经营活动现金流"),
            NetAssets => ("Net assets", "净资产"),
            FinancialStatementsProvided => ("Financial statements provided", "是否提供财务报表"),
            CreditRating => ("Credit rating", "信用评级"),
            MarketSharePercent => ("Market share", "市场占有率"),
            BrandStrength => ("Brand strength", "品牌影响力"),
            AnnualPurchaseBudget => ("Annual purchase budget", "年采购预算"),
            PurchaseFrequencyPerYear => ("Purchase frequency per year", "年采购频次"),
            SalesLast12Months => ("Sales in the last 12 months", "近 12 个月销售额"),
            GrossMarginPercent => ("Gross margin", "毛利率"),
            CooperationYears => ("Years of cooperation", "合作年限"),
            CompletedProjects => ("Completed projects", "完成项目数"),
            RepeatPurchaseRatePercent => ("Repeat-purchase rate", "复购率"),
            OnTimePaymentRatePercent => ("On-time payment rate", "按时付款率"),
            LongestOverdueDays => ("Longest overdue", "最长逾期天数"),
            ContractFulfilmentRatePercent => ("Contract fulfilment rate", "合同履约率"),
            RevenueGrowthPercent => ("Revenue growth", "营收增长率"),
            MarketOutlook => ("Market outlook", "市场前景"),
            InnovationCapability => ("Innovation capability", "创新能力"),
            StrategicFit => ("Strategic fit", "战略契合度"),
        }
    }
}

fn money(amount: Option<Decimal>) -> Option<InputValue> {
    amount.map(InputValue::Number)
}

fn count(number: Option<i32>) -> Option<InputValue> {
    number.map(|n| InputValue::Number(n.into()))
}

/// Through the shortest text that reads back as the same `f64`, so 0.1 is exactly 0.1.
fn measure(value: Option<f64>) -> Option<InputValue> {
    value
        .and_then(super::measure::shortest_decimal)
        .map(InputValue::Number)
}

/// A flag's category, as [`categories`] spells it.
fn flag_name(flag: bool) -> &'static str {
    if flag { "true" } else { "false" }
}

/// Every category an input can take, for checking lookup keys and condition values; empty for
/// purely numeric inputs.
pub fn categories(kind: InputKind) -> &'static [&'static str] {
    match kind {
        InputKind::Rating => &["AAA", "AA", "A", "BBB", "BB", "B", "CCC", "CC", "C", "D"],
        InputKind::Flag => &["true", "false"],
        InputKind::Scale1To5 => &["1", "2", "3", "4", "5"],
        InputKind::Money | InputKind::Measure | InputKind::Count => &[],
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use std::str::FromStr;

    use rstest::rstest;

    use super::*;
    use crate::domain::figures::CreditRating;

    fn every_figure() -> FigureSet {
        FigureSet {
            annual_revenue: Some(Decimal::ONE),
            employee_count: Some(1),
            debt_to_asset_ratio_percent: Some(1.0),
            current_ratio: Some(1.0),
            net_profit_margin_percent: Some(1.0),
            operating_cash_flow: Some(Decimal::ONE),
            net_assets: Some(Decimal::ONE),
            financial_statements_provided: Some(true),
            credit_rating: Some(CreditRating::Aa),
            market_share_percent: Some(1.0),
            brand_strength: Some(1),
            annual_purchase_budget: Some(Decimal::ONE),
            purchase_frequency_per_year: Some(1),
            sales_last_12_months: Some(Decimal::ONE),
            gross_margin_percent: Some(1.0),
            cooperation_years: Some(1.0),
            completed_projects: Some(1),
            repeat_purchase_rate_percent: Some(1.0),
            on_time_payment_rate_percent: Some(1.0),
            longest_overdue_days: Some(1),
            contract_fulfilment_rate_percent: Some(1.0),
            revenue_growth_percent: Some(1.0),
            market_outlook: Some(1),
            innovation_capability: Some(1),
            strategic_fit: Some(1),
        }
    }

    #[test]
    fn every_input_is_named_exactly_like_its_figure_field() {
        let figures = serde_json::to_value(every_figure()).unwrap();
        let mut field_names: Vec<String> = figures.as_object().unwrap().keys().cloned().collect();
        let mut input_names: Vec<String> = Input::ALL.iter().map(|i| i.field_name()).collect();
        field_names.sort();
        input_names.sort();
        assert_eq!(input_names, field_names);
    }

    #[test]
    fn every_input_reads_its_own_field_and_nothing_else() {
        let full = every_figure();
        let empty = FigureSet::default();
        for input in Input::ALL {
            assert!(input.value(&full).is_some(), "{input:?}");
            assert_eq!(input.value(&empty), None, "{input:?}");
        }
    }

    #[test]
    fn a_measure_becomes_the_decimal_its_shortest_text_spells() {
        let figures = FigureSet {
            on_time_payment_rate_percent: Some(0.1 + 0.2),
            current_ratio: Some(1.1),
            ..FigureSet::default()
        };
        let sum = Input::OnTimePaymentRatePercent.value(&figures);
        assert_eq!(
            sum,
            Some(InputValue::Number(
                Decimal::from_str("0.30000000000000004").unwrap()
            ))
        );
        let ratio = Input::CurrentRatio.value(&figures);
        assert_eq!(ratio, Some(InputValue::Number(Decimal::new(11, 1))));
    }

    #[test]
    fn ratings_and_flags_are_categories_spelled_like_the_figures_api() {
        for rating in [CreditRating::Aaa, CreditRating::Bbb, CreditRating::D] {
            let figures = FigureSet {
                credit_rating: Some(rating),
                ..FigureSet::default()
            };
            let spelled = serde_json::to_value(rating)
                .unwrap()
                .as_str()
                .unwrap()
                .to_owned();
            assert_eq!(
                Input::CreditRating.value(&figures),
                Some(InputValue::Category(spelled.clone().into()))
            );
            assert!(categories(InputKind::Rating).contains(&spelled.as_str()));
        }
        let figures = FigureSet {
            financial_statements_provided: Some(false),
            ..FigureSet::default()
        };
        assert_eq!(
            Input::FinancialStatementsProvided.value(&figures),
            Some(InputValue::Category("false".into()))
        );
    }

    #[rstest]
    #[case(InputValue::Number(Decimal::new(300, 2)), "3")]
    #[case(InputValue::Number(Decimal::new(25, 1)), "2.5")]
    #[case(InputValue::Category("AA".into()), "AA")]
    fn a_value_is_looked_up_by_its_plain_text(#[case] value: InputValue, #[case] key: &str) {
        assert_eq!(value.lookup_key(), key);
    }

    #[test]
    fn scales_are_both_numbers_and_categories_but_ratings_only_categories() {
        assert!(InputKind::Scale1To5.is_numeric() && InputKind::Scale1To5.is_categorical());
        assert!(!InputKind::Rating.is_numeric() && InputKind::Rating.is_categorical());
        assert!(InputKind::Money.is_numeric() && !InputKind::Money.is_categorical());
        assert!(categories(InputKind::Count).is_empty());
    }

    #[test]
    fn every_input_has_a_name_in_both_languages() {
        for input in Input::ALL {
            assert!(!input.display_name(Locale::En).is_empty());
            assert_ne!(
                input.display_name(Locale::En),
                input.display_name(Locale::ZhCn)
            );
        }
        assert_eq!(Input::OnTimePaymentRatePercent.unit(Locale::En), " %");
        assert_eq!(Input::LongestOverdueDays.unit(Locale::ZhCn), " 天");
        assert_eq!(Input::AnnualRevenue.unit(Locale::En), "");
    }
}
