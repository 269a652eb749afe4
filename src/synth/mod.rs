//! Seeded synthetic B2B exports with a known churn process, for demos, tests and benchmarks.
//!
//! Each account has a heavy-tailed order value (a few accounts carry most revenue), its own
//! purchase cycle and regularity, unit prices and occasional refunds. Churners thin out and shrink
//! their orders over a decline period, then stop; `truth.csv` records the day each one stopped.
//! The same seed gives byte-identical files whatever the number of threads.

use std::io::Write;
use std::path::Path;

use rayon::prelude::*;

mod config;
mod side;

use config::Life;
pub use config::{SynthConfig, SynthSummary, customer_id};

use crate::error::{Error, Result};
use crate::util::atomic_file;
use crate::util::dates::{format_day, to_day};
use crate::util::rng::Rng;

struct Row {
    day: i32,
    seconds: u32,
    customer: usize,
    amount: f64,
    quantity: i64,
    refund_of: Option<usize>,
}

/// The account's rows and its churn day (None = still active at the end).
fn account(cfg: &SynthConfig, k: usize) -> (Vec<Row>, Option<i32>, Life) {
    let mut rng = Rng::new(cfg.seed ^ (k as u64).wrapping_mul(0x2545_F491_4F6C_DD1D));
    let start = to_day(cfg.start);
    let end = start + cfg.days - 1;
    let signup = if rng.uniform() < 0.5 {
        start - rng.range(0.0, 365.0) as i32
    } else {
        start + rng.range(0.0, cfg.days as f64 * 0.85) as i32
    };
    let whale = if rng.uniform() < 0.03 { 6.0 } else { 1.0 };
    let order_value = (6.0 + 1.1 * rng.normal()).exp() * whale;
    let unit_price = (3.0 + 0.7 * rng.normal()).exp();
    let cycle = (30f64.ln() + 0.6 * rng.normal()).exp().clamp(5.0, 180.0);
    let regularity = rng.range(2.0, 8.0);
    // Bigger accounts are stickier: mean lifetime grows with order value.
    let mean_life = 700.0 * (1.0 + 0.15 * (order_value / 400.0).ln().max(-2.0));
    let lifetime = -mean_life.max(150.0) * rng.uniform().ln();
    let churn = signup + lifetime as i32;
    let decline = rng.range(60.0, 180.0);

    let mut rows = Vec::new();
    let mut t = signup as f64 + rng.range(0.0, cycle);
    while (t as i32) < churn.min(end + 1) {
        let into_decline = ((t - (churn as f64 - decline)) / decline).clamp(0.0, 1.0);
        let day = t as i32;
        let amount = order_value * (0.35 * rng.normal()).exp() * (1.0 - 0.6 * into_decline);
        if day >= start {
            let quantity = ((amount / unit_price).round() as i64).max(1);
            let seconds = rng.range(8.0 * 3600.0, 18.0 * 3600.0) as u32;
            rows.push(Row {
                day,
                seconds,
                customer: k,
                amount,
                quantity,
                refund_of: None,
            });
            if rng.uniform() < 0.03 {
                let share = rng.range(0.1, 1.0);
                let refund_day = day + rng.range(1.0, 20.0) as i32;
                if refund_day <= end {
                    rows.push(Row {
                        day: refund_day,
                        seconds,
                        customer: k,
                        amount: -amount * share,
                        quantity: -((quantity as f64 * share).round() as i64).max(1),
                        refund_of: Some(rows.len() - 1),
                    });
                }
            }
        }
        let stretch = 1.0 + 2.0 * into_decline;
        t += rng.gamma(regularity, cycle / regularity).max(1.0) * stretch;
    }
    let life = Life {
        signup,
        churn,
        decline_days: decline,
        order_value,
    };
    (rows, (churn <= end).then_some(churn), life)
}

/// Writes `transactions.csv` and `truth.csv` into `out_dir`.
///
/// Long by design: the accounts are generated in parallel and written in one ordered pass, so the
/// same seed gives the same bytes.
pub fn generate(cfg: &SynthConfig, out_dir: &Path) -> Result<SynthSummary> {
    if cfg.customers == 0 || cfg.days < 1 {
        return Err(Error::Data(
            "generate needs at least one customer and one day".into(),
        ));
    }
    let accounts: Vec<(Vec<Row>, Option<i32>, Life)> = (0..cfg.customers)
        .into_par_iter()
        .map(|k| account(cfg, k))
        .collect();
    let mut rows: Vec<(usize, usize)> = Vec::new(); // (account, row index)
    for (k, (r, _, _)) in accounts.iter().enumerate() {
        rows.extend((0..r.len()).map(|i| (k, i)));
    }
    let row = |&(k, i): &(usize, usize)| &accounts[k].0[i];
    rows.sort_by_key(|key| {
        let r = row(key);
        (r.day, r.seconds, r.customer, r.refund_of.is_some())
    });
    // Order ids follow time, like an ERP's running number; refunds reference their order.
    let mut order_no = vec![Vec::new(); accounts.len()];
    for (k, (r, _, _)) in accounts.iter().enumerate() {
        order_no[k] = vec![0usize; r.len()];
    }
    let mut next = 100_000usize;
    for key in &rows {
        if row(key).refund_of.is_none() {
            order_no[key.0][key.1] = next;
            next += 1;
        }
    }

    let tx_path = out_dir.join("transactions.csv");
    let truth_path = out_dir.join("truth.csv");
    let every = rows
        .len()
        .checked_div(cfg.bad_rows)
        .map_or(usize::MAX, |n| n.max(1));
    let mut bad_written = 0;
    atomic_file::write_with(&tx_path, |out| {
        let io = |e| Error::io("writing", &tx_path, e);
        writeln!(
            out,
            "order_id,customer_id,order_date,amount,quantity,product_id"
        )
        .map_err(io)?;
        for (n, key) in rows.iter().enumerate() {
            let r = row(key);
            let id = match r.refund_of {
                Some(i) => format!("SO{}-R", order_no[key.0][i]),
                None => format!("SO{}", order_no[key.0][key.1]),
            };
            let ts = format!(
                "{} {:02}:{:02}:{:02}",
                format_day(r.day),
                r.seconds / 3600,
                r.seconds / 60 % 60,
                r.seconds % 60
            );
            let cust = customer_id(r.customer);
            let product = product_of(cfg.seed, key.0, r.refund_of.unwrap_or(key.1));
            writeln!(
                out,
                "{id},{cust},{ts},{:.2},{},{product}",
                r.amount, r.quantity
            )
            .map_err(io)?;
            if bad_written < cfg.bad_rows && n % every == every / 2 {
                let bad = match bad_written % 3 {
                    0 => format!("{id}-X,,{ts},{:.2},{}", r.amount, r.quantity),
                    1 => format!(
                        "{id}-Y,{cust},{}-13-45 10:00:00,{:.2},{}",
                        &ts[..4],
                        r.amount,
                        r.quantity
                    ),
                    _ => format!("{id}-Z,{cust},{ts},n/a,{}", r.quantity),
                };
                writeln!(out, "{bad},{product}").map_err(io)?;
                bad_written += 1;
            }
        }
        Ok(())
    })?;
    let churners = accounts.iter().filter(|(_, c, _)| c.is_some()).count();
    atomic_file::write_with(&truth_path, |out| {
        let io = |e| Error::io("writing", &truth_path, e);
        writeln!(out, "customer_id,churn_date").map_err(io)?;
        for (k, (_, churn, _)) in accounts.iter().enumerate() {
            let date = churn.map(format_day).unwrap_or_default();
            writeln!(out, "{},{date}", customer_id(k)).map_err(io)?;
        }
        Ok(())
    })?;
    let lives: Vec<Life> = accounts.iter().map(|a| a.2).collect();
    side::write_side_tables(cfg, &lives, out_dir)?;
    Ok(SynthSummary {
        transactions: tx_path,
        truth: truth_path,
        rows: rows.len() + bad_written,
        churners,
    })
}

const PRODUCT_KINDS: [&str; 10] = [
    "Bolts", "Cable", "Gloves", "Paint", "Valves", "Filters", "Bearings", "Hoses", "Tape",
    "Sealant",
];

/// The product of an account's i-th order: each account buys from its own small assortment,
/// mostly its favourite. Drawn from its own random stream, so nothing else changes with it.
fn product_of(seed: u64, k: usize, i: usize) -> String {
    let mut prefs = Rng::new(seed ^ 0x5EED_0000 ^ (k as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let assortment: Vec<u64> = (0..4).map(|_| prefs.next_u64() % 40).collect();
    let mut r = Rng::new(seed ^ 0x0DD5 ^ (k as u64).wrapping_mul(0x2545_F491) ^ ((i as u64) << 32));
    let u = r.uniform();
    let pick = if u < 0.55 {
        0
    } else if u < 0.8 {
        1
    } else if u < 0.93 {
        2
    } else {
        3
    };
    let p = assortment[pick];
    format!(
        "{} {}",
        PRODUCT_KINDS[(p % 10) as usize],
        ["A", "B", "C", "D"][(p / 10) as usize]
    )
}
