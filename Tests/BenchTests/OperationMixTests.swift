import Bench
import Testing

struct OperationMixTests {
    @Test func drawsFollowTheWeights() throws {
        let mix = try OperationMix("get=3,set=1")
        var counts: [OperationMix.Operation: Int] = [:]
        for draw in 0..<400 { counts[mix.operation(for: draw), default: 0] += 1 }
        #expect(counts[.get] == 300 && counts[.set] == 100)
        #expect(mix.description == "get=3,set=1")
    }

    @Test func rejectsBadMixes() {
        #expect(throws: BenchError.self) { try OperationMix("fly=1") }
        #expect(throws: BenchError.self) { try OperationMix("get=0") }
        #expect(throws: BenchError.self) { try OperationMix("get") }
    }

    @Test func seededGeneratorRepeats() {
        var a = SplitMix64(seed: 42), b = SplitMix64(seed: 42)
        #expect((0..<10).map { _ in a.next() } == (0..<10).map { _ in b.next() })
    }
}
