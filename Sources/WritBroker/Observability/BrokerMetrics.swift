public import Prometheus
import Synchronization

/// The broker's Prometheus metrics. Labels are route templates, codes and kinds, never ids or raw paths.
public final class BrokerMetrics: Sendable {
    /// The registry `/metrics` renders.
    public let registry: PrometheusCollectorRegistry
    /// Feed subscribers connected now.
    public let feedSubscribers: Gauge

    private static let latencyBuckets: [Duration] = [
        .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2),
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .seconds(1),
    ]

    /// Metrics in a new registry.
    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        self.feedSubscribers = registry.makeGauge(
            descriptor: MetricNameDescriptor(
                namespace: "writ",
                metricName: "feed_subscribers",
                unitName: "count",
                helpText: "Revocation stream subscribers connected now."
            )
        )
    }

    /// Counts tokens issued, by binding (`bearer`, `dpop`, `mtls`).
    public func tokenIssued(binding: String) {
        counter("tokens_issued", "Access tokens issued.", [("binding", binding)]).increment()
    }

    /// Counts denied tasks and token requests, by denial or error code.
    public func denied(_ code: String) {
        counter("denials", "Task and token requests denied, by reason.", [("reason", code)]).increment()
    }

    /// Counts task transitions, by event.
    public func task(_ event: String) {
        counter("task_transitions", "Task transitions.", [("event", event)]).increment()
    }

    /// Counts revocation feed entries, by kind.
    public func revoked(kind: String, count: Int = 1) {
        counter("revocations", "Revocation feed entries created, by kind.", [("kind", kind)])
            .increment(by: Int64(count))
    }

    /// Counts usage records taken in from resource servers, and those ignored (naming no task or workload the
    /// broker knows).
    public func usageRecords(accepted: Int, ignored: Int) {
        counter("usage_records", "Usage records from resource servers.", [("outcome", "accepted")])
            .increment(by: Int64(accepted))
        if ignored > 0 {
            counter("usage_records", "Usage records from resource servers.", [("outcome", "ignored")])
                .increment(by: Int64(ignored))
        }
    }

    /// Counts usage records resource servers reported as dropped (their buffer was full).
    public func usageDropped(_ count: Int) {
        counter("usage_records_dropped", "Usage records resource servers could not keep.", [])
            .increment(by: Int64(count))
    }

    /// Counts monitoring alerts, by rule and response.
    public func alert(rule: String, response: String) {
        counter("monitoring_alerts", "Monitoring rules fired.", [("rule", rule), ("response", response)]).increment()
    }

    /// Records a request's latency by route template, method and status.
    public func request(route: String, method: String, status: Int, duration: Duration) {
        registry.makeDurationHistogram(
            descriptor: MetricNameDescriptor(
                namespace: "writ",
                metricName: "http_request_duration",
                unitName: "seconds",
                helpText: "HTTP request latency by route template."
            ),
            labels: [("route", route), ("method", method), ("status", String(status))],
            buckets: Self.latencyBuckets
        ).record(duration)
    }

    /// The exposition text.
    public func render() -> [UInt8] { registry.emitToBuffer() }

    private func counter(_ name: String, _ help: String, _ labels: [(String, String)]) -> Counter {
        registry.makeCounter(
            descriptor: MetricNameDescriptor(namespace: "writ", metricName: name, unitName: "total", helpText: help),
            labels: labels
        )
    }
}
