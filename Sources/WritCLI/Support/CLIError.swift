/// An error a verb reports to the user, with what to do about it.
public struct CLIError: Error, CustomStringConvertible, Sendable {
    /// The message, which says what went wrong and what to do.
    public let description: String

    /// An error with a message.
    public init(_ description: String) { self.description = description }
}
