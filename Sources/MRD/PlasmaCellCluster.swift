/// One cluster of plasma cells, its light chains and what it is.
public struct PlasmaCellCluster: Sendable, Equatable, Codable {
    public enum Role: String, Sendable, Codable {
        /// Light-chain restricted and phenotypically distinct from the normal reference: MRD.
        case mrd
        /// Restricted, but no phenotypic departure (or no normal reference to compare with): review.
        case monotypic
        /// Polyclonal with a phenotypic departure: a normal subset (CD19−, CD56+ …), never counted.
        case normalSubset = "normal_subset"
        /// Polyclonal, normal phenotype.
        case normal
        /// Not restricted, and fewer than half its events read a light chain (``LightChainReading``):
        /// its κ:λ shows neither restriction nor polyclonality. Cells without immunoglobulin in the
        /// plasma-cell gate (CD138-negative myeloid precursors at 10 million events), or a clone
        /// whose chain is absent or too dim to read. Never counted, and never part of the normal
        /// phenotype reference or of a normal-marrow reference built from the sample; a
        /// CD138-positive population among them blocks a negative (``ChainlessPlasmaCells``).
        case unread

        /// The role of a cluster with `kappa` and `lambda` of its `size` events reading a chain.
        /// - Complexity: O(1).
        static func of(restricted: Bool, departing: Bool, kappa: Int, lambda: Int, size: Int) -> Self {
            if restricted { return departing ? .mrd : .monotypic }
            if PlasmaCellCluster.readsFewChains(kappa: kappa, lambda: lambda, size: size) { return .unread }
            return departing ? .normalSubset : .normal
        }
    }

    public struct Departure: Sendable, Equatable, Codable {
        public let marker: String
        /// Cluster median minus reference median, transformed units.
        public let difference: Double
    }

    public let size: Int
    public let role: Role
    public let clonality: ClonalityTest.Outcome
    /// Markers on which the cluster's median departs from the normal reference by more than the margin.
    public let departures: [Departure]
    /// For a restricted subset found inside a density cluster (``RestrictedSubsetSearch``): that cluster's index.
    public var subsetOf: Int? = nil
    /// Distance to the nearest normal subset of the reference in use (null without `--reference`).
    @Nullable public var referenceDistance: ReferenceDistance? = nil

    enum CodingKeys: String, CodingKey {
        case size, role, clonality, departures
        case subsetOf = "subset_of", referenceDistance = "reference_distance"
    }

    /// Whether fewer than half of a cluster's `size` events read a chain: every plasma cell makes
    /// one, and the plasma-cell clusters and clones of every validation set read one in 82–100%
    /// of their events (docs/validation-history-unseen.md).
    /// - Complexity: O(1).
    static func readsFewChains(kappa: Int, lambda: Int, size: Int) -> Bool { 2 * (kappa + lambda) < size }

    /// The warning for a cluster that is not counted yet departs from the normal reference or
    /// reads too few chains to be judged (nil for the other roles).
    /// - Complexity: O(departures).
    var note: String? {
        let (departs, read) = (departures.map(\.marker).joined(separator: ", "), clonality.kappa + clonality.lambda)
        let chains = "κ \(clonality.kappa), λ \(clonality.lambda)"
        switch role {
        case .normalSubset:
            return "a polyclonal plasma-cell subset of \(size) events (\(chains)) departs from the normal reference on \(departs): a normal subset, not counted"
        case .unread:
            return "a cluster of \(size) events in the plasma-cell gate, only \(read) of them reading a light chain (\(chains))"
                + (departures.isEmpty ? "" : ", departs from the normal reference on \(departs)")
                + ": not shown to be polyclonal plasma cells — cells without immunoglobulin in the gate, or a chain too dim to read; "
                + "not counted, and left out of the normal reference"
        case .mrd, .monotypic, .normal:
            return nil
        }
    }
}
