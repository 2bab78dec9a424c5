import NIOCore
import ZooKeeperProtocol

/// What a client connection's bytes split into.
public enum InboundFrame: Sendable {
    /// A length-prefixed frame's payload.
    case frame(ByteBuffer)
    /// The connection opened with a four-letter word instead of a handshake; `stmk`
    /// carries the 8-byte trace mask that follows it.
    case fourLetterWord(String, argument: Int64?)
}

/// A frame longer than `jute.maxbuffer`, or with a negative length.
public struct FrameLengthError: Error, CustomStringConvertible {
    public var length: Int32
    public var maximum: Int
    public var description: String { "Len error \(length) (jute.maxbuffer is \(maximum))" }
}

/// Splits a client's bytes into frames (a 4-byte big-endian length, then the payload).
/// The first four bytes of a connection may instead spell a four-letter word.
public struct FrameDecoder: ByteToMessageDecoder {
    public typealias InboundOut = InboundFrame

    /// The words ZooKeeper recognises on a fresh connection (`FourLetterCommands`), and
    /// Aviary's own `peer`.
    public static let fourLetterWords: Set<String> = [
        "conf", "cons", "crst", "dirs", "dump", "envi", "gtmk", "ruok", "stmk", "srvr", "srst", "stat",
        "wchc", "wchp", "wchs", "mntr", "isro", "hash", "peer",
    ]

    let maximumLength: Int
    var isFirstFrame = true
    /// Set once a four-letter word was read: what follows it is ignored, as ZooKeeper reads
    /// only the word (and `stmk`'s mask) from such a connection.
    var sawFourLetterWord = false

    public init(maximumLength: Int) { self.maximumLength = maximumLength }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        if sawFourLetterWord {
            buffer.moveReaderIndex(to: buffer.writerIndex)
            return .needMoreData
        }
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: Int32.self) else { return .needMoreData }
        if isFirstFrame {
            isFirstFrame = false
            if let word = buffer.getString(at: buffer.readerIndex, length: 4), Self.fourLetterWords.contains(word) {
                var argument: Int64?
                if word == "stmk" {
                    guard let mask = buffer.getInteger(at: buffer.readerIndex + 4, as: Int64.self) else {
                        isFirstFrame = true
                        return .needMoreData
                    }
                    argument = mask
                    buffer.moveReaderIndex(forwardBy: 8)
                }
                buffer.moveReaderIndex(forwardBy: 4)
                sawFourLetterWord = true
                context.fireChannelRead(wrapInboundOut(.fourLetterWord(word, argument: argument)))
                return .continue
            }
        }
        if length < 0 || Int(length) > maximumLength { throw FrameLengthError(length: length, maximum: maximumLength) }
        guard buffer.readableBytes >= 4 + Int(length) else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: 4)
        guard let payload = buffer.readSlice(length: Int(length)) else { return .needMoreData }
        context.fireChannelRead(wrapInboundOut(.frame(payload)))
        return .continue
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        buffer.clear()
        return .needMoreData
    }
}
