/// Defaults for kinds that read any number of upstream stages, no source files, and need
/// 64 MiB per task.
extension StageKind {
    public var upstreamCount: ClosedRange<Int> { 0...Int.max }
    public func sources(params: JSONValue, scope: Scope) throws -> [String: String] { [:] }
    public func memoryEstimate(params: JSONValue, scope: Scope) -> UInt64 { 64 << 20 }
}
