//! The transaction-value chart a registrar pastes into a report: the year's cumulative value by
//! month against the policy's target, as a self-contained SVG (no scripts, no external fonts).

use std::fmt::Write;

use crate::services::indicators::{Direction, Measure, TransactionValue};

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 400.0;
const LEFT: f64 = 80.0;
const RIGHT: f64 = 24.0;
const TOP: f64 = 56.0;
const BOTTOM: f64 = 48.0;
/// Fen in one 亿元.
const FEN_PER_YI: f64 = 10_000_000_000.0;

/// Renders `value` (a breakdown by month) as an SVG line of the cumulative value in 亿元, with
/// the target as a dashed line when the year has one.
pub fn transaction_value_svg(value: &TransactionValue) -> String {
    let mut cumulative = Vec::with_capacity(12);
    let mut sum = 0i64;
    for group in &value.groups {
        sum += group.value_fen;
        cumulative.push(sum as f64 / FEN_PER_YI);
    }
    let target = value.target_fen.map(|t| t as f64 / FEN_PER_YI);
    let top_value = cumulative
        .iter()
        .copied()
        .chain(target)
        .fold(0.0f64, f64::max)
        .max(1.0)
        * 1.1;
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let x = |month: usize| LEFT + plot_w * (month as f64 + 0.5) / 12.0;
    let y = |v: f64| TOP + plot_h * (1.0 - v / top_value);
    let measure = match value.measure {
        Measure::Total => "技术合同成交额",
        Measure::Technical => "技术交易额",
    };
    let direction = match value.direction {
        Direction::Outflow => "技术输出",
        Direction::Inflow => "技术吸纳",
    };
    let mut svg = String::new();
    let _ = write!(
        svg,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">"##
    );
    let _ = write!(
        svg,
        r##"<rect width="100%" height="100%" fill="#ffffff"/><text x="{LEFT}" y="28" font-size="16" font-weight="bold">{} 年{}{}累计（亿元）</text>"##,
        value.year, direction, measure
    );
    // Grid and axis labels: five steps up to the top.
    for step in 0..=5 {
        let v = top_value * f64::from(step) / 5.0;
        let _ = write!(
            svg,
            r##"<line x1="{LEFT}" x2="{:.1}" y1="{:.1}" y2="{:.1}" stroke="#e0e0e0"/><text x="{:.1}" y="{:.1}" text-anchor="end">{v:.0}</text>"##,
            WIDTH - RIGHT,
            y(v),
            y(v),
            LEFT - 8.0,
            y(v) + 4.0
        );
    }
    for month in 0..12 {
        let _ = write!(
            svg,
            r##"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}月</text>"##,
            x(month),
            HEIGHT - BOTTOM + 20.0,
            month + 1
        );
    }
    if let Some(target) = target {
        let _ = write!(
            svg,
            r##"<line x1="{LEFT}" x2="{:.1}" y1="{:.1}" y2="{:.1}" stroke="#c62828" stroke-dasharray="6 4" stroke-width="2"/><text x="{:.1}" y="{:.1}" text-anchor="end" fill="#c62828">目标 {target:.0} 亿元</text>"##,
            WIDTH - RIGHT,
            y(target),
            y(target),
            WIDTH - RIGHT,
            y(target) - 6.0
        );
    }
    let points: Vec<String> = cumulative
        .iter()
        .enumerate()
        .map(|(m, v)| format!("{:.1},{:.1}", x(m), y(*v)))
        .collect();
    let _ = write!(
        svg,
        r##"<polyline fill="none" stroke="#1565c0" stroke-width="3" points="{}"/>"##,
        points.join(" ")
    );
    for (m, v) in cumulative.iter().enumerate() {
        let _ = write!(
            svg,
            r##"<circle cx="{:.1}" cy="{:.1}" r="3.5" fill="#1565c0"><title>{}月 累计 {v:.2} 亿元</title></circle>"##,
            x(m),
            y(*v),
            m + 1
        );
    }
    let progress = value
        .progress
        .map(|p| format!("，完成目标 {:.1}%", p * 100.0))
        .unwrap_or_default();
    let _ = write!(
        svg,
        r##"<text x="{LEFT}" y="46" fill="#555555">登记合同 {} 项，合计 {:.2} 亿元{progress}</text></svg>"##,
        value.count,
        value.value_fen as f64 / FEN_PER_YI
    );
    svg
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::indicators::Group;

    #[test]
    fn the_chart_climbs_to_the_year_total_and_draws_the_target() {
        let groups = (1..=12)
            .map(|m| Group {
                key: m.to_string(),
                label: format!("{m}月"),
                count: 1,
                value_fen: 100 * FEN_PER_YI as i64,
            })
            .collect();
        let value = TransactionValue {
            year: 2023,
            measure: Measure::Total,
            direction: Direction::Outflow,
            count: 12,
            value_fen: 1_200 * FEN_PER_YI as i64,
            target_fen: Some(1_600 * FEN_PER_YI as i64),
            progress: Some(0.75),
            groups,
        };
        let svg = transaction_value_svg(&value);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("目标 1600 亿元"), "{svg}");
        assert!(svg.contains("12月 累计 1200.00 亿元"), "{svg}");
        assert!(svg.contains("完成目标 75.0%"));
        assert_eq!(svg.matches("<circle").count(), 12);
        assert!(svg.contains("2023 年技术输出技术合同成交额累计"), "{svg}");
    }

    #[test]
    fn a_chart_without_a_target_draws_no_target_and_no_progress() {
        let value = TransactionValue {
            year: 2023,
            measure: Measure::Total,
            direction: Direction::Inflow,
            count: 0,
            value_fen: 0,
            target_fen: None,
            progress: None,
            groups: Vec::new(),
        };
        let svg = transaction_value_svg(&value);
        assert!(!svg.contains("目标"), "{svg}");
        assert!(svg.contains("技术吸纳"), "{svg}");
    }
}
