/// The options of `SignalClean`, named and defaulted as `nilearn.signal.clean` 0.14.1.
///
/// Defaults (nilearn's `clean`, not its maskers): detrend on, `zscore_sample`, confounds
/// standardised, Butterworth filter (which is a no-op until a cut-off is given), TR 2.5 s.
public struct SignalCleanOptions: Sendable, Equatable {
    /// How to standardise the cleaned signals.
    public enum Standardization: String, Sendable, Equatable {
        /// (x − mean) / std with ddof = 1; a std below ε (2.2e-16) is replaced by 1. nilearn default.
        case zscoreSample = "zscore_sample"
        /// (x − mean) / std with ddof = 0 (nilearn's removed "zscore"; 0.14.1 rejects it). A std
        /// below ε is replaced by 1. Not nilearn 0.14.1 behaviour; kept for older pipelines.
        case zscore
        /// Percent signal change 100·(x − mean)/|mean|; series with |mean| < ε become 0. When the
        /// cleaned means are small (mean|cleaned mean| / mean|original mean| < 0.1, over all
        /// features together), the original means are added back first, as nilearn does.
        case psc
    }

    /// The temporal filter.
    public enum TemporalFilter: String, Sendable, Equatable {
        /// 5th-order (see `butterworthOrder`) zero-phase Butterworth, as nilearn.
        case butterworth
        /// DPABI's ideal FFT band-pass (`IdealBandPassFilter`); not a nilearn option. Applied at
        /// the same place in the order of operations as the Butterworth filter.
        case idealFFT = "ideal"
        /// nilearn's `filter="cosine"`: DCT drift regressors up to `highPass` added to the confounds
        /// (regressed together with them); `lowPass` is ignored (nilearn warns). With a sample
        /// mask, volumes are censored first (no interpolation), as nilearn.
        case cosine
    }

    /// How censored volumes are interpolated before filtering (sample mask + filter).
    public enum CensoringInterpolation: String, Sendable, Equatable {
        /// Every censored volume strictly between the first and last kept volumes is replaced by the
        /// not-a-knot cubic spline through the kept volumes; censored volumes before the first or
        /// after the last kept one are dropped (nilearn `extrapolate=False`). This is what nilearn
        /// documents and intends. Default.
        case spline
        /// Bit-for-bit nilearn 0.14.1: its `_interpolate_volumes` indexes with `~sample_mask` on an
        /// *integer index array* (bitwise not, i.e. rows T−1−i for each kept i), so only censored
        /// rows whose mirror T−1−j is kept are interpolated; the others keep their raw values, and
        /// head rows can be dropped in a way that shifts the later censoring by one or more rows.
        /// Use only to reproduce nilearn 0.14.1 numbers.
        case nilearn0141Compatible
    }

    /// Remove the mean and a linear trend from signals and confounds (nilearn `_detrend`).
    public var detrend: Bool = true
    /// `nil`: no standardisation (nilearn `None`/`False`).
    public var standardize: Standardization? = .zscoreSample
    /// z-score the confounds (ddof = 1) before regression; otherwise divide each by its max |value|.
    public var standardizeConfounds: Bool = true
    /// `nil`: no filtering. Butterworth with neither cut-off is also no filtering (as nilearn).
    public var filter: TemporalFilter? = .butterworth
    /// Low-pass cut-off in Hz.
    public var lowPass: Double? = nil
    /// High-pass cut-off in Hz.
    public var highPass: Double? = nil
    /// Repetition time in seconds (required for filtering).
    public var repetitionTime: Double? = 2.5
    /// `true` = keep the volume (nilearn boolean `sample_mask`); length T. `nil`: keep all.
    public var sampleMask: [Bool]? = nil
    /// Replace NaN and ±Inf in the signals by 0 before anything else.
    public var ensureFinite: Bool = false
    /// Butterworth order (nilearn: 5).
    public var butterworthOrder: Int = 5
    /// See `CensoringInterpolation`.
    public var censoringInterpolation: CensoringInterpolation = .spline
    /// A feature whose variance after cleaning (before standardisation) is at most this fraction
    /// of its variance before cleaning holds nothing but rounding noise (a voxel that was a pure
    /// trend, say): it is set to 0, so that correlations with it are 0, as with a constant
    /// feature, instead of ±1 by chance. `nil`: off (nilearn has no such rule).
    public var minimumRetainedVariance: Double? = nil

    public init(
        detrend: Bool = true,
        standardize: Standardization? = .zscoreSample,
        standardizeConfounds: Bool = true,
        filter: TemporalFilter? = .butterworth,
        lowPass: Double? = nil,
        highPass: Double? = nil,
        repetitionTime: Double? = 2.5,
        sampleMask: [Bool]? = nil,
        ensureFinite: Bool = false
    ) {
        self.detrend = detrend
        self.standardize = standardize
        self.standardizeConfounds = standardizeConfounds
        self.filter = filter
        self.lowPass = lowPass
        self.highPass = highPass
        self.repetitionTime = repetitionTime
        self.sampleMask = sampleMask
        self.ensureFinite = ensureFinite
    }
}
