//! `estimate` without `--json`: the report as a few aligned lines.

use infobound::Report;

use crate::units::unit;

/// Prints the estimate, the bound's ceiling if it has one, the data, the training and the device.
pub fn print_summary(r: &Report, bits: bool) {
    let (s, unit) = unit(bits);
    println!(
        "estimate  {:.4} ± {:.4} {unit}  ({} bound, {} critic)",
        r.mi * s,
        r.std_err * s,
        r.bound,
        r.critic
    );
    if let Some(c) = r.ceiling {
        println!(
            "ceiling   {:.4} {unit} (the most this bound can read at the evaluation's K)",
            c * s
        );
    }
    println!(
        "data      {} rows, x {} columns, y {} columns",
        r.n, r.dims.0, r.dims.1
    );
    println!("transform {} (every column, before training)", r.transform);
    println!("held out  {} rows, evaluated {}", r.n_test, r.evaluation);
    println!("selection {}", r.selection);
    println!(
        "error     ±{:.4} sampling, ±{:.4} optimisation {unit} (in quadrature above)",
        r.std_err_sampling * s,
        r.std_err_optimisation * s
    );
    println!("check     {}", r.cross_check_note);
    if let Some(e) = &r.ensemble {
        let each: Vec<String> = e
            .seeds
            .iter()
            .zip(&e.estimates)
            .map(|(seed, v)| format!("{seed}: {:.4}", v * s))
            .collect();
        println!(
            "ensemble  {} of {} seeds finished, mean {:.4}, sd {:.4} {unit} ({})",
            e.finished(),
            e.seeds.len(),
            e.mean * s,
            e.sd * s,
            each.join(", ")
        );
    }
    println!(
        "training  {} steps in {:.2} s ({:.0} steps/s)",
        r.steps, r.seconds, r.steps_per_second
    );
    println!("device    {} ({})", r.device, r.device_reason);
    if !r.geometry.is_empty() {
        println!("geometry  {}", r.geometry.join("; "));
    }
}
