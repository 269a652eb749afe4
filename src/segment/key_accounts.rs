//! Key accounts by the 80/20 rule: the smallest set of accounts whose trailing-12-month value
//! covers the configured share of the total.

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
