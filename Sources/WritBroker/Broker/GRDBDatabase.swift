public import GRDB

/// GRDB's connection type, named so the broker's core can pass it without importing GRDB everywhere.
public typealias GRDBDatabase = GRDB.Database
