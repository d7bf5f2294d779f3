extension TaskDescription {
    /// The JSON form stored in the cache.
    public var json: JSONValue {
        .object([
            "key": .string(key), "stage": .string(stage), "kind": .string(kind),
            "kindVersion": .number(Double(kindVersion)), "params": params, "scope": scope.json,
            "sources": .array(sources.map {
                .object(["name": .string($0.name), "path": .string($0.path), "digest": .string($0.digest)])
            }),
            "inputs": .array(inputs.map {
                .object(["from": .number(Double($0.fromIndex)), "stage": .string($0.stage), "scope": $0.scope.json,
                         "key": .string($0.key), "outputs": .array($0.outputs.map(\.json))])
            }),
            "memory": .number(Double(memory)),
        ])
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
            sources.append(Source(name: n, path: p, digest: d))
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
        self.init(key: key, stage: stage, kind: kind, kindVersion: kv, params: params, scope: scope,
                  sources: sources, inputs: inputs, memory: UInt64(j["memory"]?.numberValue ?? 0))
    }
}
