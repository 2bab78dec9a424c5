import Foundation

/// The seeds a simulation test runs: `AVIARY_SIM_SEED=N` replays one, `AVIARY_SIM_SEEDS=N`
/// runs N (a longer run on demand), otherwise `defaultCount`.
enum SimulationSeeds {
    static func seeds(default defaultCount: UInt64) -> Range<UInt64> {
        let environment = ProcessInfo.processInfo.environment
        if let one = environment["AVIARY_SIM_SEED"].flatMap(UInt64.init) { return one..<(one + 1) }
        let count = environment["AVIARY_SIM_SEEDS"].flatMap(UInt64.init) ?? defaultCount
        return 0..<count
    }

    /// With `AVIARY_SIM_TRACE=1` (and one `AVIARY_SIM_SEED`), where a simulation prints what
    /// happens in it.
    static var tracer: ((String) -> Void)? {
        ProcessInfo.processInfo.environment["AVIARY_SIM_TRACE"] == nil ? nil : { print($0) }
    }

    /// The command that replays `seed` of the test `name`.
    static func replay(_ name: String, _ seed: UInt64) -> String {
        "replay: AVIARY_SIM_SEED=\(seed) swift test --filter \(name)"
    }
}
