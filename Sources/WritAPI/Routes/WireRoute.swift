/// One route of the broker's API and the wire types of what goes to it and comes back. Every refusal
/// (status 400 and above) is an ``ErrorResponse``.
public struct WireRoute: Sendable {
    /// What a request or a response carries.
    public enum Body: Sendable {
        /// Nothing.
        case empty
        /// A JSON body of this type.
        case json(any WireValue.Type)
        /// An `application/x-www-form-urlencoded` body of this type.
        case form(any WireParameters.Type)
        /// URL query parameters of this type.
        case query(any WireParameters.Type)
        /// Text that is not JSON (Prometheus exposition).
        case text
        /// A compact JWS served as its own media type (a Token Status List's `application/statuslist+jwt`).
        case signedJWT(mediaType: String)
        /// Server-Sent Events, by event name, each event's data a JSON value of its type.
        case events([String: any WireValue.Type])
    }

    /// The method.
    public let method: String
    /// The route template, `{name}` for a path parameter.
    public let path: String
    /// What the request carries.
    public let request: Body
    /// What each success status carries.
    public let responses: [Int: Body]

    /// A route.
    public init(_ method: String, _ path: String, request: Body = .empty, responses: [Int: Body]) {
        self.method = method
        self.path = path
        self.request = request
        self.responses = responses
    }
}
