/// Which broker does the cluster's background work (task expiry, pruning, key retirement) where several
/// brokers share a database. Every such step checks what it changes inside its own write, so two brokers that
/// both believe they lead for a moment repeat work but never corrupt it: leadership saves work, it does not
/// guard correctness.
public protocol ClusterLeadership: Sendable {
    /// Whether this broker leads now.
    var isLeader: Bool { get }
    /// Runs until cancelled: takes leadership when no broker holds it, and gives it up when the connection
    /// that holds it is lost.
    func run() async
}
