import Foundation
import WritAPI
import WritToken

extension RevocationSubject {
    /// What an operator's revocation request names, with the limits the wire type leaves to the broker.
    init(_ request: WritAPI.RevocationRequest) throws(BrokerError) {
        func id() throws(BrokerError) -> String {
            guard let id = request.id, !id.isEmpty, id.utf8.count <= 2048 else {
                throw BrokerError(.invalidRequest, "id is required for kind \(request.kind.rawValue)")
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
        switch request.kind {
        case .task: self = .task(try id())
        case .token: self = .token(try id())
        case .user: self = .user(try id())
        case .workload: self = .workload(try workload(try id()))
        case .issuedBefore:
            guard let before = request.before, before > 0 else {
                throw BrokerError(.invalidRequest, "before (seconds since the epoch) is required for issued_before")
            }
            let scope = try request.workload.map { text throws(BrokerError) in try workload(text) }
            self = .issuedBefore(Date(timeIntervalSince1970: TimeInterval(before)), workload: scope)
        }
    }
}
