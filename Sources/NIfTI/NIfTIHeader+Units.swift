/// Units (`xyzt_units`) and the repetition time.
extension NIfTIHeader {
    /// The unit of `pixdim[1...3]`.
    public enum SpatialUnit: Int32, Sendable {
        case unknown = 0, meter = 1, millimeter = 2, micron = 3

        public var symbol: String {
            switch self {
            case .unknown: "unknown"
            case .meter: "m"
            case .millimeter: "mm"
            case .micron: "um"
            }
        }
    }

    /// The unit of `pixdim[4]`.
    public enum TemporalUnit: Int32, Sendable {
        case unknown = 0, second = 8, millisecond = 16, microsecond = 24, hertz = 32, ppm = 40, radiansPerSecond = 48

        public var symbol: String {
            switch self {
            case .unknown: "unknown"
            case .second: "s"
            case .millisecond: "ms"
            case .microsecond: "us"
            case .hertz: "Hz"
            case .ppm: "ppm"
            case .radiansPerSecond: "rad/s"
            }
        }

        /// Seconds per unit, for the time units.
        var secondsPerUnit: Double? {
            switch self {
            case .second: 1
            case .millisecond: 1e-3
            case .microsecond: 1e-6
            default: nil
            }
        }
    }

    /// The spatial unit (bits 0-2 of `xyzt_units`); unrecognised values read as `.unknown`.
    public var spatialUnit: SpatialUnit { SpatialUnit(rawValue: xyztUnits & 0x07) ?? .unknown }

    /// The temporal unit (bits 3-5 of `xyzt_units`).
    public var temporalUnit: TemporalUnit { TemporalUnit(rawValue: xyztUnits & 0x38) ?? .unknown }

    /// The plausible range of a BOLD repetition time, in seconds.
    public static let plausibleRepetitionTime: ClosedRange<Double> = 0.1...30

    /// The repetition time in seconds, whatever unit `xyzt_units` declares.
    ///
    /// `pixdim[4]` is converted by the temporal unit: ms divided by 1000, µs by 10⁶. With unknown
    /// units the value is taken as seconds, and `repetitionTimeIssue` says so if it looks like ms.
    /// Returns nil for an image with fewer than 4 dimensions, a non-time fourth axis (Hz, ppm,
    /// rad/s) or a TR that is not a positive finite number.
    public var repetitionTime: Double? {
        guard dim[0] >= 4 else { return nil }
        let raw = pixdim[4]
        guard raw.isFinite, raw > 0 else { return nil }
        switch temporalUnit {
        case .unknown: return raw
        case .second, .millisecond, .microsecond: return raw * temporalUnit.secondsPerUnit!
        default: return nil
        }
    }

    /// A warning when the TR is implausible for BOLD fMRI, e.g. "2000 s" that is really 2000 ms.
    public var repetitionTimeIssue: String? {
        guard dim[0] >= 4, dim[4] > 1 else { return nil }
        let raw = pixdim[4]
        guard let tr = repetitionTime else {
            if !raw.isFinite || raw <= 0 { return "TR (pixdim[4]) is \(formatNumber(raw)); expected a positive time" }
            return "the fourth axis is in \(temporalUnit.symbol), not time"
        }
        if Self.plausibleRepetitionTime.contains(tr) { return nil }
        var message = "TR of \(formatNumber(tr)) s is implausible for BOLD fMRI (expected \(formatNumber(Self.plausibleRepetitionTime.lowerBound))-\(formatNumber(Self.plausibleRepetitionTime.upperBound)) s)"
        if tr > 100 && tr / 1000 >= Self.plausibleRepetitionTime.lowerBound {
            message += "; pixdim[4] = \(formatNumber(raw)) with units '\(temporalUnit.symbol)' looks like milliseconds (\(formatNumber(tr / 1000)) s)"
        }
        return message
    }
}
