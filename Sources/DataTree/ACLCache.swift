import ZooKeeperProtocol

/// Interns ACL lists so each distinct list is stored once and znodes refer to it by number,
/// as ZooKeeper's `ReferenceCountedACLCache` does (the numbers appear in snapshots).
public struct ACLCache: Sendable {
    /// The reference ZooKeeper reserves for `world:anyone` with every permission.
    public static let openUnsafeReference: Int64 = -1

    private(set) public var listsByReference: [Int64: [ACL]] = [:]
    private var referencesByList: [[ACL]: Int64] = [:]
    private var useCounts: [Int64: Int] = [:]
    private var nextReference: Int64 = 0
    /// While positive, lists whose last use goes stay cached (a fuzzy snapshot is reading them).
    private var holds = 0

    public init() {}

    /// Returns the reference for `acl`, adding one use.
    public mutating func reference(for acl: [ACL]) -> Int64 {
        if let existing = referencesByList[acl] {
            useCounts[existing, default: 0] += 1
            return existing
        }
        nextReference += 1
        let reference = nextReference
        listsByReference[reference] = acl
        referencesByList[acl] = reference
        useCounts[reference] = 1
        return reference
    }

    /// The ACL list for `reference`; unknown references read as open.
    public func acl(for reference: Int64) -> [ACL] {
        if reference == Self.openUnsafeReference { return ACL.openUnsafe }
        return listsByReference[reference] ?? ACL.openUnsafe
    }

    /// Drops one use of `reference`, forgetting the list when none remain.
    public mutating func release(_ reference: Int64) {
        guard let count = useCounts[reference] else { return }
        if count <= 1 {
            useCounts[reference] = 0
            if holds == 0 { forget(reference) }
        } else {
            useCounts[reference] = count - 1
        }
    }

    private mutating func forget(_ reference: Int64) {
        useCounts[reference] = nil
        if let list = listsByReference.removeValue(forKey: reference) { referencesByList[list] = nil }
    }

    /// Keeps every list cached until ``endHold()``, so a snapshot written over time finds
    /// every reference its znodes held.
    public mutating func beginHold() { holds += 1 }

    /// Ends a hold, forgetting lists no znode uses any more.
    public mutating func endHold() {
        holds = max(0, holds - 1)
        if holds == 0 {
            for (reference, count) in useCounts where count == 0 { forget(reference) }
        }
    }

    /// Adds a list under a known reference, as read from a snapshot.
    public mutating func insert(_ acl: [ACL], reference: Int64) {
        listsByReference[reference] = acl
        if referencesByList[acl] == nil { referencesByList[acl] = reference }
        useCounts[reference, default: 0] += 0
        nextReference = max(nextReference, reference)
    }

    /// Counts `count` more uses of a known reference (znodes read from a snapshot).
    public mutating func addUses(_ reference: Int64, _ count: Int) {
        if useCounts[reference] != nil { useCounts[reference, default: 0] += count }
    }

    /// Forgets lists no znode uses (after loading a snapshot).
    public mutating func purgeUnused() {
        for (reference, count) in useCounts where count == 0 { forget(reference) }
    }

    /// The number of distinct lists held.
    public var count: Int { listsByReference.count }
}
