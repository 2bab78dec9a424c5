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
        let serializer = SnapshotSerializer(tree: tree)
        var nodes = ByteBuffer()
        while !serializer.isFinished {
            var chunk = serializer.nextChunk(maximumNodes: 10_000)
            nodes.writeBuffer(&chunk)
        }
        var stream = serializer.finish(includeHeader: false)
        stream.writeBuffer(&nodes)
        var writer = JuteWriter(stream)
        writer.writeString(signature)
        return writer.buffer
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
            do {
                return try builder.finish(acls: acls, sessions: sessions, zxid: zxid)
            } catch {
                throw SnapshotError(description: "\(error)")
            }
        } catch let error as SnapshotError {
            throw error
        } catch {
            throw SnapshotError(description: "the stream cannot be decoded: \(error)")
        }
    }
}
