/// A problem in a policy or policy-test file, with where it is and what was expected.
public struct PolicyDiagnostic: Error, Sendable, Hashable, CustomStringConvertible {
    /// Where.
    public let location: SourceLocation
    /// What is wrong and what is expected.
    public let message: String

    /// A diagnostic.
    public init(_ location: SourceLocation, _ message: String) {
        self.location = location
        self.message = message
    }

    public var description: String { "\(location): error: \(message)" }
}
