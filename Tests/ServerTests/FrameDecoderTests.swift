import NIOCore
import NIOEmbedded
import Server
import Testing

struct FrameDecoderTests {
    func channel(maximum: Int = 100) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(FrameDecoder(maximumLength: maximum)))
        return channel
    }

    @Test func splitsFramesAcrossReads() throws {
        let channel = try channel()
        var first = ByteBuffer(bytes: [0, 0, 0, 3, 1])
        try channel.writeInbound(first)
        #expect(try channel.readInbound(as: InboundFrame.self) == nil)
        first = ByteBuffer(bytes: [2, 3, 0, 0, 0, 1, 9])
        try channel.writeInbound(first)
        guard case .frame(let a)? = try channel.readInbound(as: InboundFrame.self),
              case .frame(let b)? = try channel.readInbound(as: InboundFrame.self) else {
            Issue.record("expected two frames"); return
        }
        #expect(Array(a.readableBytesView) == [1, 2, 3] && Array(b.readableBytesView) == [9])
    }

    @Test func fourLetterWordOnlyFirst() throws {
        let channel = try channel()
        try channel.writeInbound(ByteBuffer(string: "ruok"))
        guard case .fourLetterWord("ruok", nil)? = try channel.readInbound(as: InboundFrame.self) else {
            Issue.record("expected ruok"); return
        }
    }

    @Test func oversizedFrameIsAnError() throws {
        let channel = try channel(maximum: 100)
        #expect(throws: FrameLengthError.self) { try channel.writeInbound(ByteBuffer(bytes: [0, 0, 0, 101])) }
    }
}
