/// The simulation's agenda: events ordered by time, then by the order they were scheduled
/// (a binary min-heap, so that long runs stay fast).
struct EventQueue<Payload> {
    struct Entry {
        var at: Int64
        var sequence: Int
        var payload: Payload
        func precedes(_ other: Entry) -> Bool { (at, sequence) < (other.at, other.sequence) }
    }

    private var heap: [Entry] = []
    private var sequence = 0

    var isEmpty: Bool { heap.isEmpty }
    var count: Int { heap.count }
    var nextTime: Int64? { heap.first?.at }

    mutating func push(_ payload: Payload, at time: Int64) {
        sequence += 1
        heap.append(Entry(at: time, sequence: sequence, payload: payload))
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].precedes(heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> Entry? {
        guard !heap.isEmpty else { return nil }
        heap.swapAt(0, heap.count - 1)
        let first = heap.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < heap.count && heap[left].precedes(heap[smallest]) { smallest = left }
            if right < heap.count && heap[right].precedes(heap[smallest]) { smallest = right }
            guard smallest != parent else { break }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
        return first
    }
}
