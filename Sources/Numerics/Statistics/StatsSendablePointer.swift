/// A raw pointer that worker closures of `DispatchQueue.concurrentPerform` may capture.
///
/// Safety contract: every worker writes a disjoint index range, and the pointee outlives the
/// concurrent region (the owning array is kept alive by a surrounding `withUnsafe...` call).
struct StatsSendablePointer<Element>: @unchecked Sendable {
    let base: UnsafeMutablePointer<Element>
    init(_ base: UnsafeMutablePointer<Element>) { self.base = base }
    subscript(i: Int) -> Element {
        get { base[i] }
        nonmutating set { base[i] = newValue }
    }
}
