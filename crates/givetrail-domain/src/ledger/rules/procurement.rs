//! `procurement.made`: donated money buys goods. The money is drawn like an expense (from one
//! money donation, or the undesignated pool oldest-first) and the goods become a new lot at the
//! procurement's seq, carrying the restriction of the money that paid for them.

use rust_decimal::{Decimal, RoundingStrategy};

use super::super::validate::{asset, collect, finish, line, Res};
use super::super::Books;
use super::allocation::drawn_not_after;
use super::draws::{draw, source};
use super::{public, Decision};
use crate::asset::{Asset, AssetWire, GOODS_SCALE};
use crate::entry::{
    Fact, ProcurementBody, ProcurementRequest, RestrictionWire, Supplier, MAX_SHORT_TEXT,
};
use crate::error::{FieldError, RuleError, ValidationError};
use crate::ledger::Rejection;

/// Decimal places a unit price keeps when the division does not end.
pub const UNIT_PRICE_DECIMALS: u32 = 10;

pub(super) fn decide_procurement<B: Books>(
    books: &mut B,
    r: &ProcurementRequest,
) -> Res<Decision, B::Error> {
    let mut errors = Vec::new();
    let supplier_name = collect(
        &mut errors,
        line("supplier.name", &r.supplier.name, MAX_SHORT_TEXT, true),
    );
    let invoice = collect(
        &mut errors,
        line(
            "invoice_reference",
            &r.invoice_reference,
            MAX_SHORT_TEXT,
            true,
        ),
    );
    let paid = match asset("paid", &r.paid) {
        Ok(a @ Asset::Money(_)) => Some(a),
        Ok(_) => {
            errors.push(FieldError::new("paid", "must be money"));
            None
        }
        Err(e) => {
            errors.extend(e.0);
            None
        }
    };
    let goods = match asset("goods", &r.goods) {
        Ok(a @ Asset::Goods { .. }) => Some(a),
        Ok(_) => {
            errors.push(FieldError::new("goods", "must be goods"));
            None
        }
        Err(e) => {
            errors.extend(e.0);
            None
        }
    };
    let src = source(r.donation, r.pool)
        .map_err(|e| errors.extend(e.0))
        .ok();
    finish(errors)?;
    let (Some(name), Some(invoice), Some(paid), Some(goods), Some(src)) =
        (supplier_name, invoice, paid, goods, src)
    else {
        return Err(ValidationError::field("", "invalid procurement").into());
    };
    // The draw rules speak of `asset`; here the money drawn is `paid`.
    let (drawn_from, lot) = draw(books, &src, &paid).map_err(|e| match e {
        Rejection::Rule(r) if r.field() == "asset" => Rejection::Rule(rename(r, "paid")),
        other => other,
    })?;
    drawn_not_after(books, r.occurred_at, &drawn_from)?;
    let restriction = match lot.as_ref().and_then(|l| l.designation.clone()) {
        None => RestrictionWire::None,
        Some(d) => RestrictionWire::Designated {
            region_code: d.region_code,
            recipient: d.recipient,
            purpose: None,
            costs_allowed: d.costs_allowed,
        },
    };
    let (unit_price, unit_price_rounded) = unit_price(&paid, &goods);
    Ok(public(Fact::Procurement(Box::new(ProcurementBody {
        donation: r.donation,
        pool: r.pool,
        campaign: lot.and_then(|l| l.campaign),
        paid: AssetWire::from(&paid),
        supplier: Supplier {
            name,
            credit_code: r.supplier.credit_code.clone(),
        },
        invoice_reference: invoice,
        goods: AssetWire::from(&goods),
        unit_price,
        unit_price_rounded,
        restriction,
        drawn_from,
    }))))
}

fn rename(r: RuleError, field: &str) -> RuleError {
    match r {
        RuleError::NotFound { what, .. } => RuleError::NotFound {
            field: field.into(),
            what,
        },
        RuleError::Conflict { message, .. } => RuleError::Conflict {
            field: field.into(),
            message,
        },
        RuleError::Refused { message, .. } => RuleError::Refused {
            field: field.into(),
            message,
        },
        RuleError::Forbidden { message, .. } => RuleError::Forbidden {
            field: field.into(),
            message,
        },
    }
}

/// `paid` ÷ quantity of `goods`, exact when the division ends within [`UNIT_PRICE_DECIMALS`]
/// places (trailing zeros dropped, at least the currency's decimals), else rounded half to even.
pub fn unit_price(paid: &Asset, goods: &Asset) -> (String, bool) {
    let Asset::Money(m) = paid else {
        return (String::new(), false);
    };
    let amount = Decimal::new(m.units(), m.currency().exponent());
    let quantity = Decimal::new(goods.units(), GOODS_SCALE);
    if quantity.is_zero() {
        return (String::new(), false);
    }
    let Some(exact) = amount.checked_div(quantity) else {
        return (String::new(), false);
    };
    let rounded =
        exact.round_dp_with_strategy(UNIT_PRICE_DECIMALS, RoundingStrategy::MidpointNearestEven);
    // rust_decimal keeps 28 significant digits: a quotient that needs more than
    // UNIT_PRICE_DECIMALS places did not end there.
    let was_rounded = rounded != exact;
    let mut shown = rounded.normalize();
    if shown.scale() < m.currency().exponent() {
        shown.rescale(m.currency().exponent());
    }
    (shown.to_string(), was_rounded)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asset::AssetWire;

    fn money(amount: &str) -> Asset {
        AssetWire::Money {
            amount: amount.into(),
            currency: "CNY".into(),
        }
        .parse()
        .expect("money")
    }

    fn goods(quantity: &str) -> Asset {
        AssetWire::Goods {
            item: "protective suit".into(),
            spec: "GB 19082-2009".into(),
            unit: "set".into(),
            quantity: quantity.into(),
            declared_value: None,
        }
        .parse()
        .expect("goods")
    }

    #[test]
    fn unit_prices_are_exact_or_say_they_are_rounded() {
        assert_eq!(
            unit_price(&money("50000"), &goods("1000")),
            ("50.00".into(), false)
        );
        assert_eq!(
            unit_price(&money("3.5"), &goods("2")),
            ("1.75".into(), false)
        );
        assert_eq!(
            unit_price(&money("1"), &goods("8")),
            ("0.125".into(), false)
        );
        assert_eq!(
            unit_price(&money("100"), &goods("3")),
            ("33.3333333333".into(), true)
        );
    }
}
