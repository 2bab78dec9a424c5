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
            useCounts[reference] = nil
            if let list = listsByReference.removeValue(forKey: reference) { referencesByList[list] = nil }
        } else {
            useCounts[reference] = count - 1
        }
    }

    /// Adds a list under a known reference, as read from a snapshot.
    public mutating func insert(_ acl: [ACL], reference: Int64) {
        listsByReference[reference] = acl
        referencesByList[acl] = reference
        useCounts[reference, default: 0] += 0
        nextReference = max(nextReference, reference)
    }

    /// The number of distinct lists held.
    public var count: Int { listsByReference.count }
}
