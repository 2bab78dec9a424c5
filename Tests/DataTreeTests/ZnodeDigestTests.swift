import DataTree
import Testing
import ZooKeeperProtocol

struct ZnodeDigestTests {
    /// The CRC is zlib's (java.util.zip.CRC32's): values from Python's zlib,
    /// `zlib.crc32(b"/123456789" + data + bytes(60))` for a znode with all-zero stat.
    @Test func theCRCIsZlibs() {
        let path = Array("/123456789".utf8)
        let digest = path.withUnsafeBytes { ZnodeDigest.of(path: $0, data: nil, stat: StatPersisted()) }
        #expect(digest == 1_824_226_020)
        // Long data goes eight bytes a step: 1,000 bytes of 0, 1, ... 255, 0, ...
        let data = (0..<1000).map { UInt8($0 % 256) }
        let withData = path.withUnsafeBytes { p in data.withUnsafeBytes { ZnodeDigest.of(path: p, data: $0, stat: StatPersisted()) } }
        #expect(withData == ZnodeDigestTests.expectedWithData)
        // Short data is gathered with path and stat into one buffer first:
        // zlib.crc32(b"/123456789" + bytes(range(100)) + bytes(60)).
        let short = (0..<100).map { UInt8($0) }
        let withShort = path.withUnsafeBytes { p in short.withUnsafeBytes { ZnodeDigest.of(path: p, data: $0, stat: StatPersisted()) } }
        #expect(withShort == 2_074_586_131)
    }

    static let expectedWithData: Int64 = 2_968_350_645
}
