import NIOCore

/// Reads Jute primitives (big-endian, length-prefixed) from a `ByteBuffer`.
///
/// Every read checks the bytes available and throws ``JuteError`` instead of trapping.
/// Lengths are also bounded by ``maximumLength`` so that a hostile length prefix
/// cannot make the reader allocate more than the frame holds.
public struct JuteReader {
    /// The bytes not yet read.
    public var buffer: ByteBuffer
    /// The largest length prefix accepted for a buffer, string or vector.
    public var maximumLength: Int

    /// Creates a reader over `buffer`.
    @inlinable
    public init(_ buffer: ByteBuffer, maximumLength: Int = Int(Int32.max)) {
        self.buffer = buffer
        self.maximumLength = maximumLength
    }

    /// The number of bytes left to read.
    public var remaining: Int { buffer.readableBytes }

    @inlinable @inline(__always)
    internal mutating func need(_ count: Int) throws {
        if buffer.readableBytes < count {
            throw JuteError.truncated(needed: count, available: buffer.readableBytes)
        }
    }

    /// Reads a Jute `int`.
    @inlinable
    public mutating func readInt() throws -> Int32 {
        try need(4)
        return buffer.readInteger(as: Int32.self) ?? 0
    }

    /// Reads a Jute `long`.
    @inlinable
    public mutating func readLong() throws -> Int64 {
        try need(8)
        return buffer.readInteger(as: Int64.self) ?? 0
    }

    /// Reads a Jute `boolean` (one byte, non-zero is true).
    @inlinable
    public mutating func readBool() throws -> Bool {
        try need(1)
        return (buffer.readInteger(as: UInt8.self) ?? 0) != 0
    }

    /// Reads a Jute `byte`.
    @inlinable
    public mutating func readByte() throws -> UInt8 {
        try need(1)
        return buffer.readInteger(as: UInt8.self) ?? 0
    }

    private mutating func readLength() throws -> Int? {
        let length = try readInt()
        if length == -1 { return nil }
        if length < 0 || Int(length) > maximumLength { throw JuteError.invalidLength(length) }
        try need(Int(length))
        return Int(length)
    }

    /// Reads a Jute `buffer`; `nil` when the length prefix is -1.
    public mutating func readBuffer() throws -> [UInt8]? {
        guard let length = try readLength() else { return nil }
        return buffer.readBytes(length: length) ?? []
    }

    /// Reads a Jute `ustring`; `nil` when the length prefix is -1.
    public mutating func readString() throws -> String? {
        guard let length = try readLength() else { return nil }
        // Invalid UTF-8 decodes with replacement characters, as Java's String does.
        return buffer.readString(length: length) ?? ""
    }

    /// Reads a `ustring` that ZooKeeper treats as never null (null reads as "").
    public mutating func readNonNullString() throws -> String {
        try readString() ?? ""
    }

    /// Reads a `ustring` that may not be null: a null one throws ``JuteError/unexpectedNull``
    /// (ZooKeeper fails such a request with a marshalling error).
    public mutating func readRequiredString() throws -> String {
        guard let string = try readString() else { throw JuteError.unexpectedNull }
        return string
    }

    /// Reads a Jute `vector`; `nil` when the count is -1.
    ///
    /// Any other negative count is an empty vector, as Java's `BinaryInputArchive` reads it.
    public mutating func readVector<T>(_ element: (inout JuteReader) throws -> T) throws -> [T]? {
        let count = try readInt()
        if count == -1 { return nil }
        if count < 0 { return [] }
        // Every element takes at least one byte, so a count beyond the bytes left is a lie.
        if Int(count) > buffer.readableBytes { throw JuteError.invalidLength(count) }
        var result: [T] = []
        result.reserveCapacity(Int(count))
        for _ in 0..<count { result.append(try element(&self)) }
        return result
    }

    /// Reads a nested record.
    public mutating func read<R: JuteRecord>(_ type: R.Type = R.self) throws -> R {
        try R(from: &self)
    }

    /// Throws unless every byte has been read.
    public func expectEnd() throws {
        if buffer.readableBytes != 0 { throw JuteError.trailingBytes(buffer.readableBytes) }
    }
}
