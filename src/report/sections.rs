//! The report's win-back and resolved sections: the first rows of each list as tables, and how
//! many more the CSV files hold.

use crate::report::svg::escape;
use crate::score::ScoreOutcome;
use crate::segment::reasons::percent;
use crate::util::dates::format_day;

fn more(total: usize, shown: usize, file: &str) -> String {
    match total.saturating_sub(shown) {
        0 => String::new(),
        n => format!("<p>{n} more in {file}</p>"),
    }
}

/// Lapsed former key accounts, by the value they brought in their last year.
pub fn winback(o: &ScoreOutcome, rows: usize, money: &dyn Fn(f64) -> String) -> String {
    let mut out = String::from(
        "<h2>Win back: lapsed key accounts</h2>\n<table><tr><th>customer</th><th>last order</th>\
         <th>value in its last year</th><th>orders</th><th>bought most</th></tr>\n",
    );
    if o.winback.is_empty() {
        return "<h2>Win back: lapsed key accounts</h2>\n<p>No lapsed account reaches tonight's \
                key-account line.</p>\n"
            .into();
    }
    for w in o.winback.iter().take(rows) {
        out.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td class=n>{}</td><td class=n>{:.0}</td><td>{}</td></tr>\n",
            escape(&w.customer_id),
            format_day(w.last_order_day),
            money(w.value_year_before),
            w.orders_year_before,
            escape(&w.top_products.join(", "))
        ));
    }
    out.push_str("</table>\n");
    out.push_str(&more(o.winback.len(), rows, "winback.csv"));
    if o.winback_beyond_capacity > 0 {
        out.push_str(&format!(
            "<p>{}</p>\n",
            escape(&winback_beyond(o.winback_beyond_capacity))
        ));
    }
    out
}

/// The sentence for lapsed key accounts the win-back list has no room for.
pub fn winback_beyond(n: usize) -> String {
    format!(
        "{n} more lapsed key accounts are beyond the win-back list's capacity \
         (scoring.max_winback)"
    )
}

/// Accounts that left the list since the previous night, and why.
pub fn resolved(o: &ScoreOutcome, rows: usize) -> String {
    if o.resolved.is_empty() {
        return "<h2>Resolved since the previous night</h2>\n<p>No account left the list.</p>\n"
            .into();
    }
    let mut out = String::from(
        "<h2>Resolved since the previous night</h2>\n<table><tr><th>customer</th>\
         <th>first listed</th><th>p(churn) then</th><th>p(churn) now</th><th>why</th></tr>\n",
    );
    for r in o.resolved.iter().take(rows) {
        out.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td class=n>{}</td><td class=n>{}</td><td>{}</td></tr>\n",
            escape(&r.customer_id),
            r.first_listed,
            percent(r.last_probability),
            r.probability_now.map_or("-".into(), percent),
            escape(r.why)
        ));
    }
    out.push_str("</table>\n");
    out.push_str(&more(o.resolved.len(), rows, "resolved.csv"));
    out
}
