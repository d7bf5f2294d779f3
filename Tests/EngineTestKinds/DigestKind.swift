import Foundation
import PipelineEngine

/// `test.digest` (per scan): reads a (large) binary source and writes its size and SHA-256.
struct DigestKind: TypedStageKind {
    struct Parameters: Sendable, Equatable { var pattern: String }

    let name = "test.digest"
    let version = 1
    let fanOut = FanOut.perScan
    var upstreamCount: ClosedRange<Int> { 0...0 }

    func parameters(_ p: ParameterReader) -> Parameters { Parameters(pattern: p.string("pattern")) }

    func sources(_ p: Parameters, scope: Scope) throws -> [String: String] {
        ["blob": p.pattern.replacingOccurrences(of: "{subject}", with: scope.subject ?? "")]
    }

    func run(_ p: Parameters, _ context: TaskContext) throws {
        TestSupport.recordExecution(name, context)
        let bytes = try TestSupport.readSourceCounted(context, "blob")
        let digest = FileSystem.hex(SHA256.hash(data: bytes))
        try context.writeOutput("\(context.scope.label).txt", Array("\(bytes.count) \(digest)\n".utf8))
    }
}
