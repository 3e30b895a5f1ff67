/// Where a task is in its life: open, then exactly one of completed, aborted or expired, for good.
public enum TaskState: String, Sendable, Hashable, CaseIterable {
    /// Running: tokens may be issued for it.
    case open
    /// Its workload finished it.
    case completed
    /// Its workload or an operator stopped it, or an ancestor closed.
    case aborted
    /// Its deadline passed, or it missed its heartbeats.
    case expired

    /// Whether the task is closed and its tokens revoked.
    public var isClosed: Bool { self != .open }
}

/// The events that move a task, and the transitions they allow.
public enum TaskEvent: Sendable, Hashable {
    /// The owning workload says the work is done.
    case complete
    /// The owner or an operator stops the work.
    case abort
    /// The deadline passed or heartbeats stopped.
    case expire

    /// The state this event leads to from `state`, or nil when the task is already closed.
    public func next(from state: TaskState) -> TaskState? {
        guard state == .open else { return nil }
        switch self {
        case .complete: return .completed
        case .abort: return .aborted
        case .expire: return .expired
        }
    }
}
