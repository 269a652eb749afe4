//! Tiny inline-SVG charts for the self-contained report: no scripts, no network, no fonts to load.

/// Escapes text for HTML and SVG.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

const W: f64 = 520.0;
const H: f64 = 320.0;
const PAD: f64 = 48.0;

fn frame(title: &str, x_label: &str, y_label: &str, body: &str) -> String {
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" height="{H}" role="img" aria-label="{t}">
<text x="{cx}" y="18" text-anchor="middle" font-size="14" font-weight="bold">{t}</text>
<line x1="{PAD}" y1="{b}" x2="{r}" y2="{b}" stroke="#333"/><line x1="{PAD}" y1="{PAD}" x2="{PAD}" y2="{b}" stroke="#333"/>
<text x="{cx}" y="{xl}" text-anchor="middle" font-size="12">{x}</text>
<text x="14" y="{cy}" text-anchor="middle" font-size="12" transform="rotate(-90 14 {cy})">{y}</text>
{body}</svg>"##,
        t = escape(title),
        cx = W / 2.0,
        cy = H / 2.0,
        b = H - PAD,
        r = W - PAD / 2.0,
        xl = H - 10.0,
        x = escape(x_label),
        y = escape(y_label),
    )
}

fn sx(x: f64) -> f64 {
    PAD + x * (W - 1.5 * PAD)
}

fn sy(y: f64) -> f64 {
    H - PAD - y * (H - 2.0 * PAD)
}

/// A tick: position in [0, 1] and its label.
pub type Tick = (f64, String);

/// Tick marks and values on both axes.
fn ticks(x: &[Tick], y: &[Tick]) -> String {
    let mut body = String::new();
    for (t, label) in y {
        body.push_str(&format!(
            r##"<line x1="{:.1}" y1="{:.1}" x2="{PAD}" y2="{:.1}" stroke="#333"/><text x="{:.0}" y="{:.0}" font-size="10" text-anchor="end">{}</text>"##,
            PAD - 3.0,
            sy(*t),
            sy(*t),
            PAD - 5.0,
            sy(*t) + 3.0,
            escape(label)
        ));
    }
    for (t, label) in x {
        body.push_str(&format!(
            r##"<line x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="#333"/><text x="{:.0}" y="{:.0}" font-size="10" text-anchor="middle">{}</text>"##,
            sx(*t),
            H - PAD,
            sx(*t),
            H - PAD + 3.0,
            sx(*t),
            H - PAD + 14.0,
            escape(label)
        ));
    }
    body
}

/// Ticks at 0, 25, 50, 75 and 100%.
pub fn percent_ticks() -> Vec<Tick> {
    [0.0, 0.25, 0.5, 0.75, 1.0]
        .iter()
        .map(|&t| (t, format!("{:.0}%", t * 100.0)))
        .collect()
}

/// Scatter of points already scaled to [0, 1] x [0, 1], each with a colour, with the given
/// ticks on the x axis and percentages on the y axis.
pub fn scatter(
    title: &str,
    x_label: &str,
    y_label: &str,
    points: &[(f64, f64, &str)],
    legend: &[(&str, &str)],
    x_ticks: &[Tick],
) -> String {
    let mut body = ticks(x_ticks, &percent_ticks());
    for (x, y, c) in points {
        body.push_str(&format!(
            r#"<circle cx="{:.1}" cy="{:.1}" r="2.5" fill="{c}" fill-opacity="0.6"/>"#,
            sx(*x),
            sy(*y)
        ));
    }
    // The legend sits in one row above the plot, so it never hides a point.
    let mut x = PAD;
    for (name, colour) in legend {
        body.push_str(&format!(
            r#"<rect x="{x:.0}" y="27" width="10" height="10" fill="{colour}"/><text x="{:.0}" y="36" font-size="11">{}</text>"#,
            x + 14.0,
            escape(name)
        ));
        x += 22.0 + 6.5 * name.len() as f64;
    }
    frame(title, x_label, y_label, &body)
}

/// One line of a chart: name, colour, points.
pub type Series<'a> = (&'a str, &'a str, Vec<(f64, f64)>);

/// Lines through points in [0, 1] x [0, 1]; `diagonal` adds the y = x reference.
pub fn lines(
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series],
    diagonal: bool,
) -> String {
    let mut body = String::new();
    if diagonal {
        body.push_str(&format!(
            r##"<line x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="#999" stroke-dasharray="4 4"/>"##,
            sx(0.0),
            sy(0.0),
            sx(1.0),
            sy(1.0)
        ));
    }
    for (i, (name, colour, pts)) in series.iter().enumerate() {
        let path: Vec<String> = pts
            .iter()
            .map(|(x, y)| format!("{:.1},{:.1}", sx(*x), sy(*y)))
            .collect();
        body.push_str(&format!(
            r#"<polyline points="{}" fill="none" stroke="{colour}" stroke-width="2"/>"#,
            path.join(" ")
        ));
        for (x, y) in pts {
            body.push_str(&format!(
                r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{colour}"/>"#,
                sx(*x),
                sy(*y)
            ));
        }
        body.push_str(&format!(
            r#"<text x="{:.0}" y="{:.0}" font-size="11" fill="{colour}">{}</text>"#,
            PAD + 10.0,
            PAD + 14.0 * i as f64,
            escape(name)
        ));
    }
    body.push_str(&ticks(&percent_ticks(), &percent_ticks()));
    frame(title, x_label, y_label, &body)
}

/// Horizontal bars with their counts.
pub fn bars(title: &str, items: &[(String, f64)]) -> String {
    let max = items.iter().map(|i| i.1).fold(0.0, f64::max).max(1.0);
    let h = 28.0 * items.len() as f64 + 40.0;
    let mut body = String::new();
    for (i, (label, v)) in items.iter().enumerate() {
        let y = 34.0 + 28.0 * i as f64;
        let w = (W - 230.0) * v / max;
        body.push_str(&format!(
            r##"<text x="150" y="{:.0}" font-size="12" text-anchor="end">{}</text><rect x="158" y="{:.0}" width="{w:.1}" height="18" fill="#4a7ab7"/><text x="{:.0}" y="{:.0}" font-size="12">{v}</text>"##,
            y + 13.0,
            escape(label),
            y,
            162.0 + w,
            y + 13.0
        ));
    }
    format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {h}" width="{W}" height="{h}" role="img" aria-label="{t}"><text x="{cx}" y="18" text-anchor="middle" font-size="14" font-weight="bold">{t}</text>{body}</svg>"#,
        t = escape(title),
        cx = W / 2.0
    )
}
