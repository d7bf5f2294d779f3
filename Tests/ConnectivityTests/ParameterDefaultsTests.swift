import Connectivity
import PipelineEngine
import XCTest

/// Each kind reads its parameters with one function, at spec time from the spec and at run time
/// from the canonical JSON stored in the task: the typed values must be equal, and the canonical
/// JSON must read back to itself, so a default can never differ between the two.
final class ParameterDefaultsTests: XCTestCase {
    func roundTrip<K: TypedStageKind>(_ kind: K, _ minimal: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let spec = ParameterReader(canonical: try JSONValue.parse(minimal))
        let atSpecTime = kind.parameters(spec)
        let canonical = spec.finish()
        let atRunTime = kind.decode(canonical)
        XCTAssertEqual(atSpecTime, atRunTime, "\(kind.name): spec-time and run-time parameters differ", file: file, line: line)
        let again = ParameterReader(canonical: canonical)
        _ = kind.parameters(again)
        XCTAssertEqual(again.finish(), canonical, "\(kind.name): the canonical parameters do not read back to themselves", file: file, line: line)
        // Every default is in the canonical form (so it is in the task key).
        XCTAssertGreaterThan(canonical.objectValue?.count ?? 0, (try JSONValue.parse(minimal)).objectValue?.count ?? 0,
                             "\(kind.name): defaults missing from the canonical parameters", file: file, line: line)
    }

    func testSpecTimeAndRunTimeParametersAgreeForEveryKind() throws {
        try roundTrip(CleanKind(), "{}")
        try roundTrip(ConnectivityKind(), #"{"seeds": [{"name": "LBAleft", "label": "LBA_left"}, {"name": "PCC", "sphere": [0, -52, 26], "radius": 6}]}"#)
        try roundTrip(GroupKind(), #"{"seed": "LBAleft", "contrasts": ["mean"]}"#)
        try roundTrip(LongitudinalKind(), #"{"seed": "LBAleft", "pre": "baseline", "post": "day13", "paired": ["all"]}"#)
        try roundTrip(ROIKind(), #"{"seed": "LBAleft", "pre": "baseline", "regions": [{"name": "c", "cluster": 1}], "predict": {"column": "responder", "positive": "responder"}}"#)
        try roundTrip(SynthScanKind(), "{}")
        try roundTrip(SynthCohortKind(), "{}")
    }
}
