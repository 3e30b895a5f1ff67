/// Whether two strings have the same UTF-8 bytes.
///
/// Authorization compares names and identifiers byte for byte, never with Swift's `==`, which treats
/// canonically equivalent spellings (NFC and NFD, the Kelvin sign and `K`) as equal: a resource server, a
/// policy and a standard JWT library must all agree on what a name is.
public func bytesEqual(_ lhs: String, _ rhs: String) -> Bool {
    guard lhs.utf8.count == rhs.utf8.count else { return false }
    // Native strings hold their UTF-8 contiguously: compare it in place rather than index by index.
    if let equal = lhs.utf8.withContiguousStorageIfAvailable({ left in
        rhs.utf8.withContiguousStorageIfAvailable { right in left.elementsEqual(right) }
    }), let equal {
        return equal
    }
    return lhs.utf8.elementsEqual(rhs.utf8)
}

/// Whether two substrings have the same UTF-8 bytes.
@inlinable
public func bytesEqual(_ lhs: Substring, _ rhs: Substring) -> Bool {
    lhs.utf8.elementsEqual(rhs.utf8)
}

/// Whether a list holds a string with exactly these UTF-8 bytes.
public func containsBytes(_ list: [String], _ value: String) -> Bool {
    for element in list where bytesEqual(element, value) { return true }
    return false
}

/// Identifiers as the token profile reads them: segments separated by `/`, and a trailing `/*` meaning
/// everything strictly below the prefix. All checks work on UTF-8 bytes.
public enum IdentifierSyntax {
    /// The prefix of a `prefix/*` identifier (without the `/*`), or nil for a plain identifier.
    public static func wildcardPrefix(_ identifier: String) -> Substring? {
        let bytes = identifier.utf8
        guard bytes.count > 2, bytes.suffix(2).elementsEqual("/*".utf8) else { return nil }
        return Substring(bytes.dropLast(2))
    }

    /// Whether an identifier is made of plain segments: none empty, `.` or `..`, and no `*`.
    public static func hasPlainSegments(_ identifier: Substring) -> Bool {
        // One pass over the bytes, tracking the current segment's length and whether it is all dots.
        var length = 0
        var dots = 0
        for byte in identifier.utf8 {
            switch byte {
            case UInt8(ascii: "/"):
                if length == 0 || (dots == length && length <= 2) { return false }
                length = 0
                dots = 0
            case UInt8(ascii: "*"):
                return false
            case UInt8(ascii: "."):
                length += 1
                dots += 1
            default:
                length += 1
            }
        }
        return !(length == 0 || (dots == length && length <= 2))
    }

    /// Whether a granted identifier covers a wanted one: the same bytes, or a `prefix/*` grant over a wanted
    /// identifier strictly below the prefix whose segments are all plain.
    public static func covers(_ granted: String, _ wanted: String) -> Bool {
        if let prefix = wildcardPrefix(granted) {
            let head = prefix.utf8
            let bytes = wanted.utf8
            guard bytes.count > head.count + 1, bytes.starts(with: head) else { return false }
            let rest = bytes.dropFirst(head.count)
            guard rest.first == UInt8(ascii: "/") else { return false }
            let below = Substring(rest.dropFirst())
            if let nested = wildcardPrefix(String(below)) { return hasPlainSegments(nested) }
            return hasPlainSegments(below)
        }
        return bytesEqual(granted, wanted)
    }
}
