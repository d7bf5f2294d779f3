import Foundation
import Numerics

/// The previous (voxel-indexed) exact TFCE implementation, kept verbatim as a test reference for
/// the rank-space rewrite in `TFCEWorkspace`: two radix sorts of 64-bit keys (one per sign),
/// union by size with offset path compression over voxel-indexed arrays.
enum TFCEReference {
    static func exact(map: [Double], graph: NeighborGraph, twoSided: Bool = true, E: Double = 0.5, H: Double = 2) -> [Double] {
        var out = [Double](repeating: 0, count: map.count)
        map.withUnsafeBufferPointer { m in
            out.withUnsafeMutableBufferPointer { o in exact(map: m, graph: graph, out: o, twoSided: twoSided, E: E, H: H) }
        }
        return out
    }

    /// Exact TFCE into `out` (overwritten).
    static func exact(map: UnsafeBufferPointer<Double>, graph: NeighborGraph, out: UnsafeMutableBufferPointer<Double>, twoSided: Bool = true, E: Double = 0.5, H: Double = 2) {
        let v = graph.count
        precondition(map.count == v && out.count == v)
        let standard = E == 0.5 && H == 2
        // One 24-byte record per voxel (parent, size, offset, level): a union-find step touches
        // one cache line instead of four.
        // The parent array alone (4 bytes/voxel) is what the neighbour scan touches; it stays in L2.
        let par = UnsafeMutablePointer<Int32>.allocate(capacity: v)
        let node = UnsafeMutablePointer<TFCENode>.allocate(capacity: v)
        let stack = UnsafeMutablePointer<Int32>.allocate(capacity: v + 1)
        defer { par.deallocate(); node.deallocate(); stack.deallocate() }
        par.initialize(repeating: -1, count: v)
        node.initialize(repeating: TFCENode(size: 0, acc: 0, since: 0), count: v)
        for i in 0..<v { out[i] = 0 }
        var keys: [SortKey] = []
        keys.reserveCapacity(v)
        let degree = graph.maxDegree
        graph.table.withUnsafeBufferPointer { nb in
            do {
                for sign in (twoSided ? [1.0, -1.0] : [1.0]) {
                    keys.removeAll(keepingCapacity: true)
                    for i in 0..<v {
                        let u = sign * map[i]
                        if u > 0 { keys.append(SortKey(key: u.bitPattern, index: Int32(i))) }
                    }
                    // Positive doubles order like their bit patterns: sort descending by key.
                    radixSortDescending(&keys)
                    @inline(__always) func F(_ h: Double) -> Double { standard ? h * h * h * (1.0 / 3.0) : Foundation.pow(h, H + 1) / (H + 1) }
                    @inline(__always) func ext(_ s: Int32) -> Double { standard ? Double(s).squareRoot() : Foundation.pow(Double(s), E) }
                    @inline(__always) func find(_ x0: Int32) -> Int32 {
                        var r = x0
                        var depth = 0
                        while par[Int(r)] != r { stack[depth] = r; depth += 1; r = par[Int(r)] }
                        if depth > 1 {
                            // Compress: each node's offset becomes the sum of offsets up to (not incl.) the root.
                            var running = 0.0
                            var d = depth - 1
                            while d >= 0 {
                                let p = Int(stack[d])
                                running += node[p].acc
                                node[p].acc = running
                                par[p] = r
                                d -= 1
                            }
                        }
                        return r
                    }
                    for key in keys {
                        let vi = key.index, i = Int(vi)
                        let h = Double(bitPattern: key.key)  // = sign·map[i], without a random load
                        par[i] = vi; node[i] = TFCENode(size: 1, acc: 0, since: h)
                        var root = vi
                        for e in (i * degree)..<(i * degree + degree) {
                            let q = nb[e]
                            guard q >= 0, par[Int(q)] >= 0 else { continue }
                            var rq = find(q)
                            if rq == root { continue }
                            // Flush both components' integrals down to h, then merge (union by size).
                            let ri = Int(root), qi = Int(rq)
                            let fh = F(h)
                            node[ri].acc += ext(node[ri].size) * (F(node[ri].since) - fh); node[ri].since = h
                            node[qi].acc += ext(node[qi].size) * (F(node[qi].since) - fh); node[qi].since = h
                            if node[ri].size < node[qi].size { swap(&root, &rq) }
                            par[Int(rq)] = root
                            node[Int(rq)].acc -= node[Int(root)].acc
                            node[Int(root)].size += node[Int(rq)].size
                        }
                    }
                    for key in keys where par[Int(key.index)] == key.index {
                        let ri = Int(key.index)
                        node[ri].acc += ext(node[ri].size) * F(node[ri].since); node[ri].since = 0
                    }
                    for key in keys {
                        let i = Int(key.index)
                        let r = find(key.index)
                        out[i] = sign * (r == key.index ? node[i].acc : node[i].acc + node[Int(r)].acc)
                    }
                    for key in keys { par[Int(key.index)] = -1 }
                }
            }
        }
    }

    struct SortKey { var key: UInt64; var index: Int32 }
    struct TFCENode { var size: Int32; var acc: Double; var since: Double }

    /// LSD radix sort (4 passes of 16 bits) of keys, descending. Stable; O(n + 4·65536).
    static func radixSortDescending(_ keys: inout [SortKey]) {
        let n = keys.count
        if n < 2 { return }
        var tmp = [SortKey](repeating: SortKey(key: 0, index: 0), count: n)
        var count = [Int](repeating: 0, count: 65536)
        keys.withUnsafeMutableBufferPointer { a in
            tmp.withUnsafeMutableBufferPointer { b in
                count.withUnsafeMutableBufferPointer { c in
                    var src = a, dst = b
                    for pass in 0..<4 {
                        let shift = UInt64(pass * 16)
                        for i in 0..<65536 { c[i] = 0 }
                        for i in 0..<n { c[65535 - Int((src[i].key >> shift) & 0xFFFF)] += 1 }
                        var sum = 0
                        for i in 0..<65536 { let t = c[i]; c[i] = sum; sum += t }
                        for i in 0..<n {
                            let d = 65535 - Int((src[i].key >> shift) & 0xFFFF)
                            dst[c[d]] = src[i]; c[d] += 1
                        }
                        swap(&src, &dst)
                    }
                    // After 4 passes the result is back in `a`.
                }
            }
        }
    }

}
