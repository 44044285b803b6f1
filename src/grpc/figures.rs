//! `custgrade.v1.FiguresService`: recording and reading dated snapshots of a customer's inputs.

use chrono::{NaiveDate, Utc};
use rust_decimal::Decimal;
use tonic::{Request, Response, Status};

use super::{
    convert::{date_from_proto, date_to_proto, money_from_proto, money_to_proto, timestamp},
    customers::record_customer,
    names::{figures_name, parse_customer_name},
    pagination,
    request_id::request_id,
    status::{FieldViolations, invalid_argument},
};
use crate::{
    domain::{
        InvalidValue,
        figures::{
            self as rules, Bounds, CreditRating, FigureSet, FiguresSnapshot, IntBounds,
            RecordedFigures,
        },
    },
    proto::{
        custgrade::v1::{self as pb, figures_service_server::FiguresService},
        google::r#type::Money,
    },
    storage::{Store, figures::FiguresCursor},
};

pub struct FiguresApi {
    store: Store,
}

impl FiguresApi {
    pub fn new(store: Store) -> Self {
        Self { store }
    }
}

#[tonic::async_trait]
impl FiguresService for FiguresApi {
    #[tracing::instrument(skip_all, fields(customer = tracing::field::Empty))]
    async fn record_figures(
        &self,
        request: Request<pb::RecordFiguresRequest>,
    ) -> Result<Response<pb::Figures>, Status> {
        let request = request.into_inner();
        let mut violations = FieldViolations::default();
        let customer = violations.check("parent", parse_customer_name(&request.parent));
        let snapshot = match &request.figures {
            Some(figures) => snapshot_from_proto(figures, Utc::now().date_naive(), &mut violations),
            None => {
                violations.add("figures", "is required");
                None
            }
        };
        let request_id = request_id(&request.request_id, &mut violations);
        violations.finish()?;
        let (Some(customer), Some(snapshot)) = (customer, snapshot) else {
            return Err(invalid_argument("figures", "is invalid"));
        };
        record_customer(customer);
        let recorded = self
            .store
            .record_figures(customer, snapshot, request.supersede, request_id.as_deref())
            .await?;
        tracing::info!(revision = recorded.revision, "figures recorded");
        Ok(Response::new(figures_to_proto(&recorded)))
    }

    async fn get_figures(
        &self,
        request: Request<pb::GetFiguresRequest>,
    ) -> Result<Response<pb::Figures>, Status> {
        let request = request.into_inner();
        let mut violations = FieldViolations::default();
        let customer = violations.check("parent", parse_customer_name(&request.parent));
        let as_of =
            violations.check_optional("as_of_date", request.as_of_date.as_ref(), date_from_proto);
        violations.finish()?;
        let (Some(customer), Some(as_of)) = (customer, as_of) else {
            return Err(invalid_argument("parent", "is invalid"));
        };
        let figures = self.store.current_figures(customer, as_of).await?;
        Ok(Response::new(figures_to_proto(&figures)))
    }

    async fn list_figures(
        &self,
        request: Request<pb::ListFiguresRequest>,
    ) -> Result<Response<pb::ListFiguresResponse>, Status> {
        let request = request.into_inner();
        let mut violations = FieldViolations::default();
        let customer = violations.check("parent", parse_customer_name(&request.parent));
        let limit = violations.check("page_size", pagination::page_size(request.page_size));
        let filter = (&request.parent, request.show_superseded);
        let after = violations.check("page_token", figures_cursor(&request.page_token, &filter));
        violations.finish()?;
        let (Some(customer), Some(limit), Some(after)) = (customer, limit, after) else {
            return Err(invalid_argument("page_token", "is invalid"));
        };
        let page = self
            .store
            .list_figures(customer, request.show_superseded, after, limit)
            .await?;
        let next_page_token = pagination::next_page_token(&page.items, page.has_more, |last| {
            pagination::encode_pair(last.snapshot.as_of, last.revision, &filter)
        });
        Ok(Response::new(pb::ListFiguresResponse {
            figures: page.items.iter().map(figures_to_proto).collect(),
            next_page_token,
        }))
    }
}

/// Where a page of snapshots continues: the token carries `YYYY-MM-DD/revision`.
fn figures_cursor(
    token: &str,
    filter: &(&String, bool),
) -> Result<Option<FiguresCursor>, InvalidValue> {
    pagination::decode_pair(token, filter, |date, revision| {
        Some((
            date.parse::<NaiveDate>().ok()?,
            revision.parse::<i32>().ok()?,
        ))
    })
}

/// Reads the inputs of a snapshot, recording a violation for every value out of its range and
/// requiring one currency for all money values.
struct InputReader<'a> {
    violations: &'a mut FieldViolations,
    /// The first currency seen, and the field it was seen on.
    currency: Option<(String, &'static str)>,
}

impl InputReader<'_> {
    fn measured(&mut self, field: &'static str, value: Option<f64>, bounds: Bounds) -> Option<f64> {
        let value = value?;
        self.violations.check(&path(field), bounds.check(value))
    }

    fn counted<T: Into<i64> + Copy>(
        &mut self,
        field: &'static str,
        value: Option<T>,
        bounds: IntBounds,
    ) -> Option<T> {
        let value = value?;
        self.violations.check(&path(field), bounds.check(value))
    }

    fn money(
        &mut self,
        field: &'static str,
        value: Option<&Money>,
        can_be_negative: bool,
    ) -> Option<Decimal> {
        let (amount, currency) = self
            .violations
            .check(&path(field), money_from_proto(value?))?;
        let amount = if can_be_negative {
            amount
        } else {
            self.violations
                .check(&path(field), rules::non_negative(amount))?
        };
        match &self.currency {
            Some((first, first_field)) if *first != currency => {
                let reason = format!(
                    "must be in {first} like figures.{first_field}: one snapshot has one currency"
                );
                self.violations.add(path(field), reason);
                None
            }
            Some(_) => Some(amount),
            None => {
                self.currency = Some((currency, field));
                Some(amount)
            }
        }
    }

    fn rating(&mut self, raw: i32) -> Option<CreditRating> {
        match pb::CreditRating::try_from(raw) {
            Ok(rating) => rating_from_proto(rating),
            Err(_) => {
                let reason = format!("{raw} is not a credit rating");
                self.violations.add(path("credit_rating"), reason);
                None
            }
        }
    }
}

fn path(field: &str) -> String {
    format!("figures.{field}")
}

fn snapshot_from_proto(
    figures: &pb::Figures,
    today: NaiveDate,
    violations: &mut FieldViolations,
) -> Option<FiguresSnapshot> {
    let as_of = match &figures.as_of_date {
        Some(date) => violations.check(
            "figures.as_of_date",
            date_from_proto(date).and_then(|date| rules::validate_as_of(date, today)),
        ),
        None => {
            violations.add("figures.as_of_date", "is required");
            None
        }
    };
    let source = violations.check(
        "figures.source",
        crate::domain::invalid::bounded_text(&figures.source, 0, 200),
    );
    let before = violations.len();
    let mut reader = InputReader {
        violations,
        currency: None,
    };
    let inputs = FigureSet {
        annual_revenue: reader.money("annual_revenue", figures.annual_revenue.as_ref(), false),
        employee_count: reader.counted("employee_count", figures.employee_count, rules::COUNT),
        debt_to_asset_ratio_percent: reader.measured(
            "debt_to_asset_ratio_percent",
            figures.debt_to_asset_ratio_percent,
            rules::DEBT_TO_ASSET_PERCENT,
        ),
        current_ratio: reader.measured(
            "current_ratio",
            figures.current_ratio,
            rules::CURRENT_RATIO,
        ),
        net_profit_margin_percent: reader.measured(
            "net_profit_margin_percent",
            figures.net_profit_margin_percent,
            rules::NET_PROFIT_MARGIN_PERCENT,
        ),
        operating_cash_flow: reader.money(
            "operating_cash_flow",
            figures.operating_cash_flow.as_ref(),
            true,
        ),
        net_assets: reader.money("net_assets", figures.net_assets.as_ref(), true),
        financial_statements_provided: figures.financial_statements_provided,
        credit_rating: reader.rating(figures.credit_rating),
        market_share_percent: reader.measured(
            "market_share_percent",
            figures.market_share_percent,
            rules::PERCENT,
        ),
        brand_strength: reader.counted(
            "brand_strength",
            figures.brand_strength,
            rules::SCALE_1_TO_5,
        ),
        annual_purchase_budget: reader.money(
            "annual_purchase_budget",
            figures.annual_purchase_budget.as_ref(),
            false,
        ),
        purchase_frequency_per_year: reader.counted(
            "purchase_frequency_per_year",
            figures.purchase_frequency_per_year,
            rules::COUNT,
        ),
        sales_last_12_months: reader.money(
            "sales_last_12_months",
            figures.sales_last_12_months.as_ref(),
            false,
        ),
        gross_margin_percent: reader.measured(
            "gross_margin_percent",
            figures.gross_margin_percent,
            rules::GROSS_MARGIN_PERCENT,
        ),
        cooperation_years: reader.measured(
            "cooperation_years",
            figures.cooperation_years,
            rules::COOPERATION_YEARS,
        ),
        completed_projects: reader.counted(
            "completed_projects",
            figures.completed_projects,
            rules::COUNT,
        ),
        repeat_purchase_rate_percent: reader.measured(
            "repeat_purchase_rate_percent",
            figures.repeat_purchase_rate_percent,
            rules::PERCENT,
        ),
        on_time_payment_rate_percent: reader.measured(
            "on_time_payment_rate_percent",
            figures.on_time_payment_rate_percent,
            rules::PERCENT,
        ),
        longest_overdue_days: reader.counted(
            "longest_overdue_days",
            figures.longest_overdue_days,
            rules::OVERDUE_DAYS,
        ),
        contract_fulfilment_rate_percent: reader.measured(
            "contract_fulfilment_rate_percent",
            figures.contract_fulfilment_rate_percent,
            rules::PERCENT,
        ),
        revenue_growth_percent: reader.measured(
            "revenue_growth_percent",
            figures.revenue_growth_percent,
            rules::REVENUE_GROWTH_PERCENT,
        ),
        market_outlook: reader.counted(
            "market_outlook",
            figures.market_outlook,
            rules::SCALE_1_TO_5,
        ),
        innovation_capability: reader.counted(
            "innovation_capability",
            figures.innovation_capability,
            rules::SCALE_1_TO_5,
        ),
        strategic_fit: reader.counted("strategic_fit", figures.strategic_fit, rules::SCALE_1_TO_5),
    };
    let currency = reader.currency.map(|(code, _)| code);
    if violations.len() != before {
        return None;
    }
    Some(FiguresSnapshot {
        as_of: as_of?,
        source: source.map(|()| figures.source.clone())?,
        currency,
        figures: inputs,
    })
}

fn rating_from_proto(rating: pb::CreditRating) -> Option<CreditRating> {
    match rating {
        pb::CreditRating::Unspecified => None,
        pb::CreditRating::Aaa => Some(CreditRating::Aaa),
        pb::CreditRating::Aa => Some(CreditRating::Aa),
        pb::CreditRating::A => Some(CreditRating::A),
        pb::CreditRating::Bbb => Some(CreditRating::Bbb),
        pb::CreditRating::Bb => Some(CreditRating::Bb),
        pb::CreditRating::B => Some(CreditRating::B),
        pb::CreditRating::Ccc => Some(CreditRating::Ccc),
        pb::CreditRating::Cc => Some(CreditRating::Cc),
        pb::CreditRating::C => Some(CreditRating::C),
        pb::CreditRating::D => Some(CreditRating::D),
    }
}

fn rating_to_proto(rating: Option<CreditRating>) -> pb::CreditRating {
    match rating {
        None => pb::CreditRating::Unspecified,
        Some(CreditRating::Aaa) => pb::CreditRating::Aaa,
        Some(CreditRating::Aa) => pb::CreditRating::Aa,
        Some(CreditRating::A) => pb::CreditRating::A,
        Some(CreditRating::Bbb) => pb::CreditRating::Bbb,
        Some(CreditRating::Bb) => pb::CreditRating::Bb,
        Some(CreditRating::B) => pb::CreditRating::B,
        Some(CreditRating::Ccc) => pb::CreditRating::Ccc,
        Some(CreditRating::Cc) => pb::CreditRating::Cc,
        Some(CreditRating::C) => pb::CreditRating::C,
        Some(CreditRating::D) => pb::CreditRating::D,
    }
}

fn figures_to_proto(recorded: &RecordedFigures) -> pb::Figures {
    let snapshot = &recorded.snapshot;
    let inputs = &snapshot.figures;
    let currency = snapshot.currency.as_deref().unwrap_or_default();
    let money = |amount: Option<Decimal>| amount.map(|amount| money_to_proto(amount, currency));
    pb::Figures {
        name: figures_name(
            recorded.customer,
            snapshot.as_of,
            recorded.revision,
            recorded.superseded,
        ),
        as_of_date: Some(date_to_proto(snapshot.as_of)),
        revision: recorded.revision,
        superseded: recorded.superseded,
        record_time: Some(timestamp(recorded.record_time)),
        source: snapshot.source.clone(),
        annual_revenue: money(inputs.annual_revenue),
        employee_count: inputs.employee_count,
        debt_to_asset_ratio_percent: inputs.debt_to_asset_ratio_percent,
        current_ratio: inputs.current_ratio,
        net_profit_margin_percent: inputs.net_profit_margin_percent,
        operating_cash_flow: money(inputs.operating_cash_flow),
        net_assets: money(inputs.net_assets),
        financial_statements_provided: inputs.financial_statements_provided,
        credit_rating: rating_to_proto(inputs.credit_rating).into(),
        market_share_percent: inputs.market_share_percent,
        brand_strength: inputs.brand_strength,
        annual_purchase_budget: money(inputs.annual_purchase_budget),
        purchase_frequency_per_year: inputs.purchase_frequency_per_year,
        sales_last_12_months: money(inputs.sales_last_12_months),
        gross_margin_percent: inputs.gross_margin_percent,
        cooperation_years: inputs.cooperation_years,
        completed_projects: inputs.completed_projects,
        repeat_purchase_rate_percent: inputs.repeat_purchase_rate_percent,
        on_time_payment_rate_percent: inputs.on_time_payment_rate_percent,
        longest_overdue_days: inputs.longest_overdue_days,
        contract_fulfilment_rate_percent: inputs.contract_fulfilment_rate_percent,
        revenue_growth_percent: inputs.revenue_growth_percent,
        market_outlook: inputs.market_outlook,
        innovation_capability: inputs.innovation_capability,
        strategic_fit: inputs.strategic_fit,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 23).unwrap_or_default()
    }

    fn base() -> pb::Figures {
        pb::Figures {
            as_of_date: Some(date_to_proto(
                NaiveDate::from_ymd_opt(2026, 9, 30).unwrap_or_default(),
            )),
            ..pb::Figures::default()
        }
    }

    fn cny(units: i64) -> Option<Money> {
        Some(Money {
            currency_code: "CNY".to_owned(),
            units,
            nanos: 0,
        })
    }

    fn violated_fields(figures: &pb::Figures) -> Vec<String> {
        let mut violations = FieldViolations::default();
        snapshot_from_proto(figures, today(), &mut violations);
        let status = violations.finish().err();
        status
            .and_then(|status| {
                use tonic_types::StatusExt;
                status.get_details_bad_request()
            })
            .map(|bad| bad.field_violations.into_iter().map(|v| v.field).collect())
            .unwrap_or_default()
    }

    #[test]
    fn a_snapshot_without_inputs_is_valid() {
        assert!(violated_fields(&base()).is_empty());
    }

    #[test]
    fn every_out_of_range_input_is_named() {
        let figures = pb::Figures {
            on_time_payment_rate_percent: Some(150.0),
            brand_strength: Some(0),
            longest_overdue_days: Some(-1),
            annual_revenue: cny(-5),
            ..base()
        };
        assert_eq!(
            violated_fields(&figures),
            [
                "figures.annual_revenue",
                "figures.brand_strength",
                "figures.on_time_payment_rate_percent",
                "figures.longest_overdue_days",
            ]
        );
    }

    #[test]
    fn money_in_two_currencies_is_refused_on_the_second() {
        let figures = pb::Figures {
            annual_revenue: cny(1_000),
            net_assets: Some(Money {
                currency_code: "EUR".to_owned(),
                units: 5,
                nanos: 0,
            }),
            ..base()
        };
        assert_eq!(violated_fields(&figures), ["figures.net_assets"]);
    }

    #[test]
    fn an_unknown_rating_number_is_refused() {
        let figures = pb::Figures {
            credit_rating: 42,
            ..base()
        };
        assert_eq!(violated_fields(&figures), ["figures.credit_rating"]);
    }

    #[test]
    fn the_as_of_date_is_required() {
        let figures = pb::Figures {
            as_of_date: None,
            ..base()
        };
        assert_eq!(violated_fields(&figures), ["figures.as_of_date"]);
    }
}
