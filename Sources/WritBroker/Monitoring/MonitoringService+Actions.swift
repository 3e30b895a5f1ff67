public import Foundation
import Logging
import Synchronization
public import WritPolicy
public import WritToken
import WritVerifier

/// A workload in quarantine: the standing feed entry that holds it, and the alert that put it there.
public struct Quarantine: Sendable, Hashable {
    /// The workload.
    public var workload: String
    /// The feed entry (a workload revocation that stands until lifted).
    public var revocation: Revocation
    /// The alert that quarantined it, when it is still kept.
    public var alert: MonitoringAlert?
}

extension MonitoringService {
    /// Acts on rules that fired, one after another: the response, then the alert with its audit entry.
    func act(on firings: [MonitoringFiring]) async {
        for firing in firings {
            do {
                try await act(on: firing)
            } catch {
                retryLater(firing)
                context.logger.error(
                    "a monitoring rule fired but its response failed",
                    metadata: ["rule": "\(firing.rule.id)", "error": "\(error)"]
                )
            }
        }
    }

    private func act(on firing: MonitoringFiring) async throws(BrokerError) {
        let now = context.clock.now
        var alert = MonitoringAlert(
            id: 0,
            at: now,
            rule: firing.rule.id,
            kind: firing.rule.detection.kind,
            response: firing.rule.response,
            workload: firing.workload.description,
            task: firing.task,
            taskType: firing.taskType,
            window: firing.window,
            observed: firing.observed,
            threshold: firing.threshold,
            codes: firing.codes,
            baseline: firing.baseline,
            revocation: nil
        )
        let actor = Self.actor(firing.rule.id)
        alert.revocation = await respond(to: firing, by: actor, now: now)
        let event = AuditEvent(
            "monitor.alert",
            actor: actor,
            subject: firing.workload.description,
            detail: alert.auditDetail
        )
        let stored = try await context.store("record alert") { try await store.append(alert, audit: event) }
        context.metrics.alert(rule: stored.rule, response: stored.response.rawValue)
        // The admin event streams of this broker send it now, not at the next tick.
        feed.wake()
        context.logger.warning(
            "monitoring rule fired",
            metadata: [
                "rule": "\(stored.rule)", "response": "\(stored.response.rawValue)",
                "workload": "\(stored.workload)", "explanation": "\(stored.explanation)",
            ]
        )
    }

    /// A response that did not take ends the rule's quiet period for its task or workload, so the next crossing
    /// fires again rather than waiting out the window.
    func retryLater(_ firing: MonitoringFiring) {
        let subject = firing.task ?? firing.workload.description
        state.withLock { $0.evaluator.windows.forget(RefusalWindows.Key(rule: firing.rule.id, subject: subject)) }
    }

    /// What the rule's response does; the feed entry it made, nil when it made none (logged).
    private func respond(to firing: MonitoringFiring, by actor: String, now: Date) async -> UInt64? {
        switch firing.rule.response {
        case .alert: return nil
        case .revokeTask:
            guard let task = firing.task else { return nil }
            do {
                return try await revocations.revoke(.task(task), by: actor).revocations.first?.sequence
            } catch {
                // Closed meanwhile (nothing left to revoke) or failed: the alert still says what was seen.
                if error.code != .taskClosed, error.code != .notFound {
                    retryLater(firing)
                    context.logger.error(
                        "a monitoring rule's task revocation failed",
                        metadata: ["rule": "\(firing.rule.id)", "error": "\(error)"]
                    )
                }
            }
        case .quarantineWorkload:
            do {
                // When the view cannot tell (catching up), quarantining again is the safe side.
                if let standing = try? quarantineEntries(of: firing.workload, now: now).last {
                    return standing.sequence
                }
                return try await revocations.quarantine(firing.workload, by: actor).revocations.first?.sequence
            } catch {
                // The alert is kept whatever happens, and says the response did not take.
                retryLater(firing)
                context.logger.error(
                    "a monitoring rule's quarantine failed",
                    metadata: ["rule": "\(firing.rule.id)", "error": "\(error)"]
                )
            }
        }
        return nil
    }

    // MARK: - Operators

    /// The latest alerts, newest first.
    public func alerts(limit: Int, workload: String? = nil) async throws(BrokerError) -> [MonitoringAlert] {
        try await context.store("list alerts") { try await store.alerts(limit: limit, workload: workload) }
    }

    /// The highest number an alert was ever given, pruned or not.
    public func highestAlertNumber() async throws(BrokerError) -> Int64 {
        try await context.store("read the alert numbers") { try await store.highestAlertNumber() }
    }

    /// The alerts numbered after `id`, oldest first.
    public func alerts(after id: Int64, limit: Int) async throws(BrokerError) -> [MonitoringAlert] {
        try await context.store("list alerts") { try await store.alerts(after: id, limit: limit) }
    }

    /// The workloads in quarantine now, most recent first, each with its newest standing entry and the latest
    /// alert that made one of its standing entries (while the alert is kept among the workload's last 50).
    public func quarantines() async throws(BrokerError) -> [Quarantine] {
        var standing: [SPIFFEID: [Revocation]] = [:]
        for entry in try quarantineEntries(of: nil, now: context.clock.now) {
            if case .workload(let workload) = entry.subject { standing[workload, default: []].append(entry) }
        }
        var found: [Quarantine] = []
        for (workload, entries) in standing {
            guard let newest = entries.last else { continue }
            let sequences = Set(entries.map(\.sequence))
            let alerts = try await alerts(limit: 50, workload: workload.description)
            let alert = alerts.first { $0.revocation.map(sequences.contains) ?? false }
            found.append(Quarantine(workload: workload.description, revocation: newest, alert: alert))
        }
        return found.sorted { $0.revocation.sequence > $1.revocation.sequence }
    }

    /// Releases a quarantined workload: lifts every entry that quarantines it (an operator's own workload
    /// revocation stands; `writ revoke lift` lifts that). Its refusal counts start again.
    public func release(
        _ workload: SPIFFEID,
        reason: String,
        by actor: String
    ) async throws(BrokerError) -> [RevocationLift] {
        let entries = try quarantineEntries(of: workload, now: context.clock.now)
        guard !entries.isEmpty else { throw BrokerError(.notFound, "\(workload) is not in quarantine") }
        var lifts: [RevocationLift] = []
        for entry in entries { lifts.append(try await revocations.lift(entry.sequence, reason: reason, by: actor)) }
        let subject = workload.description
        state.withLock { state in state.evaluator.forget(subject: subject) }
        return lifts
    }

    /// The standing quarantine entries, oldest first, of one workload or of all: workload entries kept for the
    /// quarantine's retention and not lifted. Throws (fails closed) while the view has a gap.
    func quarantineEntries(of workload: SPIFFEID?, now: Date) throws(BrokerError) -> [Revocation] {
        guard !feed.view.hasGap else {
            throw BrokerError(.unavailable, "the broker's revocation view is catching up; retry shortly", retryAfter: 1)
        }
        return feed.view.standingWorkloadEntries(of: workload, now: now).filter {
            $0.retainUntil.timeIntervalSince($0.revokedAt) >= RevocationService.quarantineRetention - 1
        }
    }
}
