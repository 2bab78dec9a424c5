import CAviaryPrefetch
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The znodes of a tree, packed: a fixed 24-byte record per znode for its place in the tree,
/// one payload per znode in a ``PayloadArena`` (name, ``ZnodeHeader``, data), and an
/// open-addressing index from path hashes to records.
///
/// A znode costs its record, its payload rounded up to 8 bytes, and 10 to 20 bytes of index:
/// for a znode of 100 bytes, some 150 bytes in all, where a dictionary of objects took 400.
///
/// Record numbers are reused once a znode is deleted; a number is only meaningful until the
/// next change to the store. Children of a znode form a doubly linked list through their
/// records, newest first. A value type so that its hot paths need no dynamic exclusivity
/// checks; its payload memory is shared by copies (see ``PayloadArena``), so only one copy
/// may be changed. Not thread-safe.
struct ZnodeStore {
    struct Record {
        /// The hash of the znode's full path.
        var hash: UInt32
        var parent: UInt32
        var firstChild: UInt32
        var nextSibling: UInt32
        var previousSibling: UInt32
        var payload: UInt32
    }

    /// No record.
    static let none = UInt32.max

    private var records = ContiguousArray<Record>()
    private var freeRecords: [UInt32] = []
    private var arena = PayloadArena()
    /// Record numbers by path hash, linear probing; ``none`` marks an empty slot.
    /// The path index: each slot holds a znode's path hash (high half) and record (low half),
    /// so that a probe compares hashes in the index itself and reads a record only when its
    /// hash matches (a record read is a cache miss, and inserting a path probes several slots).
    private var slots = ContiguousArray<UInt64>(repeating: ZnodeStore.emptySlot, count: 16)
    private static let emptySlot = UInt64.max
    @inline(__always) private static func slot(_ record: UInt32, hash: UInt32) -> UInt64 { UInt64(hash) << 32 | UInt64(record) }
    @inline(__always) private static func record(of slot: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: slot) }
    @inline(__always) private static func hash(of slot: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: slot >> 32) }
    /// The root's record, once there is one.
    private(set) var root = ZnodeStore.none
    /// Live znodes, the root included.
    private(set) var count = 0
    /// The lengths of every path, and of all data (ZooKeeper's `approximateDataSize`).
    private(set) var pathBytes = 0
    private(set) var dataBytes = 0

    init() {}

    /// Makes room for `expected` znodes without growing on the way.
    mutating func reserve(_ expected: Int) {
        records.reserveCapacity(expected)
        if expected > slots.count * 4 / 5 { rebuildIndex(capacity: expected * 5 / 4 + 16) }
    }

    // MARK: Paths

    /// Seeds path hashes afresh in each process, so that a client cannot choose paths that
    /// all land in one probe run (hashes are never stored outside memory).
    private static let seed = UInt64.random(in: .min ... .max)

    /// The hash of a full path.
    @inline(__always) static func hash(_ path: UnsafeRawBufferPointer) -> UInt32 {
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ seed ^ UInt64(path.count)
        var offset = 0
        guard let base = path.baseAddress else { return UInt32(truncatingIfNeeded: h) }
        while offset + 8 <= path.count {
            h = (h ^ base.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) &* 0xFF51_AFD7_ED55_8CCD
            h ^= h >> 32
            offset += 8
        }
        if offset < path.count {
            var tail: UInt64 = 0
            var shift: UInt64 = 0
            while offset < path.count {
                tail |= UInt64(base.load(fromByteOffset: offset, as: UInt8.self)) << shift
                shift += 8
                offset += 1
            }
            h = (h ^ tail) &* 0xFF51_AFD7_ED55_8CCD
        }
        h ^= h >> 33
        h &*= 0xC4CE_B9FE_1A85_EC53
        h ^= h >> 29
        return UInt32(truncatingIfNeeded: h)
    }

    /// The record of the znode at `path` ("/" for the root).
    func find(_ path: UnsafeRawBufferPointer) -> UInt32? {
        if path.count == 1 && path[0] == UInt8(ascii: "/") { return root == Self.none ? nil : root }
        return find(path, hash: Self.hash(path))
    }

    func find(_ path: UnsafeRawBufferPointer, hash: UInt32) -> UInt32? {
        let capacity = slots.count
        var position = home(hash, capacity)
        while true {
            let entry = slots[position]
            if entry == Self.emptySlot { return nil }
            if Self.hash(of: entry) == hash && matches(Self.record(of: entry), path) { return Self.record(of: entry) }
            position += 1
            if position == capacity { position = 0 }
        }
    }

    /// Starts bringing in the index slot where a path with `hash` would go (a cache miss in an
    /// index of a million paths), for a lookup or insert that comes a little later.
    func prefetchSlot(hash: UInt32) {
        slots.withUnsafeBufferPointer { slots in
            guard let base = slots.baseAddress else { return }
            aviary_prefetch_for_write(base + home(hash, slots.count))
        }
    }

    /// Whether `record` is the znode at `path`: compares names up the parent chain.
    private func matches(_ record: UInt32, _ path: UnsafeRawBufferPointer) -> Bool {
        guard let base = path.baseAddress else { return false }
        var end = path.count
        var current = record
        while current != root {
            let parent = records[Int(current)].parent
            if parent == Self.none { return false }
            let matched = withName(current) { name -> Int? in
                guard name.count < end, path[end - name.count - 1] == UInt8(ascii: "/") else { return nil }
                if let nameBase = name.baseAddress, memcmp(base + (end - name.count), nameBase, name.count) != 0 { return nil }
                return name.count
            }
            guard let length = matched else { return false }
            end -= length + 1
            current = parent
        }
        return end == 0
    }

    @inline(__always) private func home(_ hash: UInt32, _ capacity: Int) -> Int {
        Int((UInt64(hash) &* UInt64(capacity)) >> 32)
    }

    private mutating func indexInsert(_ record: UInt32, hash: UInt32) {
        if count + 1 > slots.count * 4 / 5 { rebuildIndex(capacity: slots.count * 2) }
        let capacity = slots.count
        var position = home(hash, capacity)
        while slots[position] != Self.emptySlot {
            position += 1
            if position == capacity { position = 0 }
        }
        slots[position] = Self.slot(record, hash: hash)
    }

    private mutating func indexRemove(_ record: UInt32) {
        let capacity = slots.count
        var hole = home(records[Int(record)].hash, capacity)
        while true {
            let entry = slots[hole]
            if entry == Self.emptySlot { return }
            if Self.record(of: entry) == record { break }
            hole += 1
            if hole == capacity { hole = 0 }
        }
        // Backward shift: move later entries of the run into the hole when their home allows.
        var next = hole + 1 == capacity ? 0 : hole + 1
        while slots[next] != Self.emptySlot {
            let entryHome = home(Self.hash(of: slots[next]), capacity)
            let fromHome = (next - entryHome + capacity) % capacity
            let fromHole = (next - hole + capacity) % capacity
            if fromHome >= fromHole {
                slots[hole] = slots[next]
                hole = next
            }
            next = next + 1 == capacity ? 0 : next + 1
        }
        slots[hole] = Self.emptySlot
    }

    private mutating func rebuildIndex(capacity: Int) {
        let old = slots
        slots = ContiguousArray(repeating: Self.emptySlot, count: max(16, capacity))
        let newCapacity = slots.count
        for entry in old where entry != Self.emptySlot {
            var position = home(Self.hash(of: entry), newCapacity)
            while slots[position] != Self.emptySlot {
                position += 1
                if position == newCapacity { position = 0 }
            }
            slots[position] = entry
        }
    }

    // MARK: Payloads

    /// The znode's name (empty for the root).
    func withName<R>(_ record: UInt32, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        var p = UnsafePointer<UInt8>(arena.pointer(records[Int(record)].payload).assumingMemoryBound(to: UInt8.self))
        let length = Int(truncatingIfNeeded: ZnodeHeader.take(&p))
        return body(UnsafeRawBufferPointer(start: p, count: length))
    }

    func name(_ record: UInt32) -> String {
        withName(record) { String(decoding: $0, as: UTF8.self) }
    }

    /// The payload's parts: its address, the name's length, the header, and the data's offset.
    private func layout(_ record: UInt32) -> (base: UnsafeMutableRawPointer, nameLength: Int, header: ZnodeHeader, dataOffset: Int) {
        let base = arena.pointer(records[Int(record)].payload)
        var p = UnsafePointer<UInt8>(base.assumingMemoryBound(to: UInt8.self))
        let nameLength = Int(truncatingIfNeeded: ZnodeHeader.take(&p))
        let headerOffset = UnsafeRawPointer(p) - UnsafeRawPointer(base) + nameLength
        let (header, headerLength) = ZnodeHeader.decode(UnsafeRawPointer(base) + headerOffset)
        return (base, nameLength, header, headerOffset + headerLength)
    }

    func header(_ record: UInt32) -> ZnodeHeader { layout(record).header }

    /// The znode's name and data in place (data nil for null data), valid until the store next
    /// changes. Without a closure, so that a caller holding the store in a class reads it
    /// in place instead of copying it.
    func bytes(_ record: UInt32) -> (name: UnsafeRawBufferPointer, data: UnsafeRawBufferPointer?) {
        let (name, _, data) = parts(record)
        return (name, data)
    }

    /// The znode's name, header and data in place (data nil for null data), from one reading
    /// of its payload; valid until the store next changes.
    func parts(_ record: UInt32) -> (name: UnsafeRawBufferPointer, header: ZnodeHeader, data: UnsafeRawBufferPointer?) {
        let parts = layout(record)
        var p = UnsafePointer<UInt8>(parts.base.assumingMemoryBound(to: UInt8.self))
        let length = Int(truncatingIfNeeded: ZnodeHeader.take(&p))
        let name = UnsafeRawBufferPointer(start: p, count: length)
        guard parts.header.dataLength >= 0 else { return (name, parts.header, nil) }
        return (name, parts.header, UnsafeRawBufferPointer(start: parts.base + parts.dataOffset, count: parts.header.dataLength))
    }

    /// The zxid that created the znode, read without decoding the rest of its header.
    func czxid(_ record: UInt32) -> Int64 {
        var p = UnsafePointer<UInt8>(arena.pointer(records[Int(record)].payload).assumingMemoryBound(to: UInt8.self))
        let nameLength = Int(truncatingIfNeeded: ZnodeHeader.take(&p))
        p += nameLength + 1  // the name, then the header's flag byte
        _ = ZnodeHeader.take(&p)  // data length
        return ZnodeHeader.takeZigZag(&p)
    }

    /// The znode's data (nil for null data).
    func withData<R>(_ record: UInt32, _ body: (UnsafeRawBufferPointer?) throws -> R) rethrows -> R {
        let parts = layout(record)
        if parts.header.dataLength < 0 { return try body(nil) }
        return try body(UnsafeRawBufferPointer(start: parts.base + parts.dataOffset, count: parts.header.dataLength))
    }

    private static func write(name: UnsafeRawBufferPointer, header: ZnodeHeader, data: UnsafeRawBufferPointer?,
                              to base: UnsafeMutableRawPointer) {
        var p = base.assumingMemoryBound(to: UInt8.self)
        ZnodeHeader.put(UInt64(name.count), &p)
        if name.count > 0, let source = name.baseAddress { UnsafeMutableRawPointer(p).copyMemory(from: source, byteCount: name.count) }
        let written = header.encode(into: UnsafeMutableRawPointer(p) + name.count)
        if let data, data.count > 0, let source = data.baseAddress {
            (UnsafeMutableRawPointer(p) + name.count + written).copyMemory(from: source, byteCount: data.count)
        }
    }

    /// Replaces the znode's header, and its data when `data` is given (`.some(nil)` for null).
    mutating func update(_ record: UInt32, header newHeader: ZnodeHeader, data: UnsafeRawBufferPointer?? = .none) {
        let old = layout(record)
        let oldSize = old.dataOffset + max(0, old.header.dataLength)
        var header = newHeader
        if let data { header.dataLength = data.map(\.count) ?? -1 } else { header.dataLength = old.header.dataLength }
        let nameLengthSize = ZnodeHeader.varintSize(UInt64(old.nameLength))
        let newSize = nameLengthSize + old.nameLength + header.encodedSize + max(0, header.dataLength)
        dataBytes += max(0, header.dataLength) - max(0, old.header.dataLength)
        if PayloadArena.slotSize(newSize) == PayloadArena.slotSize(oldSize) {
            // In place: move the data to where the new header ends, then write the header.
            let headerOffset = nameLengthSize + old.nameLength
            let newDataOffset = headerOffset + header.encodedSize
            switch data {
            case .some(let new?) where new.count > 0:
                if let source = new.baseAddress { (old.base + newDataOffset).copyMemory(from: source, byteCount: new.count) }
            case .some:
                break
            case .none where newDataOffset != old.dataOffset && old.header.dataLength > 0:
                memmove(old.base + newDataOffset, old.base + old.dataOffset, old.header.dataLength)
            case .none:
                break
            }
            _ = header.encode(into: old.base + headerOffset)
            return
        }
        let handle = arena.allocate(newSize)
        let base = arena.pointer(handle)
        let oldData = old.header.dataLength < 0 ? nil : UnsafeRawBufferPointer(start: old.base + old.dataOffset, count: old.header.dataLength)
        Self.write(name: UnsafeRawBufferPointer(start: old.base + nameLengthSize, count: old.nameLength),
                   header: header, data: data ?? oldData, to: base)
        arena.release(records[Int(record)].payload, length: oldSize)
        records[Int(record)].payload = handle
    }

    // MARK: Structure

    /// Adds the root (empty name, no parent).
    @discardableResult
    mutating func insertRoot(header: ZnodeHeader, data: UnsafeRawBufferPointer?) -> UInt32 {
        insert(path: UnsafeRawBufferPointer(start: nil, count: 0), hash: 0, parent: Self.none, header: header, data: data)
    }

    /// Adds a znode at `path` under `parent` (``none`` for the root, whose path is empty or
    /// "/"), first among its siblings. The caller has checked that the path is free and
    /// adjusts the parent's header.
    @discardableResult
    mutating func insert(path: UnsafeRawBufferPointer, hash: UInt32, parent: UInt32, header: ZnodeHeader,
                         data: UnsafeRawBufferPointer?) -> UInt32 {
        var header = header
        header.dataLength = data.map(\.count) ?? -1
        var nameStart = path.count
        while nameStart > 0 && path[nameStart - 1] != UInt8(ascii: "/") { nameStart -= 1 }
        let name = UnsafeRawBufferPointer(rebasing: path[nameStart...])
        let size = header.payloadSize(nameLength: name.count)
        let handle = arena.allocate(size)
        Self.write(name: name, header: header, data: data, to: arena.pointer(handle))
        let record = Record(hash: hash, parent: parent, firstChild: Self.none, nextSibling: Self.none,
                            previousSibling: Self.none, payload: handle)
        let index = records.place(record, reusing: &freeRecords)
        if parent == Self.none {
            root = index
        } else {
            link(index, under: parent)
            indexInsert(index, hash: hash)
        }
        count += 1
        pathBytes += parent == Self.none ? 1 : path.count
        dataBytes += max(0, header.dataLength)
        return index
    }

    private mutating func link(_ child: UInt32, under parent: UInt32) {
        let first = records[Int(parent)].firstChild
        records[Int(child)].nextSibling = first
        records[Int(child)].previousSibling = Self.none
        if first != Self.none { records[Int(first)].previousSibling = child }
        records[Int(parent)].firstChild = child
    }

    /// Removes a znode that has no children; the caller adjusts the parent's header.
    mutating func remove(_ record: UInt32, pathLength: Int) {
        let node = records[Int(record)]
        if node.previousSibling != Self.none {
            records[Int(node.previousSibling)].nextSibling = node.nextSibling
        } else if node.parent != Self.none {
            records[Int(node.parent)].firstChild = node.nextSibling
        }
        if node.nextSibling != Self.none { records[Int(node.nextSibling)].previousSibling = node.previousSibling }
        indexRemove(record)
        let parts = layout(record)
        dataBytes -= max(0, parts.header.dataLength)
        pathBytes -= pathLength
        arena.release(node.payload, length: parts.dataOffset + max(0, parts.header.dataLength))
        records[Int(record)] = Record(hash: 0, parent: Self.none, firstChild: Self.none, nextSibling: Self.none,
                                      previousSibling: Self.none, payload: 0)
        freeRecords.append(record)
        count -= 1
    }

    /// Calls `body` with each child's record, newest first.
    func forEachChild(_ record: UInt32, _ body: (UInt32) -> Void) {
        var child = records[Int(record)].firstChild
        while child != Self.none {
            body(child)
            child = records[Int(child)].nextSibling
        }
    }

    func parent(_ record: UInt32) -> UInt32 { records[Int(record)].parent }

    /// The full-path hash and the parent of `record`, or nil for a number no record has.
    func placement(_ record: UInt32) -> (hash: UInt32, parent: UInt32)? {
        guard Int(record) < records.count else { return nil }
        let entry = records[Int(record)]
        return (entry.hash, entry.parent)
    }
}

extension String {
    /// Calls `body` with the string's UTF-8 bytes, without copying a native string.
    @inline(__always)
    func withPathBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        if let result = try utf8.withContiguousStorageIfAvailable({ try body(UnsafeRawBufferPointer($0)) }) { return result }
        return try Array(utf8).withUnsafeBytes(body)
    }
}
