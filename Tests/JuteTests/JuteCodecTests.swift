import Jute
import NIOCore
import Testing

struct JuteCodecTests {
    @Test func primitivesAreBigEndian() {
        var writer = JuteWriter()
        writer.writeInt(0x0102_0304)
        writer.writeLong(-2)
        writer.writeBool(true)
        writer.writeString("hé")
        writer.writeString(nil)
        writer.writeBuffer([])
        #expect(Array(writer.buffer.readableBytesView) == [
            1, 2, 3, 4, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE, 1,
            0, 0, 0, 3, 0x68, 0xC3, 0xA9, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0,
        ])
    }

    @Test func readsWhatItWrites() throws {
        var writer = JuteWriter()
        writer.writeInt(-7)
        writer.writeLong(Int64.min)
        writer.writeString("path")
        writer.writeBuffer(nil)
        writer.writeVector(["a", "b"]) { $0.writeString($1) }
        var reader = JuteReader(writer.buffer)
        #expect(try reader.readInt() == -7)
        #expect(try reader.readLong() == Int64.min)
        #expect(try reader.readString() == "path")
        #expect(try reader.readBuffer() == nil)
        #expect(try reader.readVector { try $0.readString() } == ["a", "b"])
        try reader.expectEnd()
    }

    @Test func truncationAndBadLengthsThrow() {
        var short = JuteReader(ByteBuffer(bytes: [0, 0, 1]))
        #expect(throws: JuteError.truncated(needed: 4, available: 3)) { try short.readInt() }
        var negative = JuteReader(ByteBuffer(bytes: [0xFF, 0xFF, 0xFF, 0xFE]))
        #expect(throws: JuteError.invalidLength(-2)) { try negative.readBuffer() }
        var tooLong = JuteReader(ByteBuffer(bytes: [0, 0, 0, 10, 1, 2]))
        #expect(throws: JuteError.truncated(needed: 10, available: 2)) { try tooLong.readString() }
        var badUTF8 = JuteReader(ByteBuffer(bytes: [0, 0, 0, 2, 0xC3, 0x28]))
        #expect((try? badUTF8.readString()) == "\u{FFFD}(", "decoded leniently, as Java does")
    }

    @Test func randomBytesNeverTrap() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let count = Int.random(in: 0..<64, using: &generator)
            let bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
            var reader = JuteReader(ByteBuffer(bytes: bytes), maximumLength: 1 << 20)
            _ = try? reader.readVector { try $0.readString() }
            _ = try? reader.readBuffer()
            _ = try? reader.readLong()
        }
    }
}
