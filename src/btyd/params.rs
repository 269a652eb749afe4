//! Which model, and its four parameters.

/// The buy-till-you-die model fitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// BG/NBD (Fader, Hardie & Lee 2005): a customer may drop out after each repeat purchase.
    BgNbd,
    /// MBG/NBD (Batislam, Denizel & Filiztekin 2007): also at time zero, so a one-time buyer is
    /// not certainly alive.
    MbgNbd,
}

impl Kind {
    /// The name in the pipeline file and `model.json`.
    pub fn name(self) -> &'static str {
        match self {
            Kind::BgNbd => "bgnbd",
            Kind::MbgNbd => "mbgnbd",
        }
    }
}

/// Purchase rates are Gamma(r, alpha) across customers (alpha in the summaries' time unit);
/// the dropout probability after a purchase is Beta(a, b).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Params {
    pub r: f64,
    pub alpha: f64,
    pub a: f64,
    pub b: f64,
}

impl Params {
    /// The parameters from their logarithms (the space they are fitted in, so all stay > 0).
    pub fn from_logs(theta: &[f64]) -> Params {
        Params {
            r: theta[0].exp(),
            alpha: theta[1].exp(),
            a: theta[2].exp(),
            b: theta[3].exp(),
        }
    }

    /// Whether every parameter is finite and strictly positive.
    pub fn is_usable(&self) -> bool {
        [self.r, self.alpha, self.a, self.b]
            .iter()
            .all(|v| v.is_finite() && *v > 0.0)
    }
}
