import Foundation
import WritToken

/// The body of an operator's `POST /v1/admin/revocations`:
/// `{"kind": "task"|"token"|"workload"|"user", "id": …}` or `{"kind": "issued_before", "before": SECONDS,
/// "workload": optional SPIFFE ID}`.
enum RevocationRequest {
    static let members: Set<String> = ["kind", "id", "before", "workload"]

    static func subject(from json: JSONValue) throws(BrokerError) -> RevocationSubject {
        guard let members = json.objectValue else {
            throw BrokerError(.invalidRequest, "the body must be a JSON object")
        }
        if let unknown = members.keys.sorted().first(where: { !Self.members.contains($0) }) {
            throw BrokerError(.invalidRequest, "unknown member \(unknown.prefix(64))")
        }
        guard let kind = members["kind"]?.stringValue else { throw BrokerError(.invalidRequest, "kind is required") }
        func id() throws(BrokerError) -> String {
            guard let id = members["id"]?.stringValue, !id.isEmpty, id.utf8.count <= 2048 else {
                throw BrokerError(.invalidRequest, "id is required for kind \(kind)")
            }
            return id
        }
        func workload(_ text: String) throws(BrokerError) -> SPIFFEID {
            do {
                return try SPIFFEID(text)
            } catch {
                throw BrokerError(.invalidRequest, "workload: \(error.reason)")
            }
        }
        switch kind {
        case "task": return .task(try id())
        case "token": return .token(try id())
        case "user": return .user(try id())
        case "workload": return .workload(try workload(try id()))
        case "issued_before":
            guard let before = members["before"]?.integerValue, before > 0 else {
                throw BrokerError(.invalidRequest, "before (seconds since the epoch) is required for issued_before")
            }
            let scope: SPIFFEID?
            if let text = members["workload"]?.stringValue {
                scope = try workload(text)
            } else if members["workload"] != nil {
                throw BrokerError(.invalidRequest, "workload must be a SPIFFE ID")
            } else {
                scope = nil
            }
            return .issuedBefore(Date(timeIntervalSince1970: TimeInterval(before)), workload: scope)
        default:
            throw BrokerError(.invalidRequest, "kind must be task, token, workload, user or issued_before")
        }
    }
}
