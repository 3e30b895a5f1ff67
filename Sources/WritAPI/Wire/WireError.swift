/// Why a body is not the wire type it should be: a stable code, where in the body (a path such as
/// `$.grant.authorization_details[0]`), and a sentence saying what is wrong. Equality compares the code.
public struct WireError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A stable, machine-readable code.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        /// The code's text.
        public let rawValue: String
        init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// The bytes are not strict JSON (duplicate members, nesting too deep, trailing content, …).
        public static let notJSON = Code("wire_not_json")
        /// A value has the wrong JSON type: a string where a number belongs, say.
        public static let wrongType = Code("wire_wrong_type")
        /// A required member is absent.
        public static let missingMember = Code("wire_missing_member")
        /// A request body holds a member its type does not have; a typo is refused rather than ignored.
        public static let unknownMember = Code("wire_unknown_member")
        /// A value has the right type but is not allowed: an unknown enumeration value, a malformed number.
        public static let invalidValue = Code("wire_invalid_value")

        /// Every code.
        public static let all: [Code] = [.notJSON, .wrongType, .missingMember, .unknownMember, .invalidValue]
    }

    /// The code.
    public let code: Code
    /// Where in the body: `$` is the body itself.
    public let path: String
    /// What is wrong, naming the member.
    public let message: String
    /// Where the error was made.
    public let file: String
    /// The line where the error was made.
    public let line: UInt

    init(_ code: Code, at path: String, _ message: String, file: String, line: UInt) {
        self.code = code
        self.path = path
        self.message = message
        self.file = file
        self.line = line
    }

    public var description: String { "\(code.rawValue): \(message)" }
    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }

    /// The body is not strict JSON.
    public static func notJSON(_ reason: String, file: String = #fileID, line: UInt = #line) -> WireError {
        WireError(.notJSON, at: "$", "the body is not strict JSON: \(reason)", file: file, line: line)
    }

    /// A value at `path` is not of the `expected` JSON type.
    public static func wrongType(
        at path: String,
        expected: String,
        file: String = #fileID,
        line: UInt = #line
    ) -> WireError {
        WireError(.wrongType, at: path, "\(path) must be \(expected)", file: file, line: line)
    }

    /// A required member is absent.
    public static func missingMember(at path: String, file: String = #fileID, line: UInt = #line) -> WireError {
        WireError(.missingMember, at: path, "\(path) is required", file: file, line: line)
    }

    /// A request body holds a member its type does not know.
    public static func unknownMember(at path: String, file: String = #fileID, line: UInt = #line) -> WireError {
        WireError(.unknownMember, at: path, "unknown member \(path)", file: file, line: line)
    }

    /// A value at `path` is not allowed; `reason` says what is.
    public static func invalidValue(
        at path: String,
        _ reason: String,
        file: String = #fileID,
        line: UInt = #line
    ) -> WireError {
        WireError(.invalidValue, at: path, "\(path) \(reason)", file: file, line: line)
    }
}
