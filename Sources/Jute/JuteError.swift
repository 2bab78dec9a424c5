/// A failure to decode a Jute record from bytes that came from a peer or a file.
///
/// Decoding never traps: every malformed input becomes one of these cases, which the
/// caller turns into ZooKeeper's answer (usually closing the connection).
public enum JuteError: Error, Equatable, Sendable {
    /// The buffer ended before the record did.
    case truncated(needed: Int, available: Int)
    /// A length prefix was negative (other than -1 for null) or larger than the limit.
    case invalidLength(Int32)
    /// Bytes were left over after the record that should have filled the frame.
    case trailingBytes(Int)
    /// A field that may not be null (a znode path, an auth packet's credentials) was.
    case unexpectedNull
}
