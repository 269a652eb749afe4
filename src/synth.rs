//! Seeded synthetic B2B exports with a known churn process, for demos, tests and benchmarks.
//!
//! Each account has a heavy-tailed order value (a few accounts carry most revenue), its own
//! purchase cycle and regularity, unit prices and occasional refunds. Churners thin out and shrink
//! their orders over a decline period, then stop; `truth.csv` records the day each one stopped.
//! The same seed gives byte-identical files whatever the number of threads.

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::util::atomic_file;
use crate::util::dates::{format_day, to_day};
use crate::util::rng::Rng;

/// Generator settings.
#[derive(Debug, Clone)]
pub struct SynthConfig {
    pub customers: usize,
    pub start: NaiveDate,
    pub days: i32,
    pub seed: u64,
    /// Deliberately malformed rows mixed in, to exercise validation and quarantine.
    pub bad_rows: usize,
}

/// What was generated.
#[derive(Debug, Clone)]
pub struct SynthSummary {
    pub transactions: PathBuf,
    pub truth: PathBuf,
    pub rows: usize,
    pub churners: usize,
}

struct Row {
    day: i32,
    seconds: u32,
    customer: usize,
    amount: f64,
    quantity: i64,
    refund_of: Option<usize>,
}

/// The account's rows and its churn day (None = still active at the end).
/// What the side tables need to know about an account's simulated life.
#[derive(Debug, Clone, Copy)]
struct Life {
    signup: i32,
    churn: i32,
    decline_days: f64,
    order_value: f64,
}

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

/// Customer id with leading zeros, as many ERP exports have.
pub fn customer_id(k: usize) -> String {
    format!("C{:05}", k + 1)
}

/// Writes `transactions.csv` and `truth.csv` into `out_dir`.
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
    write_side_tables(cfg, &lives, out_dir)?;
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

const OWNERS: [&str; 6] = [
    "Anna Berg",
    "李伟",
    "Marco Rossi",
    "张敏",
    "Sara Khan",
    "Tom Walsh",
];
const REGIONS: [&str; 4] = ["North", "South", "East", "West"];

fn company_name(rng: &mut Rng, k: usize) -> String {
    let pick =
        |rng: &mut Rng, xs: &[&str]| xs[(rng.next_u64() % xs.len() as u64) as usize].to_string();
    if k.is_multiple_of(4) {
        // Chinese trading names, as a Chinese ERP would hold them.
        let a = pick(
            rng,
            &["华", "中", "东", "新", "金", "宏", "恒", "联", "盛", "天"],
        );
        let b = pick(
            rng,
            &["达", "信", "源", "泰", "通", "力", "星", "丰", "美", "安"],
        );
        let c = pick(
            rng,
            &[
                "贸易有限公司",
                "科技有限公司",
                "食品有限公司",
                "五金商行",
                "医药有限公司",
            ],
        );
        format!("{a}{b}{c}")
    } else {
        let a = pick(
            rng,
            &[
                "Acme", "Nordic", "Blue", "Summit", "Pioneer", "Atlas", "Harbor", "Crown",
                "Vertex", "Golden",
            ],
        );
        let b = pick(
            rng,
            &[
                "Foods",
                "Tools",
                "Supplies",
                "Trading",
                "Medical",
                "Builders",
                "Textiles",
                "Logistics",
            ],
        );
        let c = pick(rng, &["Ltd", "GmbH", "Inc", "& Co"]);
        format!("{a} {b} {c}")
    }
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// `customers.csv`, `arrears.csv` and `events.csv`, linked to each account's simulated life:
/// arrears and complaints become more likely in the decline before an account leaves. They use
/// their own random streams, so `transactions.csv` does not depend on them.
fn write_side_tables(cfg: &SynthConfig, lives: &[Life], out_dir: &Path) -> Result<()> {
    let start = to_day(cfg.start);
    let end = start + cfg.days - 1;
    let path = out_dir.join("customers.csv");
    atomic_file::write_with(&path, |out| {
        let io = |e| Error::io("writing", &path, e);
        writeln!(out, "customer_id,name,owner,region,segment").map_err(io)?;
        for (k, life) in lives.iter().enumerate() {
            let mut rng = Rng::new(cfg.seed ^ 0xC057_0000 ^ (k as u64).wrapping_mul(0x9E37_79B9));
            let name = company_name(&mut rng, k);
            let owner = OWNERS[(rng.next_u64() % OWNERS.len() as u64) as usize];
            let region = REGIONS[(rng.next_u64() % REGIONS.len() as u64) as usize];
            let segment = match life.order_value {
                v if v > 2000.0 => "enterprise",
                v if v > 400.0 => "mid-market",
                _ => "small",
            };
            writeln!(
                out,
                "{},{},{owner},{region},{segment}",
                customer_id(k),
                csv_field(&name)
            )
            .map_err(io)?;
        }
        Ok(())
    })?;
    let in_decline = |life: &Life, day: i32| {
        day as f64 >= life.churn as f64 - life.decline_days && day < life.churn
    };
    let path = out_dir.join("arrears.csv");
    atomic_file::write_with(&path, |out| {
        let io = |e| Error::io("writing", &path, e);
        writeln!(out, "customer_id,as_of,outstanding,days_overdue").map_err(io)?;
        for d in crate::util::dates::month_ends_between(start, end) {
            for (k, life) in lives.iter().enumerate() {
                if d < life.signup.max(start) || d > life.churn + 60 {
                    continue;
                }
                let mut rng = Rng::new(cfg.seed ^ 0x0A88_EA85 ^ ((k as u64) << 20) ^ d as u64);
                let declining = in_decline(life, d) || (d >= life.churn && d <= life.churn + 60);
                let (p, overdue_max) = if declining {
                    (0.55, 120.0)
                } else {
                    (0.08, 30.0)
                };
                if rng.uniform() < p {
                    let outstanding =
                        life.order_value * rng.range(0.3, if declining { 3.0 } else { 1.2 });
                    let days = rng.range(1.0, overdue_max).round();
                    writeln!(
                        out,
                        "{},{},{outstanding:.2},{days}",
                        customer_id(k),
                        format_day(d)
                    )
                    .map_err(io)?;
                } else {
                    // A cleared balance is a snapshot too: otherwise the last debt would linger.
                    writeln!(out, "{},{},0.00,0", customer_id(k), format_day(d)).map_err(io)?;
                }
            }
        }
        Ok(())
    })?;
    let path = out_dir.join("events.csv");
    atomic_file::write_with(&path, |out| {
        let io = |e| Error::io("writing", &path, e);
        writeln!(out, "customer_id,timestamp,kind").map_err(io)?;
        let mut rows: Vec<(i32, usize, &str, u32)> = Vec::new();
        for (k, life) in lives.iter().enumerate() {
            let mut rng = Rng::new(cfg.seed ^ 0xE7E7_0000 ^ (k as u64).wrapping_mul(0x2545_F491));
            let upset = rng.uniform() < 0.6;
            for day in life.signup.max(start)..=life.churn.min(end) {
                let complaint_rate = if upset && in_decline(life, day) {
                    4.0
                } else {
                    0.3
                } / 365.0;
                if rng.uniform() < complaint_rate {
                    rows.push((
                        day,
                        k,
                        "complaint",
                        rng.range(8.0 * 3600.0, 18.0 * 3600.0) as u32,
                    ));
                }
                if rng.uniform() < 1.0 / 365.0 {
                    rows.push((
                        day,
                        k,
                        "service_ticket",
                        rng.range(8.0 * 3600.0, 18.0 * 3600.0) as u32,
                    ));
                }
            }
        }
        rows.sort();
        for (day, k, kind, secs) in rows {
            writeln!(
                out,
                "{},{} {:02}:{:02}:{:02},{kind}",
                customer_id(k),
                format_day(day),
                secs / 3600,
                secs / 60 % 60,
                secs % 60
            )
            .map_err(io)?;
        }
        Ok(())
    })
}
