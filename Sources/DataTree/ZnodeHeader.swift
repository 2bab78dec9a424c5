import ZooKeeperProtocol

/// Everything about a znode but its name, data and place in the tree, as the compact store
/// keeps it: between the name and the data in the znode's payload
/// (`nameLength, name, header, data`), as variable-length integers.
///
/// Most stat fields of most znodes are small or equal to a neighbour (mzxid and pzxid are
/// often czxid, mtime often ctime, the versions often 0), so each is stored as a zig-zag
/// varint of its difference from that neighbour: a typical header takes about 22 bytes
/// where the fields themselves take 80. Differences wrap, so any value round-trips.
///
/// Layout: dataLength + 1 (0 for null data), czxid, mzxid − czxid,
/// pzxid − czxid, ctime, mtime − ctime, version, cversion, aversion, ephemeralOwner,
/// aclReference, childCount.
struct ZnodeHeader: Equatable {
    var stat: StatPersisted
    var aclReference: Int64
    var childCount: Int
    /// −1 for null data.
    var dataLength: Int

    /// The most bytes an encoded header can take.
    static let maximumSize = 12 * 10

    /// The number of bytes ``encode(into:)`` writes.
    var encodedSize: Int {
        var size = Self.varintSize(UInt64(dataLength + 1))
        size += Self.zigZagSize(stat.czxid) + Self.zigZagSize(stat.mzxid &- stat.czxid) + Self.zigZagSize(stat.pzxid &- stat.czxid)
        size += Self.zigZagSize(stat.ctime) + Self.zigZagSize(stat.mtime &- stat.ctime)
        size += Self.zigZagSize(Int64(stat.version)) + Self.zigZagSize(Int64(stat.cversion)) + Self.zigZagSize(Int64(stat.aversion))
        size += Self.zigZagSize(stat.ephemeralOwner) + Self.zigZagSize(aclReference) + Self.varintSize(UInt64(childCount))
        return size
    }

    /// The payload size for a name of `nameLength` bytes: name length, name, header and data.
    func payloadSize(nameLength: Int) -> Int {
        Self.varintSize(UInt64(nameLength)) + nameLength + encodedSize + max(0, dataLength)
    }

    /// Writes the header at `pointer`; returns the bytes written.
    func encode(into pointer: UnsafeMutableRawPointer) -> Int {
        var p = pointer.assumingMemoryBound(to: UInt8.self)
        Self.put(UInt64(dataLength + 1), &p)
        Self.put(zigZag: stat.czxid, &p)
        Self.put(zigZag: stat.mzxid &- stat.czxid, &p)
        Self.put(zigZag: stat.pzxid &- stat.czxid, &p)
        Self.put(zigZag: stat.ctime, &p)
        Self.put(zigZag: stat.mtime &- stat.ctime, &p)
        Self.put(zigZag: Int64(stat.version), &p)
        Self.put(zigZag: Int64(stat.cversion), &p)
        Self.put(zigZag: Int64(stat.aversion), &p)
        Self.put(zigZag: stat.ephemeralOwner, &p)
        Self.put(zigZag: aclReference, &p)
        Self.put(UInt64(childCount), &p)
        return UnsafeMutableRawPointer(p) - pointer
    }

    /// Reads a header written by ``encode(into:)``; also returns its length.
    static func decode(_ pointer: UnsafeRawPointer) -> (header: ZnodeHeader, length: Int) {
        var p = pointer.assumingMemoryBound(to: UInt8.self)
        let dataLength = Int(truncatingIfNeeded: take(&p)) - 1
        var stat = StatPersisted()
        stat.czxid = takeZigZag(&p)
        stat.mzxid = stat.czxid &+ takeZigZag(&p)
        stat.pzxid = stat.czxid &+ takeZigZag(&p)
        stat.ctime = takeZigZag(&p)
        stat.mtime = stat.ctime &+ takeZigZag(&p)
        stat.version = Int32(truncatingIfNeeded: takeZigZag(&p))
        stat.cversion = Int32(truncatingIfNeeded: takeZigZag(&p))
        stat.aversion = Int32(truncatingIfNeeded: takeZigZag(&p))
        stat.ephemeralOwner = takeZigZag(&p)
        let aclReference = takeZigZag(&p)
        let childCount = Int(truncatingIfNeeded: take(&p))
        let header = ZnodeHeader(stat: stat, aclReference: aclReference, childCount: childCount, dataLength: dataLength)
        return (header, UnsafeRawPointer(p) - pointer)
    }

    // MARK: Varints

    @inline(__always) static func varintSize(_ value: UInt64) -> Int {
        (64 - (value | 1).leadingZeroBitCount + 6) / 7
    }

    @inline(__always) static func zigZagSize(_ value: Int64) -> Int {
        varintSize(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    @inline(__always) static func put(_ value: UInt64, _ p: inout UnsafeMutablePointer<UInt8>) {
        var v = value
        while v >= 0x80 {
            p.pointee = UInt8(truncatingIfNeeded: v) | 0x80
            p += 1
            v >>= 7
        }
        p.pointee = UInt8(v)
        p += 1
    }

    @inline(__always) static func put(zigZag value: Int64, _ p: inout UnsafeMutablePointer<UInt8>) {
        put(UInt64(bitPattern: (value << 1) ^ (value >> 63)), &p)
    }

    @inline(__always) static func take(_ p: inout UnsafePointer<UInt8>) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let byte = p.pointee
            p += 1
            result |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return result }
            shift += 7
        }
    }

    @inline(__always) static func takeZigZag(_ p: inout UnsafePointer<UInt8>) -> Int64 {
        let raw = take(&p)
        return Int64(bitPattern: raw >> 1) ^ -Int64(bitPattern: raw & 1)
    }
}
