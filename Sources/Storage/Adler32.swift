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

    /// Adds the bytes of a contiguous buffer (the fast path).
    ///
    /// Eight bytes at a time: `b` gains `8a` plus the bytes weighted 8 down to 1, which is
    /// what eight single steps add, without each step waiting on the one before.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress else { return }
        var offset = 0
        let count = bytes.count
        while offset < count {
            let end = min(offset + Self.blockSize, count)
            var a = self.a
            var b = self.b
            while offset + 8 <= end {
                let x0 = UInt32(base.load(fromByteOffset: offset, as: UInt8.self))
                let x1 = UInt32(base.load(fromByteOffset: offset + 1, as: UInt8.self))
                let x2 = UInt32(base.load(fromByteOffset: offset + 2, as: UInt8.self))
                let x3 = UInt32(base.load(fromByteOffset: offset + 3, as: UInt8.self))
                let x4 = UInt32(base.load(fromByteOffset: offset + 4, as: UInt8.self))
                let x5 = UInt32(base.load(fromByteOffset: offset + 5, as: UInt8.self))
                let x6 = UInt32(base.load(fromByteOffset: offset + 6, as: UInt8.self))
                let x7 = UInt32(base.load(fromByteOffset: offset + 7, as: UInt8.self))
                b &+= 8 &* a &+ 8 &* x0 &+ 7 &* x1 &+ 6 &* x2 &+ 5 &* x3 &+ 4 &* x4 &+ 3 &* x5 &+ 2 &* x6 &+ x7
                a &+= x0 &+ x1 &+ x2 &+ x3 &+ x4 &+ x5 &+ x6 &+ x7
                offset += 8
            }
            while offset < end {
                a &+= UInt32(base.load(fromByteOffset: offset, as: UInt8.self))
                b &+= a
                offset += 1
            }
            self.a = a % Self.modulus
            self.b = b % Self.modulus
        }
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
