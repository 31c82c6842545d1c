/// A FlowJo sample's gates as a ``GatingTree``: FlowJo's data-value coordinates moved into each
/// axis's transformed scale, as FlowJo (and FlowKit) evaluate them.
///
/// - Each gate's id is its path ("Lymphocytes/Singlets"), its name the population's name.
/// - A parameter named with the matrix's prefix and suffix ("Comp-FITC-A") is read through the
///   sample's spillover matrix; one without ("FITC-A") stays uncompensated, even when the matrix
///   has that detector. (FlowKit 1.3.2 compensates both; the workspaces tested here never gate a
///   compensated detector's uncompensated form, so their counts agree.)
/// - Scales are looked up by the parameter's name without prefix and suffix, as FlowJo writes the
///   Transformations element; a parameter without one is used as read.
/// - Rectangle bounds and polygon vertices go through the axis's scale; ellipses become a
///   128-vertex polygon (``FlowJoEllipse``); `eventsInside="0"` takes the events outside.
extension FlowJoWorkspace.Sample {
    /// - Parameter channels: the data set's parameter names ($PnN); when given, every parameter a
    ///   gate or the matrix needs must be among them, or the error names the population and line.
    public func gatingTree(channels: [String]? = nil) throws(CytometryError) -> GatingTree {
        let available = channels.map(Set.init)
        var matrices: [String: CompensationMatrix] = [:]
        if let matrix {
            do throws(CytometryError) {
                matrices[matrix.name] = try CompensationMatrix(fluorochromes: matrix.detectors, detectors: matrix.detectors, spectra: matrix.rows)
            } catch {
                throw .flowJo(file: file, line: matrix.line, detail: "spillover matrix \"\(matrix.name)\": \(error)")
            }
        }
        var matrixChecked = false
        var transforms: [String: NamedTransformation] = [:]
        var gates: [Gate] = []
        for population in populations {
            func fail(_ detail: String) -> CytometryError {
                .flowJo(file: file, line: population.line, detail: "population \"\(population.pathText)\": \(detail)")
            }
            func dimension(_ name: String) throws(CytometryError) -> GateDimension {
                var channel = name
                var compensation = CompensationReference.uncompensated
                if let matrix {
                    let marked = (!matrix.prefix.isEmpty || !matrix.suffix.isEmpty) && name.hasPrefix(matrix.prefix) && name.hasSuffix(matrix.suffix)
                        && name.count > matrix.prefix.count + matrix.suffix.count
                    if marked { channel = String(name.dropFirst(matrix.prefix.count).dropLast(matrix.suffix.count)) }
                    if matrix.detectors.contains(channel) && (marked || (matrix.prefix.isEmpty && matrix.suffix.isEmpty)) {
                        compensation = .matrix(matrix.name)
                        if let available, !matrixChecked {
                            if let missing = matrix.detectors.first(where: { !available.contains($0) }) {
                                throw .flowJo(file: file, line: matrix.line, detail: "spillover matrix \"\(matrix.name)\" names parameter \"\(missing)\", which the data does not have")
                            }
                            matrixChecked = true
                        }
                    } else if marked {
                        throw fail("parameter \"\(name)\" carries the compensation prefix, but \"\(channel)\" is not in matrix \"\(matrix.name)\"")
                    }
                }
                if let available, !available.contains(channel) {
                    throw fail("reads parameter \"\(name)\", which the data does not have (a derived parameter, or another panel's file?)")
                }
                var transform: NamedTransformation?
                if let scale = scales[channel] ?? scales[name] {
                    if let known = transforms[channel] { transform = known } else {
                        do throws(CytometryError) {
                            transform = NamedTransformation(id: channel, BoundedTransformation(try Self.transformation(scale)))
                        } catch {
                            throw fail("the \(scale.kind) scale of \"\(channel)\": \(error)")
                        }
                        transforms[channel] = transform
                    }
                }
                return GateDimension(.channel(channel), compensation: compensation, transform: transform)
            }
            func scaled(_ value: Double, _ d: GateDimension) -> Double { d.transform?.transform.apply(value) ?? value }

            let id = population.pathText
            let parent = population.parentPathText
            switch population.shape {
            case .rectangle(let names, let minimums, let maximums, let inside):
                var dimensions: [GateDimension] = []
                for name in names { dimensions.append(try dimension(name)) }
                let lo = zip(minimums, dimensions).map { bound, d in bound.map { scaled($0, d) } }
                let hi = zip(maximums, dimensions).map { bound, d in bound.map { scaled($0, d) } }
                gates.append(Gate(id: id, parentID: parent, shape: .rectangle(dimensions: dimensions, minimums: lo, maximums: hi),
                                  name: population.name, complement: !inside))
            case .polygon(let xName, let yName, let vertices, let inside):
                let x = try dimension(xName), y = try dimension(yName)
                let moved = vertices.map { Vertex(scaled($0.x, x), scaled($0.y, y)) }
                guard moved.allSatisfy({ $0.x.isFinite && $0.y.isFinite }) else { throw fail("a vertex is outside its axis's scale") }
                gates.append(Gate(id: id, parentID: parent, shape: .polygon(x: x, y: y, vertices: moved), name: population.name, complement: !inside))
            case .ellipse(let xName, let yName, let foci, let edges, let inside):
                let x = try dimension(xName), y = try dimension(yName)
                func range(_ d: GateDimension) -> Double {
                    if case .flowJoBiex? = d.transform?.transform.transformation { return Double(FlowJoBiex.channelRange) }
                    return 1
                }
                switch FlowJoEllipse.polygon(foci: foci, edges: edges, scales: (range(x), range(y))) {
                case .success(let vertices):
                    gates.append(Gate(id: id, parentID: parent, shape: .polygon(x: x, y: y, vertices: vertices), name: population.name, complement: !inside))
                case .failure(let reason):
                    throw fail("ellipse: \(reason)")
                }
            case .boolean(let op, let dependents):
                let known = Set(gates.map(\.id))
                for dependent in dependents where !known.contains(dependent) && !populations.contains(where: { $0.pathText == dependent }) {
                    throw fail("depends on \"\(dependent)\", which is no population of this sample")
                }
                gates.append(Gate(id: id, parentID: parent, shape: .boolean(op, operands: dependents.map { BooleanOperand($0) }), name: population.name))
            }
        }
        do throws(CytometryError) {
            return try GatingTree(gates: gates, matrices: matrices)
        } catch {
            if case .invalidGate(let id, let detail) = error, let population = populations.first(where: { $0.pathText == id }) {
                throw .flowJo(file: file, line: population.line, detail: "population \"\(id)\": \(detail)")
            }
            throw error
        }
    }

    /// FlowJo's scale as a transform: linear as FlowKit reads it, flin (x + A)/(T + A) with T = maxRange,
    /// A = minRange; log, logicle, fasinh and biex with FlowJo's parameters.
    static func transformation(_ scale: FlowJoWorkspace.Scale) throws(CytometryError) -> Transformation {
        switch scale {
        case .linear(let minimum, let maximum):
            guard maximum + minimum > 0, maximum.isFinite, minimum.isFinite else {
                throw .invalidTransform("linear needs maxRange + minRange > 0 (an increasing scale); got minRange=\(minimum), maxRange=\(maximum)")
            }
            return .linear(T: maximum, A: minimum)
        case .log(let offset, let decades): return try Transformation.validated(.flowJoLog(offset: offset, decades: decades))
        case .logicle(let T, let W, let M, let A): return .logicle(try LogicleTransform(T: T, W: W, M: M, A: A))
        case .asinh(let T, let M, let A): return try Transformation.validated(.asinh(T: T, M: M, A: A))
        case .biex(let negative, let width, let positive, let maximum):
            return .flowJoBiex(try FlowJoBiex(negative: negative, width: width, positive: positive, maximum: maximum))
        }
    }
}
