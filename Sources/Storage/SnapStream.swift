import DataTree
import Jute
import NIOCore
import ZooKeeperProtocol

/// The tree a leader streams to a learner after SNAP (`ZKDatabase.serializeSnapshot`,
/// `Learner.syncWithLeader`): a snapshot's sessions, ACL cache and znodes (root first as "",
/// ending with path "/"), then the string "BenWasHere". No file header, checksum or digest.
///
/// Both ends work on it piece by piece: the leader sends each chunk of znodes as soon as it
/// is encoded (``Encoder``) and the learner builds its tree from each piece as it arrives
/// (``Decoder``), so encoding, the transfer and decoding overlap instead of following each
/// other.
public enum SnapStream {
    public static let signature = "BenWasHere"

    /// The stream for `tree` as it stands, in one buffer.
    public static func encode(_ tree: DataTree) -> ByteBuffer {
        let encoder = Encoder(tree: tree)
        var stream = encoder.prefix()
        while !encoder.isFinished {
            var chunk = encoder.nextChunk(maximumNodes: 10_000)
            stream.writeBuffer(&chunk)
        }
        var end = encoder.end()
        stream.writeBuffer(&end)
        return stream
    }

    /// A stream encoded a few thousand znodes at a time, so that a leader keeps serving its
    /// clients and pinging its learners while a large tree is encoded, and sends each chunk as
    /// it is made. Like ZooKeeper's, the result is fuzzy when the tree changes meanwhile: the
    /// learner replays the transactions after ``zxid`` over it.
    ///
    /// The sessions and ACL cache go first, as they stand when the stream begins. A znode that
    /// refers to an ACL list made after that is one created or given a new ACL meanwhile: the
    /// first (with its subtree, all created later still) is left out and the second goes as
    /// `world:anyone`, and the replayed create or setACL puts each right.
    public final class Encoder {
        private let serializer: SnapshotSerializer

        /// Begins with the tree's sessions and ACL lists as they are now.
        public init(tree: DataTree) {
            serializer = SnapshotSerializer(tree: tree, forStream: true)
        }

        /// The zxid the stream starts from (what SNAP carries).
        public var zxid: Int64 { serializer.zxid }
        /// Znodes encoded so far.
        public var nodeCount: Int { serializer.nodeCount }
        /// Whether every znode has been encoded.
        public var isFinished: Bool { serializer.isFinished }

        /// The sessions and ACL cache, which open the stream.
        public func prefix() -> ByteBuffer { serializer.streamPrefix() }

        /// Up to `maximumNodes` more znodes; the last chunk ends with the "/" marker.
        public func nextChunk(maximumNodes: Int) -> ByteBuffer {
            serializer.nextChunk(maximumNodes: maximumNodes)
        }

        /// The signature that closes the stream. Ends the tree's ACL hold; call it (or
        /// ``abandon()``) once.
        public func end() -> ByteBuffer {
            serializer.releaseACLs()
            var writer = JuteWriter()
            writer.writeString(signature)
            return writer.buffer
        }

        /// Gives the stream up (its learner went away): ends the tree's ACL hold.
        public func abandon() { serializer.releaseACLs() }
    }

    /// Reads a whole stream into a tree at `zxid` (the SNAP packet's); throws on anything
    /// malformed, a missing signature included (ZooKeeper's learner drops the leader then).
    public static func decode(_ bytes: ByteBuffer, zxid: Int64) throws(SnapshotError) -> DataTree {
        var decoder = Decoder(zxid: zxid, expectedNodes: max(16, bytes.readableBytes / 160))
        var rest = bytes
        guard let tree = try decoder.read(&rest).tree else {
            throw SnapshotError(description: "the stream ends before its \(signature)")
        }
        return tree
    }

    /// Builds a learner's tree from the stream as its bytes arrive: each call reads every
    /// whole record the bytes hold (sessions, ACL lists, znodes, the signature) and leaves a
    /// record cut short for the next call, so a tree read in many pieces is read once.
    public struct Decoder {
        private enum Part { case sessionCount, sessions(left: Int32), aclCount, acls(left: Int32), znodes, signature, done }
        private var part = Part.sessionCount
        private let zxid: Int64
        private var sessions: [Int64: Int32] = [:]
        private var acls: [Int64: [ACL]] = [:]
        private var builder: DataTreeBuilder
        /// The longest path, data or ACL string accepted: a longer length is taken as a lie,
        /// rather than waited for.
        public static let maximumLength = 64 << 20

        /// What one ``read(_:)`` made of the bytes it was given.
        public struct Progress {
            /// How many of the bytes read belong to the snapshot's body (everything before the
            /// signature), which a learner writes as its snapshot file.
            public var bodyBytes: Int
            /// The tree, once the signature has been read.
            public var tree: DataTree?
        }

        /// A decoder for the stream after a SNAP at `zxid`; `expectedNodes` sizes the tree's
        /// storage up front (it grows beyond it).
        public init(zxid: Int64, expectedNodes: Int = 1 << 16) {
            self.zxid = zxid
            builder = DataTreeBuilder(expectedNodes: expectedNodes)
        }

        /// Whether the signature has been read (the stream is over).
        public var isFinished: Bool { if case .done = part { return true } else { return false } }

        /// Reads every whole record at the start of `buffer`, moving its reader index past
        /// them; whatever follows the signature (the next quorum packet) is left unread.
        public mutating func read(_ buffer: inout ByteBuffer) throws(SnapshotError) -> Progress {
            let start = buffer.readerIndex
            var reader = JuteReader(buffer, maximumLength: Self.maximumLength)
            buffer = ByteBuffer()
            defer { buffer = reader.buffer }
            do {
                parts: while true {
                    let mark = reader.buffer.readerIndex
                    do {
                        switch part {
                        case .sessionCount:
                            let count = try reader.readInt()
                            guard count >= 0 else { throw SnapshotError(description: "the stream claims \(count) sessions") }
                            part = .sessions(left: count)
                        case .sessions(let left):
                            guard left > 0 else { part = .aclCount; continue }
                            let id = try reader.readLong()
                            sessions[id] = try reader.readInt()
                            part = .sessions(left: left - 1)
                        case .aclCount:
                            let count = try reader.readInt()
                            guard count >= 0 else { throw SnapshotError(description: "the stream claims \(count) ACL lists") }
                            part = .acls(left: count)
                        case .acls(let left):
                            guard left > 0 else { part = .znodes; continue }
                            let reference = try reader.readLong()
                            acls[reference] = try Self.readACLs(&reader)
                            part = .acls(left: left - 1)
                        case .znodes:
                            do {
                                guard try SnapshotLoader.readZnodes(&reader, into: &builder, atEnd: false,
                                                                    fileSize: Self.maximumLength) else { break parts }
                            } catch let error as DataTreeError {
                                throw SnapshotError(description: "\(error)")
                            }
                            part = .signature
                        case .signature:
                            guard try reader.readString() == signature else {
                                throw SnapshotError(description: "the stream lacks \(signature)")
                            }
                            part = .done
                            let tree = try SnapshotLoader.finish(&builder, acls: acls, sessions: sessions, zxid: zxid)
                            return Progress(bodyBytes: mark - start, tree: tree)
                        case .done:
                            throw SnapshotError(description: "the stream was read to its end already")
                        }
                    } catch JuteError.truncated {
                        // The record is cut short: the rest comes with the next bytes.
                        reader.buffer.moveReaderIndex(to: mark)
                        break parts
                    }
                }
            } catch let error as SnapshotError {
                throw error
            } catch {
                throw SnapshotError(description: "the stream cannot be decoded: \(error)")
            }
            return Progress(bodyBytes: reader.buffer.readerIndex - start, tree: nil)
        }

        /// One ACL list, element by element: a count beyond the bytes that have arrived so far
        /// means "wait", where a vector read would call it malformed.
        private static func readACLs(_ reader: inout JuteReader) throws -> [ACL] {
            let count = try reader.readInt()
            guard count >= -1 else { throw SnapshotError(description: "an ACL list claims \(count) entries") }
            var list: [ACL] = []
            for _ in 0..<max(0, count) { list.append(try reader.read(ACL.self)) }
            return list
        }
    }
}
