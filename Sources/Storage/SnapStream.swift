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
            // The whole node section at once: grown by doubling, 200 MB would be copied and
            // faulted in several times over.
            nodes.reserveCapacity((tree.nodeCount + 1) * serializer.averageNodeBytes * 11 / 10)
        }

        /// The zxid the stream starts from (what SNAP carries).
        public var zxid: Int64 { serializer.zxid }
        /// Znodes encoded so far.
        public var nodeCount: Int { serializer.nodeCount }

        /// Encodes up to `maximumNodes` more znodes; true once every znode is in.
        public func step(maximumNodes: Int) -> Bool {
            if !serializer.isFinished { serializer.appendChunk(maximumNodes: maximumNodes, to: &nodes) }
            return serializer.isFinished
        }

        /// The whole stream in its three parts, to be sent one after the other without
        /// copying the znodes again: sessions and ACL cache (every list a znode above refers
        /// to), the znodes, the signature. Call once, after ``step(maximumNodes:)`` returned
        /// true.
        public func finishInParts() -> [ByteBuffer] {
            var signatureWriter = JuteWriter()
            signatureWriter.writeString(signature)
            let parts = [serializer.finish(includeHeader: false), nodes, signatureWriter.buffer]
            nodes = ByteBuffer()
            return parts
        }

        /// The whole stream in one buffer (see ``finishInParts()``).
        public func finish() -> ByteBuffer {
            var stream = ByteBuffer()
            for var part in finishInParts() { stream.writeBuffer(&part) }
            return stream
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
                        // By offsets alone: lengths read in place, paths and data skipped, so
                        // that a million znodes cost no allocation.
                        guard try skipZnodes(buffer) else { return nil }
                        reader = rest(of: buffer)
                        part = .signature
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

        /// Moves ``offset`` past whole znodes; true once past the end marker (path "/").
        private mutating func skipZnodes(_ buffer: ByteBuffer) throws(SnapshotError) -> Bool {
            let base = buffer.readerIndex, available = buffer.readableBytes
            /// ACL reference and `StatPersisted`: 8 + 4 longs + 3 ints + 2 longs.
            let fixed = 8 + 8 * 4 + 4 * 3 + 8 + 8
            while true {
                guard offset + 4 <= available, let pathLength = buffer.getInteger(at: base + offset, as: Int32.self) else { return false }
                guard pathLength >= 0 else { throw SnapshotError(description: "a znode path claims \(pathLength) bytes") }
                let afterPath = offset + 4 + Int(pathLength)
                if pathLength == 1 {
                    guard afterPath <= available else { return false }
                    if buffer.getInteger(at: base + offset + 4, as: UInt8.self) == UInt8(ascii: "/") {
                        offset = afterPath
                        return true
                    }
                }
                guard afterPath + 4 <= available, let dataLength = buffer.getInteger(at: base + afterPath, as: Int32.self) else { return false }
                guard dataLength >= -1 else { throw SnapshotError(description: "a znode's data claims \(dataLength) bytes") }
                let end = afterPath + 4 + max(0, Int(dataLength)) + fixed
                guard end <= available else { return false }
                offset = end
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
