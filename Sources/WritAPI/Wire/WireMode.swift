/// Who reads a body, which decides how members a type does not know are treated.
public enum WireMode: Sendable, Hashable {
    /// The broker reading a request: every member must be one the type has, so a misspelt member is refused
    /// by name instead of silently ignored.
    case request
    /// A client reading a response: members it does not know are ignored, so a newer broker may add some;
    /// required members must still be there.
    case response
}
