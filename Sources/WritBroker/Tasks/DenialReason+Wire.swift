public import WritAPI
public import WritPolicy

extension DenialReason {
    /// A reason as the API sends it.
    public var wire: DenialReasonBody {
        DenialReasonBody(
            code: code.rawValue,
            message: message,
            rules: rules,
            entry: entry.map { Int64($0) },
            action: action
        )
    }
}
