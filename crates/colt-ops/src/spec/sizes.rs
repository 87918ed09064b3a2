//! Named sizes: the `[sizes]` table, and dimensions and extents written as integers or as
//! expressions over sizes (`"H + 2"`, `"(H - K) / S + 1"`).

use super::{MAX_INDEX_CONST, is_ident};
use crate::parser::{BinTok, Expr, ExprKind, parse_expr};
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use std::collections::BTreeMap;
use std::fmt;

/// A dimension or an extent as written: an integer, or an expression over sizes in quotes.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Dim {
    Int(i64),
    Expr(String),
}

impl<'de> Deserialize<'de> for Dim {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Dim, D::Error> {
        struct DimVisitor;
        impl Visitor<'_> for DimVisitor {
            type Value = Dim;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an integer or a size expression in quotes such as \"H + 2\"")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Dim, E> {
                Ok(Dim::Int(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Dim, E> {
                i64::try_from(v)
                    .map(Dim::Int)
                    .map_err(|_| E::custom(format!("{v} is too large")))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Dim, E> {
                Ok(Dim::Expr(v.to_string()))
            }
        }
        d.deserialize_any(DimVisitor)
    }
}

impl Dim {
    /// The integer this dimension stands for, given the sizes; an error says what is wrong
    /// (the caller names the tensor or stage).
    pub(super) fn resolve(&self, sizes: &BTreeMap<String, i64>) -> Result<i64, String> {
        match self {
            Dim::Int(n) => Ok(*n),
            Dim::Expr(text) => {
                let at = |(col, msg): (usize, String)| format!("\"{text}\", column {col}: {msg}");
                let e = parse_expr(text).map_err(at)?;
                size_value(&e, sizes).map_err(at)
            }
        }
    }
}

/// The value of an integer expression over sizes: integers, sizes, `+ - *`, unary minus and
/// floor division by a positive divisor.
fn size_value(e: &Expr, sizes: &BTreeMap<String, i64>) -> Result<i64, (usize, String)> {
    let col = e.col;
    let bound = |x: Option<i64>| {
        x.filter(|v| v.abs() <= MAX_INDEX_CONST)
            .ok_or_else(|| (col, format!("exceeds {MAX_INDEX_CONST} in magnitude")))
    };
    match &e.kind {
        ExprKind::Num { int: Some(i), .. } => bound(Some(*i)),
        ExprKind::Num { value, .. } => Err((col, format!("{value} is not an integer"))),
        ExprKind::Name(n) => sizes.get(n).copied().ok_or_else(|| {
            (
                col,
                format!("unknown size \"{n}\" ({})", known_sizes(sizes)),
            )
        }),
        ExprKind::Neg(a) => bound(size_value(a, sizes)?.checked_neg()),
        ExprKind::Bin(op, a, b) => {
            let (x, y) = (size_value(a, sizes)?, size_value(b, sizes)?);
            match op {
                BinTok::Add => bound(x.checked_add(y)),
                BinTok::Sub => bound(x.checked_sub(y)),
                BinTok::Mul => bound(x.checked_mul(y)),
                BinTok::Div if y > 0 => Ok(x.div_euclid(y)),
                BinTok::Div => Err((col, format!("division by {y} (divisors are positive)"))),
            }
        }
        _ => Err((
            col,
            "a size expression has integers, sizes, + - * / and parentheses only".to_string(),
        )),
    }
}

/// `sizes: H, W`, or that there are none.
pub(super) fn known_sizes(sizes: &BTreeMap<String, i64>) -> String {
    if sizes.is_empty() {
        "the spec declares no [sizes]".to_string()
    } else {
        let names: Vec<&str> = sizes.keys().map(String::as_str).collect();
        format!("sizes: {}", names.join(", "))
    }
}

/// Sizes are identifiers, distinct from the constants, with values an index may hold.
pub(super) fn check_sizes(
    sizes: &BTreeMap<String, i64>,
    constants: &BTreeMap<String, f64>,
) -> Result<(), String> {
    for (name, &v) in sizes {
        let here = format!("size \"{name}\"");
        if !is_ident(name) {
            return Err(format!(
                "{here}: the name is not an identifier (letters, digits and '_')"
            ));
        }
        if constants.contains_key(name) {
            return Err(format!(
                "{here}: duplicate name: \"{name}\" is also a constant"
            ));
        }
        if v.abs() > MAX_INDEX_CONST {
            return Err(format!(
                "{here}: {v} exceeds {MAX_INDEX_CONST} in magnitude"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expressions_over_sizes() {
        let sizes: BTreeMap<String, i64> = [("H".to_string(), 56), ("K".to_string(), 3)].into();
        let r = |t: &str| Dim::Expr(t.to_string()).resolve(&sizes);
        assert_eq!(r("H + 2"), Ok(58));
        assert_eq!(r("(H + 2 - K) / 2 + 1"), Ok(28));
        assert_eq!(r("-7 / 2"), Ok(-4));
        assert_eq!(Dim::Int(5).resolve(&sizes), Ok(5));
        let e = r("H + q").unwrap_err();
        assert_eq!(e, "\"H + q\", column 5: unknown size \"q\" (sizes: H, K)");
        assert!(r("H / 0").unwrap_err().contains("division by 0"));
        assert!(r("H * 1.5").unwrap_err().contains("1.5 is not an integer"));
        assert!(r("exp(H)").unwrap_err().contains("integers, sizes"));
        assert!(r("H +").unwrap_err().contains("column 4"));
        let big = r("1099511627776 * 2").unwrap_err();
        assert!(big.contains("exceeds"), "{big}");
    }
}
