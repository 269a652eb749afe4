//! `churnflow models list|show`: what the registry holds.

use crate::cli::{ModelsArgs, ModelsCommand};
use crate::cmd::{Out, load, print_line};
use crate::error::{Error, Result};
use crate::model::artifact::ModelArtifact;
use crate::model::card;
use crate::model::registry::{Decision, Registry};

/// Runs `models`.
pub fn run(args: &ModelsArgs, _out: Out) -> Result<()> {
    let p = load(&args.pipeline)?;
    let registry = Registry::load(&p.models_dir)?;
    match &args.command {
        ModelsCommand::List => {
            if registry.history.is_empty() {
                print_line(&format!("no models in {}", p.models_dir.display()));
                return Ok(());
            }
            print_line(&format!(
                "{:<1} {:<22} {:<9} {:>8} {:>8}  {:<25}  reason",
                "", "model", "decision", "ROC AUC", "log loss", "at"
            ));
            for e in &registry.history {
                let current = registry.current.as_deref() == Some(e.model_id.as_str());
                let (auc, ll) = ModelArtifact::load(&p.models_dir, &e.model_id)
                    .map(|a| {
                        (
                            format!("{:.4}", a.metrics.validation.roc_auc),
                            format!("{:.4}", a.metrics.validation.log_loss),
                        )
                    })
                    .unwrap_or_else(|_| ("missing".into(), "".into()));
                let decision = match e.decision {
                    Decision::Promoted => "promoted",
                    Decision::Rejected => "rejected",
                };
                print_line(&format!(
                    "{:<1} {:<22} {:<9} {:>8} {:>8}  {:<25}  {}",
                    if current { "*" } else { " " },
                    e.model_id,
                    decision,
                    auc,
                    ll,
                    e.at.get(..19).unwrap_or(&e.at),
                    e.reason
                ));
            }
        }
        ModelsCommand::Show { model_id } => {
            let id = match model_id {
                Some(id) => id.clone(),
                None => registry.current.clone().ok_or_else(|| {
                    Error::Artifact(format!("no current model in {}", p.models_dir.display()))
                })?,
            };
            print_line(card::render(&ModelArtifact::load(&p.models_dir, &id)?).trim_end());
        }
    }
    Ok(())
}
