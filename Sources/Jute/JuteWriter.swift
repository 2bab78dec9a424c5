import NIOCore

/// Writes Jute primitives (big-endian, length-prefixed) into a `ByteBuffer`.
public struct JuteWriter {
    /// The bytes written so far.
    public var buffer: ByteBuffer

    /// Creates a writer that appends to `buffer`.
    @inlinable
    public init(_ buffer: ByteBuffer = ByteBuffer()) {
        self.buffer = buffer
    }

    /// Writes a Jute `int`.
    @inlinable
    public mutating func writeInt(_ value: Int32) { buffer.writeInteger(value) }
    /// Writes a Jute `long`.
    @inlinable
    public mutating func writeLong(_ value: Int64) { buffer.writeInteger(value) }
    /// Writes a Jute `boolean`.
    @inlinable
    public mutating func writeBool(_ value: Bool) { buffer.writeInteger(UInt8(value ? 1 : 0)) }
    /// Writes a Jute `byte`.
    @inlinable
    public mutating func writeByte(_ value: UInt8) { buffer.writeInteger(value) }

    /// Writes a Jute `buffer`; `nil` is written as length -1.
    @inlinable
    public mutating func writeBuffer(_ bytes: [UInt8]?) {
        guard let bytes else { writeInt(-1); return }
        writeInt(Int32(truncatingIfNeeded: bytes.count))
        buffer.writeBytes(bytes)
    }

    /// Writes a Jute `ustring`; `nil` is written as length -1.
    @inlinable
    public mutating func writeString(_ string: String?) {
        guard let string else { writeInt(-1); return }
        let lengthIndex = buffer.writerIndex
        writeInt(0)
        let written = buffer.writeString(string)
        buffer.setInteger(Int32(truncatingIfNeeded: written), at: lengthIndex)
    }

    /// Writes a Jute `vector`; `nil` is written as count -1.
    @inlinable
    public mutating func writeVector<T>(_ elements: [T]?, _ element: (inout JuteWriter, T) -> Void) {
        guard let elements else { writeInt(-1); return }
        writeInt(Int32(truncatingIfNeeded: elements.count))
        for value in elements { element(&self, value) }
    }

    /// Writes a nested record.
    @inlinable
    public mutating func write<R: JuteRecord>(_ record: R) {
        record.write(to: &self)
    }
}
