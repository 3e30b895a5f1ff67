import Foundation
import Yams

/// Decodes a `Decodable` type from a YAML (or JSON) tree and finds every mistake in one pass.
///
/// Two things make it strict without a list of keys beside the types. The keys a mapping may hold are the keys its
/// type's `init(from:)` asks for, recorded as they are asked; what is left in the mapping is unknown. And a mistake
/// does not stop the walk: it is recorded, a stand-in value lets decoding go on, and the caller throws when anything
/// was recorded — so the stand-ins are never used, and the whole file is checked at once.
///
/// Not swift-configuration (1.4.0): its YAML and JSON providers flatten a file into dotted keys holding scalars or
/// lists of scalars, so positions are lost and lists of mappings (`workload_issuers`) are refused, and its readers
/// fetch keys by name, so a key nobody asks for goes unnoticed. Using it would mean this decoder anyway, plus
/// swift-system and swift-collections in every clean build.
struct StrictDecoder: Decoder, SingleValueDecodingContainer {
    /// The node to decode, nil where it is missing or was of the wrong kind: nothing under it is reported again.
    let node: Node?
    let codingPath: [any CodingKey]
    let report: StrictDecodingReport
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    /// Decodes `type` from `root`, recording every mistake in `report`.
    static func decode<T: Decodable>(_ type: T.Type, from root: Node, into report: StrictDecodingReport) throws -> T {
        try StrictDecoder(node: root, codingPath: [], report: report).decode(type)
    }

    /// A decoder for a node under this one.
    func child(_ node: Node?, _ key: any CodingKey) -> StrictDecoder {
        StrictDecoder(node: node, codingPath: codingPath + [key], report: report)
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedDecodingContainer<Key> {
        guard let mapping = node?.mapping else {
            mismatch(expected: "a mapping of keys")
            return KeyedDecodingContainer(StrictKeyedContainer<Key>(decoder: quieted, mapping: nil, watch: nil))
        }
        let watch = report.watch(mapping, at: codingPath)
        return KeyedDecodingContainer(StrictKeyedContainer<Key>(decoder: self, mapping: mapping, watch: watch))
    }

    func unkeyedContainer() -> any UnkeyedDecodingContainer {
        guard let sequence = node?.sequence else {
            mismatch(expected: "a list")
            return StrictUnkeyedContainer(decoder: quieted, items: [])
        }
        return StrictUnkeyedContainer(decoder: self, items: Array(sequence))
    }

    func singleValueContainer() -> any SingleValueDecodingContainer { self }

    func decodeNil() -> Bool { node == nil || node?.null != nil }

    /// Witnesses every `decode` requirement: text, numbers and booleans from a scalar, anything else by its own
    /// `init(from:)`.
    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        guard let expected = Self.scalarDescription(type) else { return try T(from: self) }
        if let scalar = node?.scalar, node?.null == nil, let value = Self.construct(type, from: scalar) {
            return value
        }
        mismatch(expected: expected)
        return try Self.standIn(type, at: codingPath)
    }

    /// This decoder over nothing, for the part under a mistake already recorded.
    var quieted: StrictDecoder { StrictDecoder(node: nil, codingPath: codingPath, report: report) }

    /// Records that the node is not what was expected; a missing node was recorded by its mapping.
    private func mismatch(expected: String) {
        guard let node else { return }
        report.record(.wrongType(expected: expected, found: Self.describe(node)), at: codingPath, mark: node.mark)
    }

    /// How a node looks, for "found …".
    static func describe(_ node: Node) -> String {
        switch node {
        case .scalar(let scalar): node.null != nil ? "nothing" : "\"\(scalar.string)\""
        case .sequence: "a list"
        case .mapping: "a mapping"
        case .alias: "an alias"
        }
    }

    /// What a scalar type is called in a message, nil for types that are not scalars.
    static func scalarDescription(_ type: Any.Type) -> String? {
        switch type {
        case is Bool.Type: "true or false"
        case is String.Type: "text"
        case is any FixedWidthInteger.Type: "a whole number"
        case is any BinaryFloatingPoint.Type: "a number"
        default: nil
        }
    }

    /// A scalar read as YAML reads it (`yes` is true, `0x10` is 16), nil when it is not a `T`.
    private static func construct<T>(_ type: T.Type, from scalar: Node.Scalar) -> T? {
        switch type {
        case is Bool.Type: Bool.construct(from: scalar) as? T
        case is String.Type: scalar.string as? T
        case let integer as any FixedWidthInteger.Type: whole(integer, from: scalar) as? T
        case let float as any BinaryFloatingPoint.Type: number(float, from: scalar) as? T
        default: nil
        }
    }

    private static func whole<I: FixedWidthInteger>(_ type: I.Type, from scalar: Node.Scalar) -> I? {
        Int64.construct(from: scalar).flatMap(I.init(exactly:))
    }

    private static func number<F: BinaryFloatingPoint>(_ type: F.Type, from scalar: Node.Scalar) -> F? {
        Double.construct(from: scalar).map(F.init)
    }

    /// A value of a scalar type to go on with after a mistake.
    private static func standIn<T>(_ type: T.Type, at path: [any CodingKey]) throws -> T {
        for text in ["0", "false"] {
            if let value = construct(type, from: Node.Scalar(text)) { return value }
        }
        throw DecodingError.typeMismatch(type, .init(codingPath: path, debugDescription: "no stand-in value"))
    }
}

/// A mapping's keys, each asked for by name; a key asked for is an allowed key.
struct StrictKeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let decoder: StrictDecoder
    let mapping: Node.Mapping?
    /// The mapping's entry in the report, nil when the mapping is missing or of the wrong kind.
    let watch: Int?
    var codingPath: [any CodingKey] { decoder.codingPath }

    var allKeys: [Key] { mapping.map { $0.keys.compactMap { $0.string.flatMap(Key.init(stringValue:)) } } ?? [] }

    func contains(_ key: Key) -> Bool { value(for: key) != nil }

    func decodeNil(forKey key: Key) -> Bool { child(key, required: false).decodeNil() }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try child(key).decode(type) }

    func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type,
        forKey key: Key
    ) -> KeyedDecodingContainer<NestedKey> {
        child(key).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedDecodingContainer { child(key).unkeyedContainer() }

    func superDecoder() -> any Decoder { decoder }

    func superDecoder(forKey key: Key) -> any Decoder { child(key) }

    /// The value under `key`, recording that the type asked for it.
    private func value(for key: Key) -> Node? {
        guard let mapping else { return nil }
        if let watch { decoder.report.ask(key.stringValue, in: watch) }
        return mapping.first { $0.key.string == key.stringValue }?.value
    }

    /// A decoder for the value under `key`; a required key that is missing is recorded.
    private func child(_ key: Key, required: Bool = true) -> StrictDecoder {
        let node = value(for: key)
        if node == nil, required, let mapping {
            decoder.report.record(.missing, at: codingPath + [key], mark: mapping.mark)
        }
        return decoder.child(node, key)
    }
}

/// A list's items, in order.
struct StrictUnkeyedContainer: UnkeyedDecodingContainer {
    let decoder: StrictDecoder
    let items: [Node]
    var currentIndex = 0
    var codingPath: [any CodingKey] { decoder.codingPath }
    var count: Int? { items.count }
    var isAtEnd: Bool { currentIndex >= items.count }

    mutating func decodeNil() -> Bool {
        guard !isAtEnd, items[currentIndex].null != nil else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try next().decode(type) }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type
    ) -> KeyedDecodingContainer<NestedKey> {
        next().container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedDecodingContainer { next().unkeyedContainer() }

    mutating func superDecoder() -> any Decoder { next() }

    /// A decoder for the next item (over nothing past the end, where a caller should not have asked).
    private mutating func next() -> StrictDecoder {
        defer { currentIndex += 1 }
        return decoder.child(isAtEnd ? nil : items[currentIndex], ListIndex(intValue: currentIndex))
    }
}

/// A position in a list, in a coding path.
struct ListIndex: CodingKey {
    let intValue: Int?
    var stringValue: String { intValue.map(String.init) ?? "" }
    init(intValue: Int) { self.intValue = intValue }
    init?(stringValue: String) { nil }
}
