import DataTree
import Jute
import NIOCore
import ZooKeeperProtocol

/// The tree a leader streams to a learner after SNAP (`ZKDatabase.serializeSnapshot`,
/// `Learner.syncWithLeader`): a snapshot's sessions, ACL cache and znodes (root first as "",
/// ending with path "/"), then the string "BenWasHere". No file header, checksum or digest.
public enum SnapStream {
    public static let signature = "BenWasHere"

    /// The stream for `tree` as it stands.
    public static func encode(_ tree: DataTree) -> ByteBuffer {
        let encoder = Encoder(tree: tree)
        while !encoder.step(maximumNodes: 10_000) {}
        return encoder.finish()
    }

    /// A stream encoded a few thousand znodes at a time, so that a leader keeps serving its
    /// clients and pinging its learners while a large tree is encoded. Like ZooKeeper's, the
    /// result is fuzzy when the tree changes meanwhile: the learner replays the transactions
    /// after ``zxid`` over it.
    public final class Encoder {
        private let serializer: SnapshotSerializer
        private var nodes = ByteBuffer()

        /// Begins with the tree's sessions as they are now.
        public init(tree: DataTree) {
            serializer = SnapshotSerializer(tree: tree)
        }

        /// The zxid the stream starts from (what SNAP carries).
        public var zxid: Int64 { serializer.zxid }
        /// Znodes encoded so far.
        public var nodeCount: Int { serializer.nodeCount }

        /// Encodes up to `maximumNodes` more znodes; true once every znode is in.
        public func step(maximumNodes: Int) -> Bool {
            if !serializer.isFinished {
                var chunk = serializer.nextChunk(maximumNodes: maximumNodes)
                nodes.writeBuffer(&chunk)
            }
            return serializer.isFinished
        }

        /// The whole stream: sessions and ACL cache (every list a znode above refers to),
        /// the znodes, the signature. Call once, after ``step(maximumNodes:)`` returned true.
        public func finish() -> ByteBuffer {
            var stream = serializer.finish(includeHeader: false)
            stream.writeBuffer(&nodes)
            var writer = JuteWriter(stream)
            writer.writeString(signature)
            return writer.buffer
        }
    }

    /// Reads a whole stream into a tree at `zxid` (the SNAP packet's); throws on anything
    /// malformed, a missing signature included (ZooKeeper's learner drops the leader then).
    public static func decode(_ bytes: ByteBuffer, zxid: Int64) throws(SnapshotError) -> DataTree {
        var reader = JuteReader(bytes)
        do {
            let sessionCount = try reader.readInt()
            guard sessionCount >= 0, Int(sessionCount) * 12 <= reader.remaining else {
                throw SnapshotError(description: "the stream claims \(sessionCount) sessions")
            }
            var sessions: [Int64: Int32] = [:]
            for _ in 0..<sessionCount { sessions[try reader.readLong()] = try reader.readInt() }
            let aclCount = try reader.readInt()
            guard aclCount >= 0, Int(aclCount) * 12 <= reader.remaining else {
                throw SnapshotError(description: "the stream claims \(aclCount) ACL lists")
            }
            var acls: [Int64: [ACL]] = [:]
            for _ in 0..<aclCount { acls[try reader.readLong()] = try reader.readACLs() }
            var builder = DataTreeBuilder(expectedNodes: max(16, reader.remaining / 160))
            do {
                guard try SnapshotLoader.readZnodes(&reader, into: &builder, atEnd: true, fileSize: bytes.readableBytes) else {
                    throw SnapshotError(description: "the stream ends inside its znodes")
                }
            } catch let error as DataTreeError {
                throw SnapshotError(description: "\(error)")
            }
            guard try reader.readString() == signature else { throw SnapshotError(description: "the stream lacks \(signature)") }
            return try SnapshotLoader.finish(&builder, acls: acls, sessions: sessions, zxid: zxid)
        } catch let error as SnapshotError {
            throw error
        } catch {
            throw SnapshotError(description: "the stream cannot be decoded: \(error)")
        }
    }

    /// How many bytes the stream at the start of `buffer` takes, or nil when it has not all
    /// arrived (the stream has no length prefix: a reader must walk it).
    public static func length(of buffer: ByteBuffer) throws(SnapshotError) -> Int? {
        var scanner = Scanner()
        return try scanner.scan(buffer)
    }

    /// Walks a stream as its bytes arrive, resuming after the last whole part it saw, so that a
    /// tree read in many pieces is walked once, not once per piece.
    public struct Scanner: Sendable {
        private enum Part: Sendable { case sessions, acls, znodes, signature }
        private var part = Part.sessions
        /// Where the next part (or znode) starts, from the start of the stream.
        private var offset = 0

        public init() {}

        /// The stream's length once `buffer` (the stream from its first byte) holds all of it.
        public mutating func scan(_ buffer: ByteBuffer) throws(SnapshotError) -> Int? {
            var reader = JuteReader(buffer.getSlice(at: buffer.readerIndex + offset, length: buffer.readableBytes - offset) ?? ByteBuffer())
            func consumed() -> Int { buffer.readableBytes - offset - reader.remaining }
            do {
                while true {
                    switch part {
                    case .sessions:
                        let sessions = try reader.readInt()
                        guard sessions >= 0 else { throw SnapshotError(description: "the stream claims \(sessions) sessions") }
                        try skip(Int(sessions) * 12, &reader)
                        offset += consumed(); reader = rest(of: buffer)
                        part = .acls
                    case .acls:
                        let lists = try reader.readInt()
                        guard lists >= 0 else { throw SnapshotError(description: "the stream claims \(lists) ACL lists") }
                        for _ in 0..<lists {
                            _ = try reader.readLong()
                            // Element by element: a count above the bytes that have arrived so
                            // far means "wait", not "malformed".
                            let count = try reader.readInt()
                            guard count >= -1 else { throw SnapshotError(description: "an ACL list claims \(count) entries") }
                            for _ in 0..<max(0, count) {
                                _ = try reader.readInt()
                                _ = try reader.readString()
                                _ = try reader.readString()
                            }
                        }
                        offset += consumed(); reader = rest(of: buffer)
                        part = .znodes
                    case .znodes:
                        let path = try reader.readString()
                        if path != "/" {
                            _ = try reader.readBuffer()
                            try skip(8 + 8 * 4 + 4 * 3 + 8 + 8, &reader)
                        }
                        offset += consumed(); reader = rest(of: buffer)
                        if path == "/" { part = .signature }
                    case .signature:
                        guard try reader.readString() == signature else { throw SnapshotError(description: "the stream lacks \(signature)") }
                        return offset + consumed()
                    }
                }
            } catch let error as SnapshotError {
                throw error
            } catch JuteError.truncated {
                return nil
            } catch {
                throw SnapshotError(description: "the stream cannot be read: \(error)")
            }
        }

        private func rest(of buffer: ByteBuffer) -> JuteReader {
            JuteReader(buffer.getSlice(at: buffer.readerIndex + offset, length: buffer.readableBytes - offset) ?? ByteBuffer())
        }
    }

    private static func skip(_ count: Int, _ reader: inout JuteReader) throws {
        guard reader.remaining >= count else { throw JuteError.truncated(needed: count, available: reader.remaining) }
        reader.buffer.moveReaderIndex(forwardBy: count)
    }
}
