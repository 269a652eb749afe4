//! The synthetic side tables: a customer master with names (Chinese and Latin), owners and
//! regions, arrears snapshots and complaint events that grow likelier as an account declines.

use std::io::Write;
use std::path::Path;

use super::config::{Life, SynthConfig, customer_id};
use crate::error::{Error, Result};
use crate::util::atomic_file;
use crate::util::dates::{format_day, to_day};
use crate::util::rng::Rng;

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
///
/// Long by design: the three side tables are written from the same account lives in one pass
/// each.
pub(super) fn write_side_tables(cfg: &SynthConfig, lives: &[Life], out_dir: &Path) -> Result<()> {
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
