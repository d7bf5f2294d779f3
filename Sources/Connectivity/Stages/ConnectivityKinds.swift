import PipelineEngine

/// The neuroimaging stage kinds the `pipe` binary registers.
public enum ConnectivityKinds {
    public static var all: [any StageKind] {
        [SynthScanKind(), SynthCohortKind(), CleanKind(), ConnectivityKind(), QCKind(), GroupKind(), LongitudinalKind(), ROIKind(), ReportKind()]
    }
}
