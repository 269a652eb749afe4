//! The Excel workbook retention staff open: a summary sheet, the whole list, and one sheet per
//! account owner (or per quadrant when there is no customer master), each with a frozen header,
//! filters and number formats. The rows are the same frame as the CSV list.

use std::path::Path;

use polars::prelude::*;
use rust_xlsxwriter::{Color, Format, Workbook, Worksheet, XlsxError};

use crate::error::{Error, Result};
use crate::score::ScoreOutcome;
use crate::segment::lifecycle::LifecycleStage;
use crate::segment::quadrant::Quadrant;
use crate::util::atomic_file;

fn xlsx_error(e: XlsxError) -> Error {
    Error::Artifact(format!("cannot build the Excel workbook: {e}"))
}

/// Excel sheet names: at most 31 characters, none of []:*?/\ .
fn sheet_name(text: &str) -> String {
    let clean: String = text
        .chars()
        .map(|c| if "[]:*?/\\".contains(c) { '_' } else { c })
        .take(31)
        .collect();
    if clean.trim().is_empty() {
        "(no owner)".into()
    } else {
        clean
    }
}

fn number_format(column: &str) -> Option<&'static str> {
    match column {
        "churn_probability" => Some("0.0%"),
        "value_12m" | "expected_value_at_risk" => Some("#,##0"),
        _ => None,
    }
}

fn column_width(column: &str) -> f64 {
    match column {
        "reason_1" | "reason_2" | "reason_3" => 48.0,
        "action" => 36.0,
        "name" => 24.0,
        "rank" => 6.0,
        _ => 14.0,
    }
}

/// Writes the rows of `list` selected by `rows` as a table sheet, row by row (the sheet streams
/// each finished row to a temporary file; see [`write()`]).
fn table_sheet(ws: &mut Worksheet, list: &DataFrame, rows: &[usize]) -> Result<()> {
    let header = Format::new()
        .set_bold()
        .set_background_color(Color::RGB(0xDDEBF7));
    let names = list.get_column_names();
    let mut columns = Vec::with_capacity(names.len());
    for (j, name) in names.iter().enumerate() {
        let j = j as u16;
        ws.write_string_with_format(0, j, name.as_str(), &header)
            .map_err(xlsx_error)?;
        ws.set_column_width(j, column_width(name))
            .map_err(xlsx_error)?;
        let column = list
            .column(name.as_str())
            .map_err(|e| Error::Artifact(e.to_string()))?;
        let format = number_format(name).map(|f| Format::new().set_num_format(f));
        columns.push((column, format));
    }
    for (r, &i) in rows.iter().enumerate() {
        let row = (r + 1) as u32;
        for (j, (column, format)) in columns.iter().enumerate() {
            let j = j as u16;
            let value = column.get(i).map_err(|e| Error::Artifact(e.to_string()))?;
            match (value, format) {
                (AnyValue::Null, _) => {}
                (AnyValue::Boolean(b), _) => {
                    ws.write_boolean(row, j, b).map_err(xlsx_error)?;
                }
                (AnyValue::String(s), _) => {
                    ws.write_string(row, j, s).map_err(xlsx_error)?;
                }
                (AnyValue::StringOwned(s), _) => {
                    ws.write_string(row, j, s.as_str()).map_err(xlsx_error)?;
                }
                (v, f) => {
                    let x = v.extract::<f64>().unwrap_or(f64::NAN);
                    match f {
                        Some(f) => ws.write_number_with_format(row, j, x, f),
                        None => ws.write_number(row, j, x),
                    }
                    .map_err(xlsx_error)?;
                }
            }
        }
    }
    ws.set_freeze_panes(1, 0).map_err(xlsx_error)?;
    ws.autofilter(
        0,
        0,
        rows.len() as u32,
        names.len().saturating_sub(1) as u16,
    )
    .map_err(xlsx_error)?;
    Ok(())
}

fn summary_sheet(ws: &mut Worksheet, o: &ScoreOutcome) -> Result<()> {
    let bold = Format::new().set_bold();
    let money = Format::new().set_num_format("#,##0");
    let key = o.key_accounts();
    let at_risk = o.listed_value_at_risk();
    let mut row = 0u32;
    let mut line = |ws: &mut Worksheet, label: &str, value: Result<String, f64>| -> Result<()> {
        ws.write_string_with_format(row, 0, label, &bold)
            .map_err(xlsx_error)?;
        match value {
            Ok(text) => ws.write_string(row, 1, text),
            Err(x) => ws.write_number_with_format(row, 1, x, &money),
        }
        .map_err(xlsx_error)?;
        row += 1;
        Ok(())
    };
    line(ws, "Churn risk as of", Ok(o.as_of.to_string()))?;
    line(ws, "Model", Ok(o.model.model_id.clone()))?;
    line(ws, "Active accounts scored", Err(o.scored.len() as f64))?;
    line(ws, "Key accounts", Err(key as f64))?;
    line(
        ws,
        "Accounts on the at-risk list",
        Err(o.listed.len() as f64),
    )?;
    line(ws, "Expected value at risk on the list", Err(at_risk))?;
    line(ws, "Win-back candidates", Err(o.winback.len() as f64))?;
    line(ws, "", Ok(String::new()))?;
    for q in Quadrant::ALL {
        let n = o.scored.iter().filter(|a| a.quadrant == q).count();
        line(ws, &format!("{} ({})", q.name(), q.action()), Err(n as f64))?;
    }
    line(ws, "", Ok(String::new()))?;
    for s in LifecycleStage::ALL {
        let n = o.scored.iter().filter(|a| a.lifecycle == s).count();
        line(ws, &format!("lifecycle: {}", s.name()), Err(n as f64))?;
    }
    ws.set_column_width(0, 58).map_err(xlsx_error)?;
    ws.set_column_width(1, 24).map_err(xlsx_error)?;
    Ok(())
}

/// Writes the workbook for `list` (the at-risk list frame) to `path`.
pub fn write(o: &ScoreOutcome, list: &DataFrame, path: &Path) -> Result<()> {
    let mut wb = Workbook::new();
    // The table sheets stream their rows to temporary files next to the output ("constant
    // memory" mode), so the workbook's memory does not grow with the list (written twice:
    // whole, then by owner).
    if let Some(dir) = path.parent().filter(|d| d.is_dir()) {
        wb.set_tempdir(dir).map_err(xlsx_error)?;
    }
    summary_sheet(
        wb.add_worksheet().set_name("Summary").map_err(xlsx_error)?,
        o,
    )?;
    let all: Vec<usize> = (0..list.height()).collect();
    table_sheet(
        wb.add_worksheet_with_constant_memory()
            .map_err(xlsx_error)?
            .set_name("At-risk list")
            .map_err(xlsx_error)?,
        list,
        &all,
    )?;

    // One sheet per owner when the customer master names owners, else one per quadrant.
    let by_owner = o
        .listed
        .iter()
        .any(|e| !o.scored[e.index].owner().is_empty());
    let group = |r: usize| -> String {
        let a = o.listed_account(r);
        if by_owner {
            sheet_name(a.owner())
        } else {
            a.quadrant.name().to_string()
        }
    };
    let mut groups: Vec<String> = (0..o.listed.len()).map(group).collect();
    groups.sort();
    groups.dedup();
    for g in groups {
        let rows: Vec<usize> = (0..o.listed.len()).filter(|&r| group(r) == g).collect();
        let name = if g == "Summary" || g == "At-risk list" {
            format!("{g} (owner)")
        } else {
            g
        };
        table_sheet(
            wb.add_worksheet_with_constant_memory()
                .map_err(xlsx_error)?
                .set_name(sheet_name(&name))
                .map_err(xlsx_error)?,
            list,
            &rows,
        )?;
    }
    let bytes = wb.save_to_buffer().map_err(xlsx_error)?;
    atomic_file::write_bytes(path, &bytes)
}
