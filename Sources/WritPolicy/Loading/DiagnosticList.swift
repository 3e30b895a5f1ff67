/// The problems found so far in one file. Readers record a problem and go on with the next independent part
/// (the next key, resource entry or rule), so one run reports every problem of a file. A part that depends on
/// one already refused is skipped rather than reported again, so one mistake gives one diagnostic.
struct DiagnosticList {
    private(set) var diagnostics: [PolicyDiagnostic] = []

    /// How many problems were recorded; compare before and after a part to learn whether it was clean.
    var count: Int { diagnostics.count }

    /// Records a problem.
    mutating func record(_ diagnostic: PolicyDiagnostic) { diagnostics.append(diagnostic) }

    /// Reads an optional member: nil when it is absent, or when it is refused (the problem is recorded).
    mutating func read<Value>(
        _ node: YAMLNode?,
        _ reader: (YAMLNode) throws(PolicyDiagnostic) -> Value
    ) -> Value? {
        guard let node else { return nil }
        do {
            return try reader(node)
        } catch {
            diagnostics.append(error)
            return nil
        }
    }

    /// Runs one independent check: its value, or nil with the problem recorded.
    mutating func check<Value>(_ body: () throws(PolicyDiagnostic) -> Value) -> Value? {
        do {
            return try body()
        } catch {
            diagnostics.append(error)
            return nil
        }
    }
}
