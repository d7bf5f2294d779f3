/// Union–find over mask indices with union by size and path halving (internal helper).
struct StatsUnionFind {
    var parent: [Int32]
    var size: [Int32]

    init(count: Int) {
        parent = (0..<count).map { Int32($0) }
        size = [Int32](repeating: 1, count: count)
    }

    mutating func find(_ v: Int32) -> Int32 {
        var x = v
        while parent[Int(x)] != x {
            let p = parent[Int(x)]
            parent[Int(x)] = parent[Int(p)]
            x = p
        }
        return x
    }

    /// Joins the sets of a and b; returns the new root.
    @discardableResult
    mutating func union(_ a: Int32, _ b: Int32) -> Int32 {
        var ra = find(a), rb = find(b)
        if ra == rb { return ra }
        if size[Int(ra)] < size[Int(rb)] { swap(&ra, &rb) }
        parent[Int(rb)] = ra
        size[Int(ra)] += size[Int(rb)]
        return ra
    }
}
