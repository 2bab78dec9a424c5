/// `java.util.Random`'s linear congruential generator, so that session passwords are the
/// ones Apache ZooKeeper derives from a session id (and survive a move between the two).
struct JavaRandom {
    private var seed: UInt64
    private static let multiplier: UInt64 = 0x5_DEEC_E66D
    private static let mask: UInt64 = (1 << 48) - 1

    init(seed: Int64) {
        self.seed = (UInt64(bitPattern: seed) ^ Self.multiplier) & Self.mask
    }

    private mutating func next(bits: Int) -> Int32 {
        seed = (seed &* Self.multiplier &+ 0xB) & Self.mask
        return Int32(truncatingIfNeeded: Int64(bitPattern: seed) >> (48 - bits))
    }

    /// `nextBytes`.
    mutating func nextBytes(count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var index = 0
        while index < count {
            var random = next(bits: 32)
            for _ in 0..<min(count - index, 4) {
                bytes[index] = UInt8(truncatingIfNeeded: random)
                random >>= 8
                index += 1
            }
        }
        return bytes
    }
}
