extension TaskDescription {
    /// The JSON form stored in the cache.
    public var json: JSONValue {
        var fields: [String: JSONValue] = [
            "key": .string(key), "stage": .string(stage), "kind": .string(kind),
            "kindVersion": .number(Double(kindVersion)), "params": params, "scope": scope.json,
            "sources": .array(sources.map { s in
                var o: [String: JSONValue] = ["name": .string(s.name), "path": .string(s.path), "digest": .string(s.digest)]
                if let id = s.identity { o["identity"] = .string(Self.encode(id)) }
                return .object(o)
            }),
            "inputs": .array(inputs.map {
                .object(["from": .number(Double($0.fromIndex)), "stage": .string($0.stage), "scope": $0.scope.json,
                         "key": .string($0.key), "outputs": .array($0.outputs.map(\.json))])
            }),
            "memory": .number(Double(memory)), "threads": .number(Double(threads)),
        ]
        if transient { fields["transient"] = .bool(true) }
        return .object(fields)
    }

    /// Decodes ``json``; `nil` if malformed.
    public init?(json j: JSONValue) {
        guard let key = j["key"]?.stringValue, let stage = j["stage"]?.stringValue,
              let kind = j["kind"]?.stringValue, let kv = j["kindVersion"]?.intValue,
              let params = j["params"], let scope = j["scope"].flatMap(Scope.init(json:)),
              let srcs = j["sources"]?.arrayValue, let ins = j["inputs"]?.arrayValue else { return nil }
        var sources: [Source] = []
        for s in srcs {
            guard let n = s["name"]?.stringValue, let p = s["path"]?.stringValue, let d = s["digest"]?.stringValue else { return nil }
            sources.append(Source(name: n, path: p, digest: d, identity: s["identity"]?.stringValue.flatMap(Self.decodeIdentity)))
        }
        var inputs: [Input] = []
        for i in ins {
            guard let f = i["from"]?.intValue, let st = i["stage"]?.stringValue,
                  let sc = i["scope"].flatMap(Scope.init(json:)), let k = i["key"]?.stringValue,
                  let outs = i["outputs"]?.arrayValue else { return nil }
            let files = outs.compactMap(OutputFile.init(json:))
            guard files.count == outs.count else { return nil }
            inputs.append(Input(fromIndex: f, stage: st, scope: sc, key: k, outputs: files))
        }
        var memory: UInt64 = 0
        if let m = j["memory"] {
            guard let v = m.exactInteger(UInt64.self) else { return nil }
            memory = v
        }
        self.init(key: key, stage: stage, kind: kind, kindVersion: kv, params: params, scope: scope,
                  sources: sources, inputs: inputs, memory: memory, threads: j["threads"]?.intValue ?? 1,
                  transient: j["transient"]?.boolValue ?? false)
    }

    /// `device:inode:size:mtime_ns:ctime_ns` (a string: nanosecond times exceed a double's 2^53).
    static func encode(_ id: FileSystem.FileIdentity) -> String {
        "\(id.device):\(id.inode):\(id.size):\(id.mtimeNs):\(id.ctimeNs)"
    }

    static func decodeIdentity(_ text: String) -> FileSystem.FileIdentity? {
        let f = text.split(separator: ":")
        guard f.count == 5, let dev = UInt64(f[0]), let ino = UInt64(f[1]), let size = Int64(f[2]),
              let m = Int64(f[3]), let c = Int64(f[4]) else { return nil }
        return FileSystem.FileIdentity(device: dev, inode: ino, size: size, mtimeNs: m, ctimeNs: c)
    }
}
