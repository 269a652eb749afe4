//! Key accounts: by the 80/20 rule (the smallest set of accounts whose trailing-12-month value
//! covers the configured share of the total), by top share of value, or by a weighted score of
//! revenue, volume, arrears and purchase regularity; plus a grace period so that an account
//! slipping just below the line is not dropped the same night.

use crate::config::KeyRule;

/// What the rules look at, per account.
#[derive(Debug, Clone, Default)]
pub struct KeyInputs {
    pub ids: Vec<String>,
    pub value_12m: Vec<f64>,
    pub orders_12m: Vec<f64>,
    pub arrears: Vec<f64>,
    /// Usual days between orders (None: one order day so far).
    pub cycle_days: Vec<Option<f64>>,
}

/// Key-account flags under `rule`.
pub fn select(rule: KeyRule, x: &KeyInputs) -> Vec<bool> {
    match rule {
        KeyRule::Pareto(share) => pareto(&x.ids, &x.value_12m, share),
        KeyRule::TopShare(share) => top_share(&x.ids, &x.value_12m, share),
        KeyRule::Weighted {
            share,
            revenue,
            volume,
            arrears,
            regularity,
        } => {
            let ranks = [
                (revenue, percentile_ranks(&x.value_12m)),
                (volume, percentile_ranks(&x.orders_12m)),
                (arrears, percentile_ranks(&x.arrears)),
                // Shorter cycles are more regular: rank the negated cycle; no cycle ranks last.
                (
                    regularity,
                    percentile_ranks(
                        &x.cycle_days
                            .iter()
                            .map(|c| c.map_or(f64::NEG_INFINITY, |c| -c))
                            .collect::<Vec<_>>(),
                    ),
                ),
            ];
            let score: Vec<f64> = (0..x.ids.len())
                .map(|i| ranks.iter().map(|(w, r)| w * r[i]).sum())
                .collect();
            top_share(&x.ids, &score, share)
        }
    }
}

/// Rank of each value in (0, 1], ties sharing their average rank.
fn percentile_ranks(v: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..v.len()).collect();
    idx.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
    let mut ranks = vec![0.0; v.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && v[idx[j + 1]] == v[idx[i]] {
            j += 1;
        }
        let r = ((i + j) as f64 / 2.0 + 1.0) / v.len() as f64;
        for &k in &idx[i..=j] {
            ranks[k] = r;
        }
        i = j + 1;
    }
    ranks
}

/// The top `share` of accounts by `score` (at least one; ties broken by id).
pub fn top_share(ids: &[String], score: &[f64], share: f64) -> Vec<bool> {
    let mut key = vec![false; score.len()];
    if score.is_empty() {
        return key;
    }
    let k = ((share * score.len() as f64).ceil() as usize).clamp(1, score.len());
    let mut order: Vec<usize> = (0..score.len()).collect();
    order.sort_by(|&a, &b| {
        score[b]
            .total_cmp(&score[a])
            .then_with(|| ids[a].cmp(&ids[b]))
    });
    for &i in &order[..k] {
        key[i] = true;
    }
    key
}

/// Applies the grace period: an account that is not key tonight but was key on a night no more
/// than `grace_days` ago stays key. `last_key_day` gives, per account, the last night it was key.
pub fn with_grace(
    key: &[bool],
    last_key_day: &[Option<i32>],
    as_of: i32,
    grace_days: i32,
) -> Vec<bool> {
    key.iter()
        .zip(last_key_day)
        .map(|(&k, last)| k || last.is_some_and(|d| as_of - d <= grace_days))
        .collect()
}

/// `true` for each account that is a key account. Accounts are taken by value, largest first
/// (ties broken by id so the result does not depend on input order), until the share is covered.
/// Accounts with no positive value are never key accounts.
pub fn pareto(ids: &[String], value: &[f64], share: f64) -> Vec<bool> {
    let total: f64 = value.iter().map(|v| v.max(0.0)).sum();
    let mut key = vec![false; value.len()];
    if total <= 0.0 {
        return key;
    }
    let mut order: Vec<usize> = (0..value.len()).collect();
    order.sort_by(|&a, &b| {
        value[b]
            .total_cmp(&value[a])
            .then_with(|| ids[a].cmp(&ids[b]))
    });
    let target = share * total;
    let mut covered = 0.0;
    for i in order {
        if covered >= target * (1.0 - 1e-12) || value[i] <= 0.0 {
            break;
        }
        key[i] = true;
        covered += value[i];
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("c{i}")).collect()
    }

    #[test]
    fn smallest_set_reaching_the_share() {
        // Total 100: 50 + 30 = 80 reaches 80% exactly, so the third account is not needed.
        assert_eq!(
            pareto(&ids(4), &[30.0, 50.0, 15.0, 5.0], 0.8),
            [true, true, false, false]
        );
        // 79.9% is not enough: one more account is needed.
        assert_eq!(
            pareto(&ids(4), &[29.9, 50.0, 15.1, 5.0], 0.8),
            [true, true, true, false]
        );
    }

    #[test]
    fn top_share_and_weighted_rules() {
        let x = KeyInputs {
            ids: ids(4),
            value_12m: vec![100.0, 50.0, 10.0, 10.0],
            orders_12m: vec![1.0, 12.0, 30.0, 2.0],
            arrears: vec![0.0, 0.0, 0.0, 0.0],
            cycle_days: vec![None, Some(30.0), Some(12.0), Some(180.0)],
        };
        assert_eq!(
            select(KeyRule::TopShare(0.25), &x),
            [true, false, false, false]
        );
        // Ties at 10.0: c2 before c3 by id.
        assert_eq!(
            top_share(&x.ids, &x.value_12m, 0.75),
            [true, true, true, false]
        );
        // Volume and regularity only: c2 orders most and most regularly.
        let rule = KeyRule::Weighted {
            share: 0.25,
            revenue: 0.0,
            volume: 0.5,
            arrears: 0.0,
            regularity: 0.5,
        };
        assert_eq!(select(rule, &x), [false, false, true, false]);
    }

    #[test]
    fn grace_period_keeps_a_recent_key_account() {
        let key = [false, false, true];
        let last = [Some(100), Some(60), None];
        assert_eq!(with_grace(&key, &last, 120, 30), [true, false, true]);
        assert_eq!(with_grace(&key, &last, 131, 30), [false, false, true]);
    }

    #[test]
    fn ties_are_broken_by_id_and_zero_value_is_never_key() {
        let k = pareto(
            &["b".into(), "a".into(), "z".into()],
            &[10.0, 10.0, 0.0],
            0.5,
        );
        assert_eq!(k, [false, true, false]);
        assert_eq!(pareto(&ids(2), &[0.0, -5.0], 0.8), [false, false]);
        assert_eq!(pareto(&ids(2), &[1.0, 2.0], 1.0), [true, true]);
    }
}
