import Foundation
import Numerics

/// The residual degrees of freedom of a cleaned run: what is left for a correlation after the
/// volumes kept, the band-pass, the mean and trend, and the confound regression.
///
/// dof = ⌊T' · f⌋ − m − k, where T' is the number of volumes kept (after dummy scans and
/// censoring), f the fraction of the spectrum the band-pass keeps ((min(lp, Nyquist) − hp) /
/// Nyquist; 1 without a filter), m = 2 for the mean and the linear trend (1 without detrending:
/// the correlation still removes the mean), and k the rank of the confounds regressed out. The
/// band-pass term is the standard approximation (exact for the ideal filter); nilearn counts none
/// of this. Below `min_dof` (default 10) a run's correlations are noise: `clean` refuses the run
/// (a `Refusal`, excluded downstream) when censoring took it there, and fails when the run has too
/// few even uncensored (the settings, not the run's motion, are then at fault).
struct DegreesOfFreedom: Sendable, Equatable {
    var volumes: Int
    var kept: Int
    /// The band kept, in Hz, and the fraction of the spectrum it is (nil: no filter).
    var band: (low: Double, high: Double, fraction: Double)?
    var afterFilter: Int
    var trend: Int
    /// The rank of the confounds regressed out.
    var confounds: Int
    /// The number of confound columns, when known (the rank can be lower: columns the band-pass or
    /// detrending leaves alike, or degenerate). Set for the settings' error only, so that a
    /// refused run's recorded reason keeps its words.
    var columns: Int?
    var residual: Int

    static func == (a: DegreesOfFreedom, b: DegreesOfFreedom) -> Bool {
        a.volumes == b.volumes && a.kept == b.kept && a.afterFilter == b.afterFilter && a.trend == b.trend
            && a.confounds == b.confounds && a.residual == b.residual
    }

    init(report: SignalCleanReport, volumes: Int, options: SignalCleanOptions) {
        self.init(volumes: volumes, kept: report.keptRows, confoundRank: report.confoundRank, options: options)
    }

    /// The degrees of freedom of `kept` of `volumes` volumes with confounds of rank `confoundRank`.
    init(volumes: Int, kept: Int, confoundRank: Int, options: SignalCleanOptions) {
        self.volumes = volumes
        self.kept = kept
        if options.filter != nil, let tr = options.repetitionTime, options.highPass != nil || options.lowPass != nil {
            let nyquist = 0.5 / tr
            let low = options.highPass ?? 0, high = min(options.lowPass ?? nyquist, nyquist)
            let fraction = max(0, high - low) / nyquist
            band = (low, high, fraction)
            afterFilter = Int((Double(kept) * fraction).rounded(.down))
        } else {
            band = nil
            afterFilter = kept
        }
        trend = options.detrend ? 2 : 1
        confounds = confoundRank
        residual = afterFilter - trend - confounds
    }

    /// How cleaning counts a run's degrees of freedom with `options`, its censoring included: the
    /// confound report (nil when censoring keeps fewer than 2 volumes: nothing is cleaned, and the
    /// count stops before the confounds, an upper bound already below 1), and the confound rank by
    /// which the settings are judged (then the rank of the uncensored run's confounds).
    static func count(volumes: Int, kept: Int, confounds: Matrix?, options: SignalCleanOptions) throws
        -> (dof: DegreesOfFreedom, report: SignalCleanReport?, rank: Int) {
        if kept < 2 {
            var uncensored = options
            uncensored.sampleMask = nil
            let rank = try SignalClean(options: uncensored).report(timePoints: volumes, confounds: confounds).confoundRank
            return (DegreesOfFreedom(volumes: volumes, kept: kept, confoundRank: 0, options: options), nil, rank)
        }
        let report = try SignalClean(options: options).report(timePoints: volumes, confounds: confounds)
        return (DegreesOfFreedom(report: report, volumes: volumes, options: options), report, report.confoundRank)
    }

    /// Why a run has fewer than the minimum: its censoring (it has enough uncensored; `clean`
    /// refuses it), or the settings (too few even uncensored, with confounds of that rank: an
    /// error, for the settings would fail every run of its length alike).
    enum Shortfall: Equatable {
        case censoring
        case settings(uncensored: DegreesOfFreedom)
    }

    /// Nil when the run has `minimum` or more. `columns`: the confound columns, named beside their
    /// rank in the settings' error.
    func shortfall(minimum: Int, confoundRank: Int, columns: Int?, options: SignalCleanOptions) -> Shortfall? {
        guard residual < minimum else { return nil }
        var uncensored = DegreesOfFreedom(volumes: volumes, kept: volumes, confoundRank: confoundRank, options: options)
        uncensored.columns = columns
        return kept < volumes && uncensored.residual >= minimum ? .censoring : .settings(uncensored: uncensored)
    }

    /// Where the degrees of freedom went, for the error below `minimum`. `censored`: these are the
    /// run's uncensored degrees of freedom, and censoring left it fewer still (said so, while the
    /// text stays the same for every run of the length, so a run's failures group as one).
    func explanation(minimum: Int, censored: Bool = false) -> String {
        breakdown(minimum: minimum) + (censored ? " (before censoring, which leaves fewer still)" : "") + ". Correlations on so few would be noise; widen the band or take fewer confounds (or lower min_dof, if you must)"
    }

    /// "leaves d residual degrees of freedom, fewer than min_dof m: " and where they went.
    func breakdown(minimum: Int) -> String {
        var parts = ["\(kept) of \(volumes) volumes kept" + (kept < volumes ? " (\(volumes - kept) censored)" : "")]
        if let band {
            parts.append(String(format: "the band %g–%g Hz keeps %.0f%% of the spectrum (%d)", band.low, band.high, band.fraction * 100, afterFilter))
        }
        parts.append(trend == 2 ? "the mean and linear trend use 2" : "the mean uses 1")
        let c = columns ?? confounds
        if c == confounds {
            if c > 0 { parts.append("\(c) confound column\(c == 1 ? "" : "s") use\(c == 1 ? "s" : "") \(c)") }
        } else {
            parts.append("\(c) confound column\(c == 1 ? "" : "s"), of rank \(confounds) once filtered and detrended, use \(confounds)")
        }
        return "leaves \(residual) residual degrees of freedom, fewer than min_dof \(minimum): " + parts.joined(separator: "; ")
    }
}
