/// The operations a benchmark issues and their shares (`get=90,set=10`).
public struct OperationMix: Sendable, CustomStringConvertible {
    public enum Operation: String, Sendable, CaseIterable {
        case get, set, create, delete, exists, children, multi
    }

    public let weights: [(Operation, Int)]
    private let total: Int

    /// Parses `name=weight,...`; names are get, set, create, delete, exists, children, multi.
    public init(_ text: String) throws(BenchError) {
        var weights: [(Operation, Int)] = []
        for part in text.split(separator: ",") {
            let pair = part.split(separator: "=").map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2, let operation = Operation(rawValue: pair[0]), let weight = Int(pair[1]), weight >= 0 else {
                throw BenchError("'\(part)' is not name=weight with a name among \(Operation.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            weights.append((operation, weight))
        }
        let total = weights.reduce(0) { $0 + $1.1 }
        guard total > 0 else { throw BenchError("the mix has no weight") }
        self.weights = weights
        self.total = total
    }

    /// The operation for a uniformly drawn number in `0..<total`.
    public func operation(for draw: Int) -> Operation {
        var remaining = draw % total
        for (operation, weight) in weights {
            if remaining < weight { return operation }
            remaining -= weight
        }
        return weights[weights.count - 1].0
    }

    public var range: Int { total }
    public var description: String { weights.map { "\($0.0.rawValue)=\($0.1)" }.joined(separator: ",") }
}

/// A benchmark that cannot run as asked.
public struct BenchError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// A small, fast, seedable generator (SplitMix64) so that runs can be repeated.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
