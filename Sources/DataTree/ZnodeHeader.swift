import ZooKeeperProtocol

/// Everything about a znode but its name, data and place in the tree, as the compact store
/// keeps it: between the name and the data in the znode's payload
/// (`nameLength, name, header, data`), as variable-length integers.
///
/// Most stat fields of most znodes are zero or equal to a neighbour (mzxid and pzxid are
/// often czxid, mtime often ctime, the versions and the owner often 0), so those fields are
/// stored as zig-zag varints of their difference from that neighbour, and only when it is
/// not zero, as a flag byte says. A typical header takes about 12 bytes where the fields
/// themselves take 80. Differences wrap, so any value round-trips.
///
/// Layout: flags, dataLength + 1 (0 for null data), czxid, ctime, aclReference, then for
/// each flag set, in order: mzxid − czxid, pzxid − czxid, mtime − ctime, version, cversion,
/// aversion, ephemeralOwner, childCount.
struct ZnodeHeader: Equatable {
    var stat: StatPersisted
    var aclReference: Int64
    var childCount: Int
    /// −1 for null data.
    var dataLength: Int

    /// The most bytes an encoded header can take.
    static let maximumSize = 1 + 12 * 10

    /// Calls `body` with each optional field, in flag-bit order, as the value to store.
    @inline(__always) private func forEachOptionalField(_ body: (Int64) -> Void) {
        body(stat.mzxid &- stat.czxid)
        body(stat.pzxid &- stat.czxid)
        body(stat.mtime &- stat.ctime)
        body(Int64(stat.version))
        body(Int64(stat.cversion))
        body(Int64(stat.aversion))
        body(stat.ephemeralOwner)
        body(Int64(childCount))
    }

    /// The number of bytes ``encode(into:)`` writes.
    var encodedSize: Int {
        var size = 1 + Self.varintSize(UInt64(dataLength + 1)) + Self.zigZagSize(stat.czxid) + Self.zigZagSize(stat.ctime)
            + Self.zigZagSize(aclReference)
        forEachOptionalField { value in if value != 0 { size += Self.zigZagSize(value) } }
        return size
    }

    /// The payload size for a name of `nameLength` bytes: name length, name, header and data.
    func payloadSize(nameLength: Int) -> Int {
        Self.varintSize(UInt64(nameLength)) + nameLength + encodedSize + max(0, dataLength)
    }

    /// Writes the header at `pointer`; returns the bytes written.
    func encode(into pointer: UnsafeMutableRawPointer) -> Int {
        let flagsAt = pointer.assumingMemoryBound(to: UInt8.self)
        var p = flagsAt + 1
        Self.put(UInt64(dataLength + 1), &p)
        Self.put(zigZag: stat.czxid, &p)
        Self.put(zigZag: stat.ctime, &p)
        Self.put(zigZag: aclReference, &p)
        var flags: UInt8 = 0
        var bit: UInt8 = 1
        forEachOptionalField { value in
            if value != 0 {
                flags |= bit
                Self.put(zigZag: value, &p)
            }
            bit &<<= 1
        }
        flagsAt.pointee = flags
        return UnsafeMutableRawPointer(p) - pointer
    }

    /// Reads a header written by ``encode(into:)``; also returns its length.
    static func decode(_ pointer: UnsafeRawPointer) -> (header: ZnodeHeader, length: Int) {
        var p = pointer.assumingMemoryBound(to: UInt8.self)
        let flags = p.pointee
        p += 1
        let dataLength = Int(truncatingIfNeeded: take(&p)) - 1
        var stat = StatPersisted()
        stat.czxid = takeZigZag(&p)
        stat.ctime = takeZigZag(&p)
        let aclReference = takeZigZag(&p)
        @inline(__always) func optional(_ bit: UInt8) -> Int64 { flags & (1 << bit) == 0 ? 0 : takeZigZag(&p) }
        stat.mzxid = stat.czxid &+ optional(0)
        stat.pzxid = stat.czxid &+ optional(1)
        stat.mtime = stat.ctime &+ optional(2)
        stat.version = Int32(truncatingIfNeeded: optional(3))
        stat.cversion = Int32(truncatingIfNeeded: optional(4))
        stat.aversion = Int32(truncatingIfNeeded: optional(5))
        stat.ephemeralOwner = optional(6)
        let childCount = Int(truncatingIfNeeded: optional(7))
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
