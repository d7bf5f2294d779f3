/// A binary min-heap of integers (positions in the start order, see ``ReadyQueue``).
///
/// Complexity: push and pop O(log n), peek O(1).
struct MinHeap {
    private var items: [Int] = []

    var isEmpty: Bool { items.isEmpty }
    var count: Int { items.count }
    var peek: Int? { items.first }

    mutating func push(_ x: Int) {
        items.append(x)
        var i = items.count - 1
        while i > 0 {
            let p = (i - 1) / 2
            if items[p] <= items[i] { break }
            items.swapAt(p, i)
            i = p
        }
    }

    mutating func pop() -> Int? {
        guard !items.isEmpty else { return nil }
        let top = items[0]
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < items.count, items[l] < items[m] { m = l }
                if r < items.count, items[r] < items[m] { m = r }
                if m == i { break }
                items.swapAt(i, m)
                i = m
            }
        }
        return top
    }
}

/// The ready tasks, taken in the graph's start order (``TaskGraph/startOrder``): the task with the
/// most estimated work ahead of it first, then the lowest id.
struct ReadyQueue {
    private let order: [Int]
    private let position: [Int]
    private var heap = MinHeap()

    init(_ graph: TaskGraph) {
        order = graph.startOrder
        position = graph.startPosition
    }

    var peek: Int? { heap.peek.map { order[$0] } }
    mutating func push(_ id: Int) { heap.push(position[id]) }
    mutating func pop() -> Int? { heap.pop().map { order[$0] } }
}
