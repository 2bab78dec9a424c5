import CAviaryChecksums

/// Adler-32, the checksum ZooKeeper puts on every log record and snapshot.
public struct Adler32: Sendable {
    private var a: UInt32 = 1
    private var b: UInt32 = 0
    private static let modulus: UInt32 = 65521
    /// Bytes that can be summed before the 32-bit sums could overflow.
    private static let blockSize = 5552

    public init() {}

    /// Adds `bytes` to the checksum.
    public mutating func update<Bytes: Collection>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        var index = bytes.startIndex
        while index != bytes.endIndex {
            var count = 0
            while count < Self.blockSize && index != bytes.endIndex {
                a &+= UInt32(bytes[index])
                b &+= a
                index = bytes.index(after: index)
                count += 1
            }
            a %= Self.modulus
            b %= Self.modulus
        }
    }

    /// Adds the bytes of a contiguous buffer (the fast path: 32 bytes a step in vectors where
    /// the CPU has AVX2, see `CAviaryChecksums`).
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        let value = aviary_adler32(b << 16 | a, base, bytes.count)
        a = value & 0xFFFF
        b = value >> 16
    }

    /// The checksum so far, as ZooKeeper stores it (a long holding the 32-bit value).
    public var value: Int64 { Int64(b << 16 | a) }

    /// The checksum of `bytes`.
    public static func checksum(_ bytes: [UInt8]) -> Int64 {
        var adler = Adler32()
        bytes.withUnsafeBytes { adler.update($0) }
        return adler.value
    }
}
