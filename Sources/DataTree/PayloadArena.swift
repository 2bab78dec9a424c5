/// Memory for znode payloads (header, name and data), without a per-allocation header.
///
/// Small payloads are carved from 1 MiB chunks in 8-byte granules and named by a 32-bit
/// handle (their offset in granules); freed slots are kept on a free list per size and
/// reused for payloads of that size. Payloads over ``smallLimit`` get their own allocation,
/// named by a handle with the high bit set. The caller says a slot's size when it frees it
/// (the store knows every payload's length), so nothing about a slot is stored in it.
///
/// A value type, so that the store's hot paths need no dynamic exclusivity checks; the
/// memory itself belongs to an ``Owner`` that frees it with the last copy. Copies share
/// that memory: only one of them may be used to change it.
struct PayloadArena {
    /// Frees the arena's memory when the arena goes.
    final class Owner {
        var chunks: [UnsafeMutableRawPointer] = []
        var large: [Int: UnsafeMutableRawPointer] = [:]
        deinit {
            for chunk in chunks { chunk.deallocate() }
            for pointer in large.values { pointer.deallocate() }
        }
    }

    static let granule = 8
    static let chunkShift = 20
    static let granulesPerChunkShift = chunkShift - 3
    /// The largest payload carved from chunks.
    static let smallLimit = 4096
    static let largeTag: UInt32 = 1 << 31
    /// Chunks that small handles can name (16 GiB); past them every payload is large.
    static let maximumChunks = 1 << (31 - granulesPerChunkShift)

    private var chunks: [UnsafeMutableRawPointer] = []
    /// Bytes used in the newest chunk.
    private var used = 1 << chunkShift
    /// Freed small slots by size in granules.
    private var freeSlots: [[UInt32]] = Array(repeating: [], count: smallLimit / granule + 1)
    private var large: [UnsafeMutableRawPointer?] = []
    private var freeLarge: [UInt32] = []
    private let owner = Owner()

    init() {}

    /// The slot size for a payload of `length` bytes.
    @inline(__always) static func slotSize(_ length: Int) -> Int { (length + granule - 1) & ~(granule - 1) }

    /// A slot of at least `length` bytes.
    mutating func allocate(_ length: Int) -> UInt32 {
        let size = Self.slotSize(max(1, length))
        let full = used + size > 1 << Self.chunkShift && chunks.count == Self.maximumChunks
        if size > Self.smallLimit || (full && freeSlots[size / Self.granule].isEmpty) {
            let pointer = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: Self.granule)
            let index = large.place(pointer, reusing: &freeLarge)
            owner.large[Int(index)] = pointer
            return Self.largeTag | index
        }
        let granules = size / Self.granule
        if let slot = freeSlots[granules].popLast() { return slot }
        if used + size > 1 << Self.chunkShift {
            let chunk = UnsafeMutableRawPointer.allocate(byteCount: 1 << Self.chunkShift, alignment: 4096)
            chunks.append(chunk)
            owner.chunks.append(chunk)
            used = 0
        }
        let handle = UInt32((chunks.count - 1) << Self.granulesPerChunkShift + used / Self.granule)
        used += size
        return handle
    }

    /// Returns a slot that held `length` bytes.
    mutating func release(_ handle: UInt32, length: Int) {
        if handle & Self.largeTag != 0 {
            let index = Int(handle & ~Self.largeTag)
            large[index]?.deallocate()
            large[index] = nil
            owner.large[index] = nil
            freeLarge.append(UInt32(index))
            return
        }
        freeSlots[Self.slotSize(max(1, length)) / Self.granule].append(handle)
    }

    /// Where a slot's bytes are; valid until the slot is released.
    @inline(__always) func pointer(_ handle: UInt32) -> UnsafeMutableRawPointer {
        if handle & Self.largeTag != 0 {
            return large[Int(handle & ~Self.largeTag)].unsafelyUnwrapped
        }
        let chunk = chunks[Int(handle >> UInt32(Self.granulesPerChunkShift))]
        return chunk + Int(handle & ((1 << UInt32(Self.granulesPerChunkShift)) - 1)) * Self.granule
    }
}

extension RangeReplaceableCollection where Self: MutableCollection, Index == Int {
    /// Puts `element` at a position taken from `free` if there is one, else at the end;
    /// returns the position.
    @inline(__always)
    mutating func place(_ element: Element, reusing free: inout [UInt32]) -> UInt32 {
        if let position = free.popLast() {
            self[Int(position)] = element
            return position
        }
        append(element)
        return UInt32(count - 1)
    }
}
