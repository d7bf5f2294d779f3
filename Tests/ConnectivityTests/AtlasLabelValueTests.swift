import XCTest
import NIfTI
@testable import Connectivity

/// A label looked up by name or number: a name two labels share is refused (which one a task
/// used would depend on dictionary order), a number must be in the image.
final class AtlasLabelValueTests: XCTestCase {
    private let atlas = AtlasLabels(path: "atlas.nii.gz", shape: [3, 1, 1], affine: .identity, labels: [1, 2, 7],
                                    names: [1: "LBA_left", 2: "CMA_left", 7: "LBA_left", 9: "SFA_left"])

    func testANameTwoLabelsShareIsRefused() {
        XCTAssertThrowsError(try atlas.value(of: "LBA_left")) { error in
            XCTAssertEqual((error as? InputError)?.message, "the atlas table names labels 1 and 7 so: give the number of the one meant")
        }
        XCTAssertEqual(try atlas.value(of: "CMA_left"), 2)
        XCTAssertEqual(try atlas.value(of: "7"), 7)
        XCTAssertThrowsError(try atlas.value(of: "8"), "8 is neither named nor in the image")
    }
}
