import CAviaryChecksums
import Testing

/// The vector paths (carry-less multiplication for CRC-32, AVX2 for Adler-32) against known
/// values and against the portable ones, over lengths and offsets that reach every branch:
/// under 64 bytes, whole 64-byte rounds, 16-byte steps, tails, runs longer than Adler's 5,552.
struct ChecksumTests {
    /// Bytes that are not a pattern a wrong fold could still get right: a linear congruential
    /// sequence.
    static let bytes: [UInt8] = {
        var state: UInt32 = 0x1234_5678
        return (0..<70_000).map { _ in
            state = state &* 1_664_525 &+ 1_013_904_223
            return UInt8(truncatingIfNeeded: state >> 24)
        }
    }()

    static let lengths = Array(0...300) + [511, 512, 513, 1023, 4096, 5551, 5552, 5553, 5584, 11_104, 11_200, 65_535, 69_000]

    @Test func crc32KnownValues() {
        let check = Array("123456789".utf8)
        #expect(check.withUnsafeBytes { aviary_crc32(0, $0.baseAddress, $0.count) } == 0xCBF4_3926)
        // zlib.crc32(bytes(range(256)) * 4) in Python.
        let ramp = (0..<1024).map { UInt8($0 % 256) }
        #expect(ramp.withUnsafeBytes { aviary_crc32(0, $0.baseAddress, $0.count) } == 0xB70B_4C26)
        #expect(ramp.withUnsafeBytes { aviary_crc32_portable(0, $0.baseAddress, $0.count) } == 0xB70B_4C26)
    }

    @Test func crc32FastMatchesPortable() {
        Self.bytes.withUnsafeBytes { all in
            for offset in [0, 1, 7, 13] {
                for length in Self.lengths {
                    let slice = UnsafeRawBufferPointer(rebasing: all[offset..<(offset + length)])
                    let fast = aviary_crc32(0x89AB_CDEF, slice.baseAddress, length)
                    let portable = aviary_crc32_portable(0x89AB_CDEF, slice.baseAddress, length)
                    #expect(fast == portable, "offset \(offset), length \(length)")
                }
            }
        }
    }

    @Test func crc32ContinuesAcrossCalls() {
        Self.bytes.withUnsafeBytes { all in
            let whole = aviary_crc32(0, all.baseAddress, 10_000)
            let first = aviary_crc32(0, all.baseAddress, 4_099)
            #expect(aviary_crc32(first, all.baseAddress! + 4_099, 10_000 - 4_099) == whole)
        }
    }

    @Test func adler32KnownValues() {
        let wikipedia = Array("Wikipedia".utf8)
        #expect(wikipedia.withUnsafeBytes { aviary_adler32(1, $0.baseAddress, $0.count) } == 0x11E6_0398)
        // zlib.adler32(bytes([255]) * 100000) in Python: the sums' largest bytes, past one run.
        let high = [UInt8](repeating: 255, count: 100_000)
        #expect(high.withUnsafeBytes { aviary_adler32(1, $0.baseAddress, $0.count) } == 0x149A_302C)
        #expect(high.withUnsafeBytes { aviary_adler32_portable(1, $0.baseAddress, $0.count) } == 0x149A_302C)
    }

    @Test func adler32FastMatchesPortable() {
        Self.bytes.withUnsafeBytes { all in
            for offset in [0, 1, 7, 13] {
                for length in Self.lengths {
                    let slice = UnsafeRawBufferPointer(rebasing: all[offset..<(offset + length)])
                    for start: UInt32 in [1, 0xFFF0_FFF0] {
                        let fast = aviary_adler32(start, slice.baseAddress, length)
                        let portable = aviary_adler32_portable(start, slice.baseAddress, length)
                        #expect(fast == portable, "offset \(offset), length \(length), start \(start)")
                    }
                }
            }
        }
    }
}
