import NIOCore

/// A record of zookeeper.jute: it reads itself from and writes itself to Jute bytes.
public protocol JuteRecord: Sendable {
    /// Decodes the record, throwing ``JuteError`` on malformed input.
    init(from reader: inout JuteReader) throws
    /// Encodes the record.
    func write(to writer: inout JuteWriter)
}

extension JuteRecord {
    /// Decodes a record that must fill `buffer` exactly.
    public init(decoding buffer: ByteBuffer) throws {
        var reader = JuteReader(buffer)
        self = try Self(from: &reader)
        try reader.expectEnd()
    }

    /// The record's Jute bytes.
    public func encoded() -> ByteBuffer {
        var writer = JuteWriter()
        write(to: &writer)
        return writer.buffer
    }
}
