/// Compares two byte strings in time that depends only on their lengths, not on where they differ.
///
/// Every comparison of a secret or a value derived from one (thumbprints, hashes, operator tokens) goes
/// through this one helper.
public func constantTimeEquals<A: Collection, B: Collection>(_ lhs: A, _ rhs: B) -> Bool
where A.Element == UInt8, B.Element == UInt8 {
    guard lhs.count == rhs.count else { return false }
    var difference: UInt8 = 0
    for (left, right) in zip(lhs, rhs) { difference |= left ^ right }
    return difference == 0
}

/// Compares two strings' UTF-8 bytes in constant time.
public func constantTimeEquals(_ lhs: String, _ rhs: String) -> Bool {
    constantTimeEquals(lhs.utf8, rhs.utf8)
}
